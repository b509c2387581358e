"""Sweeps end to end: a 2x2 width x seed sweep on mnist5k, killed and resumed, then reported."""

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
from absl.testing import absltest

from ntk_tf import report, sweep
from ntk_tf.errors import ConfigError
from ntk_tf.utils import io
from tests import test_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = textwrap.dedent('''
    from ntk_tf.experiments import compare

    def get_config():
      config = compare.default_config()
      config.dataset.name = "mnist5k"
      config.dataset.num_train = 40
      config.dataset.num_test = 20
      config.train.epochs = 1
      config.train.batch_size = 20
      config.train.trajectory_points = 2
      config.train.trajectory_steps = 2
      config.train.jit_compile = False
      return config

    def sweep():
      return [{"model.width": w, "seed": s} for w in (1, 2) for s in (0, 1)]
''')


def run_module(module, *args, **kwargs):
  return subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


class SweepTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    self.tmp = self.create_tempdir().full_path
    self.config = os.path.join(self.tmp, "tiny_sweep.py")
    with open(self.config, "w") as f:
      f.write(CONFIG)
    self.workdir = os.path.join(self.tmp, "sweep")

  def test_override_flags_parse_back_to_the_same_values(self):
    """Tuples of strings survive the command line (a reproduce run once got ('(network,)',))."""
    overrides = {"kinds": ("network",), "pair": ("network", "empirical_ntk"), "widths": (),
                 "seeds": (0, 1), "lr": 0.5, "name": "lenet"}
    path = os.path.join(self.create_tempdir().full_path, "c.py")
    with open(path, "w") as f:
      f.write(textwrap.dedent("""
          import ml_collections
          def get_config():
            return ml_collections.ConfigDict({"kinds": ("a", "b"), "pair": ("a",),
                                              "widths": (64, 128), "seeds": (3,), "lr": 1.0,
                                              "name": "mlp"})
          """))
    script = textwrap.dedent("""
        import json, sys
        from absl import flags
        from ml_collections import config_flags
        config = config_flags.DEFINE_config_file("config")
        flags.FLAGS(sys.argv)
        print(json.dumps(config.value.to_dict()))
        """)
    out = subprocess.run([sys.executable, "-c", script, f"--config={path}",
                          *sweep.override_flags(overrides)],
                         capture_output=True, text=True, check=True).stdout
    parsed = json.loads(out.strip().splitlines()[-1])
    for key, value in overrides.items():
      self.assertEqual(parsed[key], list(value) if isinstance(value, tuple) else value, key)

  def test_killed_sweep_resumes_without_redoing_cells_then_report_matches(self):
    cells = sweep.plan(self.config, self.workdir, ["--config.train.epochs=1"])
    self.assertEqual([c["name"] for c in cells],
                     ["model.width-1__seed-0", "model.width-1__seed-1", "model.width-2__seed-0",
                      "model.width-2__seed-1"])
    first = os.path.join(cells[0]["workdir"], "results.json")
    proc = run_module("ntk_tf.sweep", f"--config={self.config}", f"--workdir={self.workdir}",
                      "--parallel=1", "--config.train.epochs=1", start_new_session=True)
    deadline = time.time() + 240
    while not os.path.exists(first) and time.time() < deadline and proc.poll() is None:
      time.sleep(0.2)
    self.assertTrue(os.path.exists(first), proc.communicate()[0] if proc.poll() else "timeout")
    os.killpg(proc.pid, signal.SIGKILL)  # The sweep and the cell it was running.
    proc.wait()
    finished_before = os.path.getmtime(first)
    self.assertFalse(all(sweep.is_done(c) for c in cells))
    proc = run_module("ntk_tf.sweep", f"--config={self.config}", f"--workdir={self.workdir}",
                      "--parallel=2", "--config.train.epochs=1")
    output = proc.communicate(timeout=600)[0]
    self.assertEqual(proc.returncode, 0, output)
    self.assertIn("already finished", output)
    self.assertTrue(all(sweep.is_done(c) for c in cells))
    self.assertEqual(os.path.getmtime(first), finished_before)  # Not redone.

    written = report.build_report(self.workdir)
    out = os.path.join(self.workdir, "report")
    for name in ("width_table.md", "width_table.csv", "accuracy_vs_width.png",
                 "accuracy_vs_width.pdf", "trajectories_x1.png", "results.csv"):
      self.assertIn(os.path.join(out, name), written)
      self.assertTrue(os.path.exists(os.path.join(out, name)), name)
    with open(os.path.join(out, "width_table.csv")) as f:
      table = {(r["model"], r["split"], int(r["width"])): r for r in csv.DictReader(f)}
    for width in (1, 2):
      for model, key in (("LeNet", "standard"), ("LinLeNet", "linearized")):
        for split in ("test", "train"):
          accs = [100 * io.read_json(os.path.join(c["workdir"], "results.json"))["per_seed"][0][
              key][f"{split}_accuracy"] for c in cells if c["overrides"]["model.width"] == width]
          row = table[(model, split, width)]
          self.assertAllClose(float(row["mean_accuracy"]), np.mean(accs))
          self.assertAllClose(float(row["std_accuracy"]), np.std(accs))
          self.assertEqual(int(row["num_seeds"]), 2)
    with open(os.path.join(out, "width_table.md")) as f:
      text = f.read()
    self.assertIn("| LinLeNet Test |", text)
    self.assertIn("| x1 | x2 |", text)
    self.assertIn("| LinLeNet Test (paper) | 93.20 | 96.30 |", text)  # Samarin 2020 Fig. 3.

  def test_bad_sweeps_are_refused_before_any_cell_runs(self):
    with open(self.config, "a") as f:
      f.write("\ndef sweep():\n  return [{'model.widht': 1}]\n")
    with self.assertRaisesRegex(ConfigError, "model has no key 'widht'; valid keys of config.model: .*width"):
      sweep.plan(self.config, self.workdir)
    with open(self.config, "a") as f:
      f.write("\ndef sweep():\n  return [{'model.width': 0}]\n")
    with self.assertRaisesRegex(ConfigError, "sweep cell 0 .*positive integer"):
      sweep.plan(self.config, self.workdir)
    with open(self.config, "a") as f:
      f.write("\ndef sweep():\n  return [{'train.epochs': 'two'}]\n")
    with self.assertRaisesRegex(ConfigError, "train.epochs='two'.*field's type"):
      sweep.plan(self.config, self.workdir)
    self.assertFalse(os.path.exists(self.workdir))
    with self.assertRaisesRegex(ConfigError, "no sweep.json"):
      report.collect(self.workdir)


if __name__ == "__main__":
  absltest.main()
