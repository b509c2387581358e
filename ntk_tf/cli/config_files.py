"""Loading config files: `configs/<name>.py[:arg]` (shipped in ntk_tf/configs) or any path.

A config file defines get_config(arg=None) -> ml_collections.ConfigDict and may import the
shared blocks of `ntk_tf.configs.common`.
"""

import importlib.util
import inspect
import os
import re
import traceback
from typing import List

from ntk_tf.errors import ConfigError


PACKAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs")


def configs_dir() -> str:
  """The configs shipped inside the package (ntk_tf/configs; `configs/` in a checkout links
  there)."""
  return PACKAGE_DIR


def resolve(config_path: str) -> str:
  """The file a `--config` value names, with its `:arg`: the path itself where it exists, else
  the shipped config of that name (`configs/lenet_mnist.py`, `lenet_mnist.py` and
  `lenet_mnist` all name ntk_tf/configs/lenet_mnist.py), so that the documented commands work
  from any folder once the package is installed. A name found nowhere is returned as given."""
  filename, colon, arg = config_path.partition(":")
  if os.path.exists(filename):
    return config_path
  name = os.path.basename(filename)
  name = name if name.endswith(".py") else name + ".py"
  shipped = os.path.join(PACKAGE_DIR, name)
  if os.path.dirname(filename) in ("", "configs") and os.path.exists(shipped) and \
      name not in ("__init__.py", "common.py"):
    return shipped + colon + arg
  return config_path


def display_name(path: str) -> str:
  """`configs/<name>.py` for a shipped config (as the docs write it), else the path given."""
  if os.path.dirname(os.path.abspath(path)) == PACKAGE_DIR:
    return os.path.join("configs", os.path.basename(path))
  return path


def available(full_paths: bool = False) -> List[str]:
  """The experiment config files shipped in ntk_tf/configs (not common.py or __init__.py)."""
  names = sorted(f for f in os.listdir(PACKAGE_DIR)
                 if f.endswith(".py") and f not in ("__init__.py", "common.py"))
  return [os.path.join(PACKAGE_DIR, f) if full_paths else f for f in names]


def _where_it_failed(filename: str, error: BaseException) -> str:
  """'configs/x.py, line 12' from an exception raised while running the file."""
  if isinstance(error, SyntaxError) and error.lineno:
    return f"{filename}, line {error.lineno}"
  frames = [f for f in traceback.extract_tb(error.__traceback__)
            if os.path.abspath(f.filename) == os.path.abspath(filename)]
  return f"{filename}, line {frames[-1].lineno}" if frames else filename


def load_module(config_path: str, name: str = "_ntk_tf_config"):
  """The config file (`file.py` or `file.py:arg`, or a shipped config's name: resolve) as a
  module (get_config, sweep)."""
  filename = resolve(config_path).split(":")[0]
  if not os.path.exists(filename):
    raise ConfigError(f"config file {filename} does not exist; give a path or the name of a "
                      f"shipped config: {', '.join(available())} (ntk-tf --list describes "
                      "them).")
  spec = importlib.util.spec_from_file_location(name, filename)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as e:  # pylint: disable=broad-except
    raise ConfigError(f"config file {_where_it_failed(filename, e)}: "
                      f"{type(e).__name__}: {e}; fix the file.") from e
  return module


def load_config(config_path: str):
  """get_config(arg) of `file.py:arg` (get_config() without an argument)."""
  module = load_module(config_path)
  filename, _, arg = config_path.partition(":")
  if not callable(getattr(module, "get_config", None)):
    raise ConfigError(f"config file {filename} has no get_config(); a config file defines "
                      "get_config() returning an ml_collections.ConfigDict (see "
                      "configs/quickstart.py).")
  if arg and not inspect.signature(module.get_config).parameters:
    raise ConfigError(f"{config_path}: this config takes no argument; drop ':{arg}'.")
  try:
    return module.get_config(arg) if arg else module.get_config()
  except ValueError as e:  # A bad tier argument (configs/common.parse_tier).
    raise ConfigError(f"{config_path}: {e}") from e
  except Exception as e:  # pylint: disable=broad-except
    raise ConfigError(f"config file {_where_it_failed(filename, e)}: get_config() raised "
                      f"{type(e).__name__}: {e}; fix the file.") from e


def _docstring_field(doc: str, field: str) -> str:
  """The text after 'Field:' in a config docstring, up to the next field, on one line."""
  lines, found = [], False
  for line in doc.splitlines():
    head = line.split(":", 1)[0].strip()
    if found and line and not line.startswith(" ") and head and " " not in head:
      break  # The next 'Field:' line.
    if found:
      if not line.strip():
        break
      lines.append(line.strip())
    elif line.startswith(field + ":"):
      found = True
      lines.append(line.split(":", 1)[1].strip())
  return " ".join(lines)


def _first_sentence(text: str, limit: int = 100) -> str:
  """Up to the first '; ' or sentence end (not after 'al.', 'Fig.', 'e.g.'), at most `limit`."""
  text = re.split(r"; |(?<!\bal)(?<!\bFig)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)\. ", text)[0]
  return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def describe(path: str) -> dict:
  """{config, experiment, summary, reproduces, runtime} of a config file, from its docstring
  and get_config() (no TensorFlow needed). `reproduces` is the paper reference in parentheses
  of the docstring's first paragraph, else the first clause of its 'Paper:' field."""
  module = load_module(path, name="_ntk_tf_listed_config")
  doc = (module.__doc__ or "").strip()
  try:
    experiment = module.get_config().experiment
  except Exception:  # pylint: disable=broad-except
    experiment = "?"
  first = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
  reference = re.search(r"\(([^()]*\b(?:19|20)\d\d\b[^()]*)\)", first)
  summary = first[:reference.start()].rstrip(" ,") if reference else first
  reproduces = reference.group(1) if reference else _first_sentence(
      _docstring_field(doc, "Paper").split(": ")[0])
  return {"config": display_name(path), "experiment": experiment,
          "summary": _first_sentence(summary.rstrip(".")), "reproduces": reproduces,
          "runtime": _first_sentence(_docstring_field(doc, "Runtime"))}
