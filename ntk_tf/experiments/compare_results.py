"""The compare experiment's results.json, read in one place.

A compare run (`ntk_tf/experiments/compare.py`) writes `per_seed`, one entry per seed with the
final metrics of "standard" (the network) and, when it was trained, "linearized"; beside them
the run's width and the sizes of its train and test sets. The reproduction's claims
(`ntk_tf.reproduction.claims.stats`) and the sweep report (`ntk_tf.report`) both read it
through these functions, so a change of the schema is made here once. TensorFlow-free.
"""

from typing import List, Optional

from ntk_tf.experiments import contract

MODELS = ("standard", "linearized")
SPLITS = ("train", "test")


def number(value):
  """A width read back from JSON: 1 -> 1, 0.25 -> 0.25, "2" -> 2."""
  f = float(value)
  return int(f) if f.is_integer() else f


def width(results: contract.Results):
  """The run's width factor (an int where it is whole)."""
  return number(results["width"])


def seeds(results: contract.Results) -> List[int]:
  return [s["seed"] for s in results["per_seed"]]


def trained(results: contract.Results) -> List[str]:
  """The models the run trained, of "standard" and "linearized"."""
  return [m for m in MODELS if m in results["per_seed"][0]]


def metric(results: contract.Results, model: str, key: str) -> List[float]:
  """A final metric (e.g. "train_loss") of `model` for every seed that trained it."""
  return [s[model][key] for s in results["per_seed"] if model in s]


def accuracies(results: contract.Results, model: str, split: str) -> List[float]:
  """The final `split` accuracy of `model` in percent, one per seed."""
  return [100 * a for a in metric(results, model, f"{split}_accuracy")]


def set_size(results: contract.Results, split: str) -> Optional[int]:
  """The number of train or test examples (None in runs that did not record it)."""
  return results.get(f"num_{split}")



def epochs_trained(results: contract.Results) -> Optional[int]:
  """The most epochs any seed trained: train.epochs, or fewer where train.stop_* stopped every
  seed early (runs made before seeds recorded theirs: train.epochs)."""
  per_seed = [s["epochs"] for s in results.get("per_seed", ()) if "epochs" in s]
  return max(per_seed) if per_seed else results.get("epochs")
