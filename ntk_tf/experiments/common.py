"""Config sections and workdir handling shared by the experiments."""

import dataclasses
import json
import math
import os
import shutil

import ml_collections

from ntk_tf import data, distribute, io, memory, models
from ntk_tf.errors import ConfigError
from ntk_tf.paired_training import TrainConfig


def model_config() -> ml_collections.ConfigDict:
  """The `config.model` section."""
  c = ml_collections.ConfigDict()
  c.name = "lenet"
  c.width = 1
  c.parameterization = "standard"   # "standard" (PyTorch init) or "ntk".
  c.w_std = math.sqrt(2.0)          # NTK parameterization only.
  c.b_std = 0.0
  c.depth = ml_collections.FieldReference(None, field_type=int)  # mlp, cnn_v, cnn_gap.
  return c


def train_config() -> ml_collections.ConfigDict:
  """The `config.train` section: every field of paired_training.TrainConfig."""
  c = ml_collections.ConfigDict()
  for field in dataclasses.fields(TrainConfig):
    value = field.default
    if value is None:
      kind = int if field.name in ("lr_decay_every", "checkpoint_every_steps") else float
      value = ml_collections.FieldReference(None, field_type=kind)
    c[field.name] = value
  return c


def check_keys(section: ml_collections.ConfigDict, defaults: ml_collections.ConfigDict,
               name: str):
  unknown = sorted(set(section.keys()) - set(defaults.keys()))
  if unknown:
    where = f"config.{name}" if name else "config"
    raise ConfigError(f"unknown key(s) {unknown} in {where}; valid keys: "
                      f"{', '.join(sorted(defaults.keys()))}.")


def _architecture_options(cfg: ml_collections.ConfigDict) -> dict:
  """The keyword options a `config.model` section passes to the architecture (depth)."""
  return {} if cfg.get("depth") is None else {"depth": cfg.depth}


def _check_input(cfg, width, dataset_cfg):
  """The model against the data's input shape (known from the config), before any loading."""
  if dataset_cfg is None:
    return
  try:
    models.check_input(cfg.name, width, data.input_shape(dataset_cfg),
                       **_architecture_options(cfg))
  except ConfigError as e:
    raise ConfigError(f"{e} (dataset {dataset_cfg.name!r} has inputs of shape "
                      f"{data.input_shape(dataset_cfg)})") from e


def _jit_fields(config, prefix="config") -> list:
  """Paths of every jit_compile=True in `config`."""
  out = []
  for key, value in config.items():
    if isinstance(value, ml_collections.ConfigDict):
      out += _jit_fields(value, f"{prefix}.{key}")
    elif key == "jit_compile" and value:
      out.append(f"{prefix}.{key}")
  return out


def check_determinism(config: ml_collections.ConfigDict):
  """Refuses config.deterministic with XLA on a model whose max-pool gradient has no
  deterministic XLA kernel (AlexNet), before any work; TensorFlow would fail at the first step."""
  if not config.get("deterministic", False) or "model" not in config or "dataset" not in config:
    return
  jit = _jit_fields(config)
  m = config.model
  width = m.widths[0] if "widths" in m else m.width
  if jit and models.has_overlapping_max_pool(m.name, width, data.input_shape(config.dataset),
                                             **_architecture_options(m)):
    raise ConfigError(
        f"config.deterministic=True with {', '.join(f'{f}=True' for f in jit)}: model "
        f"{m.name!r} has overlapping max-pooling, whose gradient has no deterministic XLA "
        f"kernel. Set {' and '.join(f'{f}=False' for f in jit)}, or deterministic=False (XLA "
        "on the CPU gives identical results run to run anyway).")


def validate_model(cfg: ml_collections.ConfigDict, dataset_cfg=None):
  check_keys(cfg, model_config(), "model")
  models.validate(cfg.name, cfg.width, cfg.get("parameterization", "standard"))
  _check_input(cfg, cfg.width, dataset_cfg)


def validate_model_widths(cfg: ml_collections.ConfigDict, dtype: str = "float32",
                          dataset_cfg=None):
  """A `config.model` section that lists `widths` instead of one `width` (sweep experiments)."""
  defaults = model_config()
  defaults.widths = (1,)
  check_keys(cfg, defaults, "model")
  if not tuple(cfg.widths):
    raise ConfigError("model.widths is empty; give at least one width, e.g. (1,).")
  for width in cfg.widths:
    models.validate(cfg.name, width, cfg.parameterization, dtype)
    _check_input(cfg, width, dataset_cfg)


def model_at_width(cfg: ml_collections.ConfigDict, width: int) -> ml_collections.ConfigDict:
  """The `config.model` of a width sweep as a single-width section for `build_model`."""
  out = ml_collections.ConfigDict(cfg.to_dict())
  del out["widths"]
  out.width = int(width)
  return out


def validate_train(cfg: ml_collections.ConfigDict) -> TrainConfig:
  check_keys(cfg, train_config(), "train")
  tc = TrainConfig(**{k: v for k, v in cfg.items()})
  for key in ("epochs", "batch_size", "eval_batch_size"):
    value = getattr(tc, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
      raise ConfigError(f"train.{key}={value!r} must be a positive integer.")
  for key in ("learning_rate", "linearized_learning_rate"):
    value = getattr(tc, key)
    if value is not None and not (value > 0 and math.isfinite(value)):
      raise ConfigError(f"train.{key}={value!r} must be a positive number.")
  for key in ("momentum", "weight_decay", "linearized_weight_decay"):
    value = getattr(tc, key)
    if value is not None and not value >= 0:
      raise ConfigError(f"train.{key}={value!r} must be >= 0.")
  return tc


def kernel_devices(config):
  """Where kernel blocks run: the devices of `config.distribute`'s strategy (None: every GPU
  when there are several, else TensorFlow's placement)."""
  name = config.get("distribute", "default")
  return None if name == "default" else distribute.get_strategy(name)


def build_model(cfg: ml_collections.ConfigDict, input_shape, num_outputs: int, seed: int,
                dtype: str = "float32"):
  return models.build(cfg.name, width=cfg.width, input_shape=input_shape,
                      num_outputs=num_outputs, seed=seed, dtype=dtype,
                      parameterization=cfg.parameterization, w_std=cfg.w_std, b_std=cfg.b_std,
                      **_architecture_options(cfg))


def check_training_memory(cfg: ml_collections.ConfigDict, input_shape, num_outputs: int,
                          batch_size: int, eval_batch_size: int, dtype: str = "float32",
                          paired: bool = True, jit_compile: bool = True,
                          what: str = "paired training"):
  """Refuses, before any weights exist, training that would not fit in memory (memory.py)."""
  fp = models.footprint(cfg.name, cfg.width, input_shape, num_outputs,
                        **_architecture_options(cfg))
  need = memory.training_bytes(fp.num_params, fp.activations_per_sample, batch_size,
                               eval_batch_size, 8 if dtype == "float64" else 4, paired,
                               jit_compile, fp.peak_layer_activations)
  memory.check(need, f"{what} of {cfg.name} x{cfg.width}",
               memory.describe_training(fp.num_params, batch_size), device="accelerator")


def _normalized(config_dict) -> dict:
  return json.loads(json.dumps(config_dict, default=list))


def _differences(a, b, prefix="config"):
  if isinstance(a, dict) and isinstance(b, dict):
    out = []
    for key in sorted(set(a) | set(b)):
      out += _differences(a.get(key), b.get(key), f"{prefix}.{key}")
    return out
  return [] if a == b else [prefix]


def prepare_workdir(config: ml_collections.ConfigDict, workdir: str, overwrite: bool = False):
  """Refuses a workdir that holds a run of a different config unless `overwrite`.

  The same config resumes (or returns at once if it had finished).
  """
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    return
  old, new = _normalized(io.read_json(path)), _normalized(config.to_dict())
  diff = _differences(old, new)
  if not diff:
    return
  finished = os.path.exists(os.path.join(workdir, "results.json"))
  if not overwrite:
    raise ConfigError(
        f"workdir {workdir} holds a {'finished' if finished else 'partial'} run of a different "
        f"config (differs in {', '.join(diff[:5])}{' ...' if len(diff) > 5 else ''}); use "
        "another --workdir, or pass --overwrite to delete that run and start afresh.")
  for entry in os.listdir(workdir):
    full = os.path.join(workdir, entry)
    shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)

