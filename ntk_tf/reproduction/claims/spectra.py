"""The effective rank of the eNTK's feature matrix, read and checked for Samarin et al.'s claims.

Both papers (samarin2020.7, samarin2022.6) read the spectrum run: per shift and width, the
effective rank of the singular values σ of the feature matrix J, the effective rank of the
kernel's eigenvalues σ², and J's condition number. "Effective rank" is ambiguous in the papers,
so a rank claim is judged on both readings, and readings that disagree make it inconclusive.
"""

from typing import Tuple

from ntk_tf.reproduction.claims import runs, stats
from ntk_tf.reproduction.claims.base import Measured, RunResults
from ntk_tf.reproduction.verdicts import INCONCLUSIVE, NOT_TESTABLE

RANK_FRACTION = 0.5  # "much lower than the number of rows": at most half (the paper: no number).
READINGS = (("effective_rank", "σ(J)"), ("kernel_effective_rank", "kernel σ²"))


def spectrum_values(results: RunResults, tier: str) -> Measured:
  """Per shift and width: both effective ranks, the condition number and the rows."""
  r = results[runs.spectrum(tier)[0].name]
  values, rows = {}, []
  for t, entry in r["translations"].items():
    widths = {stats.number(w): info for w, info in entry["widths"].items()}
    values[t] = {str(w): dict(effective_rank=i["effective_rank"],
                              kernel_effective_rank=i.get("kernel_effective_rank"),
                              condition=i["condition_number"], rows=i["num_rows"])
                 for w, i in widths.items()}
    rows.append([f"effective rank of σ(J), shifts ≤ {t} px",
                 *[f"{i['effective_rank']:.1f}" for i in widths.values()]])
    rows.append([f"effective rank of the kernel's eigenvalues σ², shifts ≤ {t} px",
                 *[f"{i['kernel_effective_rank']:.1f}" if i.get("kernel_effective_rank")
                   else "–" for i in widths.values()]])
    rows.append([f"condition number of J, shifts ≤ {t} px",
                 *[f"{i['condition_number']:.3g}" for i in widths.values()]])
  first = next(iter(values.values()))
  header = [f"({next(iter(first.values()))['rows']} rows)", *[f"x{w}" for w in first]]
  notes = ["Two readings of \"effective rank\": Roy & Vetterli's entropy of the singular values "
           "σ of the 6000-row feature matrix J (2020 §3.2: \"the matrix A\"), and of the "
           "6000x6000 kernel J Jᵀ, whose singular values are σ² (2022 §4.2). Both are shown; "
           "each paper is judged on its own reading, 2020 on both where they disagree."]
  return Measured(dict(translations=values), header, rows, notes)


def rank_checks(rule, by_width, key, label, prefix=""):
  """The rank below RANK_FRACTION of the rows at every width, and growing with width."""
  widths = sorted(by_width, key=float)
  ranks = [by_width[w][key] for w in widths]
  rows = by_width[widths[0]]["rows"]
  rule.check(f"{prefix}{label}: below {RANK_FRACTION:g} x rows ({rows}) at every width "
             f"(largest {max(ranks):.0f})", max(ranks) < RANK_FRACTION * rows)
  rule.check(f"{prefix}{label}: grows with width", stats.increasing(ranks))
  return ranks, rows


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
