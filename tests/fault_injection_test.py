"""Runs killed with SIGKILL mid-way restart and finish with results identical to an
uninterrupted run (compare: mid-epoch checkpoints; spectrum: eNTK kernel blocks)."""

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
}


def main_command(config, workdir):
  return [sys.executable, "-m", "ntk_tf.main", f"--config={config}", f"--workdir={workdir}"]


class FaultInjectionTest(parameterized.TestCase):

  @parameterized.parameters("compare", "spectrum")
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
    self.assertEqual(io.read_json(os.path.join(killed, "results.json")),
                     io.read_json(os.path.join(reference, "results.json")))


if __name__ == "__main__":
  absltest.main()
