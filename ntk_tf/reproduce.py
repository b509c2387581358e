"""One command for the four papers' headline claims: runs, verdicts, REPRODUCTION.md.

    python -m ntk_tf.reproduce --tier={smoke,cpu,paper} --workdir=<dir> [--claims=id,...]
        [--parallel=N] [--in_process]

Every claim of `ntk_tf.reproduction.claims` names the runs it needs at the tier; each run is
`python -m ntk_tf.main --config=<config>:<tier> --workdir=<dir>/runs/<name> <overrides>` in its
own process (or in this one with --in_process), shared by every claim that reads it. Finished
runs (a results.json) are skipped, interrupted ones resume from their own checkpoints, so a rerun
is free and an interrupted tier loses no finished run. Before any work the estimated time of
every claim and run is printed (`ntk_tf.reproduction.run_costs`: from the archived runs'
measured times) and a tier whose runs would not fit in this machine's memory is refused.
The page (`REPRODUCTION.md`, `reproduction.json`, figures/) is written from the runs' files.
"""

import os
import sys
import time
from typing import Dict, List, Optional

from absl import app, flags, logging

from ntk_tf import sweep
from ntk_tf.cli import console as cli, jobs
from ntk_tf.errors import ConfigError, NtkTfError
from ntk_tf.reproduction import claims as claims_lib
from ntk_tf.reproduction import run_costs
from ntk_tf.reproduction.archive import (archive_runs, is_done, record, restore_progress,
                                         retire_stale, run_dir)
from ntk_tf.reproduction.page import write_page
from ntk_tf.reproduction.plan import (REPO, Plan, check_memory, estimate_runs, estimates_text,
                                      make_plan, run_config)


def define_flags():
  flags.DEFINE_string("tier", "smoke", f"One of {', '.join(claims_lib.TIERS)}.")
  flags.DEFINE_string("workdir", None, "Where runs and the page go (default "
                      "workdirs/reproduce_<tier>).")
  flags.DEFINE_list("claims", [], "Claim ids (default: every claim).")
  flags.DEFINE_integer("parallel", 1, "Runs at the same time (processes).")
  flags.DEFINE_bool("in_process", False, "Run the experiments in this process (no TensorFlow "
                    "start-up per run; a crash stops the tier).")
  flags.DEFINE_bool("estimate_only", False, "Print the plan and estimates, run nothing.")
  flags.DEFINE_bool("page_only", False, "Write the page from the runs finished so far, run "
                    "nothing (unfinished claims say so); with --archive, also archives the "
                    "progress of unfinished runs (finished seeds, kernel blocks).")
  flags.DEFINE_string("archive", None, "A folder (e.g. docs/reproduction/runs, committed) that "
                      "keeps each finished run's small files (results, config, trajectories): "
                      "runs found there count as finished, so a fresh clone resumes the tier.")
  flags.DEFINE_string("page_dir", None, "Where REPRODUCTION.md, reproduction.json and figures/ "
                      "go (default: the workdir), e.g. docs/reproduction.")


def command(run: claims_lib.Run, tier: str, workdir: str) -> List[str]:
  return [sys.executable, "-m", "ntk_tf.main", f"--config={os.path.join(REPO, run.config)}:{tier}",
          f"--workdir={run_dir(workdir, run.name)}", *sweep.override_flags(dict(run.overrides))]


def job(run: claims_lib.Run, tier: str, workdir: str, in_process: bool) -> jobs.Job:
  """The run as a job: its command in its own process, or its config launched in this one."""
  if in_process:
    return jobs.Job(run.name, run_dir(workdir, run.name), config=run_config(run, tier))
  return jobs.Job(run.name, run_dir(workdir, run.name), command(run, tier, workdir), cwd=REPO)


def execute(run: claims_lib.Run, tier: str, workdir: str, in_process: bool) -> bool:
  """Runs one run to its results.json; records its wall time. Returns success."""
  start = time.time()
  ok = jobs.execute(job(run, tier, workdir, in_process))
  if ok:
    record(run, tier, workdir, time.time() - start)
  return ok


def run_all(plan: Plan, workdir: str, parallel: int = 1, in_process: bool = False,
            archive: Optional[str] = None,
            estimates: Optional[Dict[str, run_costs.Estimate]] = None) -> Dict:
  """Runs every unfinished run (jobs.run_jobs); returns {"done", "skipped", "failed"} names."""
  if parallel < 1:
    raise ConfigError(f"--parallel={parallel} must be at least 1.")
  archive_runs(plan, workdir, archive)
  retire_stale(plan, workdir, archive)
  restore_progress(plan, workdir, archive)
  estimates = estimates or estimate_runs(plan, workdir, archive)
  cost = lambda r: (estimates[r.name].seconds is None, estimates[r.name].seconds or 0.0)
  skipped = [n for n in plan.runs if is_done(workdir, n, archive)]
  todo = sorted((r for n, r in plan.runs.items() if n not in skipped),
                key=cost)  # Cheap runs first (unestimated last): verdicts come sooner.
  logging.info("reproduce %s: %d runs, %d finished before, %d to run", plan.tier,
               len(plan.runs), len(skipped), len(todo))

  def finished(job_done: jobs.Job, ok: bool, seconds: float):
    if ok:
      record(plan.runs[job_done.name], plan.tier, workdir, seconds)
    archive_runs(plan, workdir, archive)

  summary = jobs.run_jobs([job(r, plan.tier, workdir, in_process) for r in todo], parallel,
                          label=f"reproduce {plan.tier} runs", on_finish=finished)
  return dict(summary, skipped=skipped + summary["skipped"])


def reproduce(tier: str, workdir: str, ids=(), parallel: int = 1, in_process: bool = False,
              estimate_only: bool = False, page_dir: Optional[str] = None,
              archive: Optional[str] = None, page_only: bool = False) -> Dict:
  plan = make_plan(tier, ids)
  estimates = estimate_runs(plan, workdir, archive)
  print(estimates_text(plan, estimates), flush=True)
  check_memory(plan)
  if estimate_only:
    return {}
  os.makedirs(workdir, exist_ok=True)
  if page_only:
    archive_runs(plan, workdir, archive)
    summary = dict(done=[], skipped=[], failed=[])
  else:
    summary = run_all(plan, workdir, parallel, in_process, archive, estimates)
  if page_dir:
    os.makedirs(page_dir, exist_ok=True)
  result = write_page(plan, workdir, page_dir, archive, summary["failed"])
  result["runs"] = summary
  return result


def main(argv):
  cli.concise_logging()
  if len(argv) > 1:
    print(f"ntk_tf.reproduce: error: unexpected arguments {argv[1:]}", file=sys.stderr)
    sys.exit(2)
  f = flags.FLAGS
  workdir = f.workdir or os.path.join("workdirs", f"reproduce_{f.tier}")
  start = time.time()
  try:
    result = reproduce(f.tier, workdir, [c.strip() for c in f.claims if c.strip()], f.parallel,
                       f.in_process, f.estimate_only, f.page_dir, f.archive, f.page_only)
  except NtkTfError as e:
    print(f"ntk_tf.reproduce: error: {e}", file=sys.stderr)
    sys.exit(2)
  if not result:
    return
  for e in result["claims"]:
    print(f"{e['id']:<15} {e['status']}")
  print(f"page: {os.path.join(f.page_dir or workdir, 'REPRODUCTION.md')} "
        f"({time.time() - start:.0f} s)")
  if result["runs"]["failed"]:
    print("failed runs: " + ", ".join(result["runs"]["failed"]), file=sys.stderr)
    sys.exit(1)


def run():
  """The `ntk-tf-reproduce` console script: python -m ntk_tf.reproduce."""
  cli.quiet_start(sys.argv)
  define_flags()
  app.run(main)


if __name__ == "__main__":
  run()
