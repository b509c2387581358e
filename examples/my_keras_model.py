"""Your own Keras model in an ntk_tf experiment: a small residual CNN, stock Keras layers only.

Point any experiment's `config.model.name` at the function, as a file or as a module:

    --config.model.name=examples/my_keras_model.py:small_cnn    # relative to the current dir
    --config.model.name=examples.my_keras_model:small_cnn       # importable from the repo root

configs/compare_user_model.py trains it beside its linearization on MNIST digits. The
experiments call `small_cnn(input_shape, num_outputs, seed)` (adding `dtype=` when they need
float64, which is why the keyword is here) and expect a built keras.Model mapping
(batch,) + input_shape to (batch, num_outputs). There is no BatchNormalization, so training is
plain SGD on the weights and the network's outputs do not depend on the batch.
"""

import keras


def small_cnn(input_shape, num_outputs, seed, dtype="float32"):
  """conv 16@3x3 -> residual block (conv 16@3x3 + skip) -> max-pool 2 -> conv 32@3x3 ->
  average-pool 2 -> dense 64 -> dense num_outputs, ReLU between; 108,186 parameters on
  28x28x1 inputs with 10 outputs."""
  keras.utils.set_random_seed(seed)  # ntk_tf does this too; here for use outside ntk_tf.
  conv = lambda filters: keras.layers.Conv2D(filters, 3, padding="same", dtype=dtype)  # noqa: E731
  relu = lambda: keras.layers.ReLU(dtype=dtype)  # noqa: E731
  inputs = keras.Input(tuple(input_shape), dtype=dtype)
  h = relu()(conv(16)(inputs))
  h = relu()(keras.layers.Add(dtype=dtype)([h, conv(16)(h)]))   # The skip connection.
  h = keras.layers.MaxPooling2D(2, dtype=dtype)(h)
  h = relu()(conv(32)(h))
  h = keras.layers.AveragePooling2D(2, dtype=dtype)(h)
  h = keras.layers.Flatten(dtype=dtype)(h)
  h = keras.layers.Dense(64, activation="relu", dtype=dtype)(h)
  outputs = keras.layers.Dense(num_outputs, dtype=dtype)(h)
  return keras.Model(inputs, outputs, name="small_cnn")
