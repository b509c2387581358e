"""Architectures: parameter counts, shapes, initialization, layers against naive references."""

import math

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.models import layers
from tests import test_utils


def naive_conv(x, kernel, stride, pad):
  """Reference NHWC convolution (cross-correlation, as in PyTorch/TF) by explicit loops."""
  x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  n, h, w, _ = x.shape
  k = kernel.shape[0]
  oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
  out = np.zeros((n, oh, ow, kernel.shape[-1]))
  for i in range(oh):
    for j in range(ow):
      patch = x[:, i * stride:i * stride + k, j * stride:j * stride + k, :]
      out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
  return out


class ParameterCountTest(parameterized.TestCase):

  @parameterized.parameters(
      ("lenet", 1, (28, 28, 1), 10, 61706),
      ("lenet", 1, (32, 32, 3), 10, 62006),
      ("lenet", 2, (28, 28, 1), 10,
       (25 * 12 + 12) + (12 * 25 * 32 + 32) + (32 * 25 * 240 + 240) + (240 * 168 + 168)
       + (168 * 10 + 10)),
      ("alexnet", 1, (224, 224, 3), 10, 57044810),
      ("cnn5", 64, (32, 32, 3), 1, 4 * 64 + 3 * 9 * 64 + 3 * 64 * 9 * 64 + 64 * 32 * 32 + 1),
      ("mlp", 100, (30,), 1, 31 * 100 + 2 * 101 * 100 + 101),
      # x0.25 rounds the widths 6, 16, 120, 84 to 2, 4, 30, 21 (the binary tiers' n/p = 0.985).
      ("lenet", 0.25, (28, 28, 1), 1,
       (25 * 2 + 2) + (2 * 25 * 4 + 4) + (4 * 25 * 30 + 30) + (30 * 21 + 21) + (21 + 1)),
      ("lenet", 1.0, (28, 28, 1), 10, 61706),
  )
  def test_counts(self, name, width, shape, outputs, expected):
    m = models.build(name, width=width, input_shape=shape, num_outputs=outputs, seed=0)
    self.assertEqual(models.num_params(m), expected)

  def test_lenet_x60(self):
    m = models.build("lenet", width=60, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    self.assertEqual(models.num_params(m), 217_800_970)  # "about 217M"


class ShapesTest(parameterized.TestCase):

  @parameterized.parameters(
      ("lenet", 1, (28, 28, 1), 10), ("lenet", 3, (32, 32, 3), 10),
      ("alexnet", 1, (63, 63, 3), 10), ("alexnet", 1, (100, 90, 3), 4),
      ("myrtle", 4, (32, 32, 3), 1), ("myrtle", 4, (28, 28, 1), 2),
      ("cnn5", 4, (12, 12, 3), 1), ("mlp", 8, (30,), 1), ("mlp", 8, (8, 8, 1), 10),
      ("cnn_v", 4, (8, 8, 3), 3), ("cnn_gap", 4, (8, 8, 3), 3),
  )
  def test_output_shape(self, name, width, shape, outputs):
    m = models.build(name, width=width, input_shape=shape, num_outputs=outputs, seed=1)
    y = m(np.random.default_rng(0).standard_normal((2,) + shape).astype(np.float32))
    self.assertEqual(tuple(y.shape), (2, outputs))
    self.assertTrue(np.all(np.isfinite(y.numpy())))


class InitializationTest(parameterized.TestCase, test_utils.TestCase):

  def test_standard_is_pytorch_uniform(self):
    m = models.build("lenet", width=5, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    for layer in m.layers:
      if isinstance(layer, (layers.Dense, layers.Conv2D)):
        limit = 1 / math.sqrt(layer.fan_in)
        for w in (layer.kernel.numpy(), layer.bias.numpy()):
          self.assertLessEqual(np.abs(w).max(), limit)
          if w.size > 1000:
            self.assertAlmostEqual(w.std() / (limit / math.sqrt(3)), 1.0, delta=0.05)
            self.assertAlmostEqual(w.mean() / limit, 0.0, delta=0.05)
    self.assertEqual(m.get_layer("conv1").fan_in, 25)
    self.assertEqual(m.get_layer("fc1").fan_in, 80 * 25)

  def test_ntk_is_standard_normal(self):
    m = models.build("mlp", width=512, input_shape=(30,), num_outputs=1, seed=0,
                     parameterization="ntk")
    w = np.concatenate([v.numpy().ravel() for v in m.trainable_variables])
    self.assertAlmostEqual(w.mean(), 0.0, delta=0.01)
    self.assertAlmostEqual(w.std(), 1.0, delta=0.01)

  def test_ntk_dense_forward(self):
    layer = layers.Dense(3, parameterization="ntk", seed=(0, 1), w_std=1.7, b_std=0.3,
                         dtype="float64")
    x = np.random.default_rng(0).standard_normal((4, 5))
    y = layer(x).numpy()
    expected = 1.7 / math.sqrt(5) * x @ layer.kernel.numpy() + 0.3 * layer.bias.numpy()
    self.assertAllClose(y, expected, dtype=np.float64)

  def test_ntk_preactivation_variance(self):
    # With w_std, a dense layer's outputs have variance w_std^2 * mean(x^2) (+ b_std^2).
    m = models.build("mlp", width=4096, input_shape=(50,), num_outputs=1, seed=3, depth=2,
                     parameterization="ntk", w_std=1.0, b_std=0.0)
    x = np.ones((1, 50), np.float32)
    h = m.get_layer("fc1")(x).numpy()
    self.assertAlmostEqual(float(h.var()), 1.0, delta=0.06)

  def test_same_seed_same_weights_other_seed_differs(self):
    def weights(seed, dtype="float32"):
      m = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=seed,
                       dtype=dtype)
      return [v.numpy() for v in m.trainable_variables]
    a, b, c, d64 = weights(4), weights(4), weights(5), weights(4, "float64")
    for x, y, z, w in zip(a, b, c, d64):
      np.testing.assert_array_equal(x, y)
      self.assertFalse(np.array_equal(x, z))
      self.assertEqual(w.dtype, np.float64)
      np.testing.assert_allclose(x, w, rtol=1e-7)


class LayerReferenceTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters((5, 1, 2), (11, 4, 2), (3, 1, 1), (5, 1, 0), (3, 2, 0))
  def test_conv_against_naive(self, k, stride, pad):
    layer = layers.Conv2D(4, k, stride, pad, seed=(0, 0), dtype="float64")
    x = np.random.default_rng(1).standard_normal((2, 17, 15, 3))
    y = layer(x).numpy()
    expected = naive_conv(x, layer.kernel.numpy(), stride, pad) + layer.bias.numpy()
    self.assertAllClose(y, expected, dtype=np.float64)
    self.assertEqual(y.shape[1], layer.output_size(17))

  @parameterized.parameters((13, 6), (6, 6), (1, 6), (7, 6), (20, 3))
  def test_adaptive_avg_pool_against_torch_formula(self, size, out):
    x = np.random.default_rng(2).standard_normal((2, size, size + 1, 3))
    y = layers.AdaptiveAvgPool2D(out, dtype="float64")(x).numpy()
    expected = np.zeros((2, out, out, 3))
    for i in range(out):
      r0, r1 = math.floor(i * size / out), math.ceil((i + 1) * size / out)
      for j in range(out):
        c0, c1 = math.floor(j * (size + 1) / out), math.ceil((j + 1) * (size + 1) / out)
        expected[:, i, j] = x[:, r0:r1, c0:c1].mean(axis=(1, 2))
    self.assertAllClose(y, expected, dtype=np.float64)


class MaxPoolTest(parameterized.TestCase, test_utils.TestCase):
  """The mask-based max-pool equals TensorFlow's max-pool in values, gradients and JVPs."""

  @parameterized.parameters((2, (2, 10, 10, 3)), (2, (1, 11, 9, 2)), (3, (2, 9, 12, 1)))
  def test_against_tf_max_pool(self, k, shape):
    x = tf.constant(np.random.default_rng(0).standard_normal(shape))
    ours = layers.MaxPool2D(k, dtype="float64")
    reference = lambda t: tf.nn.max_pool2d(t, k, k, "VALID")
    self.assertAllClose(ours(x), reference(x), dtype=np.float64)
    cotangent = tf.constant(np.random.default_rng(1).standard_normal(reference(x).shape))
    grads = []
    for fn in (ours, reference):
      with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
      grads.append(tape.gradient(y, x, output_gradients=cotangent))
    self.assertAllClose(grads[0], grads[1], dtype=np.float64)
    tangent = tf.constant(np.random.default_rng(2).standard_normal(shape))
    jvps = []
    for fn in (ours, reference):
      with tf.autodiff.ForwardAccumulator(x, tangent) as acc:
        y = fn(x)
      jvps.append(acc.jvp(y))
    self.assertAllClose(jvps[0], jvps[1], dtype=np.float64)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ("lenet_8x8", "lenet", 1, (8, 8, 1), "cannot take 8x8 inputs"),
      ("alexnet_62", "alexnet", 1, (62, 62, 3), "cannot take 62x62 inputs.*63x63"),
      ("alexnet_28", "alexnet", 1, (28, 28, 1), "cannot take 28x28"),
      ("width_zero", "lenet", 0, (28, 28, 1), "positive integer"),
      ("width_float", "alexnet", 1.5, (64, 64, 3), "positive integer"),
      ("width_fraction_too_small", "lenet", 0.05, (28, 28, 1), "at least one channel"),
      ("width_str", "lenet", "2", (28, 28, 1), "positive integer"),
      ("unknown", "resnet", 1, (28, 28, 1), "unknown model 'resnet'; valid models: lenet"),
      ("vector_input", "lenet", 1, (30,), r"needs images of shape \(H, W, C\)"),
  )
  def test_one_clear_error(self, name, width, shape, pattern):
    with self.assertRaisesRegex(ConfigError, pattern):
      models.build(name, width=width, input_shape=shape, num_outputs=10, seed=0)

  def test_unknown_option(self):
    with self.assertRaisesRegex(ConfigError, "does not take options"):
      models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, depth=3)


if __name__ == "__main__":
  absltest.main()
