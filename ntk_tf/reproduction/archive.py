"""A reproduction tier's finished runs: where they are (the workdir, else a committed archive),
which are stale (made with a config that changed since), and the small files archived.

A run is finished when its folder holds results.json; its reproduce_run.json records the wall
time the cost estimates learn from. Archived copies let a fresh clone resume a tier. An unfinished
run's archive folder (no results.json) keeps its progress so far that is small enough to commit:
its finished seeds' files (paired_runs.SEED_FILES) and its finished kernel blocks, so a run longer
than a machine is kept resumes on the next one from its last finished seed or block.
"""

import datetime
import filecmp
import glob
import json
import os
import platform
import shutil
from typing import Dict, List, Optional

from absl import logging

from ntk_tf.errors import ConfigError
from ntk_tf.experiments import defaults
from ntk_tf.reproduction import claims as claims_lib
from ntk_tf.reproduction import run_costs
from ntk_tf.reproduction.plan import Plan, memory_total_bytes, run_config
from ntk_tf.training import paired_runs, stopping
from ntk_tf.utils import io, memory


def run_dir(workdir: str, name: str) -> str:
  return os.path.join(workdir, "runs", name)


ARCHIVED = ("results.json", "config.json", "reproduce_run.json")
ARCHIVED_GLOBS = ("seed_*/trajectories.npz", "seed_*/metrics.jsonl", "singular_values/*.npy",
                  "w*/sgd/metrics.jsonl")
PROGRESS_DIR = "kernel_blocks"  # An unfinished run's progress, beside its finished seeds.


def is_done(workdir: str, name: str, archive: Optional[str] = None) -> bool:
  return finished_dir(workdir, name, archive) is not None


def finished_dir(workdir: str, name: str, archive: Optional[str] = None) -> Optional[str]:
  """Where a finished run's files are: its workdir, else the archive; None if unfinished."""
  for root in (os.path.join(workdir, "runs"), archive):
    if root and os.path.exists(os.path.join(root, name, "results.json")):
      return os.path.join(root, name)
  return None


def stale_keys(stored: dict, current: dict) -> List[str]:
  """Config keys whose value in a finished run's config.json differs from the current config.
  A key only the current config has (an option added since the run) is a change where it is set
  away from its default (a new option's default keeps the old behaviour); a key only the run has
  is ignored."""
  norm = lambda d: run_costs.flatten(json.loads(json.dumps(d, default=io._default)))  # pylint: disable=protected-access
  a, b = norm(stored), norm(current)
  try:
    default = norm(defaults.default_config(current.get("experiment", "")).to_dict())
  except ConfigError:  # Not an experiment's config: its new keys are ignored.
    default = b
  return sorted([k for k in a.keys() & b.keys() if a[k] != b[k]] +
                [k for k in b.keys() - a.keys() if k in default and b[k] != default[k]])


def stale_at(where: str, current: dict) -> List[str]:
  """stale_keys of the finished run in `where` against the current config dict. Under a
  stopping test (train.stop_*) a run is what the current config makes only where the test, as
  the code now has it, would have stopped each seed exactly where it ended, or never before the
  cap it ran to: then the changes may also raise train.epochs and add the test; otherwise its
  stale keys include STOPPED_ELSEWHERE (the test changed since, e.g. made stricter)."""
  stored = io.read_json(os.path.join(where, "config.json"))
  keys = stale_keys(stored, current)
  if keys and not _raised(stored, current, keys):
    return keys
  if not keys and not _stopping_test(current):
    return []
  cap = current["train"]["epochs"]
  if all(ran == stop or (stop is None and ran >= cap) for ran, stop in _stops(where, current)):
    return []
  return keys or [STOPPED_ELSEWHERE]


CURVES = ("seed_*/metrics.jsonl", "w*/sgd/metrics.jsonl")  # A compare run's, a binary run's.
STOP_KEYS = ("stop_after_epochs", "stop_fit_accuracy", "stop_converged_pp")
STOPPED_ELSEWHERE = "train.stop_* (the stopping test would not have stopped it where it ended)"


def _stopping_test(config: dict) -> bool:
  train = config.get("train") or {}
  return train.get("stop_fit_accuracy") is not None or train.get("stop_converged_pp") is not None


def _raised(stored: dict, current: dict, keys: List[str]) -> bool:
  """The changes are more train.epochs and, at most, a stopping test where the run had none."""
  return ("train.epochs" in keys and current["train"]["epochs"] > stored["train"]["epochs"] and
          all(k.split(".", 1)[1] in STOP_KEYS and stored["train"].get(k.split(".", 1)[1]) is None
              for k in keys if k != "train.epochs"))


def _stops(where: str, current: dict) -> List[tuple]:
  """Per per-epoch curve of the run: (epochs it ran, the epoch count at which the current
  config's stopping test would have stopped it, or None); [] without curves."""
  train = current["train"]
  out = []
  for path in sorted(p for pattern in CURVES for p in glob.glob(os.path.join(where, pattern))):
    curves = stopping.read_curves(path)
    out.append((min((len(c) for c in curves.values()), default=0), stopping.first_stop(
        curves, train.get("stop_fit_accuracy"), train.get("stop_converged_pp"),
        train.get("stop_after_epochs"))))
  return out or [(0, -1)]


def retire_stale(plan: "Plan", workdir: str, archive: Optional[str]) -> Dict[str, List[str]]:
  """Finished runs whose config changed since (e.g. a protocol fix) are set aside to be rerun:
  a stale workdir copy moves to runs/<name>.stale, a stale archive copy is removed; a copy that
  matches the current config is kept. A workdir copy whose only change is more train.epochs,
  or a stopping test that would have trained it on, continues instead: its results.json goes,
  so the run resumes from its last checkpoint (the paired loop's resumed runs equal
  uninterrupted ones). Returns {name: changed keys} of the runs
  set aside or continued."""
  stale = {}
  for name, run in plan.runs.items():
    current = None
    for where, remove in ((run_dir(workdir, name), _set_aside),
                          (os.path.join(archive, name) if archive else None, shutil.rmtree)):
      if not where or not os.path.exists(os.path.join(where, "results.json")) or \
          not os.path.exists(os.path.join(where, "config.json")):
        continue
      current = current or run_config(run, plan.tier).to_dict()
      keys = stale_at(where, current)
      if not keys:
        continue
      stale[name] = keys
      if remove is _set_aside and _more_epochs(where, current, keys):
        logging.warning("run %s: %s; it continues from its checkpoints", name,
                        "more train.epochs" if keys != [STOPPED_ELSEWHERE] else keys[0])
        _continue(where, current)
        continue
      logging.warning("run %s: %s was made with another config (%s); set aside", name, where,
                      ", ".join(keys[:5]))
      remove(where)
  return {n: k for n, k in stale.items() if not is_done(workdir, n, archive)}


CONTINUED = "reproduce_run.continued.json"  # The wall-time record of the run a run continues.


def _more_epochs(where: str, current: dict, keys: List[str]) -> bool:
  """Only more epochs (and a stopping test) are asked for, or the stopping test changed; the test
  would not have stopped any seed before its end (a seed it stops at its end stops again at once
  when resumed); and the run kept checkpoints to resume from."""
  stored = io.read_json(os.path.join(where, "config.json"))
  return ((keys == [STOPPED_ELSEWHERE] or _raised(stored, current, keys))
          and all(stop is None or stop == ran for ran, stop in _stops(where, current))
          and any(glob.glob(os.path.join(where, os.path.dirname(c), "checkpoints", "checkpoint"))
                  for c in CURVES))


def _continue(where: str, current: dict):
  """Makes a finished run resumable under `current`: its results and finished cells (a binary
  run's w*/sgd.json, a compare run's seed_*/seed_result.json) go, its config.json becomes the
  current one (so the experiment's workdir check resumes it), its wall-time record is kept to be
  added on finishing."""
  for done in [os.path.join(where, "results.json")] + glob.glob(os.path.join(
      where, "w*", "sgd.json")) + glob.glob(os.path.join(where, "seed_*", paired_runs.SEED_RESULT)):
    if os.path.exists(done):
      os.remove(done)
  io.write_json(os.path.join(where, "config.json"), current)
  record_path = os.path.join(where, run_costs.RECORD)
  if os.path.exists(record_path):
    os.replace(record_path, os.path.join(where, CONTINUED))


def _set_aside(path: str):
  if os.path.exists(path + ".stale"):
    shutil.rmtree(path + ".stale")
  os.replace(path, path + ".stale")
  continued = os.path.join(path + ".stale", CONTINUED)
  if os.path.exists(continued):  # Never added to a later run's wall time.
    os.remove(continued)


def archive_runs(plan: "Plan", workdir: str, archive: Optional[str]):
  """Copies the small files of every run finished in `workdir` into `archive`, and the progress
  of every unfinished one (progress_files), except runs made with another config than the plan's
  (stale: rerun or continued, never kept). A copy that differs from the workdir's is replaced."""
  if not archive:
    return
  for name, run in plan.runs.items():
    src = run_dir(workdir, name)
    if not os.path.exists(os.path.join(src, "config.json")):
      continue
    finished = os.path.exists(os.path.join(src, "results.json"))
    files = finished_files(src) if finished else progress_files(src)
    if not files or stale_at(src, run_config(run, plan.tier).to_dict()):
      continue
    dst = os.path.join(archive, name)
    for f in files:
      _copy_if_changed(os.path.join(src, f), os.path.join(dst, f))
    if finished:  # Its kernel blocks were progress: the results hold what they were for.
      shutil.rmtree(os.path.join(dst, PROGRESS_DIR), ignore_errors=True)


def finished_files(src: str) -> List[str]:
  """A finished run's files kept in the archive (paths relative to its folder)."""
  files = [f for f in ARCHIVED if os.path.exists(os.path.join(src, f))]
  return files + sorted(os.path.relpath(p, src) for pattern in ARCHIVED_GLOBS
                        for p in glob.glob(os.path.join(src, pattern)))


def progress_files(src: str) -> List[str]:
  """An unfinished run's progress kept in the archive: its config.json with each finished
  seed's files and each finished kernel block; [] if it has none yet."""
  seeds = [os.path.relpath(os.path.join(d, f), src)
           for d in sorted(glob.glob(os.path.join(src, "seed_*")))
           if paired_runs.finished_seed(d) is not None for f in paired_runs.SEED_FILES]
  blocks = sorted(os.path.relpath(p, src) for p in glob.glob(
      os.path.join(src, PROGRESS_DIR, "**", "*"), recursive=True)
                  if os.path.isfile(p) and not p.endswith(".tmp"))
  return ["config.json"] + seeds + blocks if seeds or blocks else []


def _copy_if_changed(src: str, dst: str):
  if os.path.exists(dst) and filecmp.cmp(src, dst, shallow=False):
    return
  os.makedirs(os.path.dirname(dst), exist_ok=True)
  shutil.copyfile(src, dst + ".tmp")
  os.replace(dst + ".tmp", dst)


def restore_progress(plan: "Plan", workdir: str, archive: Optional[str]) -> List[str]:
  """Seeds the workdir with the archived progress of each unfinished run it has no folder for
  (a fresh machine): its finished seeds are reused and its kernel blocks not recomputed. Progress
  made with another config than the plan's is removed (the run starts afresh). Returns the
  names restored."""
  restored = []
  for name, run in plan.runs.items():
    src, dst = os.path.join(archive or "", name), run_dir(workdir, name)
    if not archive or os.path.exists(os.path.join(src, "results.json")) or \
        not os.path.exists(os.path.join(src, "config.json")) or os.path.exists(dst):
      continue
    keys = stale_at(src, run_config(run, plan.tier).to_dict())
    if keys:
      logging.warning("run %s: the archived progress in %s was made with another config (%s); "
                      "removed", name, src, ", ".join(keys[:5]))
      shutil.rmtree(src)
      continue
    shutil.copytree(src, dst)
    seconds = sum(io.read_json(p).get("seconds", 0.0) for p in glob.glob(
        os.path.join(dst, "seed_*", paired_runs.SEED_RESULT)))
    io.write_json(os.path.join(dst, CONTINUED), dict(seconds=seconds))
    logging.info("run %s: resumes from its archived progress (%s)", name, src)
    restored.append(name)
  return restored


def record(run: claims_lib.Run, tier: str, workdir: str, seconds: float) -> None:
  """Writes a finished run's reproduce_run.json: its wall time (with that of the run it
  continued, if any), when, where, and what it ran."""
  continued = os.path.join(run_dir(workdir, run.name), CONTINUED)
  if os.path.exists(continued):
    seconds += io.read_json(continued)["seconds"]
  io.write_json(os.path.join(run_dir(workdir, run.name), run_costs.RECORD), dict(
      seconds=seconds, finished=now(), machine=machine(), tier=tier, config=run.config,
      overrides=dict(run.overrides)))
  if os.path.exists(continued):
    os.remove(continued)


def now() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> str:
  """This machine as run records and pages name it: system, cores, CPU model, RAM."""
  cpu = platform.processor() or platform.machine()
  try:
    with open("/proc/cpuinfo") as f:
      names = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
    cpu = names[0] if names else cpu
  except OSError:
    pass
  total = memory_total_bytes()
  ram = f", {total / memory.GiB:.0f} GiB RAM" if total else ""
  return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){ram}"
