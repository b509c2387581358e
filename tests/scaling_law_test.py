"""The scaling_law experiment end to end on the synthetic task of Vyas et al. at tiny sizes."""

import os
from unittest import mock

import numpy as np
from absl.testing import absltest

from ntk_tf.errors import ConfigError
from ntk_tf.experiments import after_kernel, scaling_law
from ntk_tf.training import learning_curves
from ntk_tf.utils import io
from tests import test_utils


def tiny_config():
  c = scaling_law.default_config()
  c.dataset.synthetic.num_train = 64
  c.dataset.synthetic.num_test = 100
  c.dataset.synthetic.dim = 8
  c.model.width = 32
  c.model.depth = 3
  c.train.learning_rate = 1.0
  c.train.batch_size = 16
  c.train.epochs = 3.0
  c.train.min_steps = 0
  c.scaling.train_sizes = (16, 32, 64)
  c.scaling.num_resamples = 50
  c.seeds = (0, 1)
  return c


class ScalingLawTest(test_utils.TestCase):

  def test_end_to_end_then_rerun_reads_every_cell(self):
    workdir = self.create_tempdir().full_path
    config = tiny_config()
    config.width_sweep.widths = (8, 32)
    config.width_sweep.train_size = 32
    config.paper.network = 0.307
    results = scaling_law.run(config, workdir)
    self.assertEqual(results["stopping"], "optimal")
    kinds = ["network", "empirical_ntk", "infinite_ntk", "infinite_ntk_regression"]
    self.assertEqual(results["kinds"], kinds)
    for kind in kinds:
      r = results[kind]
      self.assertEqual(r["n"], [16, 32, 64])
      self.assertLen(r["test_error_by_seed"], 2)
      for i, n in enumerate(r["n"]):  # The mean is over the seeds' cell files.
        width = "inf" if kind.startswith("infinite") else 32
        errors = [io.read_json(os.path.join(workdir, "cells", f"w{width}", kind,
                                            f"n{n}_seed{s}.json"))["best_test_error"]
                  for s in (0, 1)]
        self.assertAllClose(r["test_error_mean"][i], sum(errors) / 2)
      if r["beta"] is not None:
        self.assertLessEqual(r["beta_interval"][0], r["beta_interval"][1])
    sweep = results["width_sweep"]
    self.assertEqual(sweep["widths"], [8, 32])
    self.assertLen(sweep["network"]["mean"], 2)
    # The width-32 sweep point is the n=32 point of the main learning curve.
    self.assertAllClose(sweep["network"]["mean"][1], results["network"]["test_error_mean"][1])
    for name in ("results.json", "results.md", "learning_curves.png", "width_sweep.png"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    with open(os.path.join(workdir, "results.md")) as f:
      self.assertIn("| network |", f.read())
    with mock.patch.object(learning_curves, "train_with_early_stopping",
                           side_effect=AssertionError("a finished cell was retrained")):
      again = scaling_law.run(config, workdir)
    self.assertEqual(again["network"], results["network"])
    damaged = os.path.join(workdir, "cells", "w32", "network", "n16_seed0.json")
    with open(damaged, "w") as f:
      f.write('{"best_test_error": 0.')  # Cut short.
    with self.assertLogs(level="WARNING"):
      redone = scaling_law.run(config, workdir)
    self.assertTrue(os.path.exists(damaged + ".corrupt"))
    self.assertEqual(redone["network"], results["network"])  # Retrained, same result.

  def test_final_mode_reports_the_final_errors_and_keeps_both(self):
    workdir = self.create_tempdir().full_path
    config = tiny_config()
    config.train.stopping = "final"
    config.train.train_loss_tol = 1e-3
    config.train.momentum = 0.0
    config.train.max_steps = 300  # Enough for some runs, not all, to reach the tolerance.
    config.width_sweep.widths = (8, 32)
    config.width_sweep.train_size = 32
    results = scaling_law.run(config, workdir)
    self.assertEqual(results["stopping"], "final")
    self.assertEqual(results["train_loss_tol"], 1e-3)
    for kind in results["kinds"]:
      width = "inf" if kind.startswith("infinite") else 32
      cells = [[io.read_json(os.path.join(workdir, "cells", f"w{width}", kind,
                                          f"n{n}_seed{s}.json")) for n in (16, 32, 64)]
               for s in (0, 1)]
      final = [[c.get("test_error", [c["best_test_error"]])[-1] for c in row] for row in cells]
      best = [[min(c.get("test_error", [c["best_test_error"]])) for c in row] for row in cells]
      self.assertAllClose(results[kind]["test_error_by_seed"], final)
      self.assertAllClose(results["by_stopping"]["final"][kind]["test_error_by_seed"], final)
      self.assertAllClose(results["by_stopping"]["optimal"][kind]["test_error_by_seed"], best)
      self.assertTrue((np.array(best) <= np.array(final)).all(), kind)
    for kind, c in results["convergence"].items():
      self.assertEqual(c["runs"], 6, kind)
      cells = [io.read_json(os.path.join(workdir, "cells", "winf" if kind == "infinite_ntk" else
                                         "w32", kind, f"n{n}_seed{s}.json"))
               for n in (16, 32, 64) for s in (0, 1)]
      self.assertEqual(c["converged"], sum(x["final_train_loss"] <= 1e-3 for x in cells))
      self.assertEqual(c["diverged"], sum(x["train_loss"][-1] > x["train_loss"][1]
                                          for x in cells))
    sweep = results["width_sweep"]
    self.assertAllClose(sweep["network"]["mean"][1], results["network"]["test_error_mean"][1])
    self.assertEqual(sweep["network"], sweep["by_stopping"]["final"]["network"])
    self.assertEqual(sweep["convergence"]["network"]["runs"], 4)  # 2 widths x 2 seeds.
    by_width = sweep["network_convergence_by_width"]
    self.assertEqual([c["runs"] for c in by_width], [2, 2])
    self.assertEqual(sum(c["converged"] for c in by_width),
                     sweep["convergence"]["network"]["converged"])
    with open(os.path.join(workdir, "results.md")) as f:
      report = f.read()
    self.assertIn("final error at convergence", report)
    self.assertIn("Converged (train loss <= 0.001)", report)
    self.assertIn("Width sweep at n = 32", report)

  def test_optimal_is_the_default_and_only_scaling_law_takes_final(self):
    self.assertEqual(scaling_law.default_config().train.stopping, "optimal")
    config = after_kernel.default_config()
    config.train.stopping = "final"
    with self.assertRaisesRegex(ConfigError, "only scaling_law reports final errors"):
      after_kernel.validate(config)

  def test_entk_by_kernel_sgd_equals_sgd_on_the_linearized_model(self):
    curves = {}
    for method in ("kernel", "linearized"):
      workdir = self.create_tempdir().full_path
      config = tiny_config()
      config.dtype = "float64"
      config.seeds = (0,)
      config.scaling.kinds = ("empirical_ntk",)
      config.scaling.empirical_ntk_method = method
      scaling_law.run(config, workdir)
      curves[method] = io.read_json(os.path.join(workdir, "cells", "w32", "empirical_ntk",
                                                 "n32_seed0.json"))
    self.assertEqual(curves["kernel"]["steps"], curves["linearized"]["steps"])
    self.assertAllClose(curves["kernel"]["test_error"], curves["linearized"]["test_error"])
    self.assertAllClose(curves["kernel"]["train_loss"][1:], curves["linearized"]["train_loss"][1:],
                        rtol=1e-8)

  def test_width_sweep_interpolant_is_the_min_norm_solve_of_an_explicit_jacobian(self):
    """entk_fit="interpolate": the eNTK's minimum-norm interpolant, checked against the
    pseudo-inverse of J Jᵀ from explicit per-sample Jacobians (float64)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
    from ntk_tf.training import scaling_runs
    workdir = self.create_tempdir().full_path
    config = tiny_config()
    config.seeds = (0,)
    config.scaling.kinds = ("network",)
    config.width_sweep.widths = (4,)
    config.width_sweep.train_size = 32
    config.width_sweep.entk_fit = "interpolate"
    results = scaling_law.run(config, workdir)
    self.assertEqual(results["width_sweep"]["entk_fit"], "interpolate")
    self.assertNotIn("empirical_ntk", results["width_sweep"]["convergence"])
    dataset = scaling_runs.load_data(config)
    idx = learning_curves.nested_balanced_order(dataset.labels_train, 0)[:32]
    model = common.build_at_width(config, dataset, 4, 0)
    x = np.concatenate([dataset.x_train[idx], dataset.x_test]).astype(np.float64)
    with tf.GradientTape() as tape:
      out = model(tf.constant(x, model.dtype))
    jac = tape.jacobian(out, model.trainable_variables)
    j = np.concatenate([np.reshape(g, (len(x), -1)) for g in jac], axis=1).astype(np.float64)
    k = j @ j.T
    alpha = np.linalg.pinv(k[:32, :32], rcond=1e-10) @ dataset.targets_train[idx].astype(
        np.float64)
    predicted = k[32:, :32] @ alpha
    expected = learning_curves.test_error(predicted, dataset.labels_test,
                                          dataset.decision_threshold)
    self.assertAllClose(results["width_sweep"]["empirical_ntk"]["mean"][0], expected)

  def test_bad_configs_are_refused_before_work(self):
    for key, value, pattern in (
        ("scaling.train_sizes", (16, 32), "at least 3"),
        ("scaling.kinds", ("network", "ntk"), "choose from"),
        ("train.loss", "cross_entropy", "L2 loss"),
        ("train.log_factor", 1.0, "must be > 1"),
        ("train.stopping", "last", "'optimal'.*'final'"),
        ("train.train_loss_tol", 0.0, "must be > 0"),
        ("model.name", "lenet", "max-pool"),
        ("width_sweep.entk_fit", "exact", "entk_fit='exact'; use one of sgd, interpolate"),
    ):
      config = tiny_config()
      if key == "model.name":
        config.dataset.name, config.dataset.target = "mnist5k", "parity"
        config.model.depth = None  # lenet takes no depth (refused on its own too).
      section, field = key.split(".")
      config[section][field] = value
      with self.assertRaisesRegex(ConfigError, pattern, msg=key):
        scaling_law.validate(config)
    config = tiny_config()
    config.width_sweep.widths = (8,)
    with self.assertRaisesRegex(ConfigError, "width_sweep.train_size"):
      scaling_law.validate(config)
    config = tiny_config()
    config.scaling.memory_limit_gb = 1e-4  # The 164 x 164 infinite NTK needs 2e-4 GiB.
    with mock.patch.object(learning_curves, "train_with_early_stopping",
                           side_effect=AssertionError("trained before the memory check")):
      with self.assertRaisesRegex(ConfigError, "infinite NTK over 164 samples"):
        scaling_law.run(config, self.create_tempdir().full_path)
    config = tiny_config()
    config.scaling.train_sizes = (16, 32, 128)
    with self.assertRaisesRegex(ConfigError, "only 64 training samples"):
      scaling_law.run(config, self.create_tempdir().full_path)


if __name__ == "__main__":
  absltest.main()
