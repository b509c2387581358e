"""after_kernel and time_dynamics end to end on the synthetic task at tiny sizes."""

import os

import numpy as np
from absl.testing import absltest

from ntk_tf.errors import ConfigError
from ntk_tf.experiments import after_kernel, common, time_dynamics
from ntk_tf.ntk import empirical
from ntk_tf.training import learning_curves, scaling_runs
from ntk_tf.utils import io
from tests import test_utils


def _tiny(config):
  config.dataset.synthetic.num_train = 96
  config.dataset.synthetic.num_test = 60
  config.dataset.synthetic.dim = 8
  config.model.width = 32
  config.model.depth = 3
  config.train.learning_rate = 1.0
  config.train.batch_size = 16
  config.train.epochs = 4.0
  config.train.min_steps = 0
  config.seeds = (0, 1)
  return config


def _init_entk(config, seed, idx):
  """The eNTK at initialization, computed directly (the reference)."""
  dataset = scaling_runs.load_data(config)
  model = common.build_at_width(config, dataset, config.model.width, seed)
  x = np.concatenate([dataset.x_train[idx], dataset.x_test])
  return empirical.empirical_ntk(model, x, outputs="trace"), dataset


class AfterKernelTest(test_utils.TestCase):

  def test_end_to_end(self):
    config = _tiny(after_kernel.default_config())
    config.after_kernel.train_sizes = (32, 64)
    config.after_kernel.fit_sizes = (16, 32, 64)
    config.after_kernel.num_resamples = 20
    workdir = self.create_tempdir().full_path
    r = after_kernel.run(config, workdir)
    self.assertEqual(r["train_sizes"], [0, 32, 64])
    self.assertEqual(r["kernels"]["32"]["same"]["n"], [16, 32])   # n ≤ m only.
    self.assertEqual(r["kernels"]["32"]["fresh"]["n"], [16, 32, 64])  # 32 + 64 ≤ 96.
    self.assertEqual(r["kernels"]["64"]["fresh"]["n"], [16, 32])  # 64 + 64 > 96: skipped.
    self.assertIsNotNone(r["kernels"]["64"]["same"]["beta"])
    self.assertEqual(r["diagonal"]["n"], [32, 64])
    cells = [io.read_json(os.path.join(workdir, "cells", "m64", f"seed{s}.json")) for s in (0, 1)]
    self.assertAllClose(r["diagonal"]["network"][1],
                        np.mean([c["network_test_error"] for c in cells]))
    self.assertAllClose(r["diagonal"]["same"][1], np.mean([c["same"]["64"] for c in cells]))
    for name in ("results.json", "results.md", "after_kernel.png"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)))

  def test_after_kernel_at_step_zero_is_the_entk_at_initialization(self):
    config = _tiny(after_kernel.default_config())
    config.seeds = (1,)
    config.train.max_steps = 0   # The optimal-early-stopping point is then step 0.
    config.after_kernel.train_sizes = (32,)
    config.after_kernel.fit_sizes = (16, 24, 32)
    config.after_kernel.fresh = False
    config.after_kernel.include_initialization = False
    config.after_kernel.save_kernels = True
    config.after_kernel.fit = "regression"
    workdir = self.create_tempdir().full_path
    after_kernel.run(config, workdir)
    saved = np.load(os.path.join(workdir, "kernels", "m32_seed1.npy"))
    dataset = scaling_runs.load_data(config)
    order = learning_curves.nested_balanced_order(dataset.labels_train, 1)
    reference, _ = _init_entk(config, 1, order[:32])
    self.assertAllClose(saved, reference, rtol=1e-6, atol=1e-7)  # float32 model.

  def test_bad_configs(self):
    config = _tiny(after_kernel.default_config())
    config.after_kernel.fit = "ridge"
    with self.assertRaisesRegex(ConfigError, "'sgd' or 'regression'"):
      after_kernel.validate(config)
    config = _tiny(after_kernel.default_config())
    config.after_kernel.train_sizes = (32, 500)
    with self.assertRaisesRegex(ConfigError, "only 96 training samples"):
      after_kernel.run(config, self.create_tempdir().full_path)


class TimeDynamicsTest(test_utils.TestCase):

  def test_end_to_end_and_k0_is_the_entk_at_initialization(self):
    config = _tiny(time_dynamics.default_config())
    config.time_dynamics.train_size = 48
    config.time_dynamics.num_kernels = 4
    config.time_dynamics.save_kernels = True
    workdir = self.create_tempdir().full_path
    r = time_dynamics.run(config, workdir)
    budget = scaling_runs.max_steps(config.train, 48)  # 4 epochs of 3 batches.
    self.assertEqual(budget, 12)
    self.assertEqual(r["kernel"]["steps"], time_dynamics.kernel_steps(config.time_dynamics,
                                                                      budget))
    self.assertEqual(r["kernel"]["steps"][0], 0)
    self.assertEqual(r["kernel"]["steps"][-1], 12)
    self.assertEqual(r["network"]["steps"], learning_curves.log_steps(12).tolist())
    # The network's train error at each logged step (the end of the paper's window), a rate.
    train_error = r["network"]["train_error_mean"]
    self.assertLen(train_error, len(r["network"]["steps"]))
    self.assertTrue(all(0.0 <= e <= 1.0 for e in train_error))
    self.assertNotIn("train_error_mean", r["empirical_ntk_init"])
    dataset = scaling_runs.load_data(config)
    order = learning_curves.nested_balanced_order(dataset.labels_train, 0)
    reference, _ = _init_entk(config, 0, order[:48])
    self.assertAllClose(np.load(os.path.join(workdir, "kernels", "t0_seed0.npy")), reference)
    later = np.load(os.path.join(workdir, "kernels", "t12_seed0.npy"))
    self.assertGreater(np.abs(later - reference).max(), 1e-4 * np.abs(reference).max())
    # K^0 fitted by SGD is exactly the eNTK-at-initialization model: same best error.
    self.assertAllClose(r["kernel"]["test_error_mean"][0],
                        r["empirical_ntk_init"]["best_test_error"])
    for name in ("results.json", "results.md", "time_dynamics.png"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)))

  def test_kernel_steps_and_slope(self):
    cfg = time_dynamics.default_config().time_dynamics
    cfg.num_kernels = 5
    self.assertEqual(time_dynamics.kernel_steps(cfg, 1000), [0, 1, 10, 100, 1000])
    cfg.steps = (0, 5, 5000)
    self.assertEqual(time_dynamics.kernel_steps(cfg, 1000), [0, 5])
    t = np.array([0, 10, 100, 1000])
    self.assertAllClose(time_dynamics.log_log_slope(t, 0.5 * t.clip(1) ** -0.3), -0.3)


if __name__ == "__main__":
  absltest.main()
