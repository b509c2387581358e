"""The 'kernel_regression' experiment end to end on the offline MNIST digits."""

import contextlib
import io
import json
import os

import numpy as np
from absl.testing import absltest

from ntk_tf import data
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, kernel_regression
from ntk_tf.ntk import empirical_ntk, infinite
from ntk_tf.configs import common as cc
from ntk_tf.solvers import linearized
from tests import test_utils


def tiny_config():
  """configs/kernel_regression_mnist.py:smoke."""
  return test_utils.smoke_config("kernel_regression_mnist")


class KernelRegressionTest(test_utils.TestCase):

  def test_end_to_end_trace_kernel(self):
    workdir = self.create_tempdir().full_path
    config = tiny_config()
    config.kernel.save_kernel = True
    results = kernel_regression.run(config, workdir)
    with open(os.path.join(workdir, "results.json")) as f:
      self.assertEqual(json.load(f), json.loads(json.dumps(results.to_json())))
    self.assertEqual(sorted(results["train_sizes"], key=int), ["30", "60"])
    for entry in results["train_sizes"].values():
      self.assertIn(entry["alpha"], (0.0, 0.1))
      self.assertLen(entry["validation_accuracy"], 2)
      self.assertBetween(entry["test_accuracy"], 0.3, 1.0)  # 10 classes: chance is 0.1.
    self.assertGreater(os.path.getsize(os.path.join(workdir, "accuracy_vs_n.png")), 1000)
    # The saved kernel is the output-averaged eNTK of the first 60 + 40 test digits.
    dataset = data.load(config.dataset, seed=0)
    model = common.build_model(config.model, dataset.input_shape, 10, 0)
    x = np.concatenate([dataset.x_train, dataset.x_test])
    saved = np.load(os.path.join(workdir, "kernel.npz"))["train"]
    self.assertAllClose(saved[:7, :7], np.einsum("ijaa->ij", empirical_ntk(model, x[:7])) / 10,
                        rtol=1e-5, atol=1e-6)

  def test_full_kernel_with_initial_outputs_is_the_linearized_least_squares_fit(self):
    # alpha = 0 on the (n·L)² eNTK with y − f0 is the minimum-norm solution of J u = y − f0:
    # the same predictions as the dense gelsd solve of the linearized network.
    config = tiny_config()
    config.dtype = "float64"
    config.regression.train_sizes = (60,)
    config.regression.alphas = (0.0,)
    config.kernel.outputs = "full"
    config.kernel.subtract_initial_outputs = True
    results = kernel_regression.run(config, self.create_tempdir().full_path)
    dataset = data.load(config.dataset, seed=0)
    model = common.build_model(config.model, dataset.input_shape, 10, 0, "float64")
    report = linearized.solve(model, dataset.x_train, dataset.targets_train, dataset.labels_train,
                              dataset.x_test, dataset.labels_test, method="lstsq")
    entry = results["train_sizes"]["60"]
    self.assertEqual(entry["train_accuracy"], 1.0)
    self.assertEqual(report["train_accuracy"], 1.0)
    self.assertEqual(entry["test_accuracy"], report["test_accuracy"])

  def test_infinite_cntk_gap_kernel_end_to_end(self):
    config = tiny_config()
    config.dataset.name = "digits"  # 8x8 images keep the exact CNTK cheap.
    config.model.name = "cnn_gap"
    config.model.depth = 2
    config.kernel.name = "infinite"
    config.kernel.save_kernel = True
    workdir = self.create_tempdir().full_path
    results = kernel_regression.run(config, workdir)
    self.assertEqual(results["kernel"], "infinite")
    self.assertEqual(results["kernel_variant"], "all")  # The default: every layer trained.
    self.assertGreater(results["train_sizes"]["60"]["test_accuracy"], 0.5)
    dataset = data.load(config.dataset, seed=0)
    x = np.concatenate([dataset.x_train, dataset.x_test])
    saved = np.load(os.path.join(workdir, "kernel.npz"))["train"]
    self.assertAllClose(saved[:5, :5], infinite.kernels("cnn_gap", x[:5], depth=2)["ntk"],
                        rtol=1e-7)

  def test_cntk_gap_with_first_and_last_layers_fixed(self):
    # Arora et al.'s CNTK-GAP of Table 1 (their code's `fix`): trained_layers="middle".
    config = cc.cntk_config("digits", "cnn_gap", 3, train_sizes=(30, 60),
                            num_train=60, num_test=40, trained_layers="middle")
    config.kernel.save_kernel = True
    workdir = self.create_tempdir().full_path
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
      results = kernel_regression.run(config, workdir)
    self.assertIn("infinite NTK of cnn_gap: first and last layers fixed", printed.getvalue())
    with open(os.path.join(workdir, "results.json")) as f:
      saved_results = json.load(f)
    self.assertEqual(saved_results["kernel_variant"], "middle")
    self.assertIn("first and last layers fixed", saved_results["kernel_variant_label"])
    self.assertGreater(results["train_sizes"]["60"]["test_accuracy"], 0.5)
    dataset = data.load(config.dataset, seed=0)
    x = np.concatenate([dataset.x_train, dataset.x_test])[:5]
    saved = np.load(os.path.join(workdir, "kernel.npz"))["train"]
    self.assertAllClose(saved[:5, :5], infinite.kernels("cnn_gap", x, depth=2,
                                                        trained_layers="middle")["ntk"],
                        rtol=1e-7)
    self.assertTrue(np.all(np.diag(infinite.kernels("cnn_gap", x, depth=2)["ntk"])
                           > np.diag(saved[:5, :5])))

  def test_readout_depths_equal_separate_runs_and_the_cross_kernel_its_block(self):
    # One depth-3 CNTK-GAP pass (convolutions) also fits depths 1 and 2, as their own runs do;
    # the test x train kernel is the block of the joint kernel (no test x test computed).
    config = cc.cntk_config("digits", "cnn_gap", 4, train_sizes=(30, 60),
                            num_train=60, num_test=40)
    config.kernel.readout_depths = (1, 2)
    config.kernel.save_kernel = True
    workdir = self.create_tempdir().full_path
    results = kernel_regression.run(config, workdir)
    self.assertEqual(sorted(results["by_depth"]), ["1", "2", "3"])
    self.assertEqual(results["by_depth"]["3"], results["train_sizes"])
    for depth in (1, 2):
      alone = kernel_regression.run(
          cc.cntk_config("digits", "cnn_gap", depth + 1, train_sizes=(30, 60),
                         num_train=60, num_test=40),
          self.create_tempdir().full_path)
      for n in ("30", "60"):
        for key in ("train_accuracy", "test_accuracy"):
          self.assertEqual(results["by_depth"][str(depth)][n][key], alone["train_sizes"][n][key])
        self.assertAllClose(results["by_depth"][str(depth)][n]["test_mse"],
                            alone["train_sizes"][n]["test_mse"], rtol=1e-9)
    dataset = data.load(config.dataset, seed=0)
    x = np.concatenate([dataset.x_train[:3], dataset.x_test[:2]])
    joint = infinite.kernels("cnn_gap", x, depth=3)["ntk"]
    saved = np.load(os.path.join(workdir, "kernel.npz"))
    self.assertEqual(saved["test"].shape, (40, 60))
    self.assertAllClose(saved["train"][:3, :3], joint[:3, :3], rtol=1e-7)
    self.assertAllClose(saved["test"][:2, :3], joint[3:, :3], rtol=1e-7)

  def test_config_errors(self):
    config = tiny_config()
    config.kernel.name = "rbf"
    with self.assertRaisesRegex(ConfigError, "kernel.name='rbf'; available kernels: empirical, "
                                             "infinite, monte_carlo"):
      kernel_regression.validate(config)
    config = tiny_config()
    config.kernel.outputs = "full"
    with self.assertRaisesRegex(ConfigError, "takes one alpha"):
      kernel_regression.validate(config)
    config = tiny_config()
    config.kernel.name = "infinite"
    with self.assertRaisesRegex(ConfigError, "lenet.*max-pooling.*monte_carlo"):
      kernel_regression.validate(config)
    config.model.name = "cnn_v"
    config.kernel.subtract_initial_outputs = True
    with self.assertRaisesRegex(ConfigError, "applies to kernel.name='empirical' only"):
      kernel_regression.validate(config)
    config = cc.cntk_config("digits", "cnn_gap", 3)
    config.kernel.trained_layers = "first"
    with self.assertRaisesRegex(ConfigError, "kernel.trained_layers='first'; use one of all, "
                                             "middle"):
      kernel_regression.validate(config)
    for key, value in (("name", "empirical"), ("which", "nngp")):
      config = cc.cntk_config("digits", "cnn_gap", 3, trained_layers="middle")
      config.kernel[key] = value
      with self.assertRaisesRegex(ConfigError, "applies to the infinite NTK only"):
        kernel_regression.validate(config)
    config = cc.cntk_config("digits", "cnn_gap", 2, trained_layers="middle")
    with self.assertRaisesRegex(ConfigError, "no trained layer among 2 weight layers"):
      kernel_regression.validate(config)
    config = cc.cntk_config("digits", "cnn_gap", 4)
    config.kernel.readout_depths = (2, 4)
    with self.assertRaisesRegex(ConfigError, r"readout depths \[4\] are not between 1 and"):
      kernel_regression.validate(config)
    config.model.depth = None
    with self.assertRaisesRegex(ConfigError, "readout_depths needs model.depth"):
      kernel_regression.validate(config)
    config = tiny_config()
    config.kernel.readout_depths = (2,)
    config.model.name, config.model.depth = "cnn_gap", 3
    with self.assertRaisesRegex(ConfigError, "readout_depths applies to kernel.name='infinite'"):
      kernel_regression.validate(config)
    config = tiny_config()
    config.regression.train_sizes = (30, 500)
    with self.assertRaisesRegex(ConfigError, "goes up to 500 but the training set has 60"):
      kernel_regression.run(config, self.create_tempdir().full_path)


if __name__ == "__main__":
  absltest.main()
