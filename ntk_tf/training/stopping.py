"""When a model has trained enough: it fits its training set, or its train accuracy has settled.

One test, used by the paired loop to stop a run (train.stop_*), by the reproduction's archive to
tell whether a finished run is what a config with a stopping test would make, and by the
reproduction's rules to decide whether a finished run's final accuracies count
(`ntk_tf.reproduction.claims.stats`).

Converged: the least-squares line through the last quarter of the per-epoch train accuracies
rises or falls at most CONVERGED_PP over that quarter, and the line through the last half at most
twice that over the half (the same rate over twice the span). A line through every epoch, so one
noisy epoch neither stops a run at a dip nor keeps it going; a fall counts as movement, not
convergence; the half keeps a run going through a pause between climbs shorter than a quarter of
its epochs (a CNN-GAP seed flat for 36 epochs at 57.6 % after climbing 23 pp in the 70 before,
where its sibling seeds went on to fit their training sets).
"""

from typing import Dict, List, Mapping, Optional, Sequence

from ntk_tf.utils import io

CONVERGED_PP = 0.5  # Train accuracy moving at most this (pp) over the last quarter: converged.
FIT_ACCURACY = 0.99  # Train accuracy at least this: the training set is fit (10 in 1,000 missed).


CONVERGED_TEXT = (f"train accuracy moving at most {CONVERGED_PP:g} pp over the last quarter "
                  f"of its epochs and {2 * CONVERGED_PP:g} pp over the last half")


def quarter(epochs: int) -> int:
  """The epochs a quarter back: a quarter of them, at least 2."""
  return max(2, epochs // 4)


def half(epochs: int) -> int:
  """The epochs half-way back: half of them, at least 2."""
  return max(2, epochs // 2)


def line_gain(curve: Sequence[float], back: int) -> Optional[float]:
  """Train accuracy (pp) gained over the last `back` epochs of a per-epoch curve (in %): the rise
  of the least-squares line through those epochs and the one before (every epoch weighs in, so
  one noisy epoch neither ends a rising curve nor prolongs a flat one); None for fewer than 3
  epochs."""
  if len(curve) < 3:
    return None
  back = min(back, len(curve) - 1)
  ys = [float(y) for y in curve[len(curve) - back - 1:]]
  mean_x, mean_y = back / 2, sum(ys) / len(ys)
  slope = (sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys))
           / sum((x - mean_x) ** 2 for x in range(len(ys))))
  return slope * back


def last_quarter_gain(curve: Sequence[float]) -> Optional[float]:
  """line_gain over the last quarter of the curve's epochs."""
  return line_gain(curve, quarter(len(curve)))


def last_half_gain(curve: Sequence[float]) -> Optional[float]:
  """line_gain over the last half of the curve's epochs."""
  return line_gain(curve, half(len(curve)))


def settled(curve: Sequence[float], fit_accuracy: Optional[float] = FIT_ACCURACY,
            converged_pp: Optional[float] = CONVERGED_PP) -> Optional[str]:
  """Why a per-epoch train-accuracy curve (%) has trained enough, or None: it fits (last value
  at least 100·fit_accuracy) or it converged (|last_quarter_gain| at most converged_pp and
  |last_half_gain| at most twice that)."""
  if not len(curve):
    return None
  if fit_accuracy is not None and curve[-1] >= 100 * fit_accuracy:
    return f"fits its training set ({curve[-1]:.2f} % train)"
  gain, gain_half = last_quarter_gain(curve), last_half_gain(curve)
  if converged_pp is not None and gain is not None and abs(gain) <= converged_pp and \
      abs(gain_half) <= 2 * converged_pp:
    return (f"converged ({gain:+.2f} pp train accuracy over the last {quarter(len(curve))} "
            f"epochs, {gain_half:+.2f} pp over the last {half(len(curve))})")
  return None


def stop_reason(curves: Mapping[str, Sequence[float]], fit_accuracy: Optional[float],
                converged_pp: Optional[float], after_epochs: Optional[int] = None
                ) -> Optional[str]:
  """Why training may stop now, or None: a stopping test is set, at least `after_epochs` epochs
  ran, and every model's curve (%) has `settled`."""
  if (fit_accuracy is None and converged_pp is None) or not curves or \
      min(len(c) for c in curves.values()) < max(after_epochs or 0, 1):
    return None
  reasons = {m: settled(c, fit_accuracy, converged_pp) for m, c in curves.items()}
  if any(r is None for r in reasons.values()):
    return None
  return "; ".join(f"{m} {r}" for m, r in reasons.items())


def first_stop(curves: Mapping[str, Sequence[float]], fit_accuracy: Optional[float],
               converged_pp: Optional[float], after_epochs: Optional[int] = None
               ) -> Optional[int]:
  """The epoch count at which the paired loop, run with this test, would have stopped on these
  curves (their first prefix that passes `stop_reason`), or None if no prefix passes."""
  epochs = min((len(c) for c in curves.values()), default=0)
  for k in range(max(after_epochs or 0, 1), epochs + 1):
    if stop_reason({m: c[:k] for m, c in curves.items()}, fit_accuracy, converged_pp,
                   after_epochs):
      return k
  return None


def hold_epochs(curves: Mapping[str, Sequence[float]], at_least: int, at_most: int
                ) -> Optional[int]:
  """The epochs a schedule holds its starting learning rate (train.lr_hold_until_settled) on
  these per-epoch curves (%): the first count from `at_least` on at which every model's curve
  has `settled`, else `at_most` once the curves are that long; None while still undecided. A
  function of the curves alone, so a resumed run finds the hold it had."""
  epochs = min((len(c) for c in curves.values()), default=0)
  head = {m: c[:at_most] for m, c in curves.items()}
  found = first_stop(head, FIT_ACCURACY, CONVERGED_PP, at_least) if head else None
  if found is not None:
    return found
  return at_most if epochs >= at_most else None


def held_rate(base_lr: float, epoch: int, every: int, factor: float, hold: Optional[int]
              ) -> float:
  """The learning rate in `epoch` (0-based) of a schedule that holds base_lr for `hold` epochs
  (None: not decided yet, still held), then divides by 1/factor every `every` epochs."""
  if hold is None or epoch < hold:
    return float(base_lr)
  return float(base_lr) * factor ** (1 + (epoch - hold) // int(every))


def starting_rate_epochs(rows: List[dict]) -> int:
  """How many leading epochs of a paired run's metrics.jsonl rows (io.read_jsonl) ran at its
  first epoch's learning rates (both models'): the phase a learning-rate schedule does not yet
  shape."""
  rate = lambda r: (r.get("learning_rate"), r.get("linearized_learning_rate"))
  count = 0
  for r in rows:
    if rate(r) != rate(rows[0]):
      break
    count += 1
  return count


def train_curves(rows: List[dict]) -> Dict[str, List[float]]:
  """Each model's per-epoch train accuracy (%) from a paired run's metrics.jsonl rows
  (io.read_jsonl)."""
  models = [m for m in ("standard", "linearized") if any(m in r for r in rows)]
  return {m: [100 * r[m]["train_accuracy"] for r in rows if m in r] for m in models}


def read_curves(path: str) -> Dict[str, List[float]]:
  """Each model's per-epoch train accuracy (%) from a paired run's metrics.jsonl."""
  return train_curves(io.read_jsonl(path))
