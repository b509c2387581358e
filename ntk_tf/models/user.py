"""A user's own Keras model in an experiment: `config.model.name = "package.module:function"` or
`"path/to/file.py:function"` (a relative path is read from the current directory).

The function is called as `function(input_shape, num_outputs, seed)` — with `dtype=` too if it
takes a `dtype` keyword — and returns a built keras.Model mapping (batch,) + input_shape to
(batch, num_outputs). Keras' global seeds are set to `seed` first, so a function that leaves
its initializers unseeded is still reproducible. The function fixes the network's size and
initialization: width factors and the NTK parameterization apply to the built-in architectures
only, so a user model runs at width 1 with parameterization "standard" (its own).
"""

import dataclasses
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from typing import Callable, Tuple

import keras
import numpy as np

from ntk_tf.errors import ConfigError
from ntk_tf.models import traced

_FILE_MODULES = {}  # (absolute path, modification time) -> the module loaded from that file.
_PROBES = {}        # (name, input shape, num_outputs, source stamp) -> Probe.
_MAX_POOLS = (keras.layers.MaxPooling1D, keras.layers.MaxPooling2D, keras.layers.MaxPooling3D)


def _split(name: str) -> Tuple[str, str]:
  target, _, function = name.rpartition(":")
  if not target or not function.isidentifier():
    raise ConfigError(f"model.name={name!r}: a user model is 'package.module:function' or "
                      "'path/to/file.py:function' (the function's name after the last ':').")
  return target, function


def _is_file(target: str) -> bool:
  return target.endswith(".py") or "/" in target or os.sep in target


def _describe(error: BaseException) -> str:
  """The error and where it was raised (the innermost frame), for a one-line message."""
  where = ""
  frames = traceback.extract_tb(error.__traceback__)
  if frames:
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})"
  return f"{type(error).__name__}: {error}{where}"


def _load_file(path: str, name: str):
  full = os.path.abspath(path)
  if not os.path.isfile(full):
    raise ConfigError(f"model.name={name!r}: file {path} does not exist (a relative path is "
                      f"read from the current directory, {os.getcwd()}); give the .py file "
                      "that defines the function, or 'package.module:function'.")
  key = (full, os.path.getmtime(full))
  if key not in _FILE_MODULES:
    module_name = "ntk_tf_user_model_" + hashlib.sha1(full.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # As an import would (dataclasses, pickling need it).
    try:
      spec.loader.exec_module(module)
    except Exception as e:  # pylint: disable=broad-except  # The user's code: any error.
      del sys.modules[module_name]
      raise ConfigError(f"model.name={name!r}: loading {path} failed: {_describe(e)}") from e
    _FILE_MODULES[key] = module
  return _FILE_MODULES[key]


def _import(target: str, name: str, function: str):
  try:
    return importlib.import_module(target)
  except ModuleNotFoundError as e:
    if e.name and (target == e.name or target.startswith(e.name + ".")):
      raise ConfigError(
          f"model.name={name!r}: no module {target!r} on the Python path (no module named "
          f"{e.name!r}). Install the package, run from the directory that holds it or add that "
          f"to PYTHONPATH, or give the file instead: 'path/to/file.py:{function}'.") from e
    raise ConfigError(f"model.name={name!r}: importing {target} failed: {_describe(e)}") from e
  except Exception as e:  # pylint: disable=broad-except  # The user's code: any error.
    raise ConfigError(f"model.name={name!r}: importing {target} failed: {_describe(e)}") from e


def resolve(name: str) -> Callable:
  """The user's function named by `name` (module imported or file loaded); ConfigError if the
  module, file or function is missing or the function cannot take (input_shape, num_outputs,
  seed)."""
  target, function = _split(name)
  if _is_file(target):
    module, where = _load_file(target, name), f"file {target}"
  else:
    module, where = _import(target, name, function), f"module {target}"
  fn = getattr(module, function, None)
  if fn is None or not callable(fn):
    defined = sorted(n for n, v in vars(module).items() if inspect.isfunction(v)
                     and v.__module__ == module.__name__ and not n.startswith("_"))
    what = "has no function" if fn is None else "has a non-callable"
    raise ConfigError(f"model.name={name!r}: {where} {what} {function!r}; functions it "
                      f"defines: {', '.join(defined) or 'none'}.")
  try:
    signature = inspect.signature(fn)
  except (TypeError, ValueError):
    return fn  # A builtin or C callable: nothing to check before calling it.
  try:
    signature.bind((1,), 1, 0)
  except TypeError as e:
    raise ConfigError(f"model.name={name!r}: {function}{signature} must take "
                      "(input_shape, num_outputs, seed) as its first three arguments "
                      f"({e}).") from e
  return fn


def takes_dtype(fn: Callable) -> bool:
  """Whether `fn` accepts a `dtype` keyword (a parameter named dtype, or **kwargs)."""
  try:
    parameters = inspect.signature(fn).parameters.values()
  except (TypeError, ValueError):
    return False
  return any((p.name == "dtype" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
             or p.kind == p.VAR_KEYWORD for p in parameters)


def _check_dtype(name: str, fn: Callable, dtype: str):
  if dtype != "float32" and not takes_dtype(fn):
    function = _split(name)[1]
    raise ConfigError(
        f"model.name={name!r}: this run builds the model in {dtype}, but {function}() takes no "
        f"dtype keyword. Add a `dtype=\"float32\"` argument to {function} and pass it to "
        "keras.Input and every layer (dtype=dtype), or run in float32 (config.dtype, "
        "solver.dtypes).")


def validate(name: str, width, parameterization: str = "standard", dtype: str = "float32",
             options=None):
  """The checks that need no input shape: the function exists and takes these arguments."""
  fn = resolve(name)
  function = _split(name)[1]
  if width != 1:
    raise ConfigError(
        f"model.width={width!r}: a user model ({name}) has no width factor, {function}() builds "
        "the network at its one size. Set model.width=1 (model.widths=(1,) in spectrum and "
        f"binary_solver) and change the size inside {function}; width sweeps are for the "
        "built-in architectures.")
  if parameterization != "standard":
    raise ConfigError(
        f"model.parameterization={parameterization!r}: a user model is initialized by its "
        f"function ({function}), so the NTK parameterization cannot be imposed; set "
        "model.parameterization='standard' (the model as the function builds it).")
  if options:
    raise ConfigError(f"model.{', model.'.join(sorted(options))} applies to the built-in "
                      f"architectures only; a user model ({name}) takes no options: leave "
                      "them unset.")
  _check_dtype(name, fn, dtype)


def _check_model(model, name: str, call: str, input_shape: tuple, num_outputs: int,
                 dtype: str):
  """ConfigError unless `model` is a built keras.Model of one input of `input_shape` and
  outputs (batch, num_outputs) with weights in `dtype`."""
  where = f"model.name={name!r}: {call}"
  if not isinstance(model, keras.Model):
    raise ConfigError(f"{where} returned {type(model).__name__}, not a keras.Model; return the "
                      "model, e.g. keras.Model(inputs, outputs).")
  if not model.built or not model.trainable_weights:
    raise ConfigError(f"{where} returned a keras.Model without weights (not built); start it "
                      "from keras.Input(shape=input_shape), or call it once on a batch before "
                      "returning it.")
  try:
    declared = model.input_shape
  except (AttributeError, ValueError):
    declared = None  # A subclassed model: the call below checks the shape.
  if isinstance(declared, (list, dict)):
    if len(declared) != 1:
      raise ConfigError(f"{where} returned a model of {len(declared)} inputs; experiments feed "
                        f"one array of shape (batch,) + {input_shape}.")
    declared = next(iter(declared.values() if isinstance(declared, dict) else declared))
  if declared is not None and (len(declared) != len(input_shape) + 1 or any(
      d is not None and int(d) != s for d, s in zip(declared[1:], input_shape))):
    raise ConfigError(f"{where}: the model's input shape {declared} does not match the data's "
                      f"(None,) + {input_shape}; build keras.Input(shape=input_shape) from the "
                      "argument instead of a fixed shape.")
  try:
    out = model(np.zeros((2,) + input_shape, dtype), training=False)
  except Exception as e:  # pylint: disable=broad-except  # Any failure of the user's model.
    raise ConfigError(f"{where}: the model fails on inputs of shape (batch,) + {input_shape} "
                      f"({_describe(e)}).") from e
  if isinstance(out, (list, tuple, dict)):
    raise ConfigError(f"{where} returned a model of several outputs; experiments need one "
                      f"(batch, {num_outputs}) output.")
  if tuple(out.shape) != (2, num_outputs):
    raise ConfigError(f"{where}: the model's output has shape (batch,) + "
                      f"{tuple(out.shape)[1:]}, not (batch, {num_outputs}); end it with "
                      "keras.layers.Dense(num_outputs) on a flat input (Flatten or global "
                      "pooling before it).")
  wrong = sorted({str(v.dtype) for v in model.trainable_weights} - {dtype})
  if wrong:
    raise ConfigError(f"{where}: the model's weights are {', '.join(wrong)}, not {dtype}; pass "
                      "dtype to keras.Input and to every layer.")


def build(name: str, input_shape, num_outputs: int, seed: int = 0,
          dtype: str = "float32") -> keras.Model:
  """`function(input_shape, num_outputs, seed[, dtype=dtype])`, checked (see _check_model)."""
  fn, function = resolve(name), _split(name)[1]
  _check_dtype(name, fn, dtype)
  input_shape, num_outputs, seed = tuple(int(d) for d in input_shape), int(num_outputs), int(seed)
  kwargs = {"dtype": dtype} if takes_dtype(fn) else {}
  call = (f"{function}({input_shape}, {num_outputs}, {seed}"
          + (f", dtype={dtype!r})" if kwargs else ")"))
  keras.utils.set_random_seed(seed)
  try:
    model = fn(input_shape, num_outputs, seed, **kwargs)
  except Exception as e:  # pylint: disable=broad-except  # The user's code: any error.
    raise ConfigError(f"model.name={name!r}: {call} raised {_describe(e)}") from e
  _check_model(model, name, call, input_shape, num_outputs, dtype)
  return model


@dataclasses.dataclass(frozen=True)
class Probe:
  """What a user model occupies and uses, from one float32 build at seed 0."""
  num_params: int
  activations_per_sample: int
  peak_layer_activations: int
  overlapping_max_pool: bool


def _all_layers(layer):
  for sub in getattr(layer, "layers", ()):
    yield sub
    yield from _all_layers(sub)


def _overlapping(layer) -> bool:
  if not isinstance(layer, _MAX_POOLS):
    return False
  strides = layer.strides or layer.pool_size
  return any(s < p for s, p in zip(strides, layer.pool_size))


def probe(name: str, input_shape, num_outputs: int = 1, options=None) -> Probe:
  """Builds the user model once (cached per name, shape and source file) and measures it:
  every check of `build`, so a bad function fails here, before any data is read."""
  if options:
    validate(name, 1, options=options)
  target = _split(name)[0]
  stamp = os.path.getmtime(target) if _is_file(target) and os.path.isfile(target) else None
  key = (name, tuple(int(d) for d in input_shape), int(num_outputs), stamp)
  if key not in _PROBES:
    model = build(name, input_shape, num_outputs, seed=0, dtype="float32")
    total, peak = traced.activation_sizes(model, key[1])
    _PROBES[key] = Probe(
        num_params=int(sum(int(np.prod(v.shape)) for v in model.trainable_weights)),
        activations_per_sample=int(total), peak_layer_activations=int(peak),
        overlapping_max_pool=any(_overlapping(layer) for layer in _all_layers(model)))
  return _PROBES[key]
