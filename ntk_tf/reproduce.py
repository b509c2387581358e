"""One command for the four papers' headline claims: runs, verdicts, REPRODUCTION.md.

    python -m ntk_tf.reproduce --tier={smoke,cpu,paper} --workdir=<dir> [--claims=id,...]
        [--parallel=N] [--in_process]

Every claim of `ntk_tf.claims` names the runs it needs at the tier; each run is
`python -m ntk_tf.main --config=<config>:<tier> --workdir=<dir>/runs/<name> <overrides>` in its
own process (or in this one with --in_process), shared by every claim that reads it. Finished
runs (a results.json) are skipped, interrupted ones resume from their own checkpoints, so a rerun
is free and an interrupted tier loses no finished run. Before any work the estimated time of
every claim and run is printed (`ntk_tf.run_costs`: from the archived runs' measured times) and
a tier whose runs would not fit in this machine's memory is refused.
The page (`REPRODUCTION.md`, `reproduction.json`, figures/) is written from the runs' files.
"""

import dataclasses
import datetime
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

from absl import app, flags, logging

import ml_collections

from ntk_tf import claims as claims_lib
from ntk_tf import cli, io, jobs, launch, memory, run_costs, sweep
from ntk_tf.errors import ConfigError, NtkTfError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The committed archives of finished runs, whose measured times the estimates come from.
ARCHIVES = ("docs/reproduction/runs", "docs/reproduction/cpu_full/runs")
PAPERS = {"samarin2020": "Samarin, Roth & Belius 2020 — empirical NTK of LeNet/AlexNet",
          "samarin2022": "Samarin, Roth & Belius 2022 — feature learning and random features",
          "vyas2022": "Vyas, Bansal & Nakkiran 2022 — limitations of the NTK",
          "arora2019": "Arora et al. 2019 — exact CNTK"}
_OFFLINE = ("real MNIST digits (mnist5k: 4,000 train / 1,000 test) for MNIST; Fashion-MNIST "
            "(4,000 / 1,000) for CIFAR-10 and for the snakes subset where a LeNet can stand in; "
            "scikit-learn's 8x8 digits for Arora et al.'s CIFAR-10 kernels; Vyas et al.'s "
            "synthetic task (appendix D) for CIFAR-5m; binary 0-vs-rest with LeNet narrowed to "
            "x0.25 / x0.5 / x1.25 so that rows/parameters match the paper's x1 / x2 / x5.")
VERDICT_KEY = ("Verdicts: **reproduced** (every check holds beyond 2 standard errors), **not "
               "reproduced** (testable here, and a check fails beyond 2 standard errors), "
               "**inconclusive** (testable, but the spread covers both outcomes: the number of "
               "seeds that would decide is given), **not testable at this tier** (the claim "
               "needs a scale, data set, width or training length this tier does not run: named "
               "with the tier that does).")
STAND_INS = {"cpu": "Offline stand-ins at this tier: " + _OFFLINE + " Epochs are cut (12 instead "
                    "of 100; binary SGD 20 instead of 200), 3 seeds instead of 5: claims that "
                    "read final accuracies are testable only where training converged.",
             "cpu-full": "Offline stand-ins at this tier: " + _OFFLINE + " The papers' epochs "
                         "(100; binary SGD 200), widths to x25 for MNIST and the harder task "
                         "(one seed at x25; x60 takes ~16 h per run here), 3 seeds below; "
                         "the spectrum to x60.",
             "smoke": "Tiny data (a few hundred samples, one epoch): every claim's pipeline end "
                      "to end; its verdicts say only what the rule would decide.",
             "paper": "The papers' full scale: TFDS MNIST, CIFAR-10, the snakes subset, CIFAR-5m, "
                      "widths x1-x60, 5 seeds."}


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
                    "nothing (unfinished claims say so).")
  flags.DEFINE_string("archive", None, "A folder (e.g. docs/reproduction/runs, committed) that "
                      "keeps each finished run's small files (results, config, trajectories): "
                      "runs found there count as finished, so a fresh clone resumes the tier.")
  flags.DEFINE_string("page_dir", None, "Where REPRODUCTION.md, reproduction.json and figures/ "
                      "go (default: the workdir), e.g. docs/reproduction.")


@dataclasses.dataclass
class Plan:
  tier: str
  claims: List[claims_lib.Claim]
  runs: Dict[str, claims_lib.Run]            # Unique runs by name.
  claim_runs: Dict[str, Optional[List[str]]]  # Claim id -> run names (None: not run).


def check_tier(tier: str) -> str:
  if tier not in claims_lib.TIERS:
    raise ConfigError(f"--tier={tier!r}; use one of {', '.join(claims_lib.TIERS)}.")
  return tier


def make_plan(tier: str, ids: Sequence[str] = ()) -> Plan:
  """The runs the claims need at `tier`, each once (same name must mean the same run)."""
  check_tier(tier)
  chosen = claims_lib.get(ids)
  runs, claim_runs = {}, {}
  for claim in chosen:
    needed = claim.runs.get(tier)
    if needed is None:
      claim_runs[claim.id] = None
      continue
    for run in needed:
      if run.name in runs and runs[run.name] != run:
        raise ConfigError(f"claims registry: run {run.name!r} is defined twice differently.")
      runs[run.name] = run
    claim_runs[claim.id] = [r.name for r in needed]
  return Plan(tier, chosen, runs, claim_runs)


def load_config(run: claims_lib.Run, tier: str):
  """The run's config, tier argument and overrides applied (not validated)."""
  return launch.load(f"{os.path.join(REPO, run.config)}:{tier}", dict(run.overrides))


def run_config(run: claims_lib.Run, tier: str):
  """The run's config, tier argument and overrides applied (validated)."""
  config = load_config(run, tier)
  try:
    launch.validate(config)
  except NtkTfError as e:
    raise ConfigError(f"run {run.name} ({run.config}:{tier}): {e}") from e
  return config


def footprints(config):
  """(width, footprint) of the run's model at each of its widths."""
  from ntk_tf import data, models  # pylint: disable=import-outside-toplevel
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  m, dataset = config.model, config.dataset
  widths = tuple(m.widths) if "widths" in m else (m.width,)
  num_outputs = 1 if dataset.target != "one_hot" else len(dataset.classes or ()) or 10
  return [(width, models.footprint(m.name, width, data.input_shape(dataset), num_outputs,
                                   **common.architecture_options(m)))
          for width in widths]


def num_params(config: dict) -> Optional[int]:
  """The parameters of a config's model (a dict, as in config.json), summed over its widths;
  None for a config without a built-in model."""
  try:
    return sum(fp.num_params for _, fp in footprints(ml_collections.ConfigDict(config)))
  except (AttributeError, KeyError, TypeError, ValueError, NtkTfError):
    return None


def memory_need(config) -> int:
  """Estimated peak bytes of one run: training (a model's footprint) or its kernel budget."""
  from ntk_tf import data  # pylint: disable=import-outside-toplevel
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  need = 0
  for section in ("spectrum", "solver", "kernel", "scaling"):
    limit = config.get(section, {}).get("memory_limit_gb") if section in config else None
    if limit:
      need = max(need, int(limit * memory.GiB))
  if config.get("train") is not None and "batch_size" in config.train and "model" in config:
    m, dataset = config.model, config.dataset
    num_outputs = 1 if dataset.target != "one_hot" else len(dataset.classes or ()) or 10
    for width in tuple(m.widths) if "widths" in m else (m.width,):
      need = max(need, common.training_need(
          common.model_at_width(m, width), data.input_shape(dataset), num_outputs,
          config.train.batch_size, config.train.get("eval_batch_size", 1000),
          config.get("dtype", "float32"), config.experiment in ("compare", "binary_solver"),
          config.train.get("jit_compile", True))[0])
  return need


def check_memory(plan: Plan) -> Dict[str, int]:
  """Each run's estimate; a run above this machine's memory refuses the whole tier up front."""
  needs = {name: memory_need(run_config(run, plan.tier)) for name, run in plan.runs.items()}
  total = memory_total_bytes()
  too_big = {n: b for n, b in needs.items() if total and b > total}
  if too_big:
    worst = ", ".join(f"{n} ~{b / memory.GiB:.1f} GiB" for n, b in sorted(
        too_big.items(), key=lambda kv: -kv[1])[:4])
    raise ConfigError(f"tier {plan.tier} needs more memory than this machine has "
                      f"({total / memory.GiB:.1f} GiB): {worst}; run it on a larger machine "
                      "or choose fewer claims with --claims.")
  return needs


def memory_total_bytes() -> Optional[int]:
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemTotal:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return memory.host_available_bytes()


def run_dir(workdir: str, name: str) -> str:
  return os.path.join(workdir, "runs", name)


ARCHIVED = ("results.json", "config.json", "reproduce_run.json")
ARCHIVED_GLOBS = ("seed_*/trajectories.npz", "seed_*/metrics.jsonl", "singular_values/*.npy",
                  "w*/sgd/metrics.jsonl")


def is_done(workdir: str, name: str, archive: Optional[str] = None) -> bool:
  return os.path.exists(os.path.join(run_dir(workdir, name), "results.json")) or bool(
      archive and os.path.exists(os.path.join(archive, name, "results.json")))


def finished_dir(workdir: str, name: str, archive: Optional[str] = None) -> Optional[str]:
  """Where a finished run's files are: its workdir, else the archive; None if unfinished."""
  for root in (os.path.join(workdir, "runs"), archive):
    if root and os.path.exists(os.path.join(root, name, "results.json")):
      return os.path.join(root, name)
  return None


def _flat(d, prefix=""):
  out = {}
  for k, x in d.items():
    if isinstance(x, dict):
      out.update(_flat(x, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = x
  return out


def stale_keys(stored: dict, current: dict) -> List[str]:
  """Config keys whose value in a finished run's config.json differs from the current config
  (keys only one side has are ignored: new keys keep the old behaviour by default)."""
  norm = lambda d: _flat(json.loads(json.dumps(d, default=io._default)))  # pylint: disable=protected-access
  a, b = norm(stored), norm(current)
  return sorted(k for k in a.keys() & b.keys() if a[k] != b[k])


def stale_at(where: str, current: dict) -> List[str]:
  """stale_keys of the finished run in `where` against the current config dict."""
  return stale_keys(io.read_json(os.path.join(where, "config.json")), current)


def retire_stale(plan: "Plan", workdir: str, archive: Optional[str]) -> Dict[str, List[str]]:
  """Finished runs whose config changed since (e.g. a protocol fix) are set aside to be rerun:
  a stale workdir copy moves to runs/<name>.stale, a stale archive copy is removed; a copy that
  matches the current config is kept. Returns {name: changed keys} of the runs set aside."""
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
      if keys:
        stale[name] = keys
        logging.warning("run %s: %s was made with another config (%s); set aside", name, where,
                        ", ".join(keys[:5]))
        remove(where)
  return {n: k for n, k in stale.items() if not is_done(workdir, n, archive)}


def _set_aside(path: str):
  if os.path.exists(path + ".stale"):
    shutil.rmtree(path + ".stale")
  os.replace(path, path + ".stale")


def archive_runs(plan: "Plan", workdir: str, archive: Optional[str]):
  """Copies the small files of every run finished in `workdir` into `archive` (if missing)."""
  if not archive:
    return
  for name in plan.runs:
    src = run_dir(workdir, name)
    if not os.path.exists(os.path.join(src, "results.json")):
      continue
    dst = os.path.join(archive, name)
    files = [f for f in ARCHIVED if os.path.exists(os.path.join(src, f))]
    files += sorted(os.path.relpath(p, src) for pattern in ARCHIVED_GLOBS
                    for p in glob.glob(os.path.join(src, pattern)))
    for f in files:
      target = os.path.join(dst, f)
      if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(src, f), target + ".tmp")
        os.replace(target + ".tmp", target)


def command(run: claims_lib.Run, tier: str, workdir: str) -> List[str]:
  return [sys.executable, "-m", "ntk_tf.main", f"--config={os.path.join(REPO, run.config)}:{tier}",
          f"--workdir={run_dir(workdir, run.name)}", *sweep.override_flags(dict(run.overrides))]


def job(run: claims_lib.Run, tier: str, workdir: str, in_process: bool) -> jobs.Job:
  """The run as a job: its command in its own process, or its config launched in this one."""
  if in_process:
    return jobs.Job(run.name, run_dir(workdir, run.name), config=run_config(run, tier))
  return jobs.Job(run.name, run_dir(workdir, run.name), command(run, tier, workdir), cwd=REPO)


def record(run: claims_lib.Run, tier: str, workdir: str, seconds: float) -> None:
  """Writes a finished run's reproduce_run.json: its wall time, when, and what it ran."""
  io.write_json(os.path.join(run_dir(workdir, run.name), "reproduce_run.json"), dict(
      seconds=seconds, finished=_now(), tier=tier, config=run.config,
      overrides=dict(run.overrides)))


def execute(run: claims_lib.Run, tier: str, workdir: str, in_process: bool) -> bool:
  """Runs one run to its results.json; records its wall time. Returns success."""
  start = time.time()
  ok = jobs.execute(job(run, tier, workdir, in_process))
  if ok:
    record(run, tier, workdir, time.time() - start)
  return ok


def _now() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def estimate_runs(plan: Plan, workdir: Optional[str] = None, archive: Optional[str] = None
                  ) -> Dict[str, run_costs.Estimate]:
  """Every run's estimated cost, from the measured times of finished runs (the committed
  archives, `archive` and the workdir's runs)."""
  roots = [os.path.join(workdir, "runs") if workdir else None, archive] + [
      os.path.join(REPO, a) for a in ARCHIVES]
  timings = run_costs.load(roots, num_params)
  out = {}
  for name, run in plan.runs.items():
    try:
      settings = load_config(run, plan.tier).to_dict()
    except NtkTfError:
      settings = None
    out[name] = run_costs.estimate(
        name, run.config, plan.tier, None if settings is None else run_costs.flatten(settings),
        None if settings is None else num_params(settings), timings)
  return out


def _minutes(estimates: Sequence[run_costs.Estimate]) -> str:
  """Their sum in minutes, and how many were measured, scaled or have no estimate."""
  known = [e.seconds for e in estimates if e.seconds is not None]
  kinds = [(k, sum(e.kind == k for e in estimates)) for k in ("measured", "scaled", "none")]
  how = ", ".join(f"{n} {'without an estimate' if k == 'none' else k}" for k, n in kinds if n)
  return (f"~{sum(known) / 60:.1f} min" if known else "no estimate") + f" ({how})"


def estimates_text(plan: Plan, estimates: Dict[str, run_costs.Estimate]) -> str:
  """Per claim: its runs' estimated minutes (a shared run is counted in every claim using it);
  per run: its estimate and where it comes from; the total, each run once."""
  lines = [f"tier {plan.tier}: {len(plan.claims)} claims, {len(plan.runs)} runs; minutes on the "
           "2-core CPU the archived runs were measured on"]
  for claim in plan.claims:
    names = plan.claim_runs[claim.id]
    if names is None:
      lines.append(f"  {claim.id:<15} not run at this tier")
      continue
    lines.append(f"  {claim.id:<15} {len(names):>2} runs, "
                 + _minutes([estimates[n] for n in names]))
  lines.append("  runs (measured: its own archived wall time; scaled: from the runs named):")
  for name, e in sorted(estimates.items()):
    cost = "–" if e.seconds is None else f"~{e.seconds / 60:.1f} min"
    lines.append(f"    {name:<40} {cost:>12}  {e.basis}")
  lines.append("  total (each run once): " + _minutes(list(estimates.values())))
  return "\n".join(lines)


def run_all(plan: Plan, workdir: str, parallel: int = 1, in_process: bool = False,
            archive: Optional[str] = None,
            estimates: Optional[Dict[str, run_costs.Estimate]] = None) -> Dict:
  """Runs every unfinished run (jobs.run_jobs); returns {"done", "skipped", "failed"} names."""
  if parallel < 1:
    raise ConfigError(f"--parallel={parallel} must be at least 1.")
  archive_runs(plan, workdir, archive)
  retire_stale(plan, workdir, archive)
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


# --- verdicts --------------------------------------------------------------------------------
def load_results(plan: Plan, workdir: str, archive: Optional[str] = None,
                 failed: Sequence[str] = ()) -> claims_lib.Results:
  by_name, roots = {}, {}
  for name, run in plan.runs.items():
    where = finished_dir(workdir, name, archive)
    if where and os.path.exists(os.path.join(where, "config.json")) and stale_at(
        where, run_config(run, plan.tier).to_dict()):
      continue  # Its config changed since it ran: judged as unfinished until rerun.
    if where:
      by_name[name] = io.read_json(os.path.join(where, "results.json"))
      roots[name] = where
  results = claims_lib.Results(by_name, roots)
  results.failed = set(failed or ())
  return results


def verdict(claim: claims_lib.Claim, plan: Plan, results: claims_lib.Results) -> Dict:
  """The claim's entry on the page: status, reason, the numbers and the scale."""
  tier = plan.tier
  entry = dict(id=claim.id, paper=claim.paper, claim=claim.statement, quote=claim.quote,
               where=claim.where, paper_numbers=claim.paper_numbers, rule=claim.rule_text,
               scale=claim.scale.get(tier, ""), runs=plan.claim_runs[claim.id])
  if claim.paper_values is not None:
    entry["on_paper_numbers"] = claim.rule(claim.paper_values())
  names = plan.claim_runs[claim.id]
  if names is None:
    return dict(entry, status=claims_lib.NOT_TESTABLE, reason=claim.not_run.get(
        tier, "no run is defined for this claim at this tier"))
  missing = [n for n in names if n not in results.by_name]
  if missing:
    failed = [n for n in missing if n in results.failed]
    if failed:
      return dict(entry, status=claims_lib.NOT_TESTABLE, reason="runs failed: " +
                  ", ".join(failed) + " (see runs/<name>/log.txt; a rerun resumes them)")
    return dict(entry, status=claims_lib.NOT_TESTABLE, reason="runs not finished yet: " +
                ", ".join(missing) + " (a rerun of the tier resumes them)")
  try:
    measured = claim.measure(results, tier)
    status, found = claim.rule(measured.values)
  except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as e:
    logging.exception("claim %s: reading its runs failed", claim.id)
    return dict(entry, status=claims_lib.NOT_TESTABLE, reason=f"its runs' results could not "
                f"be read ({type(e).__name__}: {e}); a bug in ntk_tf/claims/ or an older run "
                "format")
  if tier == "smoke":
    reason = f"tiny data; the rule would say {status}: {found}"
    status = claims_lib.TOO_SMALL
  else:
    reason = found
  return dict(entry, status=status, reason=reason, ours=dict(header=measured.header,
                                                              rows=measured.rows,
                                                              notes=measured.notes),
              values=measured.values)


def machine() -> str:
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


def commit() -> str:
  try:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                           check=True, capture_output=True, text=True).stdout.strip()
    return head + (" (with uncommitted changes)" if dirty else "")
  except (OSError, subprocess.CalledProcessError):
    return "unknown"


def run_seconds(plan: Plan, workdir: str, archive: Optional[str] = None) -> float:
  total = 0.0
  for name in plan.runs:
    where = finished_dir(workdir, name, archive)
    path = os.path.join(where, "reproduce_run.json") if where else ""
    if os.path.exists(path):
      total += io.read_json(path)["seconds"]
  return total


def _md_table(header, rows) -> List[str]:
  if not header:
    return []
  width = len(header)
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * width]
  for row in rows:
    cells = list(row) + [""] * (width - len(row))
    lines.append("| " + " | ".join(str(c) for c in cells[:width]) + " |")
  return lines


def page(entries: List[Dict], plan: Plan, stamp: Dict, figures: List[str]) -> str:
  """REPRODUCTION.md: the summary table, then one section per claim."""
  counts = {s: sum(e["status"] == s for e in entries) for s in
            claims_lib.VERDICTS + (claims_lib.TOO_SMALL,)}
  lines = [f"# Reproduction of the papers' headline claims — tier `{plan.tier}`", "",
           f"Commit {stamp['commit']}; {stamp['machine']}; runs' wall time "
           f"{stamp['run_seconds'] / 60:.1f} min ({stamp['finished_runs']} of {stamp['runs']} "
           f"runs finished); written {stamp['written']}.", "",
           STAND_INS[plan.tier], "",
           "Verdicts: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".", "",
           VERDICT_KEY, "",
           "Command: `python -m ntk_tf.reproduce --tier=" + plan.tier + "`. Every number below "
           "is read from the runs' `results.json` (under `runs/` of the workdir); each rule is "
           "a function in `ntk_tf/claims/<paper>.py` whose docstring is the rule's text below.",
           "",
           "| claim | statement | verdict |", "|---|---|---|"]
  for e in entries:
    lines.append(f"| [{e['id']}](#{e['id'].replace('.', '')}) | {e['claim']} | "
                 f"**{e['status']}** |")
  for fig in figures:
    lines += ["", f"![{os.path.splitext(os.path.basename(fig))[0]}]({fig})"]
  for paper, title in PAPERS.items():
    mine = [e for e in entries if e["paper"] == paper]
    if not mine:
      continue
    lines += ["", f"## {title}"]
    for e in mine:
      lines += ["", f"### {e['id']}", "", f"**Claim.** {e['claim']}", ""]
      if e.get("quote"):
        lines += [f"> {e['quote']}" + (f" ({e['where']})" if e.get("where") else ""), ""]
      lines += [f"**Paper.** {e['paper_numbers']}", "", f"**Rule.** {e['rule'].rstrip('.')}.", ""]
      if e.get("on_paper_numbers"):
        status, found = e["on_paper_numbers"]
        lines += [f"**The rule on the paper's own numbers:** {status} ({found}).", ""]
      if e.get("scale"):
        lines += [f"**Scale.** {e['scale']}.", ""]
      if e.get("ours"):
        lines += ["**Ours** (mean ± std over seeds where there are several):", ""]
        lines += _md_table(e["ours"]["header"], e["ours"]["rows"])
        lines += [""] + [f"- {n}" for n in e["ours"]["notes"]] + ([""] if e["ours"]["notes"]
                                                                   else [])
      lines += [f"**Verdict: {e['status']}.** {e['reason']}"]
  return "\n".join(lines) + "\n"


def write_page(plan: Plan, workdir: str, out_dir: Optional[str] = None,
               archive: Optional[str] = None, failed: Sequence[str] = ()) -> Dict:
  """Verdicts for every claim from the finished runs; REPRODUCTION.md, reproduction.json."""
  from ntk_tf import reproduce_figures  # pylint: disable=import-outside-toplevel
  out_dir = out_dir or workdir
  results = load_results(plan, workdir, archive, failed)
  entries = [verdict(c, plan, results) for c in plan.claims]
  figures = reproduce_figures.draw(entries, os.path.join(out_dir, "figures"),
                                   {c.id: c.figure for c in plan.claims if c.figure})
  stamp = dict(commit=commit(), machine=machine(),
               run_seconds=run_seconds(plan, workdir, archive), written=_now(), tier=plan.tier,
               finished_runs=len(results.by_name), runs=len(plan.runs))
  relative = [os.path.relpath(f, out_dir) for f in figures]
  with open(os.path.join(out_dir, "REPRODUCTION.md"), "w") as f:
    f.write(page(entries, plan, stamp, relative))
  io.write_json(os.path.join(out_dir, "reproduction.json"), dict(stamp, claims=entries,
                                                                  figures=relative))
  return dict(stamp, claims=entries)


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
