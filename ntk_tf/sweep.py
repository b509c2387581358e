"""Sweeps: every cell of a config's `sweep()` in its own sub-workdir, resumable, in parallel.

    python -m ntk_tf.sweep --config=configs/lenet_mnist.py --workdir=workdirs/lenet_mnist \
        [--parallel=2] [--config.train.epochs=10 ...] [--cell=K] [--list]

A config file declares its sweep beside `get_config()`: `sweep()` returns a list of cells, each
a dict of dotted overrides (e.g. `{"model.width": 5, "seed": 0}`). Each cell runs as
`python -m ntk_tf.main --config=<file> --workdir=<workdir>/cells/<name> <overrides>` in its own
process, so a crash or kill loses at most the unfinished cells, which resume from their own
checkpoints when the sweep is started again; cells with a results.json are skipped.
`--cell=K` runs only cell K (one task of a cluster array job, launch/slurm.sh); `--list`
prints the cells. `python -m ntk_tf.report --workdir=<workdir>` then builds the tables.
"""

import os
import re
import sys
import time
from typing import Dict, List, Sequence

import ml_collections
from absl import app, flags

from ntk_tf.cli import config_files, console as cli, jobs, launch
from ntk_tf.errors import ConfigError, NtkTfError
from ntk_tf.utils import io



def define_flags():
  """The command line (defined only when run as a program, so importing is side-effect free)."""
  flags.DEFINE_string("config", None, "Config file with get_config() and sweep().")
  flags.DEFINE_string("workdir", None, "Sweep directory (default workdirs/<name>).")
  flags.DEFINE_integer("parallel", 1, "Cells run at the same time (processes).")
  flags.DEFINE_integer("cell", None, "Run only this cell index (array jobs).")
  flags.DEFINE_bool("list", False, "Print the cells, one per line, and exit.")


def load_module(config_path: str):
  """The config file as a module (get_config, sweep)."""
  return config_files.load_module(config_path, "_ntk_tf_sweep_config")


def cells_of(module, config_path: str) -> List[Dict]:
  if not hasattr(module, "sweep"):
    raise ConfigError(f"{config_path} declares no sweep: add `def sweep():` returning a list of "
                      "override dicts, e.g. [{'model.width': w, 'seed': s} for w in ... for s "
                      "in ...], or run it once with python -m ntk_tf.main.")
  cells = [dict(c) for c in module.sweep()]
  if not cells:
    raise ConfigError(f"{config_path}: sweep() returned no cells.")
  return cells


def cell_name(overrides: Dict) -> str:
  """A directory name from the overrides: model.width=5, seed=0 -> model.width-5__seed-0."""
  parts = [f"{key}-{_value_text(value)}" for key, value in overrides.items()]
  name = "__".join(parts) or "base"
  return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def _value_text(value) -> str:
  if isinstance(value, (tuple, list)):
    return "(" + ",".join(_value_text(v) for v in value) + ("," if len(value) == 1 else "") + ")"
  return str(value)


def apply_overrides(config: ml_collections.ConfigDict, overrides: Dict) -> ml_collections.ConfigDict:
  """A copy of `config` with dotted overrides applied (launch.with_overrides)."""
  return launch.with_overrides(config, overrides, what="sweep override")


def override_flags(overrides: Dict) -> List[str]:
  """`--config.<key>=<value>` flags; a tuple is written as its Python literal, so its strings are
  quoted (`('network',)`, which the flag parser would otherwise read as the string "(network,)")."""
  return [f"--config.{key}={repr(tuple(value)) if isinstance(value, (tuple, list)) else value}"
          for key, value in overrides.items()]


def plan(config_path: str, workdir: str, base_flags: Sequence[str] = ()) -> List[Dict]:
  """The cells with their names, workdirs and commands; every cell's config validated first."""
  module = load_module(config_path)
  base_overrides = {}
  for flag in base_flags:  # --config.a.b=value, as typed on the command line.
    key, _, text = flag[len("--config."):].partition("=")
    base_overrides[key] = _parse_value(text)
  base = launch.load(config_path, base_overrides)
  out = []
  for index, overrides in enumerate(cells_of(module, config_path)):
    try:
      launch.validate(apply_overrides(base, overrides))
    except NtkTfError as e:
      raise ConfigError(f"sweep cell {index} {overrides}: {e}") from e
    name = cell_name(overrides)
    cell_dir = os.path.join(workdir, "cells", name)
    command = [sys.executable, "-m", "ntk_tf.main", f"--config={config_path}",
               f"--workdir={cell_dir}", *base_flags, *override_flags(overrides)]
    out.append(dict(index=index, name=name, overrides=overrides, workdir=cell_dir,
                    command=command))
  names = [c["name"] for c in out]
  if len(set(names)) != len(names):
    raise ConfigError(f"{config_path}: sweep() has repeated cells ({names}).")
  return out


def _parse_value(text: str):
  """A command-line override value as Python (numbers, tuples, booleans), else the string."""
  import ast  # pylint: disable=import-outside-toplevel
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def is_done(cell: Dict) -> bool:
  return jobs.is_done(cell["workdir"])


def run_sweep(config_path: str, workdir: str, parallel: int = 1, base_flags: Sequence[str] = (),
              only=None) -> Dict:
  """Runs the unfinished cells (or cell `only`); returns {"done", "skipped", "failed"}."""
  if parallel < 1:
    raise ConfigError(f"--parallel={parallel} must be at least 1.")
  cells = all_cells = plan(config_path, workdir, base_flags)
  if only is not None:
    if not 0 <= only < len(cells):
      raise ConfigError(f"--cell={only}: the sweep has cells 0..{len(cells) - 1}.")
    cells = [cells[only]]
  io.write_json(os.path.join(workdir, "sweep.json"), dict(
      config=config_path, base_flags=list(base_flags),
      cells=[{k: c[k] for k in ("index", "name", "overrides")} for c in all_cells]))
  return jobs.run_jobs([jobs.Job(c["name"], c["workdir"], c["command"]) for c in cells],
                       parallel, label="sweep cells")


def main(argv):
  cli.concise_logging()
  base_flags = [a for a in argv[1:] if a.startswith("--config.")]
  unknown = [a for a in argv[1:] if not a.startswith("--config.")]
  if unknown:
    print(f"ntk_tf.sweep: error: unexpected arguments {unknown}", file=sys.stderr)
    sys.exit(2)
  f = flags.FLAGS
  if not f.config:
    print("ntk_tf.sweep: error: --config=<file> is required.", file=sys.stderr)
    sys.exit(2)
  name = os.path.splitext(os.path.basename(f.config))[0]
  workdir = f.workdir or os.path.join("workdirs", name)
  try:
    if f.list:
      for cell in plan(f.config, workdir, base_flags):
        print(f"{cell['index']}\t{cell['name']}\t{'done' if is_done(cell) else 'todo'}")
      return
    start = time.time()
    summary = run_sweep(f.config, workdir, f.parallel, base_flags, f.cell)
  except NtkTfError as e:
    print(f"ntk_tf.sweep: error: {e}", file=sys.stderr)
    sys.exit(2)
  print(f"sweep {workdir}: {len(summary['done'])} run, {len(summary['skipped'])} already "
        f"finished, {len(summary['failed'])} failed ({time.time() - start:.0f} s)")
  if summary["failed"]:
    print("failed cells: " + ", ".join(summary["failed"]), file=sys.stderr)
    sys.exit(1)


def _parse_flags(argv):
  """absl flags, leaving --config.* overrides for the cells (they are forwarded verbatim)."""
  ours = [a for a in argv[1:] if not a.startswith("--config.")]
  rest = flags.FLAGS([argv[0]] + ours)
  return rest + [a for a in argv[1:] if a.startswith("--config.")]


if __name__ == "__main__":
  cli.quiet_start(sys.argv)
  define_flags()
  app.run(main, flags_parser=_parse_flags)
