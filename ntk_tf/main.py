"""Command-line entry point: `python -m ntk_tf.main --config=configs/<name>.py --workdir=<dir>`.

Parses the config (ml_collections, overrides like `--config.model.width=5`) and hands it to
`launch.launch(config, workdir)`, the one way from a config to a result. Problems the user
can fix are printed as one line (no traceback) and exit with status 2. `--list` prints every
config with its experiment, the paper result it reproduces and its CPU runtime. TensorFlow's
own logs are hidden unless `--verbosity=1` or TF_CPP_MIN_LOG_LEVEL asks for them (cli.py).
"""

import os
import sys

from absl import app, flags
from ml_collections import config_flags

from ntk_tf.cli import config_files, console as cli, launch
from ntk_tf.errors import NtkTfError
from ntk_tf.utils import plots

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Experiment config file, e.g. configs/quickstart.py.", lock_config=True)
_WORKDIR = flags.DEFINE_string(
    "workdir", None, "Where results, checkpoints and logs go (default: workdirs/<config name>).")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Allow a workdir that holds a finished run of a different config.")
_LIST = flags.DEFINE_bool(
    "list", False, "Print every config file (experiment, paper result, CPU runtime) and exit.")


def default_workdir(config_path: str) -> str:
  name = os.path.splitext(os.path.basename(config_path.split(":")[0]))[0]
  return os.path.join("workdirs", name)


def _load_config_file(path: str):
  """Builds the config a `--config=file.py[:arg]` flag names (to explain a bad override)."""
  return config_files.load_config(path)


def _unknown_override_message(argv) -> str:
  """Names the first `--config.a.b=` override whose key does not exist, and the valid keys."""
  config_path = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), None)
  if config_path is None:
    return "a --config.* override names a key that does not exist."
  config = _load_config_file(config_path)
  for arg in argv:
    if arg.startswith("--config."):
      reason = launch.unknown_key(config, arg[len("--config."):].split("=", 1)[0])
      if reason:
        return f"{arg}: {reason}. Fix the override (see the config file)."
  return "a --config.* override names a key that does not exist."


def _config_arg(argv):
  """The value of --config (either `--config=x` or `--config x`), or None."""
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      return arg.split("=", 1)[1]
    if arg == "--config" and i + 1 < len(argv):
      return argv[i + 1]
  return None


def parse_flags(argv):
  """absl's flag parsing; a missing, unreadable or broken config file and unknown config keys
  are reported in one line (exit status 2) before any work."""
  listing = any(a in ("--list", "--list=true", "--list=True") for a in argv[1:])
  config_path = _config_arg(argv)
  if config_path is None and not listing:
    cli.fail(f"--config is required, e.g. --config=configs/quickstart.py; configs: "
             f"{', '.join(config_files.available())} (python -m ntk_tf.main --list describes "
             "them).")
  if config_path is not None:
    try:
      config_files.load_config(config_path)  # Every problem of the file itself, in one line.
    except NtkTfError as e:
      cli.fail(str(e))
    resolved = config_files.resolve(config_path)
    if resolved != config_path:  # A shipped config named from elsewhere: give absl the file.
      argv = [a.replace(config_path, resolved) if a in (config_path, f"--config={config_path}")
              else a for a in argv]
  try:
    return flags.FLAGS(argv)
  except (AttributeError, KeyError):
    print(f"ntk_tf: error: {_unknown_override_message(argv)}", file=sys.stderr)
    sys.exit(2)
  except flags.Error as e:  # A value of the wrong type, e.g. --config.train.epochs=abc.
    print(f"ntk_tf: error: {e}. Give a value of the field's type (see the config file).",
          file=sys.stderr)
    sys.exit(2)


def print_list() -> None:
  """Every config file: experiment, what it runs, the paper result it reproduces, runtime."""
  for path in config_files.available(full_paths=True):
    r = config_files.describe(path)
    print(f"{r['config']}  [{r['experiment']}]  {r['summary']}")
    details = [f"reproduces: {r['reproduces']}"] if r["reproduces"] else []
    details += [f"runtime: {r['runtime']}"] if r["runtime"] else []
    for detail in details:
      print(f"    {detail}")


def main(argv):
  del argv
  cli.concise_logging()
  if _LIST.value:
    print_list()
    return
  config = _CONFIG.value
  workdir = _WORKDIR.value or default_workdir(flags.FLAGS["config"].config_filename)
  try:
    plots.label_runs(flags.FLAGS["config"].config_filename)
    launch.launch(config, workdir, overwrite=_OVERWRITE.value)
  except NtkTfError as e:
    cli.fail(str(e))
  print(f"results in {os.path.join(workdir, 'results.json')}")


def run():
  """The `ntk-tf` console script: python -m ntk_tf.main."""
  cli.quiet_start(sys.argv)
  app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
  run()
