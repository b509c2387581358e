"""The NTK with the first and readout layers fixed (trained_layers="middle", Arora et al. 2019's
CNTK-GAP): a per-layer NumPy reference and wide finite nets' middle-layer eNTK."""

import json
import math
import os

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import engines, infinite
from tests import test_utils

RTOL = 1e-7  # As tests/infinite_test.py: ~√eps rounding through the arc-cosine at cos θ = 1.


# -- an independent reference: every weight layer's own NTK term, all pixel pairs -----------
def _conv(k, size, scale):
  """scale · Σ_δ K(p+δ, p'+δ), SAME zero padding, on (n, n, H, W, H, W), one shift at a time."""
  lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
  h, w = k.shape[2], k.shape[3]
  padded = np.pad(k, [(0, 0)] * 2 + [(lo, hi), (lo, hi)] * 2)
  out = np.zeros_like(k)
  for a in range(size):
    for b in range(size):
      out += padded[:, :, a:a + h, b:b + w, a:a + h, b:b + w]
  return scale * out


def _relu(k):
  """Arc-cosine NNGP and derivative kernel (Cho & Saul) from the joint (n, n, H, W, H, W) K."""
  n, h, w = k.shape[0], k.shape[2], k.shape[3]
  var = np.stack([np.diag(k[i, i].reshape(h * w, h * w)) for i in range(n)]).reshape(n, h, w)
  norm = np.sqrt(var[:, None, :, :, None, None] * var[None, :, None, None, :, :])
  cos = np.clip(k / norm, -1.0, 1.0)
  theta = np.arccos(cos)
  return (norm * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi),
          (np.pi - theta) / (2 * np.pi))


def _pool(k, size):
  n, h, w = k.shape[0], k.shape[2] // size, k.shape[3] // size
  k = k[:, :, :h * size, :w * size, :h * size, :w * size]
  return k.reshape(n, n, h, size, w, size, h, size, w, size).mean(axis=(3, 5, 7, 9))


def _readout_input(k, kind):
  n, hw = k.shape[0], k.shape[2] * k.shape[3]
  if kind == "gap":
    return k.mean(axis=(2, 3, 4, 5))
  return np.einsum("abpp->ab", k.reshape(n, n, hw, hw)) / hw


def per_layer_terms(spec, x, w_std, b_std):
  """(NNGP, [Θ_l for each weight layer l]) with Θ = Σ_l Θ_l: layer l's term is its own output
  NNGP W²K + b², carried unchanged in form through the later layers' linear maps and K̇."""
  if spec[0][0] == "flatten":  # An MLP: one pixel of H·W·C channels, read out by its mean.
    x, spec = x.reshape(len(x), 1, 1, -1), spec[1:-1] + [("gap",), spec[-1]]
  k = np.einsum("aijc,bklc->abijkl", x, x) / x.shape[-1]
  terms = []
  for layer in spec:
    kind = layer[0]
    if kind in ("conv", "dense"):
      if kind == "conv":
        linear = lambda t, size=layer[1]: _conv(t, size, w_std ** 2 / size ** 2)
      else:
        linear = lambda t: w_std ** 2 * t
      k = linear(k) + b_std ** 2
      terms = [linear(t) for t in terms] + [k.copy()]
    elif kind == "relu":
      k, derivative = _relu(k)
      terms = [t * derivative for t in terms]
    elif kind == "avg_pool":
      k, terms = _pool(k, layer[1]), [_pool(t, layer[1]) for t in terms]
    else:  # gap, flatten: from pixel pairs to one number per sample pair.
      k, terms = _readout_input(k, kind), [_readout_input(t, kind) for t in terms]
  return k, terms


# -- Monte Carlo: wide finite nets, gradients of the middle layers' weights only -------------
def middle_layer_entk(model, x):
  """Θ(x, x) from the Jacobian columns of every Conv2D/Dense layer but the first and last."""
  weighted = [l for l in model.layers if l.trainable_weights]
  middle = {id(v) for l in weighted[1:-1] for v in l.trainable_weights}
  keep, start = [], 0
  for v in model.trainable_weights:
    size = int(np.prod(v.shape))
    if id(v) in middle:
      keep.append(np.arange(start, start + size))
    start += size
  keep = np.concatenate(keep)
  rows = np.concatenate([r for _, r in engines.jacobian_rows(model, x)])  # (n, P): 1 output.
  jac = rows[:, keep]
  return jac @ jac.T


def mean_middle_entk(arch, x, width, seeds, **kwargs):
  kernels = []
  for seed in range(seeds):
    model = models.build(arch, width=width, input_shape=x.shape[1:], num_outputs=1, seed=seed,
                         dtype="float64", parameterization="ntk", **kwargs)
    kernels.append(middle_layer_entk(model, x))
  kernels = np.array(kernels)
  return kernels.mean(0), kernels.std(0, ddof=1) / math.sqrt(seeds)


class PerLayerReferenceTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(
      ("cnn_gap", "cnn_gap", 2, (5, 4, 2), math.sqrt(2.0), 0.0),
      ("cnn_gap_deeper_biases", "cnn_gap", 3, (4, 5, 1), 1.3, 0.4),
      ("cnn_v", "cnn_v", 2, (5, 4, 2), math.sqrt(2.0), 0.0),
      ("cnn_v_biases", "cnn_v", 3, (4, 4, 1), 1.4, 0.3),
      ("myrtle", "myrtle", None, (8, 8, 1), math.sqrt(2.0), 0.1),
      ("cnn5", "cnn5", None, (5, 5, 1), math.sqrt(2.0), 0.0),
      ("mlp", "mlp", 3, (3, 2, 2), 1.2, 0.5),
  )
  def test_middle_is_the_sum_of_the_middle_layers_terms(self, arch, depth, shape, w_std,
                                                        b_std):
    x = np.random.default_rng(0).standard_normal((4,) + shape)
    nngp, terms = per_layer_terms(infinite.layers(arch, depth), x, w_std, b_std)
    full = infinite.kernels(arch, x, depth=depth, w_std=w_std, b_std=b_std)
    middle = infinite.kernels(arch, x, depth=depth, w_std=w_std, b_std=b_std,
                              trained_layers="middle")
    self.assertAllClose(full["ntk"], sum(terms), rtol=RTOL)  # The reference's own check.
    self.assertAllClose(terms[-1], nngp, rtol=1e-12)  # The readout's term is the NNGP.
    self.assertAllClose(middle["ntk"], sum(terms[1:-1]), rtol=RTOL)
    self.assertAllClose(full["ntk"] - middle["ntk"], terms[0] + nngp, rtol=RTOL)
    self.assertAllClose(middle["nngp"], full["nngp"], rtol=1e-12)

  def test_one_middle_layer_by_hand(self):
    # MLP depth 3, x = √2·e_i in d = 2: K⁰ = x·x'/d = (1, 0) (diagonal, off-diagonal); K¹ =
    # 2·(1, 0); ReLU: (1, 1/π). The middle layer's term is K² = 2·(1, 1/π); ReLU at cos θ = 1/π
    # gives K̇² = (1/2, (π − acos(1/π))/2π); the fixed readout carries it with W² = 2.
    x = np.array([[1.0, 0.0], [0.0, 1.0]]) * math.sqrt(2.0)
    out = infinite.kernels("mlp", x, depth=3, trained_layers="middle")["ntk"]
    off = 2 * (2 / math.pi) * (math.pi - math.acos(1 / math.pi)) / (2 * math.pi)
    self.assertAllClose(out, [[2.0, off], [off, 2.0]], rtol=RTOL)


class ConvergenceTest(test_utils.TestCase, parameterized.TestCase):
  """The mean middle-layer eNTK of wide finite nets converges to trained_layers="middle"."""

  @parameterized.named_parameters(
      ("cnn_gap", "cnn_gap", (4, 4, 1), 1024, 2),
      ("cnn_v", "cnn_v", (4, 4, 1), 1024, 2),
  )
  def test_mean_middle_entk_within_standard_errors(self, arch, shape, width, depth):
    x = np.random.default_rng(0).standard_normal((3,) + shape)
    exact = infinite.kernels(arch, x, depth=depth, trained_layers="middle")["ntk"]
    full = infinite.kernels(arch, x, depth=depth)["ntk"]
    mean, stderr = mean_middle_entk(arch, x, width, seeds=6, depth=depth)
    self.assertTrue(np.all(stderr > 0))
    z = np.abs(mean - exact) / stderr
    self.assertLess(z.max(), 4.0, f"{arch}: z-scores {np.round(z, 1)}")
    self.assertLess(np.abs(mean / exact - 1).max(), 0.06)
    self.assertGreater(np.abs(mean / full - 1).min(), 0.2)  # Far from the full NTK.


class PropertiesTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters("cnn_v", "cnn_gap", "myrtle", "cnn5", "mlp")
  def test_dropped_terms_are_psd_and_default_is_all(self, arch):
    x = np.random.default_rng(1).standard_normal((5, 8, 8, 1))  # Myrtle pools 8 -> 1.
    default = infinite.kernels(arch, x)
    full = infinite.kernels(arch, x, trained_layers="all")
    middle = infinite.kernels(arch, x, trained_layers="middle")
    for key in ("ntk", "nngp"):
      np.testing.assert_array_equal(full[key], default[key])
    np.testing.assert_array_equal(middle["nngp"], full["nngp"])
    dropped = full["ntk"] - middle["ntk"]
    self.assertTrue(np.all(np.diag(dropped) > 0))
    self.assertTrue(np.all(np.diag(dropped) >= np.diag(full["nngp"]) * (1 - 1e-12)))
    self.assertGreater(np.linalg.eigvalsh(dropped).min(), -1e-10 * np.abs(dropped).max())
    self.assertGreater(np.linalg.eigvalsh(middle["ntk"]).min(),
                       -1e-10 * np.abs(middle["ntk"]).max())

  def test_blocks_and_cross_kernels_agree(self):
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((3, 6, 6, 1)), rng.standard_normal((4, 6, 6, 1))
    joint = infinite.kernels("cnn_gap", np.concatenate([x1, x2]), depth=2,
                             trained_layers="middle", block_size=2)
    cross = infinite.kernels("cnn_gap", x1, x2, depth=2, trained_layers="middle")
    self.assertAllClose(cross["ntk"], joint["ntk"][:3, 3:], rtol=RTOL)

  def test_checkpoints_keep_the_variants_apart(self):
    x = np.random.default_rng(4).standard_normal((4, 6, 6, 1))
    directory = self.create_tempdir().full_path
    infinite.kernels("cnn_gap", x, depth=2, block_size=2, checkpoint_dir=directory)
    with self.assertRaisesRegex(ConfigError, "another kernel .*trained_layers"):
      infinite.kernels("cnn_gap", x, depth=2, block_size=2, checkpoint_dir=directory,
                       trained_layers="middle")
    # Blocks saved before the key existed are the all-layers kernel, and are reused as such.
    path = os.path.join(directory, "manifest.json")
    with open(path) as f:
      manifest = json.load(f)
    del manifest["trained_layers"]
    with open(path, "w") as f:
      json.dump(manifest, f)
    infinite.kernels("cnn_gap", x, depth=2, block_size=2, checkpoint_dir=directory)
    with self.assertRaisesRegex(ConfigError, "another kernel .*trained_layers"):
      infinite.kernels("cnn_gap", x, depth=2, block_size=2, checkpoint_dir=directory,
                       trained_layers="middle")

  def test_errors(self):
    x = np.ones((2, 6, 6, 1))
    with self.assertRaisesRegex(ConfigError, "trained_layers='first'; use one of all, middle"):
      infinite.kernels("cnn_gap", x, trained_layers="first")
    for arch, depth in (("cnn_gap", 1), ("cnn_v", 1), ("mlp", 2)):
      with self.assertRaisesRegex(ConfigError, "no trained layer among 2 weight layers"):
        infinite.kernels(arch, x, depth=depth, trained_layers="middle")


if __name__ == "__main__":
  absltest.main()
