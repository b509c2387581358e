"""Empirical NTK implementations against explicit Jacobians and each other (float64)."""

import os
from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import empirical_ntk, engines, flatten, layer_list, planning
from tests import test_utils

CASES = (
    ("lenet_3out", "lenet", dict(width=1, input_shape=(12, 12, 1), num_outputs=3)),
    ("lenet_1out_32", "lenet", dict(width=2, input_shape=(32, 32, 3), num_outputs=1)),
    ("myrtle_ntk", "myrtle", dict(width=2, input_shape=(8, 8, 2), num_outputs=2,
                                  parameterization="ntk", b_std=0.1)),
    ("mlp_ntk", "mlp", dict(width=9, input_shape=(6,), num_outputs=4, parameterization="ntk",
                            w_std=1.3, b_std=0.4)),
    ("cnn_gap_1out", "cnn_gap", dict(width=3, input_shape=(6, 6, 2), num_outputs=1, depth=2)),
)


def build(name, kwargs, seed=0):
  return models.build(name, seed=seed, dtype="float64", **kwargs)


def inputs(kwargs, n, seed):
  return np.random.default_rng(seed).standard_normal((n,) + kwargs["input_shape"])


def explicit_kernel(model, x1, x2):
  """J(x1) J(x2)ᵀ from tf.GradientTape.jacobian, one sample at a time (no pfor)."""
  params = [v.value for v in model.trainable_weights]

  def jac(x):
    rows = []
    for xi in x:
      with tf.GradientTape(persistent=True) as tape:
        out = model(tf.constant(xi[None]))[0]
      rows.append(np.concatenate([j.numpy().reshape(out.shape[0], -1)
                                  for j in tape.jacobian(out, params,
                                                         experimental_use_pfor=False)], -1))
    return np.stack(rows)

  return np.einsum("iap,jbp->ijab", jac(x1), jac(x2))


class AgreementTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.named_parameters(*CASES)
  def test_all_methods_equal_explicit_jacobian_product(self, name, kwargs):
    model = build(name, kwargs)
    x1, x2 = inputs(kwargs, 4, 1), inputs(kwargs, 3, 2)
    reference = explicit_kernel(model, x1, x2)
    scale = np.abs(reference).max()
    for method in ("jacobian", "ntvp", "structured"):
      k = empirical_ntk(model, x1, x2, method=method, block_size=2)
      self.assertEqual(k.shape, reference.shape)
      self.assertLess(np.abs(k - reference).max() / scale, 1e-6, method)

  @parameterized.named_parameters(CASES[0], CASES[3])
  def test_symmetric_kernel(self, name, kwargs):
    model = build(name, kwargs)
    x = inputs(kwargs, 5, 3)
    reference = explicit_kernel(model, x, x)
    for method in ("jacobian", "ntvp", "structured"):
      k = empirical_ntk(model, x, method=method, block_size=2)  # 2 does not divide 5.
      self.assertLess(np.abs(k - reference).max() / np.abs(reference).max(), 1e-6, method)
      flat = flatten(k)
      self.assertAllClose(flat, flat.T, dtype=np.float64)
      self.assertGreater(np.linalg.eigvalsh(flat).min(), -1e-9 * np.abs(flat).max())

  @parameterized.named_parameters(CASES[0], CASES[3])
  def test_trace_outputs_equal_the_average_of_the_diagonal_output_blocks(self, name, kwargs):
    model = build(name, kwargs)
    x1, x2 = inputs(kwargs, 5, 3), inputs(kwargs, 4, 4)
    full = empirical_ntk(model, x1, x2, method="jacobian")
    expected = np.einsum("ijaa->ij", full) / full.shape[-1]
    for method in ("jacobian", "structured"):
      for second in (x2, None):  # Cross and symmetric kernels.
        trace = empirical_ntk(model, x1, second, method=method, block_size=2, outputs="trace")
        want = expected if second is not None else np.einsum(
            "ijaa->ij", empirical_ntk(model, x1, method="jacobian")) / full.shape[-1]
        self.assertEqual(trace.shape, want.shape)
        self.assertAllClose(trace, want, dtype=np.float64)

  def test_alexnet_at_reduced_input_size(self):
    # 57M weights: the explicit Jacobian would take 7 GB in float64; structured vs NTVP.
    model = models.build("alexnet", width=1, input_shape=(63, 63, 3), num_outputs=2, seed=0,
                         dtype="float64")
    x1, x2 = inputs(dict(input_shape=(63, 63, 3)), 3, 1), inputs(dict(input_shape=(63, 63, 3)),
                                                                 2, 2)
    structured = empirical_ntk(model, x1, x2, method="structured", memory_limit_gb=16)
    ntvp = empirical_ntk(model, x1, x2, method="ntvp", block_size=1, memory_limit_gb=16)
    self.assertLess(np.abs(structured - ntvp).max() / np.abs(ntvp).max(), 1e-6)

  def test_diagonal_is_squared_gradient_norm(self):
    name, kwargs = CASES[0][1:]
    model = build(name, kwargs)
    x = inputs(kwargs, 4, 5)
    k = empirical_ntk(model, x, method="structured")
    params = [v.value for v in model.trainable_weights]
    for i in range(4):
      for a in range(3):
        with tf.GradientTape() as tape:
          out = model(tf.constant(x[i:i + 1]))[0, a]
        norm2 = sum(float(tf.reduce_sum(g ** 2)) for g in tape.gradient(out, params))
        self.assertAllClose(k[i, i, a, a], norm2, dtype=np.float64)

  def test_flatten_orders_rows_by_sample_then_output(self):
    k = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    flat = flatten(k)
    self.assertEqual(flat.shape, (4, 6))
    self.assertEqual(flat[1 * 2 + 1, 2 * 2 + 0], k[1, 2, 1, 0])

  def test_params_argument(self):
    name, kwargs = CASES[4][1:]
    model, other = build(name, kwargs, seed=0), build(name, kwargs, seed=1)
    x = inputs(kwargs, 4, 6)
    at_other = empirical_ntk(model, x, params=[v.value for v in other.trainable_weights])
    self.assertAllClose(at_other, empirical_ntk(other, x), dtype=np.float64)


class BlocksAndBudgetTest(parameterized.TestCase, test_utils.TestCase):

  def test_resume_from_checkpointed_blocks(self):
    name, kwargs = CASES[0][1:]
    model = build(name, kwargs)
    x = inputs(kwargs, 7, 7)
    directory = self.create_tempdir().full_path
    full = empirical_ntk(model, x, method="structured", block_size=3)
    first = empirical_ntk(model, x, method="structured", block_size=3, checkpoint_dir=directory)
    blocks = sorted(f for f in os.listdir(directory) if f.startswith("block_"))
    self.assertLen(blocks, 6)  # 3 row blocks: (0,0) (0,1) (0,2) (1,1) (1,2) (2,2).
    os.remove(os.path.join(directory, "block_2_2.npy"))  # "Interrupted" before the last block.
    marker = np.full_like(np.load(os.path.join(directory, "block_0_1.npy")), 7.0)
    np.save(os.path.join(directory, "block_0_1.npy"), marker)  # Finished blocks are reused.
    resumed = empirical_ntk(model, x, method="structured", block_size=3,
                            checkpoint_dir=directory)
    self.assertAllClose(first, full, dtype=np.float64)
    np.testing.assert_array_equal(resumed[0:3, 3:6], marker)
    np.testing.assert_array_equal(resumed[3:6, 0:3], marker.transpose(1, 0, 3, 2))
    self.assertAllClose(resumed[6:, 6:], full[6:, 6:], dtype=np.float64)  # Recomputed.
    self.assertAllClose(resumed[:3, :3], full[:3, :3], dtype=np.float64)

  @parameterized.parameters("structured", "jacobian")
  def test_resuming_at_a_partial_block_is_bit_identical(self, method):
    # Blocks of 3 over 7 samples; a run killed after (0,1) meets the short block (0,2) first.
    name, kwargs = CASES[0][1:]
    model = build(name, kwargs)
    x = inputs(kwargs, 7, 7)
    directory = self.create_tempdir().full_path
    full = empirical_ntk(model, x, method=method, block_size=3, checkpoint_dir=directory)
    for pair in ("0_2", "1_1", "1_2", "2_2"):
      os.remove(os.path.join(directory, f"block_{pair}.npy"))
    resumed = empirical_ntk(model, x, method=method, block_size=3, checkpoint_dir=directory)
    np.testing.assert_array_equal(resumed, full)

  def test_corrupted_blocks_are_set_aside_and_recomputed(self):
    name, kwargs = CASES[0][1:]
    model = build(name, kwargs)
    x = inputs(kwargs, 7, 7)
    directory = self.create_tempdir().full_path
    full = empirical_ntk(model, x, method="structured", block_size=3, checkpoint_dir=directory)
    path = os.path.join(directory, "block_0_1.npy")
    with open(path, "r+b") as f:  # Truncated, as by a full disk or a copy cut short.
      f.truncate(os.path.getsize(path) // 2)
    np.save(os.path.join(directory, "block_1_2.npy"), np.zeros((2, 2)))  # Wrong shape.
    with self.assertLogs(level="WARNING") as logs:
      again = empirical_ntk(model, x, method="structured", block_size=3,
                            checkpoint_dir=directory)
    self.assertLen([m for m in logs.output if "unusable" in m], 2)
    self.assertAllClose(again, full, dtype=np.float64)
    self.assertTrue(os.path.exists(path + ".corrupt"))
    self.assertEqual(np.load(path).shape, (3, 3) + full.shape[2:])  # Rewritten.

  def test_checkpoint_of_another_kernel_is_refused(self):
    name, kwargs = CASES[0][1:]
    model = build(name, kwargs)
    x = inputs(kwargs, 5, 7)
    directory = self.create_tempdir().full_path
    empirical_ntk(model, x, method="structured", block_size=3, checkpoint_dir=directory)
    with self.assertRaisesRegex(ConfigError, r"another kernel \(block_size differ: "
                                r"block_size=3\).*same inputs"):
      empirical_ntk(model, x, method="structured", block_size=2, checkpoint_dir=directory)
    with self.assertRaisesRegex(ConfigError, r"inputs or weights differ"):
      empirical_ntk(model, x + 1, method="structured", block_size=3, checkpoint_dir=directory)

  def test_ntvp_in_several_chunks_of_tangents(self):
    name, kwargs = CASES[3][1:]  # mlp, 4 outputs: blocks of 5 give 20 tangents, 2 chunks.
    model = build(name, kwargs)
    x1, x2 = inputs(kwargs, 3, 4), inputs(kwargs, 7, 5)
    self.assertGreater(5 * 4, engines.NTVP_CHUNK)
    k = empirical_ntk(model, x1, x2, method="ntvp", block_size=5)
    reference = explicit_kernel(model, x1, x2)
    self.assertLess(np.abs(k - reference).max() / np.abs(reference).max(), 1e-12)

  def test_plan_estimates_the_contraction_flops(self):
    name, kwargs = CASES[3][1:]  # mlp of width 9: Dense layers 9, 9, ..., 4 outputs.
    model = build(name, kwargs)
    size = sum(int(w.shape[-1]) for w in model.trainable_weights[::2])  # Σ units (G Gᵀ).
    # 10 samples in blocks of 4 (4, 4, 2), symmetric: 32 off-diagonal entries, and the
    # diagonal blocks' 16, 16 and 8 rows (4 outputs) in half by syrk: 136 + 136 + 36 of 16².
    plan = planning.plan(model, 10, 10, "structured", block_size=4, itemsize=8,
                         symmetric=True)
    self.assertEqual(plan.flops, 2 * (32 * 16 + 136 + 136 + 36) * size)
    self.assertGreater(plan.seconds, 0)
    self.assertRegex(plan.describe(), r"GiB peak, ≥ \d+s \(.* TFLOP of contraction at \d+ GFLOP/s\)")
    jacobian = planning.plan(model, 10, 6, "jacobian", block_size=4)
    self.assertEqual(jacobian.flops, 2 * 60 * 16 * models.num_params(model))
    trace = planning.plan(model, 10, 6, "structured", block_size=4, outputs="trace")
    self.assertEqual(trace.flops, 2 * 60 * 4 * size)

  def test_memory_budget_refused_before_work(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    with self.assertRaisesRegex(ConfigError, r"needs at least .* GiB .* memory_limit_gb=0.1"):
      empirical_ntk(model, np.zeros((3000, 28, 28, 1), np.float32), memory_limit_gb=0.1)

  @parameterized.parameters((1, 1.0), (60, 4.0))
  def test_a_block_too_large_is_refused_with_the_block_that_fits(self, width, limit):
    # x1: the layer-list plan; x60: wide convolutions (_wide_plan).
    model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    fits = planning.plan(model, 600, 600, "structured", memory_limit_gb=limit).block_size
    self.assertBetween(fits, 1, 599)
    with self.assertRaisesRegex(ConfigError, rf"blocks of 600 samples need .* GiB .* "
                                             rf"blocks of {fits} fit: pass block_size={fits}"):
      empirical_ntk(model, np.zeros((600, 28, 28, 1), np.float32), memory_limit_gb=limit,
                    block_size=600)
    self.assertLessEqual(planning.plan(model, 600, 600, "structured", limit, fits).peak_bytes,
                        limit * 2 ** 30)

  def test_a_block_larger_than_the_data_is_the_data(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    self.assertEqual(planning.plan(model, 600, 600, "structured", 8.0,
                                   block_size=5000).block_size, 600)

  @parameterized.parameters("jacobian", "ntvp")
  def test_trace_saves_nothing_but_the_output_for_unstructured_methods(self, method):
    # Only the structured contraction sums the outputs inside its products.
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    full = planning.plan(model, 50, 50, method, 8.0, block_size=10)
    trace = planning.plan(model, 50, 50, method, 8.0, block_size=10, outputs="trace")
    self.assertEqual(full.peak_bytes - trace.peak_bytes, full.output_bytes - trace.output_bytes)

  def test_plan_picks_structured_and_fits_budget(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    plan = planning.plan(model, 600, 600, memory_limit_gb=2.0)
    self.assertEqual(plan.method, "structured")
    self.assertLessEqual(plan.peak_bytes, 2 * 2 ** 30)

  def test_bad_inputs(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    with self.assertRaisesRegex(ConfigError, r"per sample but the model takes \(28, 28, 1\)"):
      empirical_ntk(model, np.zeros((2, 32, 32, 3), np.float32))
    with self.assertRaisesRegex(ConfigError, "params do not match"):
      empirical_ntk(model, np.zeros((2, 28, 28, 1), np.float32),
                    params=[np.zeros((3, 3))] * len(model.trainable_weights))
    with self.assertRaisesRegex(ConfigError, "build the model with dtype='float64'"):
      empirical_ntk(model, np.zeros((2, 28, 28, 1), np.float32), dtype="float64")
    with self.assertRaisesRegex(ConfigError, "method 'svd'"):
      empirical_ntk(model, np.zeros((2, 28, 28, 1), np.float32), method="svd")


class WideConvolutionTest(parameterized.TestCase, test_utils.TestCase):
  """Convolutions that keep patches and cotangents, their gradients formed chunk by chunk."""

  KWARGS = dict(width=2, input_shape=(12, 12, 1), num_outputs=3)

  def setUp(self):
    super().setUp()
    self.model = build("lenet", self.KWARGS)
    self.x1, self.x2 = inputs(self.KWARGS, 5, 1), inputs(self.KWARGS, 4, 2)

  def test_lenet_conv2_is_wide_and_conv1_is_not(self):
    shapes = [dims for kind, *dims in layer_list.param_layer_shapes(self.model) if kind == "conv"]
    self.assertEqual(shapes, [[144, 25, 12], [4, 300, 32]])
    self.assertEqual([layer_list.keeps_patches(*dims, 3) for dims in shapes], [False, True])

  @parameterized.named_parameters(("one_block", {}), ("blocks_of_2", dict(block_size=2)),
                                  ("trace", dict(outputs="trace")))
  def test_equals_explicit_jacobians(self, kwargs):
    for x2 in (None, self.x2):
      k = empirical_ntk(self.model, self.x1, x2, method="structured", **kwargs)
      reference = explicit_kernel(self.model, self.x1, self.x1 if x2 is None else x2)
      if kwargs.get("outputs") == "trace":
        reference = np.einsum("ijaa->ij", reference) / 3
      self.assertLess(np.abs(k - reference).max() / np.abs(reference).max(), 1e-13)

  def features(self, x):
    engine = engines.LayerListEngine(self.model,
                                     [v.value for v in self.model.trainable_weights],
                                     tf.float64)
    return engine, engine.features(x, batch=2)

  def test_reverse_passes_in_batches_keep_the_same_features(self):
    engine, batched = self.features(self.x1)
    whole = engine.features(self.x1)
    for a, b in zip(tf.nest.flatten(batched), tf.nest.flatten(whole)):
      self.assertAllClose(a, b, rtol=1e-14, atol=1e-14)

  @parameterized.parameters(True, False)
  def test_chunks_of_channels_sum_to_the_whole(self, same):
    engine, f1 = self.features(self.x1)
    f2 = f1 if same else engine.features(self.x1[::-1].copy())
    whole = engine.block(f1, f2, chunk_bytes=2 ** 30)
    for chunk_bytes in (1, 3 * 300 * 8 * 10 * 5):  # One channel; a chunk not dividing 32.
      self.assertAllClose(engine.block(f1, f2, chunk_bytes=chunk_bytes), whole,
                          rtol=1e-13, atol=1e-13)

  def test_an_interrupted_block_resumes_bit_identically(self):
    engine, f = self.features(self.x1)
    partial = os.path.join(self.create_tempdir().full_path, "partial_0_0.npz")
    full = engine.block(f, f, chunk_bytes=1)
    real, calls = layer_list._weight_grads, []

    def interrupted(*args):
      calls.append(1)
      if len(calls) == 20:
        raise KeyboardInterrupt
      return real(*args)

    with mock.patch.object(layer_list, "PARTIAL_SAVE_SECONDS", 0), \
        mock.patch.object(layer_list, "_weight_grads", interrupted):
      with self.assertRaises(KeyboardInterrupt):
        engine.block(f, f, chunk_bytes=1, partial=partial)
    self.assertEqual(int(np.load(partial)["channel"]), 19)
    with mock.patch.object(layer_list, "_weight_grads", lambda *a: calls.append(1) or real(*a)):
      resumed = engine.block(f, f, chunk_bytes=1, partial=partial)
    self.assertLen(calls, 20 + 13)  # 19 channels were not formed again.
    np.testing.assert_array_equal(resumed, full)
    self.assertFalse(os.path.exists(partial))

  def test_lenet_x60_kernel_of_the_papers_is_one_block_within_16_gib(self):
    wide = models.build("lenet", width=60, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    p = planning.plan(wide, 600, 600, "structured", memory_limit_gb=16, symmetric=True)
    self.assertEqual((p.block_size, p.num_blocks), (600, 1))
    self.assertLessEqual(p.peak_bytes, 16 * 2 ** 30)
    self.assertBetween(p.batch, 1, 600)
    self.assertGreater(p.chunk_bytes, 600 * 10 * 9000 * 4)  # More than one channel of conv2.
    narrow = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    self.assertIsNone(planning.plan(narrow, 600, 600, memory_limit_gb=16).batch)


if __name__ == "__main__":
  absltest.main()
