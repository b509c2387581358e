"""Config sections, workdir handling and the results tail shared by the experiments."""

import json
import math
import os
import shutil

import ml_collections
from absl import logging

from ntk_tf import data, models
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import contract
from ntk_tf.experiments.defaults import (early_stopping_train_config, model_config,
                                         train_config)
from ntk_tf.training import learning_curves
from ntk_tf.training.config import TrainConfig
from ntk_tf.utils import distribute, io, memory, model_names


def check_keys(section: ml_collections.ConfigDict, defaults: ml_collections.ConfigDict,
               name: str):
  unknown = sorted(set(section.keys()) - set(defaults.keys()))
  if unknown:
    where = f"config.{name}" if name else "config"
    raise ConfigError(f"unknown key(s) {unknown} in {where}; valid keys: "
                      f"{', '.join(sorted(defaults.keys()))}.")


def architecture_options(cfg: ml_collections.ConfigDict) -> dict:
  """The keyword options a `config.model` section passes to the architecture (depth)."""
  return {} if cfg.get("depth") is None else {"depth": cfg.depth}


def _check_input(cfg, width, dataset_cfg):
  """The model against the data's input shape (known from the config), before any loading."""
  if dataset_cfg is None:
    return
  try:
    models.check_input(cfg.name, width, data.input_shape(dataset_cfg),
                       **architecture_options(cfg))
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
                                             **architecture_options(m)):
    raise ConfigError(
        f"config.deterministic=True with {', '.join(f'{f}=True' for f in jit)}: model "
        f"{m.name!r} has overlapping max-pooling, whose gradient has no deterministic XLA "
        f"kernel. Set {' and '.join(f'{f}=False' for f in jit)}, or deterministic=False (XLA "
        "on the CPU gives identical results run to run anyway).")


def validate_model(cfg: ml_collections.ConfigDict, dataset_cfg=None, dtype: str = "float32"):
  check_keys(cfg, model_config(), "model")
  models.validate(cfg.name, cfg.width, cfg.get("parameterization", "standard"), dtype)
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
  """`cfg` (a `config.model`, with or without `widths`) as the single-width section at `width`."""
  fields = cfg.to_dict()
  fields.pop("widths", None)
  fields["width"] = models.width_factor(width)  # A fractional factor (lenet) stays a float.
  return ml_collections.ConfigDict(fields)


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


def validate_early_stopping_train(cfg: ml_collections.ConfigDict):
  """Checks an `early_stopping_train_config` section."""
  check_keys(cfg, early_stopping_train_config(), "train")
  for key in ("learning_rate", "epochs", "log_factor"):
    if not (cfg[key] > 0 and math.isfinite(cfg[key])):
      raise ConfigError(f"train.{key}={cfg[key]!r} must be a positive number.")
  if not cfg.log_factor > 1:
    raise ConfigError(f"train.log_factor={cfg.log_factor} must be > 1 (Vyas et al.: 1.1).")
  for key in ("batch_size", "eval_batch_size"):
    if isinstance(cfg[key], bool) or not isinstance(cfg[key], int) or cfg[key] < 1:
      raise ConfigError(f"train.{key}={cfg[key]!r} must be a positive integer.")
  if cfg.max_steps is not None and cfg.max_steps < 0:
    raise ConfigError(f"train.max_steps={cfg.max_steps} must be >= 0.")
  if not 0 <= cfg.momentum < 1:
    raise ConfigError(f"train.momentum={cfg.momentum} must be in [0, 1).")
  learning_curves.check_stopping(cfg.stopping)
  if cfg.train_loss_tol is not None and not cfg.train_loss_tol > 0:
    raise ConfigError(f"train.train_loss_tol={cfg.train_loss_tol} must be > 0 (Vyas et al. "
                      "Figs. 2c, 8: 2e-6) or None.")
  if cfg.stopping == "final" and cfg.train_loss_tol is None:
    logging.warning("train.stopping='final' without train.train_loss_tol: the final error is "
                    "the one at the end of the step budget, converged or not.")
  if cfg.loss not in learning_curves.KERNEL_LOSSES:
    raise ConfigError(f"train.loss={cfg.loss!r}: kernel models are trained on an L2 loss; use "
                      f"one of {', '.join(learning_curves.KERNEL_LOSSES)}.")


def validate_vyas(config: ml_collections.ConfigDict, defaults: ml_collections.ConfigDict):
  """Checks shared by scaling_law, after_kernel and time_dynamics."""
  check_keys(config, defaults, "")
  for section in defaults.keys():
    if isinstance(defaults[section], ml_collections.ConfigDict) and section not in (
        "dataset", "model", "train"):
      check_keys(config[section], defaults[section], section)
  data.validate(config.dataset)
  validate_model(config.model, config.dataset)
  validate_early_stopping_train(config.train)
  if config.experiment != "scaling_law" and config.train.stopping != "optimal":
    raise ConfigError(f"train.stopping={config.train.stopping!r}: {config.experiment} fits its "
                      "kernels with optimal early stopping (Vyas et al. Figs. 4, 5); only "
                      "scaling_law reports final errors.")
  if config.model.parameterization != "ntk":
    logging.warning("model.parameterization=%r: Vyas et al. use the NTK parameterization, in "
                    "which network, eNTK and infinite NTK share one limit.",
                    config.model.parameterization)
  seeds = tuple(config.get("seeds", (config.seed,)))
  if not seeds or len(set(seeds)) != len(seeds):
    raise ConfigError(f"seeds={seeds} must be distinct, at least one.")


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
                      **architecture_options(cfg))


def training_need(cfg: ml_collections.ConfigDict, input_shape, num_outputs: int,
                  batch_size: int, eval_batch_size: int, dtype: str = "float32",
                  paired: bool = True, jit_compile: bool = True) -> tuple:
  """(peak bytes, parameter count) of training the network of `cfg` (memory.py), from its
  layer shapes alone: no weights are created."""
  fp = models.footprint(cfg.name, cfg.width, input_shape, num_outputs,
                        **architecture_options(cfg))
  need = memory.training_bytes(fp.num_params, fp.activations_per_sample, batch_size,
                               eval_batch_size, 8 if dtype == "float64" else 4, paired,
                               jit_compile, fp.peak_layer_activations)
  return need, fp.num_params


def check_training_memory(cfg: ml_collections.ConfigDict, input_shape, num_outputs: int,
                          batch_size: int, eval_batch_size: int, dtype: str = "float32",
                          paired: bool = True, jit_compile: bool = True,
                          what: str = "paired training"):
  """Refuses, before any weights exist, training that would not fit in memory (memory.py)."""
  need, num_params = training_need(cfg, input_shape, num_outputs, batch_size, eval_batch_size,
                                   dtype, paired, jit_compile)
  memory.check(need, f"{what} of {model_names.label(cfg.name, cfg.width)}",
               memory.describe_training(num_params, batch_size), device="accelerator")


def build_at_width(config: ml_collections.ConfigDict, dataset, width: int, seed: int):
  """The network of `config.model` at `width` for `dataset`, initialization `seed`."""
  return build_model(model_at_width(config.model, width), dataset.input_shape,
                     dataset.num_outputs, seed, config.dtype)


def check_sgd_memory(config: ml_collections.ConfigDict, dataset, widths=None):
  """Refuses, before any training, SGD of the network at any of `widths` too large for memory."""
  for width in widths or (config.model.width,):
    check_training_memory(model_at_width(config.model, width), dataset.input_shape,
                          dataset.num_outputs, config.train.batch_size,
                          config.train.eval_batch_size,
                          config.dtype, paired=False,
                          jit_compile=config.train.jit_compile, what="SGD training")


def finish(workdir: str, results: dict, report=None, figures=(), text=None,
           report_name: str = "results.md") -> contract.Results:
  """Writes results.json and `report`, calls plot_fn(results.json, filename), prints `text`;
  the Results."""
  out = contract.Results.from_json(results)
  path = out.write(workdir)
  if report is not None:
    with open(os.path.join(workdir, report_name), "w") as f:
      f.write(report)
  for plot_fn, filename in figures:
    plot_fn(path, os.path.join(workdir, filename))
  if text is not None:
    print(text)
  return out


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

