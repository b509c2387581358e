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
  )
  def test_one_line_error(self, override, message):
    workdir = self.create_tempdir().full_path
    result = run_main("--config=configs/quickstart.py", f"--workdir={workdir}", override)
    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertIn(message, result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    error_lines = [l for l in result.stderr.splitlines() if l.startswith("ntk_tf: error:")]
    self.assertLen(error_lines, 1)


if __name__ == "__main__":
  absltest.main()


class QuickstartTest(absltest.TestCase):

  def test_quickstart_end_to_end(self):
    workdir = self.create_tempdir().full_path
    result = run_main("--config=configs/quickstart.py", f"--workdir={workdir}")
    self.assertEqual(result.returncode, 0, result.stderr)
    with open(os.path.join(workdir, "results.json")) as f:
      results = json.load(f)
    with open(os.path.join(workdir, "config.json")) as f:
      self.assertEqual(json.load(f)["dataset"]["name"], "mnist5k")
    self.assertEqual(results["x_train_shape"], [4000, 28, 28, 1])
    self.assertIn("results.json", result.stdout)
