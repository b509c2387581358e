"""The one job runner: sweep cells and reproduction runs, each to its own workdir's results.json.

A job is a workdir and how to fill it: a command run in its own process (its output appended
to <workdir>/log.txt; a crash or kill loses only that job, which resumes from its own
checkpoints next time) or, in-process, a config given to `launch.launch`. A job whose workdir
holds a results.json is finished and never rerun. `run_jobs` runs the unfinished ones, several
at a time if asked, with a progress line, and calls `on_finish(job, ok, seconds)` after each.
"""

import concurrent.futures
import dataclasses
import os
import subprocess
import time
from typing import Callable, Dict, List, Optional, Sequence

from absl import logging

from ntk_tf.cli import launch
from ntk_tf.errors import ConfigError
from ntk_tf.utils import progress

RESULTS_FILE = "results.json"


@dataclasses.dataclass
class Job:
  """One unit of work: `command` (argv, run in `cwd`) or `config` (launched in-process)."""
  name: str
  workdir: str
  command: Optional[List[str]] = None
  config: object = None
  cwd: Optional[str] = None


def is_done(workdir: str) -> bool:
  """A workdir holds a finished run."""
  return os.path.exists(os.path.join(workdir, RESULTS_FILE))


def execute(job: Job) -> bool:
  """Runs one job to its results.json; whether it got there."""
  os.makedirs(job.workdir, exist_ok=True)
  if job.command is None:
    ok = launch.launch_logged(job.config, job.workdir)
  else:
    with open(os.path.join(job.workdir, "log.txt"), "ab") as log:
      ok = subprocess.run(job.command, stdout=log, stderr=subprocess.STDOUT, check=False,
                          cwd=job.cwd).returncode == 0
  return ok and is_done(job.workdir)


def run_jobs(jobs: Sequence[Job], parallel: int = 1, label: str = "jobs",
             on_finish: Optional[Callable[[Job, bool, float], None]] = None) -> Dict:
  """Runs the unfinished jobs, `parallel` at a time (in-process jobs one at a time), in the
  order given; returns {"done", "skipped", "failed"} job names."""
  if parallel < 1:
    raise ConfigError(f"--parallel={parallel} must be at least 1.")
  skipped = [j.name for j in jobs if is_done(j.workdir)]
  todo = [j for j in jobs if not is_done(j.workdir)]
  logging.info("%s: %d, %d finished before, %d to run, %d at a time", label, len(jobs),
               len(skipped), len(todo), parallel)
  done, failed = [], []
  bar = progress.Progress(len(todo), label)

  def timed(job):
    start = time.time()
    return execute(job), time.time() - start

  def finished(job, ok, seconds):
    (done if ok else failed).append(job.name)
    if not ok:
      logging.error("%s failed; see %s", job.name, os.path.join(job.workdir, "log.txt"))
    if on_finish is not None:
      on_finish(job, ok, seconds)
    bar.update(1)

  if parallel == 1 or any(j.command is None for j in todo):
    for job in todo:
      finished(job, *timed(job))
  else:
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as pool:
      futures = {pool.submit(timed, j): j for j in todo}
      for future in concurrent.futures.as_completed(futures):
        finished(futures[future], *future.result())
  bar.close()
  return dict(done=done, skipped=skipped, failed=failed)
