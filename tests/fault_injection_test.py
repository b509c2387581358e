"""Runs killed with SIGKILL at random moments restart and finish with results identical to an
uninterrupted run: compare (mid-epoch checkpoints), spectrum (eNTK blocks), binary_solver (the
LSQR iterate), kernel_regression (infinite-NTK blocks), and the per-cell experiments
scaling_law, after_kernel and time_dynamics (cell JSON files)."""

import glob
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from absl.testing import absltest, parameterized

from ntk_tf.utils import io

SEED = int(os.environ.get("NTK_TF_FAULT_SEED") or random.SystemRandom().randrange(10 ** 6))
ROUNDS = int(os.environ.get("NTK_TF_FAULT_ROUNDS", "1"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def vyas_tiny(experiment, num_train, settings):
  """A config file's text: `experiment` on a tiny synthetic task of Vyas et al. + settings."""
  return f"""
        from ntk_tf.experiments import {experiment}

        def get_config():
          c = {experiment}.default_config()
          c.dataset.synthetic.num_train = {num_train}
          c.dataset.synthetic.num_test = 60
          c.dataset.synthetic.dim = 8
          c.model.width = 32
          c.model.depth = 3
          c.train.learning_rate = 1.0
          c.train.batch_size = 16
          c.train.epochs = 3.0
          c.train.min_steps = 0{settings}
          return c
    """


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
        from ntk_tf.configs import common as cc

        def get_config():
          c = cc.cntk_config("digits", "cnn_gap", 3, train_sizes=(40, 80),
                             num_train=80, num_test=40)
          return c
    """, "kernel_blocks/*/block_*.npz"),
    "scaling_law": (vyas_tiny("scaling_law", 64, """
          c.scaling.train_sizes = (16, 32, 64)
          c.scaling.kinds = ("network", "empirical_ntk")
          c.scaling.num_resamples = 20
          c.seeds = (0, 1)"""), "cells/**/*.json"),
    "after_kernel": (vyas_tiny("after_kernel", 96, """
          c.after_kernel.train_sizes = (32, 64)
          c.after_kernel.fit_sizes = (16, 32)
          c.after_kernel.num_resamples = 20
          c.seeds = (0, 1)"""), "cells/**/*.json"),
    "time_dynamics": (vyas_tiny("time_dynamics", 64, """
          c.time_dynamics.train_size = 48
          c.time_dynamics.num_kernels = 3
          c.seeds = (0, 1, 2)"""), "cells/*.json"),
}


def without_timings(value):
  """Results minus wall-clock fields (the only thing a resumed run may change)."""
  if isinstance(value, dict):
    return {k: without_timings(v) for k, v in value.items() if k != "seconds"}
  return value


def main_command(config, workdir):
  return [sys.executable, "-m", "ntk_tf.main", f"--config={config}", f"--workdir={workdir}"]


def has_progress(workdir, pattern):
  return bool(glob.glob(os.path.join(workdir, pattern), recursive=True))


def start(config, workdir, log):
  return subprocess.Popen(main_command(config, workdir), cwd=ROOT, start_new_session=True,
                          stdout=log, stderr=subprocess.STDOUT)


def read_log(path):
  with open(path) as f:
    return f.read()[-3000:]


class FaultInjectionTest(parameterized.TestCase):
  """Each test: an uninterrupted reference run timed from its first checkpoint file to its
  end; then, per round, a run SIGKILLed (its whole process group) at a uniformly random moment
  of that span, restarted, and its results.json compared with the reference's.

  NTK_TF_FAULT_SEED fixes the kill moments (printed on failure); NTK_TF_FAULT_ROUNDS=20 soaks.
  """

  def timed_reference(self, config, workdir, pattern, log_path):
    """Runs to the end; returns the seconds from the first progress file to the exit."""
    with open(log_path, "w") as log:
      proc = start(config, workdir, log)
      first = None
      while proc.poll() is None:
        if first is None and has_progress(workdir, pattern):
          first = time.monotonic()
        time.sleep(0.02)
    end = time.monotonic()
    self.assertEqual(proc.returncode, 0, read_log(log_path))
    self.assertIsNotNone(first, f"no {pattern} appeared: nothing to kill in between")
    return end - first

  def kill_after_progress(self, config, workdir, pattern, delay, log_path):
    """Starts a run, SIGKILLs it `delay` s after its first progress file; False if it ended
    first."""
    with open(log_path, "w") as log:
      proc = start(config, workdir, log)
      deadline = time.monotonic() + 300
      while not has_progress(workdir, pattern):
        if proc.poll() is not None or time.monotonic() > deadline:
          proc.kill()
          self.fail(f"the run ended or stalled before its first {pattern}:\n"
                    + read_log(log_path))
        time.sleep(0.02)
      time.sleep(delay)
      if proc.poll() is not None:
        self.assertEqual(proc.returncode, 0, read_log(log_path))
        return False
      os.killpg(proc.pid, signal.SIGKILL)
      proc.wait()
    return True

  @parameterized.named_parameters((name, name) for name in CONFIGS)
  def test_sigkill_at_random_moment_then_restart_gives_identical_results(self, experiment):
    tmp = self.create_tempdir().full_path
    text, pattern = CONFIGS[experiment]
    config = os.path.join(tmp, f"{experiment}_tiny.py")
    with open(config, "w") as f:
      f.write(textwrap.dedent(text))
    reference = os.path.join(tmp, "reference")
    span = self.timed_reference(config, reference, pattern, os.path.join(tmp, "reference.log"))
    expected = without_timings(io.read_json(os.path.join(reference, "results.json")))
    rng = random.Random(f"{SEED}/{experiment}")
    for round_ in range(ROUNDS):
      fraction = rng.uniform(0.0, 0.9)
      where = (f"NTK_TF_FAULT_SEED={SEED} round {round_}: killed {fraction:.3f} of the way "
               f"from the first {pattern} to the end ({span:.1f} s)")
      for attempt in range(4):   # The run may be faster than the reference: kill it sooner.
        killed = os.path.join(tmp, f"killed_{round_}_{attempt}")
        log_path = killed + ".log"
        if self.kill_after_progress(config, killed, pattern, fraction * span / 2 ** attempt,
                                    log_path):
          break
      else:
        self.fail(f"{where}: the run always finished before the kill")
      partial = os.path.join(killed, "results.json")
      if os.path.exists(partial):   # Written before the kill: then it must be whole.
        io.read_json(partial)
      with open(log_path, "a") as log:
        proc = start(config, killed, log)
        self.assertEqual(proc.wait(timeout=600), 0, f"{where}; restart failed:\n"
                         + read_log(log_path))
      self.assertEqual(without_timings(io.read_json(partial)), expected, where)


if __name__ == "__main__":
  absltest.main()
