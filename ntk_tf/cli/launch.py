"""From a config to a result, the one way: `main`, sweep cells and reproduction runs all call here.

    config = launch.load("configs/lenet_mnist.py:cpu", {"model.width": 5})
    results = launch.launch(config, "workdirs/lenet_mnist_x5")

`load` builds a config file's config and applies dotted overrides (ml_collections' own
`update_from_flattened_dict` on a locked copy, so an unknown key is refused, not added);
`launch` validates it once (the experiment's `validate`, then the determinism check), prepares
the workdir (a workdir holding another config's run is refused unless `overwrite`), sets up the
platform, writes config.json and returns `experiment.run(spec, workdir)`. Every problem the user
can fix is one ConfigError raised before any data is read.
"""

import copy
import os
import tempfile
from typing import Dict, Optional

import ml_collections
from absl import logging

from ntk_tf import experiments
from ntk_tf.cli import config_files
from ntk_tf.errors import ConfigError, NtkTfError
from ntk_tf.utils import io


def unknown_key(config: ml_collections.ConfigDict, key: str) -> Optional[str]:
  """Why dotted `key` names no field of `config` (with the valid keys there), or None."""
  node, prefix = config, "config"
  for part in key.split("."):
    if not hasattr(node, "keys") or part not in node:
      valid = ", ".join(sorted(node.keys())) if hasattr(node, "keys") else "(none: a leaf)"
      return f"{prefix} has no key {part!r}; valid keys of {prefix}: {valid}"
    node, prefix = node[part], f"{prefix}.{part}"
  return None


def with_overrides(config: ml_collections.ConfigDict, overrides: Dict,
                   what: str = "override") -> ml_collections.ConfigDict:
  """A copy of `config` with dotted overrides ({"model.width": 5}); lists become tuples. An
  unknown key or a value of the wrong type is one ConfigError naming the key."""
  out = copy.deepcopy(config)
  out.lock()
  for key, value in overrides.items():
    reason = unknown_key(out, key)
    if reason:
      raise ConfigError(f"{what} {key!r}: {reason}.")
    try:
      out.update_from_flattened_dict({key: tuple(value) if isinstance(value, list) else value})
    except (TypeError, ValueError, KeyError, AttributeError) as e:
      raise ConfigError(f"{what} {key}={value!r}: {e}; give a value of the field's type.") from e
  return out


def load(config_path: str, overrides: Optional[Dict] = None) -> ml_collections.ConfigDict:
  """The config of `file.py[:arg]` (or a shipped config's name) with dotted overrides."""
  return with_overrides(config_files.load_config(config_path), overrides or {})


def validate(config: ml_collections.ConfigDict):
  """The experiment's Spec of `config`: every check that needs no data, run once."""
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  experiment = experiments.get(config.experiment)
  spec = experiment.validate(config)
  common.check_determinism(config)
  return spec


def check_workdir(workdir: str) -> None:
  """Creates the workdir and proves it writable, or one ConfigError saying what to do."""
  try:
    os.makedirs(workdir, exist_ok=True)
    with tempfile.TemporaryFile(dir=workdir):
      pass
  except OSError as e:
    raise ConfigError(f"workdir {workdir} cannot be created or written ({e.strerror or e}); "
                      "pass --workdir=<a directory you can write to>.") from e


def setup_platform(config) -> None:
  """Logs the devices, applies the config's determinism setting."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  if config.get("deterministic", False):
    tf.config.experimental.enable_op_determinism()
  logging.info("TensorFlow %s; devices: %s", tf.__version__,
               [d.name for d in tf.config.list_logical_devices()])


def launch(config: ml_collections.ConfigDict, workdir: str, overwrite: bool = False):
  """Validates `config` once, prepares `workdir` and runs the experiment; its results."""
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  spec = validate(config)
  check_workdir(workdir)
  common.prepare_workdir(config, workdir, overwrite=overwrite)
  setup_platform(config)
  io.write_json(os.path.join(workdir, "config.json"), config.to_dict())
  return experiments.get(config.experiment).run(spec, workdir)


def launch_logged(config: ml_collections.ConfigDict, workdir: str) -> bool:
  """launch() for a job runner: a user-fixable error goes to <workdir>/log.txt; success."""
  try:
    launch(config, workdir)
    return True
  except NtkTfError as e:
    logging.error("%s: %s", workdir, e)
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "log.txt"), "a") as f:
      f.write(f"ntk_tf: error: {e}\n")
    return False
