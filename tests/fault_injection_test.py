"""Runs killed with SIGKILL mid-way restart and finish with results identical to an
uninterrupted run: compare (mid-epoch checkpoints), spectrum (eNTK blocks), binary_solver (the
LSQR iterate) and kernel_regression (infinite-NTK blocks)."""

import glob
import os
import signal
import subprocess
import sys
import textwrap
import time

from absl.testing import absltest, parameterized

from ntk_tf import io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = {
    "compare": ("""
        from ntk_tf.experiments import compare

        def get_config():
          c = compare.default_config()
          c.dataset.name = "mnist5k"
          c.dataset.num_train = 200
          c.dataset.num_test = 50
          c.train.epochs = 3
          c.train.batch_size = 20
          c.train.checkpoint_every_steps = 3
          c.train.jit_compile = False
          c.train.trajectory_points = 2
          c.train.trajectory_steps = 2
          return c
    """, "seed_0/checkpoints/checkpoint"),
    "spectrum": ("""
        from ntk_tf.experiments import spectrum

        def get_config():
          c = spectrum.default_config()
          c.dataset.name = "mnist5k"
          c.model.widths = (1,)
          c.spectrum.num_samples = 40
          c.spectrum.translations = (0,)
          c.spectrum.block_size = 4
          c.spectrum.method = "jacobian"
          return c
    """, "kernel_blocks/*/block_*.npy"),
    "binary_solver": ("""
        from ntk_tf.experiments import binary_solver

        def get_config():
          c = binary_solver.default_config()
          c.dataset.name = "mnist5k"
          c.dataset.num_train = 80
          c.dataset.num_test = 40
          c.model.widths = (1,)
          c.solver.methods = ("lsqr",)
          c.solver.atol = c.solver.btol = 1e-14
          c.solver.iter_lim = 40
          c.solver.checkpoint_every = 3
          return c
    """, "w1/lsqr_iterate.npz"),
    "kernel_regression": ("""
        from ntk_tf.experiments import kernel_regression

        def get_config():
          c = kernel_regression.cntk_config("digits", "cnn_gap", 3, train_sizes=(40, 80),
                                            num_train=80, num_test=40)
          return c
    """, "kernel_blocks/block_*.npz"),
}


def without_timings(value):
  """Results minus wall-clock fields (the only thing a resumed run may change)."""
  if isinstance(value, dict):
    return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
  return value


def main_command(config, workdir):
  return [sys.executable, "-m", "ntk_tf.main", f"--config={config}", f"--workdir={workdir}"]


class FaultInjectionTest(parameterized.TestCase):

  @parameterized.parameters("compare", "spectrum", "binary_solver", "kernel_regression")
  def test_sigkill_then_restart_gives_identical_results(self, experiment):
    tmp = self.create_tempdir().full_path
    text, progress_glob = CONFIGS[experiment]
    config = os.path.join(tmp, f"{experiment}_tiny.py")
    with open(config, "w") as f:
      f.write(textwrap.dedent(text))
    reference, killed = os.path.join(tmp, "reference"), os.path.join(tmp, "killed")
    subprocess.run(main_command(config, reference), cwd=ROOT, check=True,
                   capture_output=True, timeout=600)

    proc = subprocess.Popen(main_command(config, killed), cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not glob.glob(os.path.join(killed, progress_glob)) and time.time() < deadline:
      self.assertIsNone(proc.poll(), "the run ended before it could be killed")
      time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    self.assertFalse(os.path.exists(os.path.join(killed, "results.json")),
                     "finished before the kill: the test would prove nothing")
    subprocess.run(main_command(config, killed), cwd=ROOT, check=True, capture_output=True,
                   timeout=600)
    self.assertEqual(without_timings(io.read_json(os.path.join(killed, "results.json"))),
                     without_timings(io.read_json(os.path.join(reference, "results.json"))))


if __name__ == "__main__":
  absltest.main()
