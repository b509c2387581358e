"""Infinite-width NNGP/NTK: closed forms, Monte-Carlo convergence of finite nets, blocks."""

import math
import os
import subprocess
import sys

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import empirical_ntk, infinite, monte_carlo
from tests import test_utils

# The arc-cosine kernel's derivative diverges at cos θ = 1: diagonal entries carry ~√eps relative
# rounding whichever way they are computed (see ntk_tf/ntk/infinite.py), so kernels that pass
# through a ReLU are compared at this tolerance.
RTOL = 1e-7


def arccos_relu(k12, k11, k22):
  """E[relu(u) relu(v)] and E[relu'(u) relu'(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]])."""
  norm = np.sqrt(k11 * k22)
  theta = np.arccos(np.clip(k12 / norm, -1, 1))
  return (norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi),
          (np.pi - theta) / (2 * np.pi))


def mlp_closed_form(x, hidden_layers, w_std, b_std):
  """Jacot et al.'s recursion for a ReLU MLP written out directly in NumPy."""
  x = x.reshape(len(x), -1)
  k = x @ x.T / x.shape[1]
  theta = np.zeros_like(k)
  for _ in range(hidden_layers):
    k = w_std ** 2 * k + b_std ** 2
    theta = w_std ** 2 * theta + k
    diag = np.diag(k)
    k, derivative = arccos_relu(k, diag[:, None], diag[None, :])
    theta = theta * derivative
  k = w_std ** 2 * k + b_std ** 2
  return k, w_std ** 2 * theta + k


def cntk_v_same_pixel(x1, x2, depth, w_std, b_std, trained_layers="all"):
  """Arora et al.'s CNTK-V recursion written out in NumPy at same-pixel pairs only (a flatten
  readout never sees p != p'): (n, n) NNGP and NTK of the images x1 and x2 stacked together,
  each 3x3 SAME convolution one shift at a time, every variance read off the joint kernel."""
  x = np.concatenate([x1, x2])
  n, h, w = x.shape[:3]
  k = np.einsum("ahwc,bhwc->abhw", x, x) / x.shape[-1]
  theta = np.zeros_like(k)
  for layer in range(depth):
    padded = np.pad(k, [(0, 0), (0, 0), (1, 1), (1, 1)])
    padded_theta = np.pad(theta, [(0, 0), (0, 0), (1, 1), (1, 1)])
    k, theta = np.zeros_like(k), np.zeros_like(k)
    for di in range(3):
      for dj in range(3):
        k += padded[:, :, di:di + h, dj:dj + w]
        theta += padded_theta[:, :, di:di + h, dj:dj + w]
    k = w_std ** 2 / 9 * k + b_std ** 2
    theta = w_std ** 2 / 9 * theta + (k if layer > 0 or trained_layers == "all" else 0.0)
    var = k[np.arange(n), np.arange(n)]  # (n, H, W): K(x, x) at each pixel.
    k, derivative = arccos_relu(k, var[:, None], var[None, :])
    theta = theta * derivative
  k = w_std ** 2 * k.mean(axis=(2, 3)) + b_std ** 2
  theta = w_std ** 2 * theta.mean(axis=(2, 3)) + (k if trained_layers == "all" else 0.0)
  return k, theta


def mean_empirical_ntk(arch, x, width, seeds, **kwargs):
  """Mean and standard error of the eNTK over seeds of the finite net, NTK parameterization."""
  kernels = []
  for seed in range(seeds):
    model = models.build(arch, width=width, input_shape=x.shape[1:], num_outputs=1, seed=seed,
                         dtype="float64", parameterization="ntk", **kwargs)
    kernels.append(empirical_ntk(model, x)[:, :, 0, 0])
  kernels = np.array(kernels)
  return kernels.mean(0), kernels.std(0, ddof=1) / math.sqrt(seeds)


class ClosedFormTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters((1, math.sqrt(2.0), 0.0), (2, math.sqrt(2.0), 0.0), (2, 1.3, 0.4))
  def test_mlp_matches_the_arc_cosine_recursion(self, hidden, w_std, b_std):
    x = np.random.default_rng(0).standard_normal((5, 7))
    out = infinite.kernels("mlp", x, depth=hidden + 1, w_std=w_std, b_std=b_std)
    nngp, ntk = mlp_closed_form(x, hidden, w_std, b_std)
    self.assertAllClose(out["nngp"], nngp, rtol=RTOL)
    self.assertAllClose(out["ntk"], ntk, rtol=RTOL)

  def test_one_hidden_layer_relu_by_hand(self):
    # x = √2·e_i in d = 2: K⁰ = x·x'/d = 1 on the diagonal, 0 off it; K¹ = W²K⁰ = 2, 0.
    # ReLU: diagonal K¹/2 = 1; at 90°, 2·(sin(π/2) + (π/2)·0)/2π = 1/π; K̇ = 1/2 and 1/4.
    # Readout: K² = W²·(1, 1/π) = (2, 2/π); Θ = W²·K̇·Θ¹ + K² with Θ¹ = K¹: (2·½·2 + 2, 0 + 2/π).
    x = np.array([[1.0, 0.0], [0.0, 1.0]]) * math.sqrt(2.0)
    out = infinite.kernels("mlp", x, depth=2)
    self.assertAllClose(out["nngp"], [[2.0, 2 / math.pi], [2 / math.pi, 2.0]], rtol=RTOL)
    self.assertAllClose(out["ntk"], [[4.0, 2 / math.pi], [2 / math.pi, 4.0]], rtol=RTOL)


class SamePixelReferenceTest(test_utils.TestCase, parameterized.TestCase):
  """CNTK-V's pairs-at-once computation (each pair once in a block with itself) equals the
  recursion written out directly, to float64 round-off."""

  @parameterized.named_parameters(
      ("depth3", 3, math.sqrt(2.0), 0.0, "all"),
      ("depth10", 10, math.sqrt(2.0), 0.0, "all"),
      ("depth3_biases_middle", 3, 1.4, 0.3, "middle"),
  )
  def test_equals_the_direct_recursion(self, depth, w_std, b_std, trained_layers):
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((3, 8, 8, 3)), rng.standard_normal((2, 8, 8, 3))
    nngp, ntk = cntk_v_same_pixel(x1, x2, depth, w_std, b_std, trained_layers)
    kwargs = dict(depth=depth, w_std=w_std, b_std=b_std, trained_layers=trained_layers)
    for block_size in (None, 2):  # One block; blocks of 2 (triangles, cross and short blocks).
      out = infinite.kernels("cnn_v", x1, block_size=block_size, **kwargs)
      self.assertAllClose(out["nngp"], nngp[:3, :3], rtol=1e-12, atol=0)
      self.assertAllClose(out["ntk"], ntk[:3, :3], rtol=1e-12, atol=0)
    cross = infinite.kernels("cnn_v", x1, x2, **kwargs)
    self.assertAllClose(cross["nngp"], nngp[:3, 3:], rtol=1e-12, atol=0)
    self.assertAllClose(cross["ntk"], ntk[:3, 3:], rtol=1e-12, atol=0)

  def test_float32_diagonal_is_exact_to_float32_round_off(self):
    # Each sample's pair with itself has cos θ = 1 exactly; a cos θ one rounding below 1 would
    # move the NTK's diagonal by ~√eps (3e-4 in float32), through the arc-cosine's derivative.
    x = np.random.default_rng(9).standard_normal((4, 8, 8, 3))
    k64 = infinite.kernels("cnn_v", x, depth=10, dtype="float64")
    k32 = infinite.kernels("cnn_v", x, depth=10, dtype="float32")
    self.assertAllClose(k32["ntk"], k64["ntk"], rtol=2e-6, atol=0)
    self.assertAllClose(k32["nngp"], k64["nngp"], rtol=2e-6, atol=0)


class ConvergenceTest(test_utils.TestCase, parameterized.TestCase):
  """The mean eNTK of wide finite networks converges to the infinite kernel."""

  @parameterized.named_parameters(
      ("mlp", "mlp", (3, 3, 2), 2048, dict(depth=3)),
      ("cnn_v", "cnn_v", (4, 4, 1), 1024, dict(depth=2)),
      ("cnn_gap", "cnn_gap", (4, 4, 1), 1024, dict(depth=2)),
      ("myrtle", "myrtle", (8, 8, 1), 128, {}),
  )
  def test_mean_empirical_ntk_within_standard_errors(self, arch, shape, width, kwargs):
    x = np.random.default_rng(0).standard_normal((3,) + shape)
    exact = infinite.kernels(arch, x, **kwargs)["ntk"]
    mean, stderr = mean_empirical_ntk(arch, x, width, seeds=6, **kwargs)
    self.assertTrue(np.all(stderr > 0))
    z = np.abs(mean - exact) / stderr
    self.assertLess(z.max(), 4.0, f"{arch}: z-scores {np.round(z, 1)}")
    self.assertLess(np.abs(mean / exact - 1).max(), 0.06)


class MonteCarloTest(test_utils.TestCase):

  def test_mlp_estimate_covers_the_exact_kernels(self):
    x = np.random.default_rng(5).standard_normal((3, 12))
    exact = infinite.kernels("mlp", x, depth=3)
    estimate = monte_carlo.kernels("mlp", x, width=512, num_samples=8, num_outputs=4,
                                   dtype="float64", depth=3)
    for name in ("ntk", "nngp"):
      z = np.abs(estimate[name] - exact[name]) / estimate[f"{name}_stderr"]
      self.assertLess(z.max(), 4.0, f"{name}: z-scores {np.round(z, 1)}")

  def test_lenet_with_max_pooling(self):
    x = np.random.default_rng(6).standard_normal((3, 28, 28, 1))
    out = monte_carlo.kernels("lenet", x, width=2, num_samples=3)
    self.assertEqual(out["ntk"].shape, (3, 3))
    self.assertAllClose(out["ntk"], out["ntk"].T, rtol=1e-5)
    self.assertTrue(np.all(out["ntk_stderr"] > 0) and np.all(np.isfinite(out["nngp"])))
    self.assertTrue(np.all(np.diag(out["ntk"]) > 0))
    with self.assertRaisesRegex(ConfigError, "at least 2"):
      monte_carlo.kernels("lenet", x, width=1, num_samples=1)


class PropertiesTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters("cnn_v", "cnn_gap", "myrtle", "cnn5", "mlp")
  def test_symmetric_psd_and_blocks_agree(self, arch):
    x = np.random.default_rng(1).standard_normal((5, 8, 8, 2))
    whole = infinite.kernels(arch, x)
    blocked = infinite.kernels(arch, x, block_size=2)  # 2 does not divide 5.
    for key in ("nngp", "ntk"):
      k = whole[key]
      self.assertAllClose(blocked[key], k, rtol=RTOL)
      self.assertAllClose(k, k.T, rtol=RTOL)
      self.assertGreater(np.linalg.eigvalsh(k).min(), -1e-10 * np.abs(k).max())
    self.assertTrue(np.all(whole["ntk"] >= whole["nngp"] - 1e-12))  # Θ = K + positive terms.

  @parameterized.parameters(("cnn_v", 3), ("cnn5", None))
  def test_same_pixel_shortcut_equals_all_pixel_pairs(self, arch, depth):
    rng = np.random.default_rng(7)
    x1, x2 = tf.constant(rng.standard_normal((3, 7, 6, 2))), tf.constant(
        rng.standard_normal((2, 7, 6, 2)))
    spec = infinite.layers(arch, depth)
    fast = infinite.block_kernels(spec, x1, x2, 1.4, 0.3)
    full = infinite.block_kernels(spec, x1, x2, 1.4, 0.3, diagonal=False)
    for a, b in zip(fast, full):
      self.assertAllClose(a, b, rtol=RTOL)

  @parameterized.parameters(("cnn_gap", "all", None), ("cnn_gap", "middle", 2),
                            ("cnn_v", "all", None), ("cnn_v", "middle", 2))
  def test_readout_depths_equal_the_shallower_nets(self, arch, trained_layers, block_size):
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((3, 6, 5, 2)), rng.standard_normal((2, 6, 5, 2))
    for second in (x2, None):  # The cross and the symmetric (triangle) paths.
      kwargs = dict(w_std=1.3, b_std=0.2, trained_layers=trained_layers, block_size=block_size)
      deep = infinite.kernels(arch, x1, second, depth=4, readout_depths=(2, 3), **kwargs)
      self.assertEqual(sorted(deep["by_depth"]), [2, 3, 4])
      for depth in (2, 3, 4):
        alone = infinite.kernels(arch, x1, second, depth=depth, **kwargs)
        for key in ("nngp", "ntk"):
          self.assertAllClose(deep["by_depth"][depth][key], alone[key], rtol=RTOL)
      self.assertAllClose(deep["ntk"], deep["by_depth"][4]["ntk"], rtol=0)

  def test_readout_depths_resume_from_their_checkpoints(self):
    x = np.random.default_rng(9).standard_normal((5, 6, 6, 1))
    directory = self.create_tempdir().full_path
    first = infinite.kernels("cnn_gap", x, depth=3, readout_depths=(2,), block_size=2,
                             checkpoint_dir=directory)
    os.remove(os.path.join(directory, "block_1_2.npz"))
    again = infinite.kernels("cnn_gap", x, depth=3, readout_depths=(2,), block_size=2,
                             checkpoint_dir=directory)
    np.testing.assert_array_equal(again["by_depth"][2]["ntk"], first["by_depth"][2]["ntk"])
    with self.assertRaisesRegex(ConfigError, "another kernel .*readout_depths"):
      infinite.kernels("cnn_gap", x, depth=3, block_size=2, checkpoint_dir=directory)

  def test_cross_kernel_is_a_block_of_the_joint_kernel(self):
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((3, 6, 6, 1)), rng.standard_normal((4, 6, 6, 1))
    joint = infinite.kernels("cnn_gap", np.concatenate([x1, x2]), depth=2)
    cross = infinite.kernels("cnn_gap", x1, x2, depth=2)
    self.assertAllClose(cross["ntk"], joint["ntk"][:3, 3:], rtol=RTOL)
    self.assertAllClose(cross["nngp"], joint["nngp"][:3, 3:], rtol=RTOL)

  def test_float32_matches_float64(self):
    x = np.random.default_rng(3).standard_normal((4, 8, 8, 1))
    k64 = infinite.kernels("myrtle", x, dtype="float64")
    k32 = infinite.kernels("myrtle", x, dtype="float32")
    self.assertAllClose(k32["ntk"], k64["ntk"], rtol=1e-5, atol=1e-6)

  def test_zero_pixels_give_finite_kernels(self):
    x = np.zeros((3, 6, 6, 1))
    x[0, 2, 2, 0], x[1, 0, 0, 0] = 1.0, -2.0  # Mostly zero images, one all zero.
    out = infinite.kernels("cnn_v", x)
    self.assertTrue(np.isfinite(out["ntk"]).all() and np.isfinite(out["nngp"]).all())
    self.assertAllClose(out["ntk"][2], np.zeros(3))

  def test_checkpointed_blocks_resume(self):
    x = np.random.default_rng(4).standard_normal((5, 6, 6, 1))
    directory = self.create_tempdir().full_path
    first = infinite.kernels("cnn_gap", x, block_size=2, checkpoint_dir=directory)
    marker = os.path.join(directory, "block_0_1.npz")
    np.savez(marker, nngp=np.full((2, 2), 7.0), ntk=np.full((2, 2), 9.0))
    again = infinite.kernels("cnn_gap", x, block_size=2, checkpoint_dir=directory)
    np.testing.assert_array_equal(again["ntk"][0:2, 2:4], 9.0)  # Reused, not recomputed.
    self.assertAllClose(again["ntk"][4:, 4:], first["ntk"][4:, 4:], rtol=RTOL)
    with self.assertRaisesRegex(ConfigError, "another kernel .*block_size"):
      infinite.kernels("cnn_gap", x, block_size=3, checkpoint_dir=directory)

  def test_resuming_at_a_partial_block_is_bit_identical(self):
    # Blocks of 2 over 5 samples: pairs (0,0) (0,1) (0,2) (1,1) (1,2) (2,2). A run killed after
    # (0,1) meets the short block (0,2) first; its full blocks must not change in the last bits.
    x = np.random.default_rng(5).standard_normal((5, 6, 6, 1))
    directory = self.create_tempdir().full_path
    full = infinite.kernels("cnn_gap", x, block_size=2, checkpoint_dir=directory)
    for pair in ("0_2", "1_1", "1_2", "2_2"):
      os.remove(os.path.join(directory, f"block_{pair}.npz"))
    resumed = infinite.kernels("cnn_gap", x, block_size=2, checkpoint_dir=directory)
    for key in ("ntk", "nngp"):
      np.testing.assert_array_equal(resumed[key], full[key])

  def test_blocks_spread_over_two_devices_equal_one_device(self):  # Also the eNTK's.
    # Two logical CPUs must be configured before TensorFlow starts: a fresh interpreter.
    script = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
from ntk_tf.ntk import infinite
x = np.random.default_rng(0).standard_normal((5, 6, 6, 1))
spread = infinite.kernels("cnn_gap", x, depth=2, block_size=2, devices="CPU")
single = infinite.kernels("cnn_gap", x, depth=2, block_size=2, devices=[None])
from ntk_tf import models
from ntk_tf.utils import distribute
from ntk_tf.ntk import empirical
model = models.build("cnn_gap", width=4, input_shape=(6, 6, 1), num_outputs=2, depth=2,
                     dtype="float64", parameterization="ntk")
entk = [float(np.abs(empirical.empirical_ntk(model, x, method=m, block_size=2,
                                             devices=distribute.get_strategy("mirrored"))
                     - empirical.empirical_ntk(model, x, method=m, block_size=2)).max())
        for m in ("jacobian", "structured")]
print("RESULT", len(tf.config.list_logical_devices("CPU")),
      float(np.abs(spread["ntk"] - single["ntk"]).max()),
      float(np.abs(spread["nngp"] - single["nngp"]).max()), *entk)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    result = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][0].split()
    self.assertEqual(result[1], "2")
    self.assertEqual(float(result[2]), 0.0)
    self.assertEqual(float(result[3]), 0.0)
    self.assertLess(float(result[4]), 1e-12)  # eNTK blocks over a mirrored strategy's devices.
    self.assertLess(float(result[5]), 1e-12)

  def test_errors(self):
    with self.assertRaisesRegex(ConfigError, "lenet.*max-pooling.*monte_carlo"):
      infinite.kernels("lenet", np.zeros((2, 28, 28, 1)))
    x = np.ones((2, 6, 6, 1))
    x[0, 0, 0, 0] = np.nan
    with self.assertRaisesRegex(ConfigError, "x1 contains NaN"):
      infinite.kernels("cnn_v", x)
    x = np.ones((2, 6, 6, 1))
    with self.assertRaisesRegex(ConfigError, r"readout depths \[5\] are not between 1 and"):
      infinite.kernels("cnn_gap", x, depth=4, readout_depths=(2, 5))
    with self.assertRaisesRegex(ConfigError, "readout depths need a cnn_v or cnn_gap"):
      infinite.kernels("myrtle", x, readout_depths=(2,))
    with self.assertRaisesRegex(ConfigError, "depth 1 with trained_layers='middle'"):
      infinite.kernels("cnn_gap", x, depth=4, readout_depths=(1,), trained_layers="middle")
    with self.assertRaisesRegex(ConfigError, "needs ~.* GiB .*memory_limit_gb=1e-06"):
      infinite.kernels("cnn_gap", np.ones((2, 32, 32, 3)), memory_limit_gb=1e-6)


if __name__ == "__main__":
  absltest.main()
