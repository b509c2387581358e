"""What a run costs, estimated from the wall times that finished runs measured.

Every run `ntk_tf.reproduce` finishes records its wall time (`reproduce_run.json`: seconds,
tier) beside its `config.json`, and the committed archives keep both (docs/reproduction/runs for
tier cpu, docs/reproduction/cpu_full/runs for tier cpu-full). A run's estimate is its own
measured time where one is archived at its tier; else it comes from measured runs of the same
config file on the same data and model, scaled by what differs: the model's size (its parameter
count, or a line through the measured sizes' times where there are several), the epochs and the
seeds; other differences are named. A run nothing comparable was measured for has no estimate.
TensorFlow-free: the caller supplies configs as dicts and a parameter count for them.
"""

import dataclasses
import json
import math
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

SIZE_KEYS = ("model.width", "model.widths", "model.depth")  # Scaled by the parameter count.
SEEDS, EPOCHS = "seeds", "train.epochs"
STOP_AFTER = "train.stop_after_epochs"
HOLD = "train.lr_hold_until_settled"  # Runs past train.epochs by as long as the rate is held.
SAME_PREFIXES = ("dataset.", "model.name", "experiment")  # Must match: other data, other model.
RECORD = "reproduce_run.json"


@dataclasses.dataclass(frozen=True)
class Timing:
  """A finished run's measured wall time and the config it ran."""
  name: str
  tier: str
  config_file: str
  seconds: float
  settings: Dict[str, object]  # config.json, flattened to dotted keys.
  params: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Estimate:
  """Seconds (None: no estimate) and how they were found."""
  seconds: Optional[float]
  basis: str
  kind: str  # "measured", "scaled" or "none".
  at_least: bool = False  # Scaled at the epochs before a stopping test or a held rate decides.


def flatten(d: dict, prefix: str = "") -> Dict[str, object]:
  """{"train": {"epochs": 12}} -> {"train.epochs": 12}, lists as tuples."""
  out = {}
  for k, v in d.items():
    if isinstance(v, dict):
      out.update(flatten(v, f"{prefix}{k}."))
    else:
      out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
  return out


def load(roots: Sequence[Optional[str]], params: Callable[[dict], Optional[float]]
         ) -> List[Timing]:
  """Every run under `roots` (folders of <name>/) with a measured time, first root first."""
  out, seen = [], set()
  for root in roots:
    if not root or not os.path.isdir(root):
      continue
    for name in sorted(os.listdir(root)):
      record, config = (os.path.join(root, name, f) for f in (RECORD, "config.json"))
      if not (os.path.exists(record) and os.path.exists(config)):
        continue
      with open(record) as f:
        r = json.load(f)
      if (r["tier"], name) in seen:
        continue
      seen.add((r["tier"], name))
      with open(config) as f:
        settings = json.load(f)
      flat = flatten(settings)
      ran = _epochs_run(os.path.join(root, name, "results.json"))
      if ran is not None:  # A stopping test ended it: its time is for the epochs it ran.
        flat.update({EPOCHS: float(ran), STOP_AFTER: None})
      out.append(Timing(name, r["tier"], r["config"], float(r["seconds"]), flat,
                        params(settings)))
  return out


def _epochs_run(results_path: str) -> Optional[float]:
  """The most epochs a seed of a finished run trained, where its results record them (runs
  with a stopping test); None otherwise."""
  if not os.path.exists(results_path):
    return None
  with open(results_path) as f:
    per_seed = json.load(f).get("per_seed") or []
  ran = [s["epochs"] for s in per_seed if isinstance(s, dict) and "epochs" in s]
  return max(ran) if ran else None


def _count(settings, key) -> float:
  """Seeds counted, epochs as they are; 1 where the config has no such key."""
  v = settings.get(key)
  if v is None:
    return 1.0
  return float(len(v)) if isinstance(v, tuple) else float(v)


def _diffs(a: dict, b: dict) -> List[str]:
  """Keys both configs have, with different values, other than size, seeds and epochs."""
  skip = SIZE_KEYS + (SEEDS, EPOCHS)
  return sorted(k for k in a.keys() & b.keys() if k not in skip and a[k] != b[k])


def _comparable(t: Timing, settings: dict) -> bool:
  return not any(k.startswith(SAME_PREFIXES) for k in _diffs(t.settings, settings))


def _epochs(settings) -> float:
  """The epochs a run is counted at: where a stopping test (train.stop_*) may end it early, the
  epochs it trains before the test starts (its estimate is then a lower bound)."""
  after = settings.get(STOP_AFTER)
  return float(after) if after is not None else _count(settings, EPOCHS)


def _work(settings) -> float:
  return _count(settings, SEEDS) * _epochs(settings)


def _fit(peers: List[Timing], params: float) -> Optional[Tuple[float, float]]:
  """Seconds per seed-epoch = a + b · parameters through ≥ 2 measured sizes; None unless the
  time rises with size and the line is positive at `params`."""
  sizes = {t.params for t in peers}
  if len(sizes) < 2 or None in sizes:
    return None
  x = np.array([t.params for t in peers])
  y = np.array([t.seconds / _work(t.settings) for t in peers])
  b, a = np.polyfit(x, y, 1)
  return (float(a), float(b)) if b > 0 and a + b * params > 0 else None


def _ratio(label: str, new: float, old: float) -> str:
  return "" if new == old else f"{label} x{new / old:.3g}"


def _minutes(seconds: float) -> str:
  return f"{seconds / 60:.1f} min"


def _also(other: List[str]) -> str:
  return f"; also differs: {', '.join(other[:3])}{'…' if len(other) > 3 else ''}" if other else ""


def estimate(name: str, config_file: str, tier: str, settings: Optional[dict],
             params: Optional[float], timings: Sequence[Timing]) -> Estimate:
  """The run's cost: measured at this tier; else a line through the times (per seed and epoch)
  of the sizes measured at this tier with otherwise the same settings; else the measured run
  nearest in size, scaled.

  settings: the run's config at `tier`, flattened (None when it could not be loaded)."""
  own = next((t for t in timings if t.name == name and t.tier == tier), None)
  if own:
    return Estimate(own.seconds, "measured", "measured")
  if settings is None:
    return Estimate(None, "no estimate: its config did not load", "none")
  found = _scaled(config_file, tier, settings, params, timings)
  open_ended = settings.get(STOP_AFTER) is not None or settings.get(HOLD) is not None
  return dataclasses.replace(found, at_least=open_ended and found.seconds is not None)


def _scaled(config_file: str, tier: str, settings: dict, params: Optional[float],
            timings: Sequence[Timing]) -> Estimate:
  """estimate's scaling from measured runs of the same config file and data."""
  comparable = [t for t in timings if t.config_file == config_file and _comparable(t, settings)]
  if not comparable:
    return Estimate(None, f"no estimate: no run of {config_file} on the same data and model "
                          "has been measured", "none")
  peers = [t for t in comparable if t.tier == tier and not _diffs(t.settings, settings)]
  line = _fit(peers, params) if params else None
  if line:
    a, b = line
    names = ", ".join(t.name for t in sorted(peers, key=lambda t: t.params))
    return Estimate((a + b * params) * _work(settings), f"per seed-epoch {a:.3g} s + {b:.3g} s "
                    f"per parameter, fitted to {names}", "scaled")

  def distance(t):  # Nearest size, then fewest other differences, then this tier.
    size = abs(math.log(params / t.params)) if params and t.params else 0.0
    return (round(size, 6), len(_diffs(t.settings, settings)), t.tier != tier)
  best = min(comparable, key=distance)
  sized = params and best.params
  factors = [_ratio("parameters", params, best.params) if sized else "",
             _ratio("seeds", _count(settings, SEEDS), _count(best.settings, SEEDS)),
             _ratio("epochs", _epochs(settings), _epochs(best.settings))]
  scale = (params / best.params if sized else 1.0) * _work(settings) / _work(best.settings)
  where = "" if best.tier == tier else f" at tier {best.tier}"
  return Estimate(best.seconds * scale,
                  f"from {best.name}{where} ({_minutes(best.seconds)}): "
                  + (", ".join(f for f in factors if f) or "same settings")
                  + _also(_diffs(best.settings, settings)), "scaled")
