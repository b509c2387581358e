"""Experiment 'time_dynamics': the eNTK K^t taken at step t of training, fitted on the full set.

Vyas, Bansal, Nakkiran (2022), Sec. 5 and Fig. 5(a). The network is trained on n samples (the
scaling_law SGD) and its weights are kept at log-spaced steps t (`time_dynamics.num_kernels`
points from 0 to the step budget, or the explicit `time_dynamics.steps`). K^t is the centered
eNTK at those weights (output-averaged, float64); K^t_fit is K^t fitted on the same n samples
by the same SGD with optimal early stopping (or by kernel regression). Their test errors
against t, with the network's and the eNTK-at-initialization model's test errors at step t,
go on log-log axes; the slope of log error vs log t over the trained part is reported. The
network's train error at each logged step is kept too (the paper's window ends when it falls
below 5 %).

Workdir: cells/seed<s>.json, results.json, results.md, time_dynamics.png.
"""

import os
import time

import ml_collections
import numpy as np
from absl import logging

from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.training import learning_curves, scaling_runs
from ntk_tf.utils import io, plots

default_config = defaults.time_dynamics


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  common.validate_vyas(config, default_config())
  t = config.time_dynamics
  if not isinstance(t.train_size, int) or t.train_size < 1:
    raise ConfigError(f"time_dynamics.train_size={t.train_size!r} must be a positive integer.")
  if t.fit not in scaling_runs.FITS:
    raise ConfigError(f"time_dynamics.fit={t.fit!r}; use 'sgd' or 'regression'.")
  if any(not isinstance(s, int) or s < 0 for s in t.steps):
    raise ConfigError(f"time_dynamics.steps={tuple(t.steps)} must be integers >= 0.")
  if not t.steps and (not isinstance(t.num_kernels, int) or t.num_kernels < 2):
    raise ConfigError(f"time_dynamics.num_kernels={t.num_kernels!r}: give at least 2 (t = 0 "
                      "and the end of training), or list time_dynamics.steps.")
  return contract.Spec("time_dynamics", config, seeds=contract.seeds_of(config))


def kernel_steps(cfg, budget: int) -> list:
  """t = 0 and log-spaced steps up to the budget, or the configured steps (within it)."""
  if cfg.steps:
    return sorted({int(s) for s in cfg.steps if s <= budget})
  if budget < 1:
    return [0]
  inner = np.geomspace(1, budget, cfg.num_kernels - 1)
  return sorted({0} | {int(round(s)) for s in inner})


def log_log_slope(steps, errors):
  """Least-squares slope of log error against log t over t > 0 (None with < 2 points)."""
  steps, errors = np.asarray(steps, float), np.asarray(errors, float)
  ok = (steps > 0) & (errors > 0)
  if ok.sum() < 2:
    return None
  return float(np.polyfit(np.log(steps[ok]), np.log(errors[ok]), 1)[0])


def _cell(config, dataset, seed, workdir) -> dict:
  td = config.time_dynamics
  n = td.train_size
  order = learning_curves.nested_balanced_order(dataset.labels_train, seed)
  idx = order[:n]
  budget = scaling_runs.max_steps(config.train, n)
  steps = kernel_steps(td, budget)
  model = common.build_at_width(config, dataset, config.model.width, seed)
  x = np.concatenate([dataset.x_train[idx], dataset.x_test])
  scaling_runs.check_kernel_fits(len(x), td.memory_limit_gb, "eNTK K^t")
  k0 = scaling_runs.entk(model, x, memory_limit_gb=td.memory_limit_gb)
  test_rows = np.arange(n, len(x))
  entk_run = scaling_runs.train(  # The eNTK-at-initialization model at time t.
      scaling_runs.kernel_model(config, dataset, k0[:n, :n], k0[test_rows, :n], idx),
      config.train, n, seed, f"eNTK at init seed {seed}")
  net_run = scaling_runs.train(scaling_runs.network(model, config, dataset, idx), config.train,
                               n, seed, f"network seed {seed}", snapshot_steps=steps,
                               record_train_error=True)  # The paper's window: train error.
  kernel_errors = []
  for t in sorted(net_run["snapshots"]):
    k = k0 if t == 0 else scaling_runs.entk(model, x, params=net_run["snapshots"][t],
                                            memory_limit_gb=td.memory_limit_gb)
    if td.save_kernels:
      io.write_npy(os.path.join(workdir, "kernels", f"t{t}_seed{seed}.npy"), k)
    err = scaling_runs.fit_kernel(config, dataset, k, np.arange(n), test_rows, idx, seed,
                                  f"K^{t} seed {seed}", td.fit)
    kernel_errors.append(err)
    logging.info("seed %d: K^t at t=%d fitted on %d samples: test error %.4f", seed, t, n, err)
  return dict(kernel_steps=sorted(net_run["snapshots"]), kernel_test_error=kernel_errors,
              network=scaling_runs.curve_summary(net_run),
              empirical_ntk_init=scaling_runs.curve_summary(entk_run))


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  dataset = scaling_runs.load_data(config)
  common.check_sgd_memory(config, dataset)
  n = learning_curves.check_train_sizes((config.time_dynamics.train_size,),
                                        dataset.labels_train, "time_dynamics.train_size")[0]
  cells = []
  for seed in config.seeds:
    path = os.path.join(workdir, "cells", f"seed{seed}.json")
    if io.read_cell(path) is None:
      start = time.time()
      cell = _cell(config, dataset, seed, workdir)
      cell["seconds"] = time.time() - start
      io.write_json(path, cell)
    cells.append(io.read_json(path))
  steps = cells[0]["kernel_steps"]
  if any(c["kernel_steps"] != steps for c in cells):  # A seed stopped early (train_loss_tol).
    steps = sorted(set.intersection(*(set(c["kernel_steps"]) for c in cells)))
  errors = np.array([[c["kernel_test_error"][c["kernel_steps"].index(t)] for t in steps]
                     for c in cells])

  def mean_curve(key):
    common_steps = sorted(set.intersection(*(set(c[key]["steps"]) for c in cells)))
    values = np.array([[c[key]["test_error"][c[key]["steps"].index(t)] for t in common_steps]
                       for c in cells])
    curve = dict(steps=common_steps, test_error_mean=values.mean(axis=0).tolist(),
                 test_error_std=values.std(axis=0).tolist(),
                 best_test_error=float(np.mean([c[key]["best_test_error"] for c in cells])))
    if all("train_error" in c[key] for c in cells):
      curve["train_error_mean"] = np.mean(
          [[c[key]["train_error"][c[key]["steps"].index(t)] for t in common_steps]
           for c in cells], axis=0).tolist()
    return curve

  trained = [i for i, t in enumerate(steps) if t > 0]
  results = dict(
      experiment="time_dynamics", dataset=config.dataset.name, model=config.model.name,
      width=config.model.width, seeds=list(config.seeds), train_size=n,
      num_test=len(dataset.x_test), fit=config.time_dynamics.fit,
      kernel=dict(steps=steps, test_error_mean=errors.mean(axis=0).tolist(),
                  test_error_std=errors.std(axis=0).tolist(),
                  log_log_slope=log_log_slope([steps[i] for i in trained],
                                              errors.mean(axis=0)[trained])),
      network=mean_curve("network"), empirical_ntk_init=mean_curve("empirical_ntk_init"))
  report = format_report(results)
  return common.finish(workdir, results, report, [(plots.time_dynamics, "time_dynamics.png")],
                       report)


def format_report(results: dict) -> str:
  k = results["kernel"]
  slope = "–" if k["log_log_slope"] is None else f"{k['log_log_slope']:.3f}"
  lines = [f"# K^t during training: {results['model']} width {results['width']} on "
           f"{results['dataset']}, n = {results['train_size']} ({len(results['seeds'])} "
           f"seed(s), K^t fitted by {results['fit']})", "",
           "| step t | K^t fitted: test error |", "|---|---|"]
  for t, mean, std in zip(k["steps"], k["test_error_mean"], k["test_error_std"]):
    lines.append(f"| {t} | {mean:.4f} ± {std:.4f} |")
  lines += ["", f"log-log slope of K^t_fit error vs t (t > 0): {slope}",
            f"network best test error {results['network']['best_test_error']:.4f}; "
            f"eNTK-at-init model {results['empirical_ntk_init']['best_test_error']:.4f}"]
  return "\n".join(lines) + "\n"
