"""Loading config files: `configs/<name>.py[:arg]`, which may import `configs.common`."""

import importlib.util
import inspect
import os
import sys

from ntk_tf.errors import ConfigError


def add_root(config_path: str):
  """Puts the folder holding `configs/` on sys.path so `from configs import common` works."""
  filename = config_path.split(":")[0]
  root = os.path.dirname(os.path.dirname(os.path.abspath(filename)))
  if root not in sys.path:
    sys.path.insert(0, root)


def load_module(config_path: str, name: str = "_ntk_tf_config"):
  """The config file (`file.py` or `file.py:arg`) as a module (get_config, sweep)."""
  filename = config_path.split(":")[0]
  if not os.path.exists(filename):
    raise ConfigError(f"config file {filename} does not exist.")
  add_root(filename)
  spec = importlib.util.spec_from_file_location(name, filename)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def load_config(config_path: str):
  """get_config(arg) of `file.py:arg` (get_config() without an argument)."""
  module = load_module(config_path)
  _, _, arg = config_path.partition(":")
  if arg and not inspect.signature(module.get_config).parameters:
    raise ConfigError(f"{config_path}: this config takes no argument; drop ':{arg}'.")
  try:
    return module.get_config(arg) if arg else module.get_config()
  except ValueError as e:  # A bad tier argument (configs/common.parse_tier).
    raise ConfigError(f"{config_path}: {e}") from e
