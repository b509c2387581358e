"""The experiment contract: `validate(config) -> Spec` once, `run(spec, workdir) -> Results`.

Every experiment module has `default_config()` (from the TensorFlow-free `defaults`),
`validate(config) -> Spec` (every check that needs no data) and `run(spec, workdir) ->
Results`. `launch.launch` is the one caller that goes from a config to a result; `run` also
takes a bare config (library use), which it validates itself. `Results` is what results.json
holds, read and written only through here (`read`, `write`, `from_json`, `to_json`), with
`table()` the experiment's own text table; it reads like the dict it wraps, so the files'
schema and every reader of it stay as they are. This module imports no TensorFlow.
"""

import dataclasses
import importlib
import json
import os
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Optional, Tuple

import ml_collections

from ntk_tf.errors import DataError
from ntk_tf.training.config import TrainConfig
from ntk_tf.utils import io

RESULTS_FILE = "results.json"


@dataclasses.dataclass(frozen=True)
class Spec:
  """A config its experiment has validated; `run` takes this, so validation runs once.

  config: the validated config (the experiment reads its sections from it).
  train: the paired runs' hyperparameters, parsed (compare, binary_solver).
  seeds: the initializations to run, in order.
  """
  experiment: str
  config: ml_collections.ConfigDict
  train: Optional[TrainConfig] = None
  seeds: Tuple[int, ...] = ()


def spec_of(spec_or_config, validate: Callable) -> Spec:
  """`spec_or_config` as a Spec: a Spec as it is, a bare config validated by `validate`."""
  if isinstance(spec_or_config, Spec):
    return spec_or_config
  return validate(spec_or_config)


def seeds_of(config) -> Tuple[int, ...]:
  """config.seeds if given, else (config.seed,)."""
  seeds = config.get("seeds")
  return tuple(int(s) for s in seeds) if seeds else (int(config.seed),)


# Each experiment's text table of its results: "module:function(results dict) -> str".
TABLES = {
    "compare": "ntk_tf.experiments.compare:format_table",
    "binary_solver": "ntk_tf.experiments.binary_solver:format_table",
    "scaling_law": "ntk_tf.experiments.scaling_law:format_report",
    "after_kernel": "ntk_tf.experiments.after_kernel:format_report",
    "time_dynamics": "ntk_tf.experiments.time_dynamics:format_report",
}


@dataclasses.dataclass(frozen=True)
class Results(Mapping):
  """An experiment's results: the contents of its results.json, by experiment name."""
  experiment: str
  values: dict

  def __getitem__(self, key: str) -> Any:
    return self.values[key]

  def __iter__(self) -> Iterator[str]:
    return iter(self.values)

  def __len__(self) -> int:
    return len(self.values)

  def to_json(self) -> dict:
    return self.values

  @classmethod
  def from_json(cls, values: dict) -> "Results":
    if not isinstance(values, dict) or "experiment" not in values:
      raise DataError("a results.json without an 'experiment' key: not written by ntk_tf; "
                      "rerun the experiment.")
    return cls(values["experiment"], values)

  @classmethod
  def read(cls, workdir: str) -> "Results":
    """The results in `workdir`/results.json."""
    path = os.path.join(workdir, RESULTS_FILE)
    try:
      return cls.from_json(io.read_json(path))
    except (OSError, json.JSONDecodeError) as e:
      raise DataError(f"{path} cannot be read ({e}); rerun the experiment into that "
                      "workdir.") from e

  def write(self, workdir: str) -> str:
    """Writes results.json (atomically); its path."""
    path = os.path.join(workdir, RESULTS_FILE)
    io.write_json(path, self.values)
    return path

  def table(self) -> str:
    """The experiment's own text table (its format function), else its scalar values."""
    where = TABLES.get(self.experiment)
    if where:
      module, _, name = where.partition(":")
      return getattr(importlib.import_module(module), name)(self.values)
    return "\n".join(f"{k}: {v}" for k, v in self.values.items()
                     if isinstance(v, (int, float, str)))
