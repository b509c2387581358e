"""The command line: config files, overrides, and one-line errors (subprocesses)."""

import json
import os
import subprocess
import sys

from absl.testing import absltest, parameterized

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(*args, timeout=600):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run([sys.executable, "-m", "ntk_tf.main", *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=timeout, check=False)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ("unknown_key", "--config.dataset.nme=mnist",
       "config.dataset has no key 'nme'; valid keys of config.dataset: "),
      ("unknown_section", "--config.datset.name=mnist", "config has no key 'datset'"),
      ("unknown_dataset", "--config.dataset.name=emnist",
       "unknown dataset 'emnist'; valid names"),
      ("translation", "--config.dataset.translate=40", "out of range for 28x28"),
      ("width", "--config.model.width=0", "model.width=0 must be a positive integer"),
      ("model_input", "--config.model.name=alexnet", "cannot take 28x28 inputs"),
      ("wrong_type", "--config.train.epochs=abc", "--config.train.epochs=abc: invalid literal"),
  )
  def test_one_line_error(self, override, message):
    workdir = self.create_tempdir().full_path
    result = run_main("--config=configs/quickstart.py", f"--workdir={workdir}", override)
    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertIn(message, result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    error_lines = [l for l in result.stderr.splitlines() if l.startswith("ntk_tf: error:")]
    self.assertLen(error_lines, 1)

  def test_op_determinism_with_xla_on_alexnet_is_refused_before_any_data(self):
    workdir = self.create_tempdir().full_path
    result = run_main("--config=configs/alexnet_snakes.py", f"--workdir={workdir}",
                      "--config.deterministic=True")
    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertIn("overlapping max-pooling, whose gradient has no deterministic XLA kernel. "
                  "Set config.train.jit_compile=False", result.stderr)
    self.assertNotIn("Traceback", result.stderr)


class DeterminismTest(absltest.TestCase):

  def test_same_config_and_seed_give_an_identical_results_json(self):
    # Op determinism on (XLA too: LeNet's max-pool is ours, see models/layers.py); two
    # processes. The fault-injection tests compare two processes without it.
    overrides = ["--config.deterministic=True", "--config.dataset.num_train=200",
                 "--config.dataset.num_test=50", "--config.train.epochs=1",
                 "--config.baseline.logistic_regression=False"]
    results = []
    for _ in range(2):
      workdir = self.create_tempdir().full_path
      result = run_main("--config=configs/quickstart.py", f"--workdir={workdir}", *overrides)
      self.assertEqual(result.returncode, 0, result.stderr)
      with open(os.path.join(workdir, "results.json")) as f:
        results.append(json.load(f))
    self.assertBetween(results[0]["standard"]["test_accuracy"], 0.0, 1.0)
    self.assertEqual(results[0], results[1])


class QuickstartTest(absltest.TestCase):

  def test_quickstart_end_to_end(self):
    workdir = self.create_tempdir().full_path
    result = run_main("--config=configs/quickstart.py", f"--workdir={workdir}")
    self.assertEqual(result.returncode, 0, result.stderr)
    with open(os.path.join(workdir, "results.json")) as f:
      results = json.load(f)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(json.load(f)["dataset"]["name"], "mnist5k")
    self.assertEqual(results["experiment"], "compare")
    for which in ("standard", "linearized", "logistic_regression"):
      for key in ("train_accuracy", "test_accuracy"):
        self.assertBetween(results[which][key], 0.0, 1.0)
    # Real learning on real digits in 3 epochs, and the linearization trails the network.
    self.assertGreater(results["standard"]["test_accuracy"], 0.9)
    self.assertGreater(results["linearized"]["test_accuracy"], 0.5)
    self.assertGreater(results["standard"]["train_accuracy"],
                       results["linearized"]["train_accuracy"])
    self.assertIn("LinLeNet x1", result.stdout)
    for name in ("accuracy.png", "trajectories.png", "seed_0/metrics.jsonl",
                 "seed_0/metrics.csv", "seed_0/trajectories.npz"):
      self.assertTrue(os.path.exists(os.path.join(workdir, name)), name)
    self.assertNotEmpty(os.listdir(os.path.join(workdir, "seed_0", "tensorboard")))


if __name__ == "__main__":
  absltest.main()
