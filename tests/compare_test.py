"""The 'compare' experiment end to end on tiny real data (in-process)."""

import json
import os

import numpy as np
import tensorflow_datasets as tfds
from absl.testing import absltest

from ntk_tf.cli import launch
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, compare
from ntk_tf.training.steps import TrainingDivergedError
from tests import test_utils


def tiny_config(**train):
  """configs/lenet_mnist.py:smoke, one seed, 64 digits, no XLA."""
  config = test_utils.smoke_config("lenet_mnist", {
      "dataset.num_train": 64, "dataset.num_test": 30, "seeds": None, "train.epochs": 2,
      "train.trajectory_points": 4, "train.trajectory_steps": 3, "train.jit_compile": False,
      "train.eval_batch_size": 1000, "baseline.logistic_regression": False})
  for key, value in train.items():
    config.train[key] = value
  return config


class CompareTest(test_utils.TestCase):

  def run_in(self, config, workdir=None, overwrite=False):
    workdir = workdir or self.create_tempdir().full_path
    return launch.launch(config, workdir, overwrite), workdir

  def test_results_layout_and_files(self):
    config = tiny_config()
    config.seeds = (0, 1)
    config.baseline.logistic_regression = True
    results, workdir = self.run_in(config)
    with open(os.path.join(workdir, "results.json")) as f:
      on_disk = json.load(f)
    self.assertEqual(on_disk["experiment"], "compare")
    for which in ("standard", "linearized"):
      for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        self.assertIn(key, on_disk[which])
      self.assertBetween(on_disk[which]["test_accuracy"], 0.0, 1.0)
      per_seed = [r[which]["test_accuracy"] for r in on_disk["per_seed"]]
      self.assertAlmostEqual(on_disk[which]["test_accuracy"], float(np.mean(per_seed)))
      self.assertAlmostEqual(on_disk[f"{which}_std"]["test_accuracy"], float(np.std(per_seed)))
    self.assertEqual(on_disk["seeds"], [0, 1])
    self.assertEqual(on_disk["num_params"], 61706)
    self.assertIn("logistic_regression", on_disk)
    self.assertEqual(results["standard"], on_disk["standard"])
    records = [json.loads(l) for l in open(os.path.join(workdir, "seed_1", "metrics.jsonl"))]
    self.assertEqual([r["epoch"] for r in records], [1, 2])
    self.assertEqual(records[-1]["standard"], on_disk["per_seed"][1]["standard"])
    with np.load(os.path.join(workdir, "seed_0", "trajectories.npz")) as z:
      self.assertEqual(list(z["step"]), [0, 1, 2, 3, 4])
      self.assertEqual(z["standard"].shape, (5, 4))
    for figure in ("accuracy.png", "trajectories.png"):
      self.assertGreater(os.path.getsize(os.path.join(workdir, figure)), 1000)

  def test_rerun_of_finished_run_is_identical(self):
    config = tiny_config()
    first, workdir = self.run_in(config)
    second, _ = self.run_in(config, workdir)
    self.assertEqual(first, second)

  def test_float64_and_cross_entropy(self):
    config = tiny_config(loss="cross_entropy", epochs=1)
    config.dtype = "float64"
    results, _ = self.run_in(config)
    self.assertBetween(results["standard"]["train_accuracy"], 0.0, 1.0)

  def test_binary_target_one_output(self):
    config = tiny_config(learning_rate=0.01, epochs=1)
    config.dataset.target = "class_vs_rest"
    results, workdir = self.run_in(config)
    self.assertBetween(results["linearized"]["test_accuracy"], 0.0, 1.0)
    with np.load(os.path.join(workdir, "seed_0", "trajectories.npz")) as z:
      self.assertEqual(z["linearized"].shape[1], 4)

  def test_tfds_path_under_mock_data(self):
    config = tiny_config(epochs=1)
    config.dataset.name = "cifar10"
    config.dataset.data_dir = self.create_tempdir().full_path
    config.dataset.num_train = config.dataset.num_test = None  # Mock labels are not balanced.
    with tfds.testing.mock_data(num_examples=80):
      results, _ = self.run_in(config)
    self.assertEqual(results["num_params"], 62006)  # LeNet on 32x32x3.

  def test_workdir_of_another_config_is_refused(self):
    results, workdir = self.run_in(tiny_config(epochs=1))
    with self.assertRaisesRegex(ConfigError, r"holds a finished run of a different config "
                                r"\(differs in config.train.learning_rate\).*--overwrite"):
      self.run_in(tiny_config(epochs=1, learning_rate=0.05), workdir)
    again, _ = self.run_in(tiny_config(epochs=1, learning_rate=0.05), workdir, overwrite=True)
    self.assertNotEqual(results["per_seed"], again["per_seed"])

  def test_diverging_run(self):
    with self.assertRaisesRegex(TrainingDivergedError, "Lower config.train.learning_rate"):
      self.run_in(tiny_config(learning_rate=1e5))

  def test_bad_configs(self):
    for mutate, pattern in (
        (lambda c: c.train.__setattr__("batch_size", 0), "train.batch_size=0"),
        (lambda c: c.train.__setattr__("learning_rate", -1.0), "positive number"),
        (lambda c: c.model.__setattr__("width", 0), "model.width=0"),
        (lambda c: c.train.__setattr__("loss", "hinge"), "train.loss='hinge'"),
    ):
      config = tiny_config()
      mutate(config)
      with self.assertRaisesRegex(ConfigError, pattern):
        compare.validate(config) if "loss" not in pattern else self.run_in(config)

  def test_unknown_train_key(self):
    config = tiny_config()
    config.train.unlock()
    config.train.lr = 0.1
    with self.assertRaisesRegex(ConfigError, r"unknown key\(s\) \['lr'\] in config.train"):
      compare.validate(config)

  def test_train_section_matches_trainer_fields(self):
    self.assertEqual(sorted(common.train_config().keys()),
                     sorted(compare.default_config().train.keys()))


if __name__ == "__main__":
  absltest.main()
