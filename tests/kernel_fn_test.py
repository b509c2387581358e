"""ntk_tf.kernel_fn: a reusable kernel function (traced once, any weights), output modes and
outputs of any shape, against explicit Jacobians in float64."""

import keras
import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

import ntk_tf
from ntk_tf.errors import ConfigError
from tests import test_utils
from tests.keras_models_test import MODELS

F64 = "float64"


def sequence_model():
  """(batch, 4, 3) inputs -> (batch, 4, 2) outputs: a Dense applied per position, mixed."""
  keras.utils.set_random_seed(0)
  inp = keras.Input((4, 3), dtype=F64)
  h = keras.layers.Dense(5, activation="tanh", dtype=F64)(inp)
  h = keras.layers.Conv1D(5, 2, padding="same", activation="tanh", dtype=F64)(h)
  return keras.Model(inp, keras.layers.Dense(2, dtype=F64)(h))


def explicit(model, x):
  """Θ[i, j, *o, *o'] over the whole output from full per-sample Jacobians."""
  rows = []
  for xi in x:
    with tf.GradientTape() as tape:
      out = tf.reshape(model(xi[None], training=False)[0], [-1])
    jac = tape.jacobian(out, model.trainable_weights)
    rows.append(np.concatenate([np.reshape(j.numpy(), (out.shape[0], -1)) for j in jac], 1))
  jac = np.stack(rows)
  shape = tuple(model.output_shape[1:])
  return np.einsum("iap,jbp->ijab", jac, jac).reshape((len(x), len(x)) + shape + shape)


class KernelFnTest(test_utils.TestCase, parameterized.TestCase):

  def assert_exact(self, theta, reference, tolerance=1e-10):
    self.assertEqual(theta.shape, reference.shape)
    self.assertLess(np.abs(theta - reference).max() / np.abs(reference).max(), tolerance)

  @parameterized.parameters("auto", "jacobian")
  def test_reused_across_weights_without_retracing(self, method):
    keras.utils.set_random_seed(0)
    build, shape = MODELS["residual_batchnorm_concat"]
    model = build()
    x = np.random.default_rng(1).normal(size=shape)
    kernel = ntk_tf.kernel_fn(model, method=method)
    first = kernel(x)
    engine, = kernel._engines.values()  # pylint: disable=protected-access
    traced = engine.layer_features if method == "auto" else engine.jacobian
    count = traced.experimental_get_tracing_count()
    rng = np.random.default_rng(2)
    other = [w.numpy() + 0.1 * rng.normal(size=w.shape) for w in model.trainable_weights]
    second = kernel(x, params=other)
    self.assertEqual(traced.experimental_get_tracing_count(), count)
    self.assert_exact(first, ntk_tf.empirical_ntk(model, x, method=method), 1e-14)
    self.assert_exact(second, ntk_tf.empirical_ntk(model, x, params=other, method=method),
                      1e-14)
    self.assertGreater(np.abs(second - first).max(), 1e-3)   # The weights did change.
    for w, value in zip(model.trainable_weights, other):     # And the model's did not.
      self.assertGreater(np.abs(w.numpy() - value).max(), 0)

  def test_output_modes(self):
    keras.utils.set_random_seed(0)
    build, shape = MODELS["functional_lenet"]
    model = build()
    x = np.random.default_rng(3).normal(size=shape)
    full = ntk_tf.kernel_fn(model)(x)
    reference = explicit(model, x)
    self.assert_exact(full, reference)
    self.assert_exact(ntk_tf.kernel_fn(model, "diagonal")(x), np.einsum("ijaa->ija", reference))
    self.assert_exact(ntk_tf.kernel_fn(model, "trace")(x[:4], x[2:]),
                      np.einsum("ijaa->ij", explicit(model, x)[:4, 2:]) / reference.shape[-1])

  def test_outputs_of_any_shape(self):
    model = sequence_model()
    x = np.random.default_rng(4).normal(size=(5, 4, 3))
    reference = explicit(model, x)                           # (5, 5, 4, 2, 4, 2)
    self.assert_exact(ntk_tf.kernel_fn(model)(x), reference)
    # Keeping the last axis (L = 2), the positions averaged over their diagonal.
    per_output = np.einsum("ijtatb->ijab", reference) / 4
    self.assert_exact(ntk_tf.kernel_fn(model, output_axes=-1)(x), per_output)
    self.assert_exact(ntk_tf.kernel_fn(model, "diagonal", output_axes=[1])(x),
                      np.einsum("ijaa->ija", per_output))
    self.assert_exact(ntk_tf.kernel_fn(model, "trace")(x),
                      np.einsum("ijtata->ij", reference) / 8)
    self.assert_exact(ntk_tf.kernel_fn(model, "trace", output_axes=0)(x),
                      np.einsum("ijtata->ij", reference) / 8)

  def test_bad_output_requests(self):
    model = sequence_model()
    x = np.zeros((2, 4, 3))
    with self.assertRaisesRegex(ConfigError, r"output_axes=2 for a model whose outputs are "
                                             r"\(batch,\) \+ \(4, 2\)"):
      ntk_tf.kernel_fn(model, output_axes=2)(x)
    with self.assertRaisesRegex(ConfigError, "outputs='sum'; use 'full'"):
      ntk_tf.kernel_fn(model, "sum")


if __name__ == "__main__":
  absltest.main()
