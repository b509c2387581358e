"""Experiment 'after_kernel': the eNTK of a network trained on m samples, fitted on n samples.

Vyas, Bansal, Nakkiran (2022), Sec. 4 and Fig. 4. For each m in `after_kernel.train_sizes` and
seed, the network is trained on the first m samples of a nested, class-balanced order (the
scaling_law SGD) and its weights at the optimal-early-stopping step give the after-kernel K_m
(the centered eNTK model, output-averaged, float64). K_m is then fitted, by the same SGD with
optimal early stopping (`after_kernel.fit="sgd"`) or by kernel regression ("regression"), on
- n ≤ m of the same samples: K_m(n), and
- n fresh samples, the next n of the order after the first m: K_m^F(n).
m = 0 (`include_initialization`) is the eNTK at initialization, K_0(n).

Results: per m the learning curves of K_m(n) and K_m^F(n) with fitted β (their Fig. 4c), the
network's own error at n = m with K_n(n), K_n^F(n) on the diagonal (Fig. 4a), and K_m(n0)
against m for the smallest n0 (Fig. 4b). Workdir: cells/ (one file per m and seed),
results.json, results.md, after_kernel.png.
"""

import os
import time

import ml_collections
import numpy as np
from absl import logging

from ntk_tf.analysis import scaling
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.training import learning_curves, scaling_runs
from ntk_tf.utils import io, plots

default_config = defaults.after_kernel


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  common.validate_vyas(config, default_config())
  a = config.after_kernel
  for key in ("train_sizes", "fit_sizes"):
    sizes = tuple(a[key])
    if not sizes or any(not isinstance(n, int) or n < 1 for n in sizes):
      raise ConfigError(f"after_kernel.{key}={sizes} must be positive integers.")
  if a.fit not in scaling_runs.FITS:
    raise ConfigError(f"after_kernel.fit={a.fit!r}; use 'sgd' or 'regression'.")
  return contract.Spec("after_kernel", config, seeds=contract.seeds_of(config))


def _cell(config, dataset, order, m, seed, workdir) -> dict:
  a = config.after_kernel
  pool = len(order)
  model = common.build_at_width(config, dataset, config.model.width, seed)
  cell, params = dict(m=m), None
  if m > 0:
    net = scaling_runs.network(model, config, dataset, order[:m])
    run = scaling_runs.train(net, config.train, m, seed, f"network m={m} seed {seed}",
                             keep_best=True)
    params = run["best_state"]
    cell.update(network_test_error=run["best_test_error"], best_step=run["best_step"])
  same = [n for n in a.fit_sizes if n <= m]
  fresh = [n for n in a.fit_sizes if m + n <= pool] if (a.fresh or m == 0) else []
  if len(fresh) < len(a.fit_sizes) and a.fresh:
    logging.warning("after_kernel m=%d: %d samples cannot hold %d fresh ones; fresh fits "
                    "skipped for n = %s.", m, pool, max(a.fit_sizes),
                    [n for n in a.fit_sizes if n not in fresh])
  n_same, n_fresh = max(same, default=0), max(fresh, default=0)
  idx = np.concatenate([order[:n_same], order[m:m + n_fresh]]).astype(np.int64)
  x = np.concatenate([dataset.x_train[idx], dataset.x_test])
  scaling_runs.check_kernel_fits(len(x), a.memory_limit_gb, "after-kernel")
  k = scaling_runs.entk(model, x, params=params, memory_limit_gb=a.memory_limit_gb)
  if a.save_kernels:
    io.write_npy(os.path.join(workdir, "kernels", f"m{m}_seed{seed}.npy"), k)
  test_rows = np.arange(len(idx), len(x))
  cell["same"] = {str(n): scaling_runs.fit_kernel(
      config, dataset, k, np.arange(n), test_rows, order[:n], seed, f"K_{m}({n}) seed {seed}",
      a.fit) for n in same}
  cell["fresh"] = {str(n): scaling_runs.fit_kernel(
      config, dataset, k, n_same + np.arange(n), test_rows, order[m:m + n], seed,
      f"K^F_{m}({n}) seed {seed}", a.fit) for n in fresh}
  return cell


def _mean_curve(cells, key, sizes, config) -> dict:
  """Mean/std over seeds of one curve, fitted where it has ≥ 3 sizes."""
  sizes = [n for n in sizes if all(str(n) in c[key] for c in cells)]
  by_seed = [[c[key][str(n)] for n in sizes] for c in cells]
  if len(sizes) >= 3:
    return scaling.fit_mean_curve(sizes, by_seed, config.after_kernel.num_resamples,
                                  config.after_kernel.confidence, config.seed)
  errors = np.asarray(by_seed, dtype=np.float64).reshape(len(cells), len(sizes))
  return dict(n=sizes, test_error_mean=errors.mean(axis=0).tolist(),
              test_error_std=errors.std(axis=0).tolist(), beta=None, beta_interval=None,
              fit=None, fit_error="fewer than 3 sizes")


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  dataset = scaling_runs.load_data(config)
  common.check_sgd_memory(config, dataset)
  a = config.after_kernel
  ms = ([0] if a.include_initialization else []) + learning_curves.check_train_sizes(
      a.train_sizes, dataset.labels_train, "after_kernel.train_sizes")
  fit_sizes = learning_curves.check_train_sizes(a.fit_sizes, dataset.labels_train,
                                                "after_kernel.fit_sizes")
  results = dict(experiment="after_kernel", dataset=config.dataset.name,
                 model=config.model.name, width=config.model.width, seeds=list(config.seeds),
                 fit=a.fit, fit_sizes=fit_sizes, train_sizes=ms, num_test=len(dataset.x_test),
                 kernels={})
  cells_by_m = {m: [] for m in ms}
  for seed in config.seeds:
    order = learning_curves.nested_balanced_order(dataset.labels_train, seed)
    for m in ms:
      path = os.path.join(workdir, "cells", f"m{m}", f"seed{seed}.json")
      cell = io.read_cell(path)
      if cell is None:
        start = time.time()
        cell = _cell(config, dataset, order, m, seed, workdir)
        cell["seconds"] = time.time() - start
        io.write_json(path, cell)
        logging.info("after-kernel m=%d seed %d: same %s fresh %s (%.1f s)", m, seed,
                     cell["same"], cell["fresh"], cell["seconds"])
        cell = io.read_json(path)  # As a rerun will see it (string keys).
      cells_by_m[m].append(cell)
  for m in ms:
    cells = cells_by_m[m]
    entry = dict(same=_mean_curve(cells, "same", fit_sizes, config),
                 fresh=_mean_curve(cells, "fresh", fit_sizes, config))
    if m > 0:
      entry["network_test_error"] = float(np.mean([c["network_test_error"] for c in cells]))
    results["kernels"][str(m)] = entry
  trained = [m for m in ms if m > 0]
  results["diagonal"] = dict(  # Fig. 4(a): K_n(n), K_n^F(n) and the network at n.
      n=trained, network=[results["kernels"][str(m)]["network_test_error"] for m in trained],
      same=[_at(results["kernels"][str(m)]["same"], m) for m in trained],
      fresh=[_at(results["kernels"][str(m)]["fresh"], m) for m in trained])
  n0 = fit_sizes[0]
  results["error_at_smallest_n_vs_m"] = dict(  # Fig. 4(b): K_m(n0) against m.
      n=n0, m=ms, same=[_at(results["kernels"][str(m)]["same"], n0) for m in ms],
      fresh=[_at(results["kernels"][str(m)]["fresh"], n0) for m in ms])
  report = format_report(results)
  return common.finish(workdir, results, report, [(plots.after_kernel, "after_kernel.png")],
                       report)


def _at(curve: dict, n: int):
  """The mean test error of a curve at n, or None where it was not fitted."""
  return curve["test_error_mean"][curve["n"].index(n)] if n in curve["n"] else None


def format_report(results: dict) -> str:
  fmt = lambda v: "–" if v is None else f"{v:.4f}"  # noqa: E731
  lines = [f"# After-kernels: {results['model']} width {results['width']} on "
           f"{results['dataset']} ({len(results['seeds'])} seed(s), fit by {results['fit']})",
           "", "| kernel | fitted on | " + " | ".join(f"n={n}" for n in results["fit_sizes"])
           + " | beta |", "|---|---|" + "---|" * (len(results["fit_sizes"]) + 1)]
  for m, entry in results["kernels"].items():
    name = "K_0 (init)" if m == "0" else f"K_{m}"
    for key, label in (("same", "same samples"), ("fresh", "fresh samples")):
      curve = entry[key]
      if not curve["n"] or (m == "0" and key == "same"):
        continue
      beta = "–" if curve["beta"] is None else f"{curve['beta']:.3f}"
      if curve.get("beta_is_exponent") is False:
        beta += " (flat)"
      lines.append(f"| {name} | {label} | " + " | ".join(
          fmt(_at(curve, n)) for n in results["fit_sizes"]) + f" | {beta} |")
  d = results["diagonal"]
  lines += ["", "| n | network | K_n(n) | K_n^F(n) |", "|---|---|---|---|"]
  for i, n in enumerate(d["n"]):
    lines.append(f"| {n} | {fmt(d['network'][i])} | {fmt(d['same'][i])} | "
                 f"{fmt(d['fresh'][i])} |")
  return "\n".join(lines) + "\n"
