"""When a model has trained enough: it fits its training set, or its train accuracy has settled.

One test, used by the paired loop to stop a run (train.stop_*) and by the reproduction's rules to
decide whether a finished run's final accuracies count (`ntk_tf.reproduction.claims.stats`).
"""

from typing import Mapping, Optional, Sequence

CONVERGED_PP = 0.5  # Train accuracy gaining at most this (pp) over the last quarter: converged.
FIT_ACCURACY = 0.99  # Train accuracy at least this: the training set is fit (10 in 1,000 missed).


def last_quarter_gain(curve: Sequence[float]) -> Optional[float]:
  """Train accuracy (pp) gained over the last quarter of a per-epoch curve (in %, at least two
  epochs back); None for fewer than 3 epochs."""
  if len(curve) < 3:
    return None
  back = max(2, len(curve) // 4)
  return float(curve[-1] - curve[-1 - back])


def settled(curve: Sequence[float], fit_accuracy: Optional[float] = FIT_ACCURACY,
            converged_pp: Optional[float] = CONVERGED_PP) -> Optional[str]:
  """Why a per-epoch train-accuracy curve (%) has trained enough, or None: it fits (last value
  at least 100·fit_accuracy) or it converged (last_quarter_gain at most converged_pp)."""
  if not len(curve):
    return None
  if fit_accuracy is not None and curve[-1] >= 100 * fit_accuracy:
    return f"fits its training set ({curve[-1]:.2f} % train)"
  gain = last_quarter_gain(curve)
  if converged_pp is not None and gain is not None and gain <= converged_pp:
    return f"converged ({gain:+.2f} pp train accuracy over the last {max(2, len(curve) // 4)} epochs)"
  return None


def stop_reason(curves: Mapping[str, Sequence[float]], fit_accuracy: Optional[float],
                converged_pp: Optional[float]) -> Optional[str]:
  """Why training may stop, or None: every model's curve (%) has `settled`."""
  reasons = {m: settled(c, fit_accuracy, converged_pp) for m, c in curves.items()}
  if not reasons or any(r is None for r in reasons.values()):
    return None
  return "; ".join(f"{m} {r}" for m, r in reasons.items())
