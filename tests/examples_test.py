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


if __name__ == "__main__":
  absltest.main()
