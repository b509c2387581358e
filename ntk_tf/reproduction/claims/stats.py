"""The statistics claims are measured with, and the measurements the compare claims share.

Accuracies of both models over seeds and their gaps (`Stat`s, percent), whether training ran to
the paper's SGD steps or converged, the divergence of two output trajectories, a rank correlation;
and `measure_compare` / `measure_tasks`, the width tables of one or several compare tasks. Runs
are read through `RunResults` and compare results through `ntk_tf.experiments.compare_results` only.
"""

import dataclasses
import functools
import json
import math
import os
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from ntk_tf.experiments import compare_results
from ntk_tf.reproduction.claims import runs as runs_lib
from ntk_tf.reproduction.claims.base import Measured, RunResults, Run
from ntk_tf.reproduction.verdicts import Rule, Stat, accuracy_se
from ntk_tf.training import stopping
from ntk_tf.utils import io

CONVERGED_TEXT, FIT_ACCURACY = stopping.CONVERGED_TEXT, stopping.FIT_ACCURACY
number = compare_results.number


def width_label(w) -> str:
  return f"x{w:g}" if isinstance(w, float) else f"x{w}"


def seed_metrics(results: RunResults, run_name: str, seeds: Sequence[int],
                 paths: Optional[Sequence[str]] = None) -> Optional[List[List[dict]]]:
  """Each seed's per-epoch metrics rows (io.read_jsonl), or None where a file is missing.

  paths: the per-epoch metrics.jsonl files (default: seed_<s>/metrics.jsonl of the run)."""
  paths = paths or [results.path(run_name, f"seed_{s}", "metrics.jsonl") for s in seeds]
  if not all(os.path.exists(p) for p in paths):
    return None
  return [io.read_jsonl(p) for p in paths]


def curves(results: RunResults, run_name: str, seeds: Sequence[int], model: str,
           paths: Optional[Sequence[str]] = None) -> Optional[List[List[float]]]:
  """Each seed's per-epoch train accuracy (%) of `model`, or None where a curve is missing."""
  rows = seed_metrics(results, run_name, seeds, paths)
  return None if rows is None else [stopping.train_curves(r).get(model, []) for r in rows]


def training_entry(by_model: Dict[str, Optional[List[List[float]]]], epochs: Optional[int],
                   paper_epochs: Optional[int], num_train: Optional[int] = None,
                   paper_num_train: Optional[int] = None, num_params: Optional[int] = None
                   ) -> dict:
  """What needs_training reads of one run: epochs run, the paper's (None: the paper gives none,
  only convergence decides) and the sizes of both training sets; per model, the seed-mean train
  accuracy gained over each seed's last quarter and last half of epochs (None without curves;
  shown, not judged) and whether every seed settled: fits its training set or converged
  (training.stopping.settled), or ran the paper's SGD steps."""
  steps = paper_epochs * paper_num_train if paper_epochs and paper_num_train else None
  gain, gain_half, settled = {}, {}, {}
  for model, seeds in by_model.items():
    for out, of in ((gain, stopping.last_quarter_gain), (gain_half, stopping.last_half_gain)):
      gains = [of(c) for c in seeds or ()]
      out[model] = float(np.mean(gains)) if gains and None not in gains else None
    settled[model] = bool(seeds) and all(
        stopping.settled(c) or (steps and num_train and len(c) * num_train >= steps)
        for c in seeds)
  return dict(epochs=epochs, paper_epochs=paper_epochs, num_train=num_train,
              paper_num_train=paper_num_train, num_params=num_params, gain=gain,
              gain_half=gain_half, settled=settled)


def change(before: Stat, after: Stat) -> Stat:
  """after − before as one measurement whose standard error combines both's."""
  return Stat(after.mean - before.mean, floor=math.hypot(before.se, after.se))


def compare_stats(results: RunResults, runs: List[Run]) -> Dict[int, Dict[str, Stat]]:
  """Per width: accuracies (percent) of both models and their gaps, over seeds.

  A single seed gets the binomial error of its test (or train) set as its standard error."""
  out = {}
  for run in runs:
    r = results[run.name]
    pick = lambda model, split, r=r: compare_results.accuracies(r, model, split)
    trained = compare_results.trained(r)
    stats = {f"{m}_{split}": Stat.of(pick(m, split), accuracy_se(
        np.mean(pick(m, split)), compare_results.set_size(r, split)))
             for m in trained for split in ("train", "test")}
    for split in ("train", "test") if len(trained) == 2 else ():
      floor = math.hypot(stats[f"standard_{split}"].floor, stats[f"linearized_{split}"].floor)
      stats[f"gap_{split}"] = Stat.of(np.subtract(pick("standard", split),
                                                  pick("linearized", split)), floor)
    if r.get("logistic_regression"):
      stats["logistic_test"] = Stat.of([100 * r["logistic_regression"]["test_accuracy"]])
      stats["logistic_train"] = Stat.of([100 * r["logistic_regression"]["train_accuracy"]])
    out[compare_results.width(r)] = stats
  return out


def best_fit(results: RunResults, candidates: List[Run], at_epochs: Optional[int] = None
             ) -> Run:
  """The run whose network fits its training set best: highest mean train accuracy, then
  lowest mean train loss (a learning rate picked without looking at the test set).

  at_epochs: judge every candidate after this many epochs (each seed's per-epoch metrics; the
  budget they all had, where some trained on longer); its final metrics where a curve is
  missing."""
  def fit(run):
    r = results[run.name]
    rows = seed_metrics(results, run.name, compare_results.seeds(r)) if at_epochs else None
    standard = [[m["standard"] for m in seed if "standard" in m] for seed in rows or ()]
    if rows and all(standard):
      at = [seed[min(at_epochs, len(seed)) - 1] for seed in standard]
      return (np.mean([m["train_accuracy"] for m in at]),
              -np.mean([m["train_loss"] for m in at]))
    return (np.mean(compare_results.metric(r, "standard", "train_accuracy")),
            -np.mean(compare_results.metric(r, "standard", "train_loss")))
  return max(candidates, key=fit)


def training_context(results: RunResults, runs: List[Run], paper_epochs: Optional[int]
                     ) -> Dict[str, dict]:
  """Per width: the training_entry of each run (the paper's training set by the run's data). A
  run with a learning-rate schedule is judged on its starting-rate phase against the paper's
  epochs at that rate (runs_lib.PAPER_DECAY_EVERY): the decays settle any curve."""
  out = {}
  for run in runs:
    r = results[run.name]
    seeds = compare_results.seeds(r)
    rows = seed_metrics(results, run.name, seeds)
    per_seed = None if rows is None else [stopping.train_curves(seed) for seed in rows]
    by_model = {m: None if per_seed is None else [c.get(m, []) for c in per_seed]
                for m in compare_results.trained(r)}
    epochs, paper = compare_results.epochs_trained(r), paper_epochs
    phase = starting_phase(results, run.name, rows)
    if phase is not None:
      by_model = {m: None if cs is None else [c[:n] for c, n in zip(cs, phase)]
                  for m, cs in by_model.items()}
      epochs, paper = min(phase), paper_epochs and runs_lib.PAPER_DECAY_EVERY
    out[str(compare_results.width(r))] = dict(training_entry(
        by_model, epochs, paper, r.get("num_train"),
        runs_lib.PAPER_NUM_TRAIN.get(r.get("dataset")) if paper_epochs else None,
        r.get("num_params")), **({"phase": "at the starting learning rate"} if phase else {}))
  return out


def starting_phase(results: RunResults, run_name: str, rows: Optional[List[List[dict]]]
                   ) -> Optional[List[int]]:
  """Each seed's epochs at its starting learning rate (from its metrics rows, seed_metrics) for
  a run whose config has a schedule (train.lr_decay_every), else None (also where its config or
  curves are missing)."""
  config = results.path(run_name, "config.json")
  if rows is None or not os.path.exists(config):
    return None
  with open(config) as f:
    if not (json.load(f).get("train") or {}).get("lr_decay_every"):
      return None
  return [stopping.starting_rate_epochs(r) for r in rows]


def _is_width(key) -> bool:
  try:
    float(key)
    return True
  except ValueError:
    return False


def _order(key):
  return (0, float(key), "") if _is_width(key) else (1, 0.0, key)


def paper_steps_run(t: dict) -> bool:
  """A training_context entry ran the paper's SGD steps: its epochs on the paper's training set
  (paper_num_train; None: epochs alone, as for the paper's own numbers), i.e. as many images
  seen as the paper's epochs on its data."""
  paper, epochs = t["paper_epochs"], t["epochs"]
  if epochs is None or paper is None or epochs < paper:
    return False
  paper_n = t.get("paper_num_train")
  return paper_n is None or epochs * (t.get("num_train") or 0) >= paper * paper_n


def needs_training(rule: Rule, training: Dict[str, dict], what: str = "", net: str = "LeNet"):
  """The claim reads final accuracies: every run trained the paper's SGD steps or settled (fits
  its training set or converged)."""
  short, no_paper_epochs = [], False
  for w, t in sorted(training.items(), key=lambda kv: _order(kv[0])):
    paper = t["paper_epochs"]
    no_paper_epochs |= paper is None
    gains, settled = t.get("gain") or {}, t.get("settled") or {}
    halves = t.get("gain_half") or {}
    if paper_steps_run(t) or (settled and all(settled.values())):
      continue
    worst = max(((m, g) for m, g in gains.items() if g is not None), key=lambda mg: mg[1],
                default=None)
    where = f" x{w}" if _is_width(w) else w
    label = f"{'Lin' if worst and worst[0] == 'linearized' else ''}{net}{where}"
    run = f"{t['epochs']} epochs" if paper is None else f"{t['epochs']} of {paper} epochs"
    if paper is not None and t.get("paper_num_train") and t.get("num_train") and \
        t["epochs"] is not None and t["epochs"] >= paper:
      run = (f"{t['epochs']} epochs of {t['num_train']:,} images, {t['epochs'] * t['num_train']:,}"
             f" seen against the paper's {paper * t['paper_num_train']:,}")
    run += f" {t['phase']}" if t.get("phase") else ""
    if worst:
      still = f", train accuracy still {worst[1]:+.2f} pp over the last quarter"
      if halves.get(worst[0]) is not None:
        still += f", {halves[worst[0]]:+.2f} over the last half"
    else:
      still = ", no per-epoch curves to show convergence"
    short.append(f"{label} ({run}{still})")
  rule.needs(not short, f"{what}training to "
             + ("convergence" if no_paper_epochs else
                "the paper's SGD steps (its epochs on its training set) or to convergence")
             + f" (on every seed: {CONVERGED_TEXT}, or at least "
             f"{100 * FIT_ACCURACY:g} %); unconverged: "
             + ", ".join(short[:4]) + ("…" if len(short) > 4 else "")
             + ("; the paper gives no epochs: tier cpu-full keeps per-epoch curves to show "
                "convergence" if no_paper_epochs else "; tier cpu-full trains the paper's "
                "epochs, then on until converged or the paper's steps"))


def all_training(rule: Rule, values: dict, net: str = "LeNet"):
  """needs_training for every task of a several-task claim."""
  for task, training in values.get("training", {}).items():
    needs_training(rule, training, f"{task}: ", net)


def width_table(stats: Dict[int, Dict[str, Stat]], keys, labels, digits=2):
  header = ["", *[width_label(w) for w in stats]]
  rows = [[label, *[stats[w][key].text(digits) if key in stats[w] else "–" for w in stats]]
          for key, label in zip(keys, labels)]
  return header, rows


COMPARE_KEYS = ("gap_test", "linearized_test", "standard_test", "linearized_train",
                "standard_train")


def compare_labels(net):
  return (f"test gap {net} − Lin{net} (pp)", f"Lin{net} test", f"{net} test", f"Lin{net} train",
          f"{net} train")


def values_of(stats) -> dict:
  """{width: {key: Stat}} as JSON-able values: {"width": {key: Stat fields}}."""
  return {str(w): {k: dataclasses.asdict(v) for k, v in s.items()} for w, s in stats.items()}


def stats_of(values) -> Dict[int, Dict[str, Stat]]:
  """The inverse of values_of: {width: {key: Stat}} from the JSON-able values."""
  return {number(w): {k: Stat(**v) for k, v in s.items()} for w, s in values.items()}


def training_notes(training: Dict[str, dict], task: str = "") -> List[str]:
  parts = []
  for w, t in sorted(training.items(), key=lambda kv: _order(kv[0])):
    gains = ", ".join(f"{m} {g:+.2f}" for m, g in (t.get("gain") or {}).items() if g is not None)
    parts.append(f"x{w}: {t['epochs']} epochs" + (f" (last-quarter train gain {gains} pp)"
                                                   if gains else ""))
  return [f"{task + ': ' if task else ''}training " + "; ".join(parts)] if parts else []


def measure_compare(runs_fn, net="LeNet"):
  """The width table of one compare task, and its training."""
  def measure(results: RunResults, tier: str) -> Measured:
    runs = runs_fn(tier)
    stats = compare_stats(results, runs)
    header, rows = width_table(stats, COMPARE_KEYS, compare_labels(net))
    training = training_context(results, runs, runs_lib.PAPER_EPOCHS)
    return Measured(dict(widths=values_of(stats), training=training), header, rows,
                    training_notes(training))
  return measure


def measure_tasks(tasks: Dict[str, Callable[[str], Optional[List[Run]]]], keys=("gap_test",),
                  net="LeNet"):
  """Several compare tasks side by side (rows task x key)."""
  def measure(results: RunResults, tier: str) -> Measured:
    values, training, rows, header, notes = {}, {}, [], None, []
    labels = dict(zip(COMPARE_KEYS, compare_labels(net)))
    for task, runs_fn in tasks.items():
      runs = runs_fn(tier)
      if runs is None:
        continue
      stats = compare_stats(results, runs)
      values[task] = values_of(stats)
      training[task] = training_context(results, runs, runs_lib.PAPER_EPOCHS)
      notes += training_notes(training[task], task)
      shown = runs_lib.HARDER_NAME[tier] if task == "harder" else task
      h, r = width_table(stats, keys, [f"{shown}: {labels[k]}" for k in keys])
      header = header if header and len(header) >= len(h) else h
      rows += r
    return Measured(dict(tasks=values, training=training), header, rows, notes)
  return measure


def trajectory_divergence(path: str, steps: int = 200) -> float:
  """RMS of f_std − f_lin over the tracked points and the first `steps` recorded steps, relative
  to the RMS of f_std − f_std(step 0): 0 when the two trajectories coincide."""
  z = np.load(path)
  keep = np.asarray(z["step"]) <= steps
  std, lin = np.asarray(z["standard"])[keep], np.asarray(z["linearized"])[keep]
  moved = np.sqrt(np.mean((std - std[:1]) ** 2))
  return float(np.sqrt(np.mean((std - lin) ** 2)) / max(moved, 1e-12))


@functools.lru_cache(maxsize=None)
def _rank_sq_counts(n: int) -> Dict[int, int]:
  """{Σ (i − π(i))²: number of permutations π of n} by dynamic programming over positions."""
  states = {0: {0: 1}}  # Used values (bit mask) -> {sum of squares so far: count}.
  for i in range(n):
    nxt: Dict[int, Dict[int, int]] = {}
    for mask, sums in states.items():
      for j in range(n):
        if mask >> j & 1:
          continue
        row = nxt.setdefault(mask | 1 << j, {})
        for total, count in sums.items():
          row[total + (i - j) ** 2] = row.get(total + (i - j) ** 2, 0) + count
    states = nxt
  return states[(1 << n) - 1]


def spearman_p(rho: float, n: int) -> float:
  """One-sided p-value of Spearman's ρ ≥ rho among n untied pairs: the exact share of the n!
  permutations whose ρ is at least as large (ρ = 1 − 6 Σd² / (n³ − n))."""
  counts = _rank_sq_counts(n)
  limit = (1 - rho) * (n ** 3 - n) / 6 + 1e-9
  return sum(c for d2, c in counts.items() if d2 <= limit) / math.factorial(n)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
  """Spearman's rank correlation (average ranks for ties)."""
  def ranks(x):
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for value in np.unique(x):
      tie = x == value
      r[tie] = r[tie].mean()
    return r
  ra, rb = ranks(a), ranks(b)
  return float(np.corrcoef(ra, rb)[0, 1])
