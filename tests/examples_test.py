"""The examples/ scripts run from a clean clone and print what their docstrings promise."""

import os
import re
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ExamplesTest(absltest.TestCase):

  def test_keras_model_example(self):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                        "ntk_of_a_keras_model.py")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    rank = float(re.search(r"effective rank ([\d.]+) of 1000", proc.stdout).group(1))
    self.assertBetween(rank, 10, 1000)
    self.assertIn("max |f_lin(0, x) - f(w0, x)| = 0.0e+00", proc.stdout)
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", proc.stdout).group(1))
    self.assertBetween(accuracy, 40, 100)  # 100 training digits: well above chance (10 %).

  def test_fit_a_linearized_model_example(self):
    log_dir = self.create_tempdir().full_path
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                        "fit_a_linearized_model.py"), log_dir],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    found = dict(re.findall(r"(network|linearized): .* test accuracy ([\d.]+)%", proc.stdout))
    self.assertBetween(float(found["network"]), 70, 100)
    self.assertBetween(float(found["linearized"]), 50, 100)
    distance = dict(re.findall(r"(network|linearized): .*kernel distance to the start "
                               r"([\d.e+-]+)", proc.stdout))
    self.assertGreater(float(distance["network"]), 1e-4)      # The network's kernel moves;
    self.assertLess(float(distance["linearized"]), 1e-6)      # the linearization's does not.
    self.assertIn("max |difference| of predictions 0.0e+00", proc.stdout)
    self.assertTrue(os.listdir(os.path.join(log_dir, "network")))  # TensorBoard events.

  def test_predict_with_uncertainty_example(self):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                        "predict_with_uncertainty.py")],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
    rows = re.findall(r"(NTK-GP, t = [\d.inf]+|NNGP posterior[^:]*): test accuracy ([\d.]+)%, "
                      r"predictive sd ([\d.]+) on the \d+ right and ([\d.]+) on the",
                      proc.stdout)
    self.assertLen(rows, 3)
    for _, accuracy, right, wrong in rows:
      self.assertBetween(float(accuracy), 85, 100)   # 300 digits of 8x8: ~95%.
      self.assertGreater(float(wrong), float(right))  # Less sure where it is wrong.


if __name__ == "__main__":
  absltest.main()
