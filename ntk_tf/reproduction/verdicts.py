"""The four verdicts a claim can get, and the statistics its rule decides them with.

- reproduced: every check of the rule holds beyond sampling error;
- not reproduced: the claim was testable here and a check fails beyond sampling error;
- inconclusive: testable, but the evidence covers both outcomes (the seeds' spread, a test
  set's sampling error, or two readings of the paper that disagree); the verdict says how many
  seeds (for single runs: how many times as many test images) would decide at the current means;
- not testable at this tier: the claim needs a scale, data set, width or training length that
  this tier does not run (the verdict names it and the tier that does), or a run is missing.

A rule never says "not reproduced" when one of its conditions is unmet. Differences are decided
beyond sampling error, a two-sided 95.4 % band: for single runs (the papers' tables, kernel
regression) Z = 2 binomial standard errors of an accuracy on its test set; for means over seeds
the standard error of the mean times Student's t quantile at the same level, with Welch's
degrees of freedom (3 seeds against 3: ~2.9 standard errors; a paired difference of 3 seeds:
4.5), so that a 3-seed spread is not read as if it were known.
"""

import dataclasses
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
import scipy.stats

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable at this tier"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE)
TOO_SMALL = "too small to judge"  # The smoke tier: the pipeline ran; its numbers decide nothing.

Z = 2.0
LEVEL = 0.5 * (1.0 + math.erf(Z / math.sqrt(2.0)))  # Z's one-sided level, 0.97725.


@dataclasses.dataclass(frozen=True)
class Stat:
  """Mean, standard deviation and count of a quantity over seeds.

  floor: the standard error of a single run (n = 1), e.g. an accuracy's binomial error on its
  test set; with several seeds the seeds' spread is used instead.
  """
  mean: float
  std: float = 0.0
  n: int = 1
  floor: float = 0.0

  @classmethod
  def of(cls, values: Sequence[float], floor: float = 0.0) -> "Stat":
    v = np.asarray(values, dtype=np.float64)
    return cls(float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v),
               float(floor))

  @property
  def se(self) -> float:
    return self.std / math.sqrt(self.n) if self.n > 1 else self.floor

  def text(self, digits: int = 2) -> str:
    if self.n > 1:
      return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"
    return f"{self.mean:.{digits}f}"


def accuracy_se(percent: float, num_test: Optional[int]) -> float:
  """The binomial standard error (in pp) of an accuracy measured on num_test examples."""
  if not num_test:
    return 0.0
  p = min(max(percent / 100.0, 0.0), 1.0)
  return 100.0 * math.sqrt(max(p * (1 - p), 0.25 / num_test) / num_test)


def difference(a: Stat, b: Stat, margin: float = 0.0) -> Tuple[float, float]:
  """a − b − margin and its standard error."""
  return a.mean - b.mean - margin, math.hypot(a.se, b.se)


def critical(a: Stat, b: Stat) -> float:
  """How many standard errors of a − b count as beyond sampling error: Z where neither is a mean
  over seeds, else Student's t quantile at Z's level with Welch–Satterthwaite's degrees of
  freedom (a single run's binomial variance counts as known)."""
  terms = [(s.std ** 2 / s.n, s.n - 1) for s in (a, b) if s.n > 1]
  known = sum(s.floor ** 2 for s in (a, b) if s.n <= 1)
  spread = sum(v * v / df for v, df in terms)
  if not terms or spread == 0:
    return Z
  df = (sum(v for v, _ in terms) + known) ** 2 / spread
  return float(scipy.stats.t.ppf(LEVEL, df))


def greater(a: Stat, b: Stat, margin: float = 0.0) -> Optional[bool]:
  """a > b + margin: True or False beyond sampling error (critical standard errors), None in
  between."""
  d, s = difference(a, b, margin)
  if s == 0:
    return d > 0
  band = critical(a, b) * s
  if d > band:
    return True
  if d < -band:
    return False
  return None


def within(a: Stat, b: Stat, tolerance: float) -> Optional[bool]:
  """|a − b| ≤ tolerance: True when the whole sampling-error band is inside, False when it is
  outside."""
  d, s = difference(a, b)
  band = critical(a, b) * s
  if abs(d) + band <= tolerance:
    return True
  if abs(d) - band > tolerance:
    return False
  return None


def _data_to_decide(a: Stat, b: Stat, margin: float, tolerance: Optional[float]
                    ) -> Optional[float]:
  """(Z · standard error / distance to the decision)²: the factor by which the data behind the
  standard error must grow to decide the comparison at the current means (None: cannot say)."""
  d, s = difference(a, b, margin)
  if tolerance is not None:
    d = abs(d) - tolerance
  if d == 0 or s == 0:
    return None
  return (Z * s / abs(d)) ** 2


def seeds_to_decide(a: Stat, b: Stat, margin: float = 0.0, tolerance: Optional[float] = None
                    ) -> Optional[int]:
  """Seeds per model that would decide the comparison at the current means and spreads: the
  fewest N whose standard error (shrunk by √(n/N)) times the t quantile at N seeds' degrees of
  freedom is below the distance to the decision."""
  n = max(a.n, b.n)
  factor = _data_to_decide(a, b, margin, tolerance) if n >= 2 else None
  if factor is None:
    return None
  grown = lambda k, s: dataclasses.replace(s, n=k) if s.n > 1 else s  # Same spread, k seeds.
  for k in range(n, 100_000):
    if (critical(grown(k, a), grown(k, b)) / Z) ** 2 * factor * n / k <= 1 + 1e-9:
      return k
  return None


def multiple_of_test_set_to_decide(a: Stat, b: Stat, margin: float = 0.0,
                                   tolerance: Optional[float] = None) -> Optional[float]:
  """For two single runs (standard errors from their test sets' sampling error): how many times
  as many test images would decide the comparison at the current accuracies."""
  return _data_to_decide(a, b, margin, tolerance) if max(a.n, b.n) == 1 else None


SAMPLING_ERROR = "within the test set's sampling error"


@dataclasses.dataclass
class Check:
  name: str
  outcome: Optional[bool]      # None: inside the sampling error.
  seeds: Optional[int] = None  # Seeds that would decide an undecided check.
  why: str = SAMPLING_ERROR    # Why an undecided check is undecided.


def _undecided(name: str, outcome: Optional[bool], a: Stat, b: Stat, margin: float = 0.0,
               tolerance: Optional[float] = None) -> Check:
  """A check; if undecided, with the seeds (or the test-set size) that would decide it."""
  if outcome is not None:
    return Check(name, outcome)
  times = multiple_of_test_set_to_decide(a, b, margin, tolerance)
  return Check(name, None, seeds_to_decide(a, b, margin, tolerance),
               SAMPLING_ERROR if times is None else
               f"{SAMPLING_ERROR}: about {times:.1f}x as many test images would decide")


class Rule:
  """One claim's conditions and checks; `verdict` turns them into one of the four verdicts."""

  def __init__(self):
    self.unmet: List[str] = []
    self.checks: List[Check] = []

  def needs(self, ok: bool, what: str):
    """A condition for the claim to be testable here; `what` says what is missing and where."""
    if not ok:
      self.unmet.append(what)

  def check(self, name: str, ok: Optional[bool], why: str = "the intervals overlap"):
    self.checks.append(Check(name, None if ok is None else bool(ok), why=why))

  def greater(self, name: str, a: Stat, b: Stat, margin: float = 0.0) -> Optional[bool]:
    outcome = greater(a, b, margin)
    self.checks.append(_undecided(name, outcome, a, b, margin))
    return outcome

  def not_greater(self, name: str, a: Stat, b: Stat) -> Optional[bool]:
    """a is not above b beyond the sampling error (only a decisive rise fails)."""
    outcome = greater(a, b)
    self.checks.append(Check(name, outcome is not True))
    return outcome is not True

  def at_most(self, name: str, a: Stat, b: Stat, margin: float = 0.0) -> Optional[bool]:
    """a ≤ b + margin: fails on a decisive excess; undecided when the means exceed it within
    the sampling error; holds when the means are within it (or a is decisively below)."""
    d, _ = difference(a, b, margin)
    outcome = greater(a, b, margin)
    result = False if outcome is True else (True if outcome is False or d <= 0 else None)
    self.checks.append(_undecided(name, result, a, b, margin))
    return result

  def within(self, name: str, a: Stat, b: Stat, tolerance: float) -> Optional[bool]:
    outcome = within(a, b, tolerance)
    self.checks.append(_undecided(name, outcome, a, b, tolerance=tolerance))
    return outcome

  def verdict(self, found: str) -> Tuple[str, str]:
    failed = [c.name for c in self.checks if c.outcome is False]
    open_ = [c for c in self.checks if c.outcome is None]
    if self.unmet:
      made = [f"{word} (" + "; ".join(c.name for c in self.checks if c.outcome is outcome) + ")"
              for word, outcome in (("held", True), ("failed", False), ("undecided", None))
              if any(c.outcome is outcome for c in self.checks)]
      return NOT_TESTABLE, ("needs " + "; ".join(self.unmet) + ". Found: " + found +
                            (". The checks it could make: " + ", ".join(made) if made else ""))
    if failed:
      return NOT_REPRODUCED, found + "; fails: " + "; ".join(failed)
    if open_:
      parts = [c.name + (f" (about {c.seeds} seeds would decide)" if c.seeds else
                         f" ({c.why})") for c in open_]
      return INCONCLUSIVE, found + "; undecided: " + "; ".join(parts)
    return REPRODUCED, found
