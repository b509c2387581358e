"""The 'binary_solver' experiment end to end on the offline MNIST digits (Samarin 2022 §4.3)."""

import json
import os

import numpy as np
from absl.testing import absltest

from ntk_tf import data
from ntk_tf.errors import ConfigError
from ntk_tf.configs import common as cc
from ntk_tf.experiments import binary_solver
from tests import test_utils


def tiny_config():
  """configs/binary_mnist.py:smoke on 150 digits, every solver, float64 only, no XLA."""
  return test_utils.smoke_config("binary_mnist", {
      "dataset.num_train": 150, "dataset.num_test": 100,
      "solver.methods": ("lstsq", "lsqr", "kernel", "sgd"), "solver.dtypes": ("float64",),
      "solver.iter_lim": 400, "solver.dense_widths": None, "train.jit_compile": False,
      "train.eval_batch_size": 1000, "train.trajectory_steps": 200})


class BinarySolverTest(test_utils.TestCase):

  def test_end_to_end_and_resume(self):
    workdir = self.create_tempdir().full_path
    results = binary_solver.run(tiny_config(), workdir)
    with open(os.path.join(workdir, "results.json")) as f:
      on_disk = json.load(f)
    self.assertEqual(on_disk, json.loads(json.dumps(results.to_json())))
    cell = on_disk["widths"]["1"]
    self.assertCountEqual(cell, ["lstsq", "lsqr", "kernel", "sgd_standard", "sgd_linearized"])
    for method in ("lstsq", "lsqr", "kernel"):
      self.assertEqual(cell[method]["train_accuracy"], 1.0, method)  # 150 rows < 61,706 weights.
      self.assertTrue(cell[method]["converged"], method)
      self.assertAllClose(cell[method]["u_norm"], cell["lstsq"]["u_norm"], rtol=1e-6)
      self.assertEqual(cell[method]["test_accuracy"], cell["lstsq"]["test_accuracy"])
    self.assertEqual(cell["lstsq"]["rank"], 150)
    self.assertEqual(cell["lstsq"]["num_params"], 61706 - 9 * 85)  # One output, not ten.
    # What a constant predictor scores: the larger class's share of each split, counted here.
    dataset = data.load(tiny_config().dataset, seed=tiny_config().seed)
    for split, labels in (("train", dataset.labels_train), ("test", dataset.labels_test)):
      rest = float(np.mean(np.asarray(labels) != np.asarray(labels).max()))
      self.assertAllClose(on_disk["majority_accuracy"][split], max(rest, 1 - rest))
      self.assertGreater(on_disk["majority_accuracy"][split], 0.5)
    for which in ("sgd_standard", "sgd_linearized"):
      self.assertBetween(cell[which]["test_accuracy"], 0.0, 1.0)
    with open(os.path.join(workdir, "table.md")) as f:
      table = f.read()
    self.assertIn("| Test | Solver (lstsq) | ", table)
    self.assertIn("| Train | LeNet | ", table)
    # A rerun reuses finished cells: a marked cell comes back unchanged.
    path = os.path.join(workdir, "w1", "kernel.json")
    with open(path) as f:
      saved = json.load(f)
    saved["kernel"]["test_accuracy"] = 0.123
    with open(path, "w") as f:
      json.dump(saved, f)
    again = binary_solver.run(tiny_config(), workdir)
    self.assertEqual(again["widths"]["1"]["kernel"]["test_accuracy"], 0.123)
    self.assertEqual(again["widths"]["1"]["lstsq"], cell["lstsq"])

  def test_float32_solves_beside_float64(self):
    config = tiny_config()
    config.dataset.num_train, config.dataset.num_test = 60, 40
    config.solver.methods = ("lstsq", "lsqr", "kernel")
    config.solver.dtypes = ("float64", "float32")
    workdir = self.create_tempdir().full_path
    cell = binary_solver.run(config, workdir)["widths"]["1"]
    self.assertCountEqual(cell, ["lstsq", "lsqr", "kernel", "lstsq_float32", "lsqr_float32",
                                 "kernel_float32"])
    eps32 = 2.0 ** -23  # float32's machine epsilon.
    for method in ("lstsq", "lsqr", "kernel"):
      double, single = cell[method], cell[f"{method}_float32"]
      self.assertEqual((double["dtype"], single["dtype"]), ("float64", "float32"))
      # The same w0 in either precision: the same minimum-norm u up to float32's resolution.
      self.assertAllClose(single["u_norm"], double["u_norm"], rtol=1e-4)
      self.assertLess(single["relative_residual"], 1e-4, method)
      self.assertEqual(single["train_accuracy"], 1.0, method)
      self.assertEqual(single["test_accuracy"], double["test_accuracy"], method)
      self.assertTrue(os.path.exists(os.path.join(workdir, "w1", f"{method}_float32.json")))
      self.assertNotIn("precision_options", double)
    self.assertAllClose(cell["lstsq_float32"]["precision_options"]["rcond"], eps32)
    self.assertAllClose(cell["kernel_float32"]["precision_options"]["rcond"] ** 2, 60 * eps32)
    self.assertAllClose(cell["lsqr_float32"]["precision_options"]["atol"], eps32)
    self.assertEqual(cell["lstsq_float32"]["rank"], 60)
    self.assertTrue(os.path.exists(os.path.join(workdir, "w1", "float32", "lsqr_iterate.npz")))
    with open(os.path.join(workdir, "table.md")) as f:
      lines = f.read().splitlines()
    for split in ("Test", "Train"):
      for name in ("lstsq", "LSQR", "kernel"):
        row = lines.index(next(x for x in lines if x.startswith(f"| {split} | Solver ({name}) |")))
        self.assertTrue(lines[row + 1].startswith(f"| {split} | Solver ({name}, float32) | "))
        self.assertIn(f"{100 * cell[name.lower() + '_float32'][split.lower() + '_accuracy']:.2f}",
                      lines[row + 1])

  def test_precisions_of_a_config(self):
    config = tiny_config()
    self.assertEqual(binary_solver.dtypes_of(config), ("float64",))  # The default, as before.
    self.assertEqual(binary_solver.dtypes_of(cc.binary_solver_paper()),
                     ("float64", "float32"))
    config.solver.dtype = "float32"  # The old single-precision key.
    binary_solver.validate(config)
    self.assertEqual(binary_solver.dtypes_of(config), ("float32",))
    self.assertEqual([key for key, _, _ in binary_solver._work_at(config, 1)],
                     ["lstsq_float32", "lsqr_float32", "kernel_float32", "sgd"])
    for dtypes in (("float16",), ("float32", "float32"), ()):
      config = tiny_config()
      config.solver.dtypes = dtypes
      with self.assertRaisesRegex(ConfigError, "solver.dtypes=.*float64 and/or float32"):
        binary_solver.validate(config)

  def test_dense_solve_that_cannot_fit_is_refused_before_any_work(self):
    config = tiny_config()
    config.model.widths = (1, 2)
    config.solver.memory_limit_gb = 0.3  # x1 fits (~0.16 GiB), x2 does not.
    workdir = self.create_tempdir().full_path
    with self.assertRaisesRegex(ConfigError, r"dense least-squares solve \(J is 150 x 242,841 "
                                             r".*memory_limit_gb=0.3 allows .*'lsqr'"):
      binary_solver.run(config, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_nystrom_pcg_runs_from_the_config_beside_gelsd(self):
    config = test_utils.smoke_config("binary_mnist_pcg", {
        "dataset.num_train": 60, "dataset.num_test": 40, "solver.nystrom_rank": 20,
        "solver.dtypes": ("float64", "float32")})
    workdir = self.create_tempdir().full_path
    with self.assertLogs(level="INFO") as logs:
      cell = binary_solver.run(config, workdir)["widths"]["1"]
    self.assertTrue(any("nystrom_pcg [" in line and "|r|/|r0|" in line for line in logs.output))
    self.assertCountEqual(cell, ["lstsq", "nystrom_pcg", "lstsq_float32", "nystrom_pcg_float32"])
    pcg, gelsd = cell["nystrom_pcg"], cell["lstsq"]
    self.assertTrue(pcg["converged"])
    self.assertLessEqual(pcg["relative_residual"], 1e-7)
    self.assertBetween(pcg["iterations"], 1, 60)
    self.assertEqual((pcg["nystrom_samples"], pcg["preconditioner_rank"]), (20, 20))
    self.assertAllClose(pcg["u_norm"], gelsd["u_norm"], rtol=1e-7)
    self.assertEqual(pcg["test_accuracy"], gelsd["test_accuracy"])
    self.assertEqual(pcg["train_accuracy"], 1.0)
    single = cell["nystrom_pcg_float32"]
    self.assertAllClose(single["precision_options"]["pcg_tol"], 10 * 2.0 ** -23)
    self.assertLess(single["relative_residual"], 1e-4)
    self.assertAllClose(single["u_norm"], pcg["u_norm"], rtol=1e-4)
    with open(os.path.join(workdir, "table.md")) as f:
      table = f.read()
    self.assertIn("| Test | Solver (Nyström PCG) | ", table)
    self.assertIn("| Test | Solver (Nyström PCG, float32) | ", table)

  def test_nystrom_rank_above_the_samples_is_refused_before_any_work(self):
    config = tiny_config()
    config.solver.methods = ("sgd", "lstsq", "nystrom_pcg")
    config.solver.nystrom_rank = 151
    workdir = self.create_tempdir().full_path
    with self.assertRaisesRegex(ConfigError, r"nystrom_rank=151: .* of the 150 training "
                                             r"samples; use an integer from 1 to 150"):
      binary_solver.run(config, workdir)
    self.assertEqual(os.listdir(workdir), [])

  def test_config_errors(self):
    config = tiny_config()
    config.solver.methods = ("lstsq", "svd")
    with self.assertRaisesRegex(ConfigError, "solver.methods=.*use some of lstsq"):
      binary_solver.validate(config)
    config = tiny_config()
    config.dataset.target = "one_hot"
    with self.assertRaisesRegex(ConfigError, "class_vs_rest"):
      binary_solver.validate(config)

  def test_paper_configs_load(self):
    for translate in (0, 7):
      config = cc.binary_solver_paper(translate)
      binary_solver.validate(config)
      self.assertEqual(config.dataset.translate, translate)
      self.assertEqual(binary_solver._methods_at(config, 60), ["lsqr", "sgd"])
      self.assertEqual(binary_solver._methods_at(config, 5), ["lstsq", "lsqr", "sgd"])


if __name__ == "__main__":
  absltest.main()
