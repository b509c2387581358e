"""The empirical NTK of stock Keras 3 models written by a user: functional (branches, skip
connections, BatchNormalization, Concatenate) and subclassed, against explicit per-sample
Jacobians in float64 (issue 'Any Keras model': the Jacobian and NTVP paths)."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

import ntk_tf
from ntk_tf.errors import ConfigError
from tests import test_utils


def functional_lenet(dtype="float64"):
  inp = keras.Input((12, 12, 1), dtype=dtype)
  h = keras.layers.Conv2D(3, 3, activation="relu", dtype=dtype)(inp)
  h = keras.layers.MaxPooling2D(dtype=dtype)(h)
  h = keras.layers.Flatten(dtype=dtype)(h)
  h = keras.layers.Dense(8, activation="relu", dtype=dtype)(h)
  return keras.Model(inp, keras.layers.Dense(3, dtype=dtype)(h))


def residual_net(dtype="float64"):
  inp = keras.Input((8, 8, 2), dtype=dtype)
  h = keras.layers.Conv2D(4, 3, padding="same", dtype=dtype)(inp)
  h = keras.layers.BatchNormalization(dtype=dtype)(h)
  h = keras.layers.ReLU(dtype=dtype)(h)
  skip = keras.layers.Conv2D(4, 1, dtype=dtype)(inp)
  h = keras.layers.Add(dtype=dtype)([h, skip])
  branch = keras.layers.Conv2D(2, 3, strides=2, padding="same", dtype=dtype)(h)
  h = keras.layers.Concatenate(dtype=dtype)([keras.layers.AveragePooling2D(2, dtype=dtype)(h),
                                             branch])
  h = keras.layers.GlobalAveragePooling2D(dtype=dtype)(h)
  return keras.Model(inp, keras.layers.Dense(2, dtype=dtype)(h))


class Subclassed(keras.Model):
  """A user's model with call(): a shared dense layer applied twice."""

  def __init__(self, dtype="float64"):
    super().__init__(dtype=dtype)
    self.shared = keras.layers.Dense(5, activation="tanh", dtype=dtype)
    self.head = keras.layers.Dense(2, dtype=dtype)

  def call(self, x):
    return self.head(self.shared(x) + 0.5 * self.shared(-x[:, ::-1][:, :x.shape[1]]))


def subclassed(dtype="float64"):
  model = Subclassed(dtype)
  model(np.zeros((1, 5), dtype))  # Built by its first call, as users build them.
  return model


class Branching(keras.Model):
  """A user's model whose call() branches on a tensor in Python (no graph can trace it)."""

  def __init__(self, dtype="float64"):
    super().__init__(dtype=dtype)
    self.hidden = keras.layers.Dense(6, activation="tanh", dtype=dtype)
    self.head = keras.layers.Dense(2, dtype=dtype)

  def call(self, x):
    h = self.hidden(x)
    if tf.reduce_max(h) > 0.0:  # Python control flow on a tensor.
      h = 2.0 * h
    return self.head(h)


def branching(dtype="float64"):
  model = Branching(dtype)
  model(np.zeros((1, 4), dtype))
  return model


def explicit_kernel(model, x):
  """Θ[i, j, a, b] from each sample's full Jacobian, one sample at a time (the reference)."""
  rows = []
  for xi in x:
    with tf.GradientTape() as tape:
      out = model(xi[None], training=False)[0]
    jac = tape.jacobian(out, model.trainable_weights)
    rows.append(np.concatenate([np.reshape(j.numpy(), (out.shape[0], -1)) for j in jac], 1))
  jac = np.stack(rows)  # (n, L, P)
  return np.einsum("iap,jbp->ijab", jac, jac)


MODELS = {"functional_lenet": (functional_lenet, (6, 12, 12, 1)),
          "residual_batchnorm_concat": (residual_net, (5, 8, 8, 2)),
          "subclassed_shared_layer": (subclassed, (4, 5))}


class KerasModelsTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.product(name=list(MODELS), method=["jacobian", "ntvp", "auto"])
  def test_matches_explicit_jacobians(self, name, method):
    keras.utils.set_random_seed(0)
    build, shape = MODELS[name]
    model = build()
    x = np.random.default_rng(1).normal(size=shape)
    theta = ntk_tf.empirical_ntk(model, x, method=method, dtype="float64")
    self.assertAllClose(theta, explicit_kernel(model, x), rtol=1e-10, atol=1e-12)

  def test_a_model_with_two_outputs_needs_output_index(self):
    inp = keras.Input((4,), dtype="float64")
    h = keras.layers.Dense(6, activation="relu", dtype="float64")(inp)
    heads = [keras.layers.Dense(k, dtype="float64")(h) for k in (2, 3)]
    model = keras.Model(inp, heads)
    x = np.random.default_rng(2).normal(size=(3, 4))
    with self.assertRaisesRegex(ConfigError, "has 2 outputs; choose one with output_index=0..1"):
      ntk_tf.empirical_ntk(model, x, dtype="float64")
    theta = ntk_tf.empirical_ntk(model, x, dtype="float64", output_index=1)
    self.assertAllClose(theta, explicit_kernel(keras.Model(inp, heads[1]), x))

  def test_python_control_flow_on_tensors_is_one_error_before_work(self):
    for method in ("jacobian", "structured"):
      with self.assertRaisesRegex(ConfigError, "branches or loops in Python on a tensor.*"
                                               "keras.ops.cond"):
        ntk_tf.empirical_ntk(branching(), np.ones((3, 4)), method=method)

  def test_unbuilt_model_and_wrong_shapes_are_one_error(self):
    with self.assertRaisesRegex(ConfigError, "no trainable weights yet: build it first"):
      ntk_tf.empirical_ntk(Subclassed(), np.zeros((2, 5)))
    with self.assertRaisesRegex(ConfigError, r"x1 has shape \(12, 12\) per sample but the "
                                r"model takes \(12, 12, 1\)"):
      ntk_tf.empirical_ntk(functional_lenet(), np.zeros((2, 12, 12)), dtype="float64")

  def test_wrong_input_dtypes_are_one_error(self):
    model = functional_lenet()
    with self.assertRaisesRegex(ConfigError, "x1 has dtype complex128; pass real numbers"):
      ntk_tf.empirical_ntk(model, np.zeros((2, 12, 12, 1), complex), dtype="float64")
    with self.assertRaisesRegex(ConfigError, "x2 has dtype <U1; pass real numbers"):
      ntk_tf.empirical_ntk(model, np.zeros((2, 12, 12, 1)), np.full((2, 12, 12, 1), "a"),
                           dtype="float64")
    inp = keras.Input((3,), dtype="int32")
    h = keras.layers.Flatten(dtype="float64")(keras.layers.Embedding(5, 2, dtype="float64")(inp))
    ids = keras.Model(inp, keras.layers.Dense(2, dtype="float64")(h))
    with self.assertRaisesRegex(ConfigError, "takes int32 inputs \\(ids\\) but x1 holds "
                                "non-integer values; pass the integer ids"):
      ntk_tf.empirical_ntk(ids, np.full((2, 3), 0.5), dtype="float64")
    self.assertEqual(ntk_tf.empirical_ntk(ids, np.ones((2, 3)), dtype="float64").shape,
                     (2, 2, 2, 2))  # Whole-number floats are ids.

  @parameterized.named_parameters(("structured", "structured"), ("jacobian", "jacobian"))
  def test_a_weight_behind_an_op_without_gradient_is_refused_before_work(self, method):

    class Quantized(keras.layers.Layer):
      """y = x + int(v): v is read, but the cast to integers has no gradient."""

      def build(self, input_shape):
        self.v = self.add_weight(shape=input_shape[-1:], initializer="ones")

      def call(self, x):
        return x + tf.cast(tf.cast(3.0 * self.v, "int32"), x.dtype)

    inp = keras.Input((4,), dtype="float64")
    h = Quantized(dtype="float64", name="quantized")(inp)
    model = keras.Model(inp, keras.layers.Dense(2, dtype="float64")(h))
    with self.assertRaisesRegex(ConfigError, "no gradient with respect to the weight "
                                "quantized/.*freeze the layer"):
      ntk_tf.empirical_ntk(model, np.zeros((3, 4)), method=method, dtype="float64")
    model.get_layer("quantized").trainable = False  # The kernel of the other weights.
    x = np.random.default_rng(5).normal(size=(3, 4))
    self.assertAllClose(ntk_tf.empirical_ntk(model, x, method=method, dtype="float64"),
                        explicit_kernel(model, x), rtol=1e-10, atol=1e-12)

  def test_stock_keras_lenet_with_our_weights_gives_our_kernel(self):
    ours = ntk_tf.build_model("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10,
                              seed=3)
    inp = keras.Input((28, 28, 1))
    h = keras.layers.Conv2D(6, 5, padding="same", activation="relu")(inp)
    h = keras.layers.MaxPooling2D()(h)
    h = keras.layers.Conv2D(16, 5, activation="relu")(h)
    h = keras.layers.Flatten()(keras.layers.MaxPooling2D()(h))
    h = keras.layers.Dense(84, activation="relu")(keras.layers.Dense(120, activation="relu")(h))
    stock = keras.Model(inp, keras.layers.Dense(10)(h))
    for mine, theirs in zip(ours.trainable_weights, stock.trainable_weights):
      theirs.assign(mine.numpy())
    x = np.random.default_rng(4).normal(size=(12, 28, 28, 1)).astype("float32")
    self.assertAllClose(stock(x), ours(x), rtol=1e-5, atol=1e-5)
    reference = ntk_tf.empirical_ntk(ours, x, method="structured")
    theta = ntk_tf.empirical_ntk(stock, x)
    self.assertAllClose(theta, reference, rtol=1e-6, atol=1e-6 * np.abs(reference).max())


if __name__ == "__main__":
  absltest.main()
