"""The reproduction page: every claim judged on the finished runs, written as REPRODUCTION.md
and reproduction.json with figures.

A claim whose runs are not all finished (or failed) is "not testable", naming them; a claim's
rule is also shown on the paper's own numbers. The page's text for each tier (its stand-ins and
scale) is here, beside the page it heads.
"""

import collections
import os
import subprocess
from typing import Dict, List, Optional, Sequence

from absl import logging

from ntk_tf.experiments import contract
from ntk_tf.reproduction import claims as claims_lib
from ntk_tf.reproduction.archive import finished_dir, machine, now, stale_at
from ntk_tf.reproduction.plan import REPO, Plan, run_config
from ntk_tf.utils import io

PAPERS = {"samarin2020": "Samarin, Roth & Belius 2020 — empirical NTK of LeNet/AlexNet",
          "samarin2022": "Samarin, Roth & Belius 2022 — feature learning and random features",
          "vyas2022": "Vyas, Bansal & Nakkiran 2022 — limitations of the NTK",
          "arora2019": "Arora et al. 2019 — exact CNTK"}


def _offline(arora: str) -> str:
  """The offline stand-ins of the cpu tiers, with the data Arora et al.'s claims run on."""
  return ("real MNIST digits (mnist5k: 4,000 train / 1,000 test) for MNIST; Fashion-MNIST "
          "(4,000 / 1,000) for CIFAR-10 and for the snakes subset where a LeNet can stand in; "
          f"{arora} for Arora et al.'s CIFAR-10; Vyas et al.'s synthetic task (appendix D) for "
          "CIFAR-5m; binary 0-vs-rest on 3,900 digits with LeNet narrowed to x0.3 (the narrowest "
          "whose J has full row rank: the interpolation threshold, as the paper's x1), x0.5 and "
          "x1.25.")


VERDICT_KEY = ("Verdicts: **reproduced** (every check holds beyond sampling error), **not "
               "reproduced** (testable here, and a check fails beyond sampling error), "
               "**inconclusive** (testable, but the spread covers both outcomes: the number of "
               "seeds that would decide is given, or for a single run the test-set size), "
               "**not testable at this tier** (the claim needs a scale, data set, width or "
               "training length this tier does not run: named with the tier that does). "
               "Sampling error: a two-sided 95.4 % band, 2 binomial standard errors of a single "
               "run's accuracy on its test set, or for a mean over seeds its standard error "
               "times Student's t at Welch's degrees of freedom (2.9 for 3 seeds against 3, "
               "4.5 for a paired difference of 3).")


STAND_INS = {"cpu": "Offline stand-ins at this tier: " + _offline(
                    "scikit-learn's 8x8 digits (300 train / 200 test)") + " Epochs are cut (12 instead "
                    "of 100; binary SGD 20 instead of 200), 3 seeds instead of 5: claims that "
                    "read final accuracies are testable only where training converged.",
             "cpu-full": "Offline stand-ins at this tier: " + _offline(
                 "Fashion-MNIST at 28x28 (1,000 train / 1,000 test; the finite CNNs' learning "
                 "rate from a grid of 0.3, 1, 3)") + " The papers' epochs "
                         "(100; binary SGD 200); LeNet x1-x10 with 3 seeds and x25, x60 with "
                         "one on MNIST and the harder task (one x60 seed: ~12.5 h on a 2-core "
                         "Xeon, ~26 h on a 2-core AMD EPYC VM, on a machine that keeps its "
                         "workdir that long); the spectrum to x60.",
             "smoke": "Tiny data (a few hundred samples, one epoch): every claim's pipeline end "
                      "to end; its verdicts say only what the rule would decide.",
             "paper": "The papers' full scale: TFDS MNIST, CIFAR-10, the snakes subset, CIFAR-5m, "
                      "widths x1-x60, 5 seeds."}


def load_results(plan: Plan, workdir: str, archive: Optional[str] = None,
                 failed: Sequence[str] = ()) -> claims_lib.RunResults:
  by_name, roots = {}, {}
  for name, run in plan.runs.items():
    where = finished_dir(workdir, name, archive)
    if where and os.path.exists(os.path.join(where, "config.json")) and stale_at(
        where, run_config(run, plan.tier).to_dict()):
      continue  # Its config changed since it ran: judged as unfinished until rerun.
    if where:
      by_name[name] = contract.Results.read(where)
      roots[name] = where
  results = claims_lib.RunResults(by_name, roots)
  results.failed = set(failed or ())
  return results


def verdict(claim: claims_lib.Claim, plan: Plan, results: claims_lib.RunResults) -> Dict:
  """The claim's entry on the page: status, reason, the numbers and the scale."""
  tier = plan.tier
  entry = dict(id=claim.id, paper=claim.paper, claim=claim.statement, quote=claim.quote,
               where=claim.where, paper_numbers=claim.paper_numbers, rule=claim.rule_text,
               scale=claim.scale.get(tier, ""), faithful=claim.faithful.get(tier, ""),
               runs=plan.claim_runs[claim.id])
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
    return dict(entry, status=claims_lib.NOT_TESTABLE, unfinished=missing,
                reason="runs not finished yet: " + ", ".join(missing) +
                " (a rerun of the tier resumes them)")
  try:
    measured = claim.measure(results, tier)
    status, found = claim.rule(measured.values)
  except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as e:
    logging.exception("claim %s: reading its runs failed", claim.id)
    return dict(entry, status=claims_lib.NOT_TESTABLE, reason=f"its runs' results could not "
                f"be read ({type(e).__name__}: {e}); a bug in ntk_tf/reproduction/claims/ or an "
                "older run format")
  if tier == "smoke":
    reason = f"tiny data; the rule would say {status}: {found}"
    status = claims_lib.TOO_SMALL
  else:
    reason = found
  return dict(entry, status=status, reason=reason, ours=dict(header=measured.header,
                                                              rows=measured.rows,
                                                              notes=measured.notes),
              values=measured.values)


# The code that judges, relative to the repository: the package (rules, experiments, configs).
CODE = os.path.relpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), REPO)


def commit() -> str:
  """The code's commit, "(with uncommitted changes)" if the package (ntk_tf/: the rules, the
  experiments, the configs) differs from it. Pages, archives, docs and tests are not the code
  that judges: a page re-judged from committed code names that commit alone."""
  try:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                            CODE], cwd=REPO, check=True, capture_output=True,
                           text=True).stdout.strip()
    return head + (" (with uncommitted changes)" if dirty else "")
  except (OSError, subprocess.CalledProcessError):
    return "unknown"


def run_records(plan: Plan, workdir: str, archive: Optional[str] = None) -> List[Dict]:
  """The reproduce_run.json of every finished run ({} where a run has none)."""
  records = []
  for name in plan.runs:
    where = finished_dir(workdir, name, archive)
    if where:
      path = os.path.join(where, "reproduce_run.json")
      records.append(io.read_json(path) if os.path.exists(path) else {})
  return records


def run_seconds(records: List[Dict]) -> float:
  return sum(r["seconds"] for r in records if "seconds" in r)


def run_machines(records: List[Dict]) -> Dict[str, int]:
  """How many finished runs each machine made (runs recorded before records named their
  machine count as NOT_RECORDED)."""
  counts = collections.Counter(r.get("machine") or NOT_RECORDED for r in records)
  return dict(counts.most_common())


NOT_RECORDED = "a machine not recorded"


def machines_text(machines: Dict[str, int], here: str) -> str:
  """The page's stamp of where its runs ran, and where it was judged if elsewhere."""
  if not machines or set(machines) == {here}:
    return here
  made = ", ".join(f"{n} on {m}" for m, n in machines.items())
  return f"runs: {made}; judged on {here}"


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
  waiting = sum(bool(e.get("unfinished")) for e in entries)
  lines = [f"# Reproduction of the papers' headline claims — tier `{plan.tier}`", "",
           f"Commit {stamp['commit']}; {stamp['machine']}; runs' wall time "
           f"{stamp['run_seconds'] / 60:.1f} min ({stamp['finished_runs']} of {stamp['runs']} "
           f"runs finished); written {stamp['written']}.", "",
           STAND_INS[plan.tier], "",
           "Verdicts: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n) +
           (f" ({waiting} of them until their runs finish)" if waiting else "") + ".", "",
           VERDICT_KEY, "",
           "Command: `python -m ntk_tf.reproduce --tier=" + plan.tier + "`. Every number below "
           "is read from the runs' `results.json` (under `runs/` of the workdir); each rule is "
           "a function in `ntk_tf/reproduction/claims/<paper>.py` whose docstring is the rule's "
           "text below.",
           "",
           "| claim | statement | verdict |", "|---|---|---|"]
  for e in entries:
    n = len(e.get("unfinished") or ())
    until = f" ({n} run{'s' if n > 1 else ''} unfinished)" if n else ""
    lines.append(f"| [{e['id']}](#{e['id'].replace('.', '')}) | {e['claim']} | "
                 f"**{e['status']}**{until} |")
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
      if e["status"] == claims_lib.NOT_REPRODUCED and e.get("faithful"):
        lines += ["", f"**Why this protocol is faithful.** {e['faithful']}"]
  return "\n".join(lines) + "\n"


def write_page(plan: Plan, workdir: str, out_dir: Optional[str] = None,
               archive: Optional[str] = None, failed: Sequence[str] = (),
               runs_machine: Optional[str] = None) -> Dict:
  """Verdicts for every claim from the finished runs; REPRODUCTION.md, reproduction.json.

  runs_machine: the machine the runs were made on, where it is not this one (a page re-judged
  from archived runs keeps its runs' machine; this one is named as the judge's)."""
  from ntk_tf.reproduction import figures as reproduce_figures
  out_dir = out_dir or workdir
  results = load_results(plan, workdir, archive, failed)
  entries = [verdict(c, plan, results) for c in plan.claims]
  figures = reproduce_figures.draw(entries, os.path.join(out_dir, "figures"),
                                   {c.id: c.figure for c in plan.claims if c.figure})
  records = run_records(plan, workdir, archive)
  machines = run_machines(records)
  stamp = dict(commit=commit(), machine=machines_text(machines, machine()), machines=machines,
               run_seconds=run_seconds(records), written=now(), tier=plan.tier,
               finished_runs=len(results.by_name), runs=len(plan.runs))
  relative = [os.path.relpath(f, out_dir) for f in figures]
  with open(os.path.join(out_dir, "REPRODUCTION.md"), "w") as f:
    f.write(page(entries, plan, stamp, relative))
  io.write_json(os.path.join(out_dir, "reproduction.json"), dict(stamp, claims=entries,
                                                                  figures=relative))
  return dict(stamp, claims=entries)
