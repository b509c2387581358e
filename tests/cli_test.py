"""A newcomer's first hour at the command line (subprocesses, as a user runs them): a quiet
default output, one error line with exit status 2 for every path a user types, --list, and
TensorBoard event files that TensorBoard's own reader opens."""

import glob
import os
import subprocess
import sys
import textwrap

from absl.testing import absltest, parameterized

from ntk_tf.cli import config_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TensorFlow's own start-up and INFO lines, which a default run must not show.
TENSORFLOW_LINES = ("cpu_feature_guard", "oneDNN custom operations", "absl::InitializeLog",
                    "XLA service", "Compiled cluster using XLA", "StreamExecutor",
                    "Sharding callback duration", "dump_mlir_util")


def run(args, *, code=None, cwd=ROOT, timeout=600):
  """`python -m ntk_tf.main args` (or `python -c code args`) with the user's default
  environment: no TF_CPP_MIN_LOG_LEVEL (the test runner sets one for itself)."""
  env = {k: v for k, v in os.environ.items()
         if k not in ("TF_CPP_MIN_LOG_LEVEL", "NTK_TF_QUIET_TENSORFLOW")}
  env["PYTHONPATH"] = ROOT
  command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "ntk_tf.main"]
  return subprocess.run(command + list(args), cwd=cwd, env=env, capture_output=True,
                        text=True, timeout=timeout, check=False)


class ErrorLineTest(parameterized.TestCase):
  """Every path a user types: one line, exit status 2, no traceback."""

  def assert_one_error_line(self, result, *fragments, before_work=True):
    """before_work: the error is all of stderr; else the run's own lines may precede it."""
    self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
    output = result.stdout + result.stderr
    self.assertNotIn("Traceback", output)
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("ntk_tf: error: ")]
    self.assertLen(errors, 1, result.stderr)
    if before_work:
      self.assertLen(lines, 1, result.stderr)
    self.assertEqual(errors[0], lines[-1])
    for fragment in fragments:
      self.assertIn(fragment, errors[0])

  def write_config(self, text):
    path = os.path.join(self.create_tempdir().full_path, "my_config.py")
    with open(path, "w") as f:
      f.write(textwrap.dedent(text))
    return path

  def test_missing_config_file_lists_the_configs(self):
    self.assert_one_error_line(run(["--config=configs/nope.py"]),
                               "config file configs/nope.py does not exist; give a path or "
                               "the name of a shipped config: ", "quickstart.py",
                               "lenet_mnist.py")

  def test_config_that_fails_to_import_names_file_and_line(self):
    path = self.write_config("""\
        import ml_collections

        raise RuntimeError("a typo in the config")
        """)
    self.assert_one_error_line(run([f"--config={path}"]),
                               f"config file {path}, line 3: RuntimeError: a typo in the config")

  def test_config_with_a_syntax_error_names_file_and_line(self):
    path = self.write_config("def get_config(:\n  pass\n")
    self.assert_one_error_line(run([f"--config={path}"]),
                               f"config file {path}, line 1: SyntaxError")

  def test_config_without_get_config(self):
    path = self.write_config("import ml_collections\nCONFIG = ml_collections.ConfigDict()\n")
    self.assert_one_error_line(run([f"--config={path}"]), f"config file {path} has no "
                               "get_config()")

  def test_missing_config_flag_lists_the_configs(self):
    self.assert_one_error_line(run([]), "--config is required", "quickstart.py", "--list")

  def test_workdir_that_cannot_be_created(self):
    blocker = self.create_tempfile().full_path  # A file where a directory would go.
    self.assert_one_error_line(
        run(["--config=configs/data_summary.py", f"--workdir={blocker}/run"]),
        f"workdir {blocker}/run cannot be created or written", "--workdir=")

  def test_disk_filling_while_writing_results_leaves_nothing_half_written(self):
    workdir = os.path.join(self.create_tempdir().full_path, "run")
    code = textwrap.dedent("""\
        import errno, os, sys
        from unittest import mock
        from absl import app
        from ntk_tf import main
        from ntk_tf.cli import console as cli
        from ntk_tf.utils import io
        real = os.fsync

        def fsync(fd):  # The disk fills while results.json is written.
          if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".results.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
          return real(fd)

        cli.quiet_start(sys.argv)
        with mock.patch.object(io.os, "fsync", fsync):
          app.run(main.main, flags_parser=main.parse_flags)
        """)
    result = run(["--config=configs/data_summary.py", f"--workdir={workdir}"], code=code)
    self.assert_one_error_line(
        result, f"the disk filled while writing {workdir}/results.json (No space left on "
        "device): nothing was half-written (the file was not created); free space and rerun",
        before_work=False)
    self.assertFalse(os.path.exists(os.path.join(workdir, "results.json")))
    self.assertEqual(glob.glob(os.path.join(workdir, ".results.json*")), [])
    self.assertTrue(os.path.exists(os.path.join(workdir, "config.json")))  # Written before.


class ConsoleScriptsTest(absltest.TestCase):

  def test_installed_scripts_run_main_and_reproduce(self):
    from importlib import metadata  # pylint: disable=g-import-not-at-top
    scripts = {e.name: e.value for e in metadata.entry_points(group="console_scripts")
               if e.name.startswith("ntk-tf")}
    self.assertEqual(scripts, {"ntk-tf": "ntk_tf.main:run",
                               "ntk-tf-reproduce": "ntk_tf.reproduce:run"})
    script = os.path.join(os.path.dirname(sys.executable), "ntk-tf")
    result = subprocess.run([script, "--config=configs/nope.py"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=False)
    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertIn("ntk_tf: error: config file configs/nope.py does not exist", result.stderr)


class ListTest(absltest.TestCase):

  def test_list_names_every_config_with_its_experiment_paper_and_runtime(self):
    result = run(["--list"])
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertNotIn("Traceback", result.stderr)
    for name in config_files.available():
      self.assertIn(f"configs/{name}  [", result.stdout)
    self.assertIn("configs/lenet_mnist.py  [compare]  LeNet and LinLeNet on MNIST\n"
                  "    reproduces: Samarin et al. 2020, Fig. 3; 2022, Fig. 2 and Table A.2\n"
                  "    runtime: LeNet x1, 100 epochs of 1,875 steps: ~2.5 h on a 2-core CPU",
                  result.stdout)
    self.assertIn("configs/quickstart.py  [compare]", result.stdout)


class QuietRunTest(absltest.TestCase):

  def test_quickstart_output_is_ours_and_tensorboard_reads_its_curves(self):
    workdir = os.path.join(self.create_tempdir().full_path, "quickstart")
    result = run(["--config=configs/quickstart.py", f"--workdir={workdir}",
                  "--config.dataset.num_train=256", "--config.dataset.num_test=64",
                  "--config.train.epochs=2", "--config.train.checkpoint_every_steps=8"])
    self.assertEqual(result.returncode, 0, result.stderr)
    output = result.stdout + result.stderr
    for line in TENSORFLOW_LINES:
      self.assertNotIn(line, output)
    self.assertIn("LinLeNet x1", result.stdout)  # The results table,
    self.assertIn(f"results in {workdir}/results.json", result.stdout)  # where the files are,
    self.assertIn("estimated peak", result.stderr)  # what it is about to do,
    self.assertIn("paired training [", result.stderr)  # progress,
    self.assertIn(f"TensorBoard curves: tensorboard --logdir {workdir}", result.stderr)
    for line in result.stderr.splitlines():  # and our lines without absl's prefix.
      self.assertNotRegex(line, r"^[IWE]\d{4} \d\d:\d\d")

    # TensorBoard's own reader, as its scalars dashboard reads the runs.
    from tensorboard.backend.event_processing import plugin_event_accumulator  # pylint: disable=g-import-not-at-top
    events = plugin_event_accumulator.EventAccumulator(
        os.path.join(workdir, "seed_0", "tensorboard"))
    events.Reload()
    tags = events.PluginTagToContent("scalars")
    self.assertIn("standard/test_accuracy", tags)
    self.assertIn("linearized/test_accuracy", tags)
    accuracy = events.Tensors("standard/test_accuracy")
    self.assertEqual([e.step for e in accuracy], [1, 2])  # One value per epoch.
    from tensorboard.util import tensor_util  # pylint: disable=g-import-not-at-top
    self.assertBetween(float(tensor_util.make_ndarray(accuracy[-1].tensor_proto)), 0.0, 1.0)

  def test_verbosity_shows_tensorflows_own_lines(self):
    result = run(["--config=configs/data_summary.py",
                  f"--workdir={self.create_tempdir().full_path}", "--verbosity=1"])
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertRegex(result.stderr, r"I\d{4} \d\d:\d\d")  # absl's prefix, TensorFlow's logs.


if __name__ == "__main__":
  absltest.main()
