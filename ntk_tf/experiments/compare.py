"""Experiment 'compare': a network and its linearization trained side by side.

Samarin et al. 2020 (Figs. 2-6) and 2022 (Figs. 2-5, Tables A.1/A.2): same w0, same minibatches,
SGD with momentum and weight decay, L2 loss on one-hot targets; train/test accuracy of both
models, output trajectories on validation points, and a logistic-regression baseline.

Workdir: config.json, results.json, seed_<s>/{metrics.jsonl, metrics.csv, trajectories.npz,
checkpoints/, tensorboard/}, accuracy.png, trajectories.png.
"""

import os

import ml_collections
import numpy as np
from absl import logging

from ntk_tf import data, models
from ntk_tf.analysis import baselines
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.training import paired_runs
from ntk_tf.utils import distribute, model_names, plots

default_config = defaults.compare


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  """Every check that needs no data, run before anything heavy."""
  common.check_keys(config, default_config(), "")
  data.validate(config.dataset)
  if config.get("dtype", "float32") not in models.DTYPES:
    raise ConfigError(f"config.dtype={config.dtype!r}; use float32 or float64.")
  common.validate_model(config.model, config.dataset, config.get("dtype", "float32"))
  train = common.validate_train(config.train)
  distribute.validate(config.get("distribute", "default"))
  if config.get("distribute", "default") != "default" and config.train.jit_compile:
    logging.info("train.jit_compile applies to the default strategy only; the distributed "
                 "steps run without XLA.")
  return contract.Spec("compare", config, train=train, seeds=contract.seeds_of(config))


def _run_seed(spec: contract.Spec, dataset, seed: int, seed_dir: str) -> dict:
  """One paired run (paired_runs.run_seed) under `config.distribute`; its final metrics."""
  config, train_cfg = spec.config, spec.train
  dtype = config.get("dtype", "float32")
  strategy = distribute.get_strategy(config.get("distribute", "default"))
  build = lambda: common.build_model(config.model, dataset.input_shape,  # noqa: E731
                                     dataset.num_outputs, seed, dtype)
  return paired_runs.run_seed(build, dataset, train_cfg, seed, seed_dir, dtype, strategy)


def _aggregate(per_seed, which):
  rows = [r[which] for r in per_seed if which in r]
  if not rows:
    return None, None
  mean = {k: float(np.mean([r[k] for r in rows])) for k in paired_runs.METRIC_KEYS}
  std = {k: float(np.std([r[k] for r in rows])) for k in paired_runs.METRIC_KEYS}
  return mean, std


def format_table(results: dict) -> str:
  """Train/test accuracy of both models (and the baseline) as a small text table."""
  lines = [f"{'model':<28}{'train acc':>10}{'test acc':>10}"]
  size = "" if model_names.is_user_model(results["model"]) else f" x{results['width']}"
  names = {"standard": model_names.pretty(results["model"]) + size,
           "linearized": model_names.linearized(results["model"]) + size,
           "logistic_regression": "logistic regression"}
  for key, name in names.items():
    if results.get(key):
      lines.append(f"{name:<28}{100 * results[key]['train_accuracy']:>9.2f}%"
                   f"{100 * results[key]['test_accuracy']:>9.2f}%")
  return "\n".join(lines)


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  dataset = data.load(config.dataset, seed=config.seed)
  logging.info("\n%s", dataset.summary())
  common.check_training_memory(config.model, dataset.input_shape, dataset.num_outputs,
                               config.train.batch_size, config.train.eval_batch_size,
                               config.get("dtype", "float32"),
                               jit_compile=config.train.jit_compile)
  per_seed = []
  for seed in spec.seeds:
    seed_dir = os.path.join(workdir, f"seed_{seed}")
    per_seed.append(_run_seed(spec, dataset, seed, seed_dir))
  results = dict(experiment="compare", model=config.model.name, width=config.model.width,
                 dataset=config.dataset.name, num_params=per_seed[0]["num_params"],
                 seeds=[r["seed"] for r in per_seed], num_train=len(dataset.x_train),
                 num_test=len(dataset.x_test), epochs=config.train.epochs)
  for which in ("standard", "linearized"):
    results[which], results[f"{which}_std"] = _aggregate(per_seed, which)
  if config.get("baseline", {}).get("logistic_regression", False):
    results["logistic_regression"] = baselines.logistic_regression(
        dataset.x_train, dataset.labels_train, dataset.x_test, dataset.labels_test,
        seed=config.seed)
  results["per_seed"] = per_seed
  first = os.path.join(workdir, f"seed_{per_seed[0]['seed']}")
  title = f"{model_names.label(config.model.name, config.model.width)} on {config.dataset.name}"
  figures = [
      (lambda _, out: plots.accuracy_curves(os.path.join(first, "metrics.jsonl"), out, title),
       "accuracy.png"),
      (lambda _, out: plots.trajectories(os.path.join(first, "trajectories.npz"), out, title),
       "trajectories.png")]
  return common.finish(workdir, results, figures=figures, text=format_table(results))
