"""User model functions for tests/user_models_test.py: `model.name="tests.user_model_fns:<f>"`.

Good ones (the built-in LeNet rebuilt by a user function, a functional residual CNN, one that
ignores its seed) and bad ones, each wrong in one way the experiments must refuse clearly.
"""

import keras

from ntk_tf import models

NOT_A_FUNCTION = 3


def lenet(input_shape, num_outputs, seed, dtype="float32"):
  """The built-in LeNet x1 through the user-model path: every result must equal 'lenet''s."""
  return models.build("lenet", width=1, input_shape=input_shape, num_outputs=num_outputs,
                      seed=seed, dtype=dtype)


def lenet_ntk(input_shape, num_outputs, seed, dtype="float32"):
  """LeNet x1 in the NTK parameterization, as the Monte-Carlo kernels build 'lenet'."""
  return models.build("lenet", width=1, input_shape=input_shape, num_outputs=num_outputs,
                      seed=seed, dtype=dtype, parameterization="ntk")


def residual(input_shape, num_outputs, seed, dtype="float32"):
  """A small functional CNN with a skip connection (Add), stock Keras layers."""
  del seed  # ntk_tf sets Keras' seeds first.
  inputs = keras.Input(tuple(input_shape), dtype=dtype)
  h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", dtype=dtype)(inputs)
  h = keras.layers.Add(dtype=dtype)(
      [h, keras.layers.Conv2D(3, 3, padding="same", dtype=dtype)(h)])
  h = keras.layers.ReLU(dtype=dtype)(h)
  h = keras.layers.MaxPooling2D(2, dtype=dtype)(h)
  h = keras.layers.Flatten(dtype=dtype)(h)
  h = keras.layers.Dense(8, activation="tanh", dtype=dtype)(h)
  return keras.Model(inputs, keras.layers.Dense(num_outputs, dtype=dtype)(h))


def no_dtype(input_shape, num_outputs, seed):
  """Float32 only: refused where a run needs float64."""
  return residual(input_shape, num_outputs, seed)


def ignores_dtype(input_shape, num_outputs, seed, dtype="float32"):
  del dtype
  return residual(input_shape, num_outputs, seed)


def overlapping_pool(input_shape, num_outputs, seed):
  del seed
  inputs = keras.Input(tuple(input_shape))
  h = keras.layers.Conv2D(2, 3)(inputs)
  h = keras.layers.MaxPooling2D(3, strides=2)(h)
  return keras.Model(inputs, keras.layers.Dense(num_outputs)(keras.layers.Flatten()(h)))


def returns_none(input_shape, num_outputs, seed):
  del input_shape, num_outputs, seed


def unbuilt(input_shape, num_outputs, seed):
  del input_shape, seed
  return keras.Sequential([keras.layers.Dense(num_outputs)])


def wrong_outputs(input_shape, num_outputs, seed):
  return residual(input_shape, num_outputs + 1, seed)


def fixed_input(input_shape, num_outputs, seed):
  del input_shape
  return residual((32, 32, 3), num_outputs, seed)


def two_arguments(input_shape, num_outputs):
  return residual(input_shape, num_outputs, 0)


def raises(input_shape, num_outputs, seed):
  raise ValueError(f"cannot build for {input_shape}, {num_outputs}, {seed}")
