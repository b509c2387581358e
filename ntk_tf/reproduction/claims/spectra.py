"""The effective rank of the eNTK's feature matrix, read and checked for Samarin et al.'s claims.

Both papers (samarin2020.7, samarin2022.6) read the spectrum run: per shift and width, the
effective rank of the singular values σ of the feature matrix J, the effective rank of the
kernel's eigenvalues σ², and J's condition number. "Effective rank" is ambiguous in the papers,
so a rank claim is judged on both readings, and readings that disagree make it inconclusive.
"""

from typing import Dict, List, Tuple

from ntk_tf.reproduction.claims import runs, stats
from ntk_tf.reproduction.claims.base import Measured, RunResults
from ntk_tf.reproduction.verdicts import INCONCLUSIVE, NOT_TESTABLE, Stat

RANK_FRACTION = 0.5  # "much lower than the number of rows": at most half (the paper: no number).
READINGS = (("effective_rank", "σ(J)"), ("kernel_effective_rank", "kernel σ²"))
ROW_LABELS = {"effective_rank": "effective rank of σ(J)",
              "kernel_effective_rank": "effective rank of the kernel's eigenvalues σ²"}


def scale(shifts: bool) -> Dict[str, str]:
  """The spectrum runs' scale line per tier (Samarin et al.'s 600 digits, 6000 rows)."""
  s = "shifts 0 and 7, " if shifts else ""
  return {"smoke": f"20 mnist5k digits (200 rows), {s}widths x1, x2",
          "cpu": f"600 mnist5k digits (6000 rows), {s}widths x1, x2, x5, x10",
          "cpu-full": f"600 mnist5k digits (6000 rows), {s}widths x1-x60; seeds 1-3 (other "
                      "inits and digits) at x1-x10",
          "paper": f"600 MNIST digits, {s}widths x1-x60; seeds 1-3 at x1-x10"}


def faithful(shifts: bool) -> Dict[str, str]:
  """Why the spectrum runs are faithful to Samarin et al.'s measurement, per offline tier."""
  widths = {"cpu": "x1-x10 here, x25 and x60 at tier cpu-full; one init, as the paper",
            "cpu-full": "x1-x60; and every check on each of 4 seeds (inits and draws of the "
                        "digits) at x1-x10"}
  return {tier: "Not a stand-in: the paper's own measurement on 600 real MNIST digits (its "
                "6000-row matrix: 10 outputs each), LeNet at the paper's widths (" + w + ")" +
                (", plain and randomly shifted by up to 7 px as the paper" if shifts else "") +
                "; Roy & Vetterli's effective rank on both readings the paper's text and figures "
                "allow. Where the paper gives no number the threshold is named: \"much lower\" "
                f"is at most {RANK_FRACTION:g} of the rows" +
                ("; \"less pronounced\" must hold both as a ratio and in ranks added, so "
                 "neither reading of a figure decides alone." if shifts else ".")
          for tier, w in widths.items()}


def _by_shift(r):
  """{shift: {width: entry}} of one spectrum run's results."""
  values = {}
  for t, entry in r["translations"].items():
    widths = {stats.number(w): info for w, info in entry["widths"].items()}
    values[t] = {str(w): dict(effective_rank=i["effective_rank"],
                              kernel_effective_rank=i.get("kernel_effective_rank"),
                              condition=i["condition_number"], rows=i["num_rows"])
                 for w, i in sorted(widths.items())}
  return values


def spectrum_values(results: RunResults, tier: str) -> Measured:
  """Per shift and width: both effective ranks, the condition number and the rows; and the
  same of the spread seeds' runs where the tier has them."""
  main, *spread = runs.spectrum(tier)
  values = _by_shift(results[main.name])
  rows = []
  widths = list(next(iter(values.values())))
  for t, by_width in values.items():
    for key, _ in READINGS:
      rows.append([f"{ROW_LABELS[key]}, shifts ≤ {t} px", *[f"{by_width[w][key]:.1f}"
                                                 if by_width[w].get(key) else "–"
                                                 for w in widths]])
    rows.append([f"condition number of J, shifts ≤ {t} px",
                 *[f"{by_width[w]['condition']:.3g}" for w in widths]])
  seeds = {str(dict(run.overrides)["seed"]): _by_shift(results[run.name]) for run in spread}
  for t in values if seeds else ():
    for key, what in READINGS:
      by_seed = [values[t]] + [s[t] for s in seeds.values()]
      cells = []
      for w in widths:
        found = [c[w][key] for c in by_seed if w in c and c[w].get(key)]
        cells.append(Stat.of(found).text(0) if len(found) > 1 else "–")
      rows.append([f"{what} over seeds 0-{max(map(int, seeds))}, shifts ≤ {t} px", *cells])
  header = [f"({values['0'][widths[0]]['rows']} rows)", *[f"x{w}" for w in widths]]
  notes = ["Two readings of \"effective rank\": Roy & Vetterli's entropy of the singular values "
           "σ of the 6000-row feature matrix J (2020 §3.2: \"the matrix A\"), and of the "
           "6000x6000 kernel J Jᵀ, whose singular values are σ² (2022 §4.2's text; its Fig. 6 "
           "caption names the matrix ∇f). Both are shown and each claim is judged on both: "
           "readings that disagree make its verdict inconclusive."]
  if seeds:
    notes.append(f"Seeds {', '.join(seeds)} (other inits and draws of the 600 digits) at "
                 f"x{', x'.join(str(w) for w in seeds[next(iter(seeds))]['0'])}: every check is "
                 "made on each seed's curve; one that holds for some seeds and fails for others "
                 "is undecided.")
  return Measured(dict(translations=values, seeds=seeds), header, rows, notes)


def along(curve, key):
  """The values of `key` along one {width: entry} curve, by increasing width."""
  return [curve[w][key] for w in sorted(curve, key=float)]


def seed_curves(values, shift) -> Dict[str, dict]:
  """{seed: {width: entry}} at this shift: the main run's (seed "0") first."""
  out = {"0": values["translations"][shift]}
  out.update((seed, s[shift]) for seed, s in (values.get("seeds") or {}).items() if shift in s)
  return out


def on_every_curve(rule, name, outcomes, why="holds for some seeds and not others"):
  """One check from its outcome on each seed's curve: all hold, all fail, else undecided."""
  outcomes = list(outcomes)
  if outcomes and all(o is True for o in outcomes):
    rule.check(name, True)
  elif outcomes and all(o is False for o in outcomes):
    rule.check(name, False)
  else:
    rule.check(name, None, why)


def _falls(curve, key) -> List[str]:
  """Where a rank curve does not rise: "x10 → x25: 175.0 → 170.1"."""
  widths = sorted(curve, key=float)
  return [f"x{a} → x{b}: {curve[a][key]:.1f} → {curve[b][key]:.1f}"
          for a, b in zip(widths, widths[1:]) if not curve[b][key] > curve[a][key]]


def rank_checks(rule, by_seed, key, label, prefix=""):
  """The rank below RANK_FRACTION of the rows at every width, and growing with width, on every
  seed's curve (`by_seed`: {seed: {width: entry}}, the main run's first)."""
  ranks = [along(c, key) for c in by_seed.values()]
  rows = next(iter(next(iter(by_seed.values())).values()))["rows"]
  largest = max(max(r) for r in ranks)
  on_every_curve(rule, f"{prefix}{label}: below {RANK_FRACTION:g} x rows ({rows}) at every "
                 f"width (largest {largest:.0f})", (max(r) < RANK_FRACTION * rows for r in ranks))
  grows_on_every_curve(rule, f"{prefix}{label}: grows with width", by_seed, key)
  return ranks[0], rows


def grows_on_every_curve(rule, name, by_seed, key):
  """The check "`key` rises with every step in width" on each seed's curve (`by_seed`:
  {seed: {width: entry}}); undecided names where each falling seed falls."""
  falls = {seed: _falls(c, key) for seed, c in by_seed.items()}
  rises = [seed for seed, f in falls.items() if not f]
  why = ("falls on " + "; ".join(f"seed {seed} ({', '.join(f)})" for seed, f in falls.items()
                                 if f)
         + (f"; rises on seed{'s' if len(rises) > 1 else ''} {', '.join(rises)}" if rises else ""))
  spans = {seed: f"x{min(c, key=float)}-x{max(c, key=float)}" for seed, c in by_seed.items()}
  if len(set(spans.values())) > 1:
    why += " (widths: " + ", ".join(f"seed {seed} {s}" for seed, s in spans.items()) + ")"
  on_every_curve(rule, name, (not f for f in falls.values()), why)


def both_readings(values, judge_one) -> Tuple[str, str]:
  """A rank rule judged on σ(J) and on the kernel's eigenvalues σ²; the papers are ambiguous
  (2020: "the matrix A"; 2022: the text says the kernel, Fig. 6's caption the matrix ∇f), so
  readings that disagree make the verdict inconclusive."""
  plain = values["translations"]["0"]
  outcomes, found = {}, []
  for key, label in READINGS:
    if any(v.get(key) is None for v in plain.values()):
      continue
    status, text = judge_one(key, label)
    outcomes[label] = status
    found.append(f"{label}: {text}")
  text = "; ".join(found)
  if len(outcomes) < len(READINGS):
    return NOT_TESTABLE, ("needs both readings of the effective rank (this run recorded σ(J) "
                          "only; a rerun records the kernel's too). Found: " + text)
  verdicts = set(outcomes.values())
  if len(verdicts) == 1:
    return verdicts.pop(), text
  return INCONCLUSIVE, (text + "; the two readings disagree (" + ", ".join(
      f"{k} {v}" for k, v in outcomes.items()) + ") and the paper's text does not decide which")


def less_growth(plain, shifted):
  """The check "shifted: less growth than plain" from two rank curves over width: (name,
  outcome, why). Less both as a ratio and in ranks added holds, more in both fails; one
  without the other is undecided (the paper's "less pronounced" does not say which)."""
  ratio, sratio = plain[-1] / plain[0], shifted[-1] / shifted[0]
  added, sadded = plain[-1] - plain[0], shifted[-1] - shifted[0]
  less = (sratio < ratio, sadded < added)
  outcome = True if all(less) else (False if not any(less) else None)
  return (f"shifted: less growth ({sratio:.2f}x, {sadded:+.0f}) than plain ({ratio:.2f}x, "
          f"{added:+.0f})", outcome,
          "less as a ratio but not in ranks added, or the reverse")


def less_growth_on_every_curve(rule, values, shift, key):
  """less_growth on each seed's pair of curves (plain, shifted); named by the main run's."""
  plain, shifted = seed_curves(values, "0"), seed_curves(values, shift)
  pairs = [(along(plain[seed], key), along(shifted[seed], key)) for seed in plain
           if seed in shifted]
  name, _, why = less_growth(*pairs[0])
  if len(pairs) > 1:
    name += f" on each of {len(pairs)} seeds"
    why = "not the same outcome on every seed, or less as a ratio but not in ranks added"
  on_every_curve(rule, name, [less_growth(p, s)[1] for p, s in pairs], why)
