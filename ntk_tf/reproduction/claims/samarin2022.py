"""Samarin, Roth & Belius 2022 (feature learning and random features): its six claims.

The gap closing with width on every task and growing with the task's difficulty; a wide
linearization beating the standard-width network; binary MNIST, where SGD's linearization
approaches LeNet and the minimum-norm least-squares solve interpolates yet generalizes worse;
the effective rank and condition number of the feature matrix. Each claim's rule is the function
it names, its docstring the page's text of the rule.
"""

import json
import math
import os
from typing import Callable, Dict, Optional

from ntk_tf.reproduction import paper_tables
from ntk_tf.reproduction.claims import runs, spectra, stats
from ntk_tf.reproduction.claims.base import TIERS, Claim, Measured, RunResults, per_tier, rule_doc
from ntk_tf.reproduction.claims.samarin2020 import cifar, paper_training
from ntk_tf.reproduction.verdicts import Rule, Stat, accuracy_se, greater
from ntk_tf.training import stopping

WIDE = 60  # samarin2022.3 is about x60: the paper's own x10 and x25 rows fail it.
SOLVER_MATCH_PP = 0.5  # "matches": the paper's x2/x5 solver is 0.03/0.01 pp from LeNet.
INTERPOLATION_BAND = (0.5, 1.0)  # n/p at the smallest width; the paper's x1: 60,000 / 60,941.
AUGMENTED = "translated MNIST, shifts re-drawn every epoch"


def judge_every_task_closes(values):
  """On every task run, a test gap above zero at the smallest width; on every LeNet task, that gap
  above the largest width's; on
  snakes (AlexNet x1-x4, where the paper's own 20.4 → 18.56 pp is within its 500 test images'
  error) the gap does not grow. Needs training to the paper's SGD steps or to convergence."""
  rule, parts = Rule(), []
  stats.all_training(rule, values)
  for task, by_width in values["tasks"].items():
    s = stats.stats_of(by_width)
    w0, w1 = min(s), max(s)
    rule.greater(f"{task} gap at x{w0} above zero", s[w0]["gap_test"], Stat(0.0))
    if task == "snakes":
      rule.not_greater(f"{task} gap does not grow x{w0}→x{w1}", s[w1]["gap_test"],
                       s[w0]["gap_test"])
    else:
      rule.greater(f"{task} gap shrinks x{w0}→x{w1}", s[w0]["gap_test"], s[w1]["gap_test"])
    parts.append(f"{task} {s[w0]['gap_test'].text()} → {s[w1]['gap_test'].text()}")
  return rule.verdict("test gaps (pp): " + "; ".join(parts))


def judge_harder_bigger(values):
  """At the largest width all tasks share (x60 at tier paper; offline the shifted task runs to
  x10), the shifted-MNIST and the harder task's test gaps above MNIST's (the paper's order at
  x60; the order at the smallest width is reported). Needs
  training to the paper's SGD steps or to convergence."""
  tasks = {t: stats.stats_of(v) for t, v in values["tasks"].items()}
  rule = Rule()
  stats.all_training(rule, values)
  common = sorted(set.intersection(*(set(s) for s in tasks.values())))
  w0, w1 = common[0], common[-1]
  mnist = tasks["MNIST"]
  for task in ("translated MNIST", "harder"):
    rule.greater(f"{task} gap > MNIST gap at x{w1}", tasks[task][w1]["gap_test"],
                 mnist[w1]["gap_test"])
  order0 = sorted(tasks, key=lambda t: -tasks[t][w0]["gap_test"].mean)
  order1 = sorted(tasks, key=lambda t: -tasks[t][w1]["gap_test"].mean)
  return rule.verdict(f"largest gap first: x{w0} {', '.join(order0)}; x{w1} {', '.join(order1)}")


@rule_doc(WIDE=WIDE)
def judge_wide_beats_narrow(values):
  """On the harder task LinLeNet x{WIDE} above LeNet x1 in test and in train accuracy (the
  paper's own x10 and x25 rows fail this, so it needs x{WIDE}). Needs a task LeNet x1 does not
  fit (the paper's 92.0 % train on CIFAR-10) and training to the paper's SGD steps or to
  convergence."""
  s = stats.stats_of(values["tasks"]["harder"])
  rule = Rule()
  stats.all_training(rule, values)
  w0, w1 = min(s), max(s)
  rule.needs(w1 >= WIDE, f"LinLeNet x{WIDE} (the paper's own x10 and x25 rows fail this claim: "
             f"57.7 and 62.2 vs 62.5; widest here x{w1}); tiers cpu-full and paper run x60 "
             "(~16 h per run on a 2-core CPU)")
  fit = 100 * stopping.FIT_ACCURACY
  rule.needs(s[w0]["standard_train"].mean < fit,
             f"a task LeNet x{w0} under-fits, as it does CIFAR-10 (the paper's 92.0 % train): "
             f"here {s[w0]['standard_train'].mean:.2f} % (at least {fit:g} % fits the training "
             "set, which no linearization can exceed in train accuracy); tier paper runs "
             "CIFAR-10")
  rule.greater(f"LinLeNet x{w1} test > LeNet x{w0} test", s[w1]["linearized_test"],
               s[w0]["standard_test"])
  rule.greater(f"LinLeNet x{w1} train > LeNet x{w0} train", s[w1]["linearized_train"],
               s[w0]["standard_train"])
  return rule.verdict(f"LinLeNet x{w1} test/train {s[w1]['linearized_test'].text()} / "
                      f"{s[w1]['linearized_train'].text()} vs LeNet x{w0} "
                      f"{s[w0]['standard_test'].text()} / {s[w0]['standard_train'].text()}")


BINARY_ROWS = (("lstsq_float32", "Solver lstsq (float32, the paper's)"),
               ("lstsq", "Solver lstsq (float64)"), ("kernel", "Solver kernel form (float64)"),
               ("kernel_float32", "Solver kernel form (float32)"),
               ("sgd_linearized", "Lin. (SGD)"), ("sgd_standard", "LeNet (SGD)"))


def _lin_rate(results: RunResults, run_name: str) -> float:
  """The linearization's SGD learning rate of a binary run (its own, else the network's)."""
  with open(results.path(run_name, "config.json")) as f:
    train = json.load(f)["train"]
  return train.get("linearized_learning_rate") or train["learning_rate"]


def _best_linearization(results: RunResults, candidates) -> tuple:
  """(run name, width key, cell) of the best-fitting SGD linearization among (run, width key)
  candidates: highest train accuracy, then lowest train loss."""
  cells = [(name, w, results[name]["widths"][w]["sgd_linearized"]) for name, w in candidates
           if "sgd_linearized" in results[name]["widths"].get(w, {})]
  return max(cells, key=lambda c: (c[2]["train_accuracy"], -c[2]["train_loss"]))


def measure_binary(tasks: Dict[str, Callable], grids: Optional[Dict[str, Callable]] = None):
  """Binary solver runs: per task and width, each solver's and SGD's accuracies, SGD's training.

  grids: per task, runs of the linearization alone at other learning rates: each width's
  "Lin. (SGD)" is then the best-fitting of them and the paper-rate run's (never the test set)."""
  def measure(results: RunResults, tier: str) -> Measured:
    values, rows, header, context, training, rates = {}, [], None, {}, {}, {}
    for task, runs_fn in tasks.items():
      by_width = {}
      training[task] = {}
      grid = (grids or {}).get(task, lambda t: [])(tier)
      for run in runs_fn(tier):
        r = results[run.name]
        config_path = results.path(run.name, "config.json")
        epochs = None
        if os.path.exists(config_path):
          with open(config_path) as f:
            epochs = json.load(f)["train"]["epochs"]
        widths = dict(r["widths"])  # A copy: the chosen linearization replaces the paper-rate one.
        for w in r["widths"]:
          lin_run = run.name
          if grid:  # The best-fitting linearization of this width, at any rate of the grid.
            lin_run, _, chosen = _best_linearization(
                results, [(run.name, w)] + [(g.name, w) for g in grid if g.name in results])
            widths[w] = dict(widths[w], sgd_linearized=chosen)
            rates.setdefault(task, {})[str(stats.number(w))] = _lin_rate(results, lin_run)
          by_model = {m: stats.curves(results, name, (), m, [
              results.path(name, f"w{w}", "sgd", "metrics.jsonl")])
              for m, name in (("standard", run.name), ("linearized", lin_run))}
          ran = [len(c) for cs in by_model.values() for c in cs or () if c]
          training[task][str(stats.number(w))] = stats.training_entry(
              by_model, min(ran) if ran else epochs, runs.PAPER_BINARY_EPOCHS,
              r.get("num_train"), runs.PAPER_NUM_TRAIN["mnist"])
        for w, cells in widths.items():
          by_width[str(stats.number(w))] = {
              k: dict(train=100 * c["train_accuracy"], test=100 * c["test_accuracy"],
                      num_params=c.get("num_params"), rank=c.get("rank"),
                      num_rows=c.get("num_rows")) for k, c in cells.items()
              if "test_accuracy" in c}
        context[task] = dict(num_train=r.get("num_train"), num_test=r.get("num_test"),
                             epochs=(r.get("train") or {}).get("epochs", r.get("epochs")),
                             majority=r.get("majority_accuracy"))
      values[task] = by_width
      header = ["", *[f"x{w}" for w in by_width]]
      for key, label in BINARY_ROWS:
        for split in ("test", "train"):
          if any(key in cells for cells in by_width.values()):
            rows.append([f"{task}, {split}: {label}",
                         *[f"{cells[key][split]:.2f}" if key in cells else "–"
                           for cells in by_width.values()]])
      params = {w: next((c["num_params"] for c in cells.values() if c.get("num_params")), None)
                for w, cells in by_width.items()}
      n = context[task]["num_train"]
      if n and all(params.values()):
        rows.append([f"{task}: rows / parameters (n/p)", *[f"{n / p:.3f}" for p in
                                                            params.values()]])
      ranks = [(cells.get("lstsq") or {}).get("rank") for cells in by_width.values()]
      if n and any(r is not None for r in ranks):
        rows.append([f"{task}: rank of J (lstsq, float64) / rows",
                     *[f"{r:,} / {n:,}" if r is not None else "–" for r in ranks]])
    notes = [n for task, t in training.items() for n in stats.training_notes(t, f"{task} SGD")]
    notes += [f"{task}: Lin. (SGD) is the best-fitting (train accuracy, then loss; never the "
              f"test set) of the linearization's learning rates 0.01 (the paper's), "
              + ", ".join(f"{lr:g}" for lr in runs.BINARY_LIN_LEARNING_RATES) + ": picked "
              + ", ".join(f"x{w} {lr:g}" for w, lr in by.items()) for task, by in rates.items()]
    return Measured(dict(tasks=values, context=context, training=training,
                         linearized_learning_rates=rates), header, rows, notes)
  return measure


def _binary(values, task):
  return {stats.number(w): c for w, c in values["tasks"][task].items()}


def _acc(cells, key, split, num):
  v = cells[key][split]
  return Stat(v, floor=accuracy_se(v, num))


def needs_learned(rule, values, task, cells, w):
  """The SGD linearization a check compares with must have learned: its train and its test
  accuracy each above always predicting the larger class beyond 2 standard errors (else the
  comparison is with a constant; the paper's shifted x1 linearization: 95.42 % train, 95.48 %
  test, against ~90 % for the larger class)."""
  ctx = (values.get("context") or {}).get(task) or {}
  majority = ctx.get("majority") or {}
  if "sgd_linearized" not in cells:
    return
  for split, num in (("train", ctx.get("num_train")), ("test", ctx.get("num_test"))):
    if majority.get(split) is None:
      continue
    lin = _acc(cells, "sgd_linearized", split, num)
    rule.needs(greater(lin, Stat(100 * majority[split])) is True,
               f"{task}: an SGD linearization that learned at x{w} ({split} {lin.mean:.2f} % "
               f"vs {100 * majority[split]:.1f} % for always predicting the larger class, "
               f"standard error {lin.se:.2f} pp: no better than a constant predictor; tier "
               "cpu-full also tries the linearization's own learning rates, tier paper runs "
               "the paper's x1)")


@rule_doc(MATCH=SOLVER_MATCH_PP)
def judge_binary_sgd(values):
  """Binary MNIST (0 vs rest), SGD: on plain MNIST the LeNet − Lin. gap smaller at the largest
  width than at the smallest, in test and in train accuracy, and at the largest width the two
  test accuracies agree (within {MATCH:g} pp beyond sampling error, the same standard as
  samarin2022.5's "matches"; the paper: "from a width factor of 5 on ... start agreeing"); with
  shifts a train gap (LeNet above Lin.) at the
  smallest width ("persists for the less wide networks, especially LinLeNet×1 in the translated
  MNIST task"). Needs SGD trained to the paper's SGD steps or to convergence, and linearizations
  that learned (train and test above always predicting the larger class)."""
  plain, shifted = _binary(values, "MNIST"), _binary(values, "shifted MNIST")
  ctx = values.get("context", {})
  nt = {t: (ctx.get(t) or {}).get("num_test") for t in ("MNIST", "shifted MNIST")}
  ntr = {t: (ctx.get(t) or {}).get("num_train") for t in ("MNIST", "shifted MNIST")}
  w0, w1 = min(plain), max(plain)
  rule = Rule()
  stats.all_training(rule, values)

  def gap(cells, split, num):
    a, b = _acc(cells, "sgd_standard", split, num), _acc(cells, "sgd_linearized", split, num)
    return Stat(a.mean - b.mean, floor=math.hypot(a.floor, b.floor))

  s0 = min(shifted)
  for w in (w0, w1):
    needs_learned(rule, values, "MNIST", plain[w], w)
  needs_learned(rule, values, "shifted MNIST", shifted[s0], s0)
  for split, num in (("test", nt["MNIST"]), ("train", ntr["MNIST"])):
    rule.greater(f"MNIST {split} gap shrinks x{w0}→x{w1}", gap(plain[w0], split, num),
                 gap(plain[w1], split, num))
  lenet, lin = (_acc(plain[w1], k, "test", nt["MNIST"]) for k in ("sgd_standard",
                                                                  "sgd_linearized"))
  rule.within(f"MNIST x{w1}: Lin. and LeNet test accuracies agree (within "
              f"{SOLVER_MATCH_PP:g} pp)", lenet, lin, SOLVER_MATCH_PP)
  rule.greater(f"shifted MNIST x{s0}: train gap LeNet − Lin. > 0",
               gap(shifted[s0], "train", ntr["shifted MNIST"]), Stat(0.0))
  g = lambda cells, split: cells["sgd_standard"][split] - cells["sgd_linearized"][split]
  return rule.verdict(f"LeNet − Lin. test gap MNIST {g(plain[w0], 'test'):.2f} → "
                      f"{g(plain[w1], 'test'):.2f} pp (train {g(plain[w0], 'train'):.2f} → "
                      f"{g(plain[w1], 'train'):.2f}); shifted train gap at x{s0} "
                      f"{g(shifted[s0], 'train'):.2f} pp")


def _solver_key(cells):
  return next((k for k in ("lstsq_float32", "lstsq", "kernel") if k in cells), None)


@rule_doc(LOW=INTERPOLATION_BAND[0], HIGH=INTERPOLATION_BAND[1], MATCH=SOLVER_MATCH_PP)
def judge_solver(values):
  """Near the interpolation threshold (rows/parameters between {LOW:g} and {HIGH:g} at the
  smallest width; the paper's x1: 0.98) and J of full row rank there (else no solve can
  interpolate: not testable) the minimum-norm least-squares solve interpolates
  (train ≥ 99.99 %) yet tests below SGD's linearization, on plain and on shifted MNIST; at the
  other widths its test accuracy is within {MATCH:g} pp of LeNet's (plain MNIST). Judged on the
  paper's solver (lstsq in float32) where it ran, else on lstsq in float64, else on the kernel
  form. Needs SGD trained to the paper's SGD steps or to convergence."""
  rule, parts = Rule(), []
  stats.all_training(rule, values)  # The comparison is against SGD's linearization.
  ctx = values.get("context", {})
  for task in ("MNIST", "shifted MNIST"):
    cells = _binary(values, task)
    w0 = min(cells)
    num_train = (ctx.get(task) or {}).get("num_train")
    num_test = (ctx.get(task) or {}).get("num_test")
    key = _solver_key(cells[w0])
    params = cells[w0][key].get("num_params") if key else None
    if num_train and params:
      ratio = num_train / params
      rule.needs(INTERPOLATION_BAND[0] <= ratio <= INTERPOLATION_BAND[1],
                 f"{task}: rows/parameters near the interpolation threshold at the smallest "
                 f"width (paper x1: 60,000 / 60,941 = 0.98; here {num_train:,} / {params:,} = "
                 f"{ratio:.3f}); the offline tiers narrow LeNet to x0.3 for this")
    solver = cells[w0][key]
    float64 = cells[w0].get("lstsq") or solver  # J's rank as float64 gelsd found it.
    rank, rows = float64.get("rank"), float64.get("num_rows")
    if rank is not None and rows:
      rule.needs(rank >= rows,
                 f"{task}: J of full row rank at x{w0}, so that a least-squares solve can "
                 f"interpolate as the paper's did (100 % train); here rank {rank:,} of {rows:,} "
                 "rows (float64 gelsd): the narrowed LeNet reaches the paper's n/p in "
                 "parameters, not in rank, so its solve is a regression; tier paper solves "
                 "60,000 digits at x1 as the paper did")
    needs_learned(rule, values, task, cells[w0], w0)
    rule.check(f"{task}: solver interpolates at x{w0} (train {solver['train']:.2f} %)",
               solver["train"] >= 99.99)
    rule.greater(f"{task}: solver test < Lin. SGD test at x{w0}",
                 _acc(cells[w0], "sgd_linearized", "test", num_test),
                 _acc(cells[w0], key, "test", num_test))
    parts.append(f"{task} x{w0} ({key}): solver {solver['test']:.2f} vs Lin. "
                 f"{cells[w0]['sgd_linearized']['test']:.2f} test")
  plain = _binary(values, "MNIST")
  num_test = (ctx.get("MNIST") or {}).get("num_test")
  for w in sorted(plain)[1:]:
    key = _solver_key(plain[w])
    if key is None:
      continue
    diff = plain[w][key]["test"] - plain[w]["sgd_standard"]["test"]
    rule.within(f"MNIST x{w}: solver within {SOLVER_MATCH_PP} pp of LeNet",
                _acc(plain[w], key, "test", num_test),
                _acc(plain[w], "sgd_standard", "test", num_test), SOLVER_MATCH_PP)
    parts.append(f"x{w} solver − LeNet {diff:+.2f} pp")
  return rule.verdict("; ".join(parts))


def judge_rank_2022(values):
  """On plain MNIST the effective rank below half the rows at every width and strictly
  increasing with width, and the condition number lower at the largest width than at the
  smallest; with shifts the rank increasing with width but growing less than on plain MNIST
  from the smallest to the largest width, both as a ratio and in ranks added ("less
  pronounced": either reading of a figure; one without the other is undecided). Each check on
  every seed's curve where the tier runs spread seeds (holding for some and failing for others
  is undecided). On both readings of "effective rank" (of σ(J) and of the kernel's σ²);
  readings that disagree make the verdict inconclusive."""
  widths = sorted(values["translations"]["0"], key=float)
  shifted = [k for k in values["translations"] if k != "0"]
  plain = spectra.seed_curves(values, "0")
  conds = [spectra.along(c, "condition") for c in plain.values()]

  def one(key, label):
    rule = Rule()
    ranks, rows = spectra.rank_checks(rule, plain, key, label, "shift 0: ")
    spectra.on_every_curve(rule, f"condition number x{widths[-1]} < x{widths[0]}",
                           (c[-1] < c[0] for c in conds))
    parts = ["shift 0: " + " → ".join(f"{r:.0f}" for r in ranks) + f" of {rows}"]
    if shifted:
      moved = spectra.seed_curves(values, shifted[0])
      sranks = spectra.along(next(iter(moved.values())), key)
      spectra.grows_on_every_curve(rule, "shifted: grows with width", moved, key)
      spectra.less_growth_on_every_curve(rule, values, shifted[0], key)
      parts.append(f"shift {shifted[0]}: " + " → ".join(f"{r:.0f}" for r in sranks))
    return rule.verdict(", ".join(parts) + f"; condition {conds[0][0]:.3g} → {conds[0][-1]:.3g}")
  return spectra.both_readings(values, one)


def measure_gap_tasks(tasks):
  """measure_tasks, plus which translation mode comes closer to the paper's x1 gap (27.65)."""
  inner = stats.measure_tasks(tasks)

  def measure(results: RunResults, tier: str) -> Measured:
    m = inner(results, tier)
    t = m.values["tasks"]
    if "translated MNIST" in t and AUGMENTED in t:
      w0 = min(t["translated MNIST"], key=float)
      fixed, redrawn = (Stat(**t[k][w0]["gap_test"]) for k in ("translated MNIST", AUGMENTED))
      closer = "fixed" if abs(fixed.mean - 27.65) <= abs(redrawn.mean - 27.65) else "re-drawn"
      m.notes.append(f"translated MNIST at x{w0}: gap {fixed.text()} pp with one fixed shift "
                     f"per image, {redrawn.text()} pp with shifts re-drawn every epoch; the "
                     f"{closer} shifts come closer to the paper's 27.65 pp (Samarin et al. 2022 "
                     "do not say which they used).")
    return m
  return measure


# --- the paper's own numbers -------------------------------------------------------------------
# The 2022 text prints gaps only (means of reruns without a spread): their errors at typical
# accuracies of the task's test set.
_GAP_TASK_ACCURACY = {"MNIST": (99.0, 10000), "translated MNIST": (90.0, 10000),
                      "harder": (60.0, 10000), "snakes": (50.0, 500)}


def paper_gap_tasks(names=("MNIST", "translated MNIST", "harder", "snakes")):
  tasks, training = {}, {}
  for task in names:
    accuracy, num_test = _GAP_TASK_ACCURACY[task]
    s = {w: {"gap_test": Stat(g, floor=math.sqrt(2) * accuracy_se(accuracy, num_test))}
         for w, g in paper_tables.SAMARIN2022_GAPS[task].items()}
    tasks[task], training[task] = stats.values_of(s), paper_training(s)
  return dict(tasks=tasks, training=training)


def paper_harder():
  c = cifar()
  return dict(tasks=dict(harder=stats.values_of(c)), training=dict(harder=paper_training(c)))


def paper_binary():
  tasks, context = {}, {}
  for task, translate in (("MNIST", 0), ("shifted MNIST", 7)):
    table = paper_tables.binary_table(translate)
    by_width = {}
    for w in (1, 2, 5, 10, 25, 60):
      cells = {}
      for key, row in (("lstsq_float32", "Solver"), ("sgd_linearized", "Lin."),
                       ("sgd_standard", "LeNet")):
        test, train = table[(row, "test")][w], table[(row, "train")][w]
        if test is not None:
          cells[key] = dict(test=test, train=train, num_params=60941 if w == 1 else None)
      by_width[str(w)] = cells
    tasks[task] = by_width
    context[task] = dict(num_train=60000, num_test=10000, epochs=runs.PAPER_BINARY_EPOCHS)
  return dict(tasks=tasks, context=context)


# --- the claims ----------------------------------------------------------------------------------
def _tasks_scale(tier, wide=True):
  return runs.compare_scale("mnist5k, shifted mnist5k and " + runs.HARDER_NAME[tier],
                            wide)[tier]


CLAIMS = [
    Claim(
        id="samarin2022.1", paper="samarin2022",
        statement="There is a gap at standard width that shrinks with width on every task.",
        paper_numbers="test-error gap MNIST 4.67 → 0.48 pp (x1 → x60); shifted MNIST 27.65 → "
                      "3.91; CIFAR-10 20.22 → 13.17; snakes 20.4 → 18.56 (x1 → x4)",
        runs=per_tier(lambda t: runs.mnist(t) + runs.translated(t) + runs.augmented(t)
                      + runs.harder(t) + (runs.alexnet(t) or [])),
        measure=measure_gap_tasks({"MNIST": runs.mnist, "translated MNIST": runs.translated,
                                   AUGMENTED: runs.augmented, "harder": runs.harder,
                                   "snakes": runs.alexnet}),
        rule=judge_every_task_closes, paper_values=paper_gap_tasks, figure="gap_vs_width",
        scale={t: _tasks_scale(t) + ("" if t == "paper" else "; the snakes task (AlexNet) runs "
                                     "at tier paper only: no offline ImageNet") for t in TIERS}),
    Claim(
        id="samarin2022.2", paper="samarin2022",
        statement="Harder tasks give bigger gaps.",
        paper_numbers="at x60: MNIST 0.48 < shifted 3.91 < CIFAR-10 13.17 pp; at x1 shifted "
                      "MNIST (27.65) exceeds CIFAR-10 (20.22)",
        runs=per_tier(lambda t: [r for f in runs.shared_widths(
            runs.mnist, runs.translated, runs.harder) for r in f(t)]),
        measure=stats.measure_tasks(dict(zip(("MNIST", "translated MNIST", "harder"),
                                             runs.shared_widths(runs.mnist, runs.translated,
                                                                runs.harder)))),
        rule=judge_harder_bigger,
        paper_values=lambda: paper_gap_tasks(("MNIST", "translated MNIST", "harder")),
        scale={t: _tasks_scale(t, wide="shared") for t in TIERS}),
    Claim(
        id="samarin2022.3", paper="samarin2022",
        statement="A wide linearization can beat the standard-width network on the harder task, "
                  "in train and test accuracy.",
        paper_numbers="CIFAR-10: LinLeNet x60 65.6 test / 94.1 train vs LeNet x1 62.5 / 92.0 "
                      "(2020 runs)",
        runs=per_tier(runs.harder),
        measure=stats.measure_tasks({"harder": runs.harder}, keys=stats.COMPARE_KEYS),
        rule=judge_wide_beats_narrow, paper_values=paper_harder,
        scale={t: f"{runs.HARDER_NAME[t]}: " + runs.compare_scale("4,000 / 1,000")[t]
               for t in TIERS}),
    Claim(
        id="samarin2022.4", paper="samarin2022",
        statement="On binary MNIST (0 vs rest) the SGD-trained linearization approaches LeNet "
                  "with width and agrees with it at the widest; with shifts a train gap "
                  "persists at small width.",
        paper_numbers="test Lin. 99.61 vs LeNet 99.89 (x1), 99.89 vs 99.88 (x60); train 99.42 vs "
                      "100 (x1); shifted: 95.48 vs 99.72 (x1), 99.55 vs 99.86 (x60)",
        runs=per_tier(runs.binary),
        measure=measure_binary(runs.BINARY_TASKS, runs.BINARY_LIN_GRID),
        rule=judge_binary_sgd, paper_values=paper_binary,
        scale={"smoke": "256 mnist5k digits, 1 epoch, widths x1, x2",
               "cpu": "mnist5k 0 vs rest (3,900 / 1,000), SGD 20 epochs (paper 200), one seed, "
                      "LeNet x0.3 (the interpolation threshold, as the paper's x1), x0.5, x1.25",
               "cpu-full": "mnist5k 0 vs rest (3,900 / 1,000), the paper's 200 SGD epochs, one "
                           "seed, LeNet x0.3 (the interpolation threshold, as the paper's x1), "
                           "x0.5, x1.25",
               "paper": "MNIST 0 vs rest, 200 epochs, widths x1-x60"}),
    Claim(
        id="samarin2022.5", paper="samarin2022",
        statement="An unregularized least-squares solve interpolates the training set but "
                  "generalizes worse than SGD at x1; at x2/x5 it matches LeNet.",
        paper_numbers="x1 test solver 97.8 vs Lin. 99.61 (MNIST), 86.05 vs 95.48 (shifted), "
                      "train 100; x2/x5 solver 99.86/99.89 vs LeNet 99.89/99.88",
        runs=per_tier(runs.binary),
        measure=measure_binary(runs.BINARY_TASKS, runs.BINARY_LIN_GRID),
        rule=judge_solver, paper_values=paper_binary,
        scale={"smoke": "256 mnist5k digits, widths x1, x2",
               "cpu": "mnist5k 0 vs rest (3,900 / 1,000): least squares on J (float64 gelsd) and "
                      "the kernel form (float32), SGD 20 epochs (paper 200), LeNet x0.3 (the "
                      "interpolation threshold, as the paper's x1), x0.5, x1.25",
               "cpu-full": "mnist5k 0 vs rest (3,900 / 1,000): least squares on J (float64 "
                           "gelsd) and the kernel form (float32), the paper's 200 SGD epochs, "
                           "LeNet x0.3 (the interpolation threshold, as the paper's x1), x0.5, "
                           "x1.25",
               "paper": "MNIST 0 vs rest, gelsd, widths x1, x2, x5"}),
    Claim(
        id="samarin2022.6", paper="samarin2022",
        statement="The effective rank is much lower than the number of rows and rises with "
                  "width, less so with random shifts, and width lowers the condition number.",
        paper_numbers="Figs. 6, 7 (no numbers); less growth with shifts",
        runs=per_tier(runs.spectrum), measure=spectra.spectrum_values, rule=judge_rank_2022,
        figure="effective_rank",
        scale=spectra.scale(shifts=True),
        faithful=spectra.faithful(shifts=True)),
]
