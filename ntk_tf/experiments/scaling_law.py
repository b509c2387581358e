"""Experiment 'scaling_law': data-scaling exponents of a network, its eNTK and its infinite NTK.

Vyas, Bansal, Nakkiran (2022), Figs. 1, 2 and 9: for each training-set size n (nested,
class-balanced subsets per seed) and seed, three models are trained with the same SGD (NTK
parameterization, MSE on ±1 labels, momentum, batch 200) and scored by their optimal-early-
stopping test error (logged at steps growing by ×1.1; `train.stopping="optimal"`) or, as in
their Figs. 2(c) and 8, by the final test error at convergence (`"final"`: train loss ≤
`train.train_loss_tol`, 2e-6 there, or the end of the step budget; learning_curves):
- `network`: the network (optionally minus its initial outputs, their App. A.4 Table 1);
- `empirical_ntk`: the centered eNTK model J(w0, x)·u of the same initialization (Sec. 2),
  by SGD on the eNTK matrix (`scaling.empirical_ntk_method="kernel"`, exact in function space)
  or on the linearized model itself ("linearized", for sets whose kernel does not fit memory);
- `infinite_ntk`: SGD on the infinite NTK's kernel system (ntk.infinite; mlp, myrtle, cnn5,
  cnn_v, cnn_gap), and `infinite_ntk_regression` its kernel regression (min-norm interpolant).
For each kind the mean learning curve is fitted by L(n) = A(1/n + α)^β (scaling.py) with a
bootstrap interval for β over seeds. `width_sweep.widths` repeats network and eNTK at one n for
several widths (Figs. 2b/c, 8). Every cell keeps both errors: results[kind] and the width sweep
use `train.stopping`, results["by_stopping"] holds the fits of both, results["convergence"] how
many runs of each kind met train_loss_tol.

Workdir: cells/ (one JSON per model kind, width, n and seed: a rerun skips finished cells),
kernels/ (kernel blocks, resumable), results.json, results.md, learning_curves.png,
width_sweep.png.
"""

import os
import time

import ml_collections
import numpy as np
from absl import logging

from ntk_tf.analysis import scaling
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.ntk import infinite
from ntk_tf.solvers import kernel as kernel_solver
from ntk_tf.training import learning_curves, scaling_runs
from ntk_tf.utils import io, plots

default_config = defaults.scaling_law
KINDS = defaults.SCALING_KINDS
ENTK_METHODS = ("auto", "kernel", "linearized")
ENTK_FITS = ("sgd", "interpolate")
INTERPOLANT = "empirical_ntk_interpolant"  # The sweep's eNTK cells with entk_fit="interpolate".


# -- config ------------------------------------------------------------------------------
def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  common.validate_vyas(config, default_config())
  s = config.scaling
  unknown = sorted(set(s.kinds) - set(KINDS))
  if unknown or not s.kinds:
    raise ConfigError(f"scaling.kinds={tuple(s.kinds)}: choose from {', '.join(KINDS)}.")
  if s.empirical_ntk_method not in ENTK_METHODS:
    raise ConfigError(f"scaling.empirical_ntk_method={s.empirical_ntk_method!r}; use one of "
                      f"{', '.join(ENTK_METHODS)}.")
  if "infinite_ntk" in s.kinds:
    infinite.layers(config.model.name, config.model.depth)  # Refuses lenet/alexnet.
  sizes = tuple(s.train_sizes)
  if len(sizes) < 3 or any(not isinstance(n, int) or n < 1 for n in sizes):
    raise ConfigError(f"scaling.train_sizes={sizes}: give at least 3 positive integers (a "
                      "scaling law has 3 parameters).")
  if not 0 < s.confidence < 1:
    raise ConfigError(f"scaling.confidence={s.confidence} must be in (0, 1).")
  w = config.width_sweep
  if w.entk_fit not in ENTK_FITS:
    raise ConfigError(f"width_sweep.entk_fit={w.entk_fit!r}; use one of {', '.join(ENTK_FITS)}.")
  if tuple(w.widths):
    if w.train_size is None:
      raise ConfigError("width_sweep.widths is set: give width_sweep.train_size (the fixed n; "
                        "Vyas et al. use 4000 on CIFAR-5m-bin, 1000 on SVHN-parity).")
    for width in w.widths:
      common.models.validate(config.model.name, width, config.model.parameterization)
  return contract.Spec("scaling_law", config, seeds=contract.seeds_of(config))


# -- cells -------------------------------------------------------------------------------
class _Cells:
  """One JSON file per finished (kind, width, n, seed): a rerun reads instead of training."""

  def __init__(self, workdir):
    self.root = os.path.join(workdir, "cells")

  def path(self, kind, width, n, seed):
    return os.path.join(self.root, f"w{width}", kind, f"n{n}_seed{seed}.json")

  def get(self, kind, width, n, seed):
    path = self.path(kind, width, n, seed)
    return io.read_cell(path)

  def put(self, kind, width, n, seed, cell):
    io.write_json(self.path(kind, width, n, seed), cell)
    logging.info("%s width %s n=%d seed %d: test error %.4f (best step %s), final %.4f", kind,
                 width, n, seed, cell["best_test_error"], cell.get("best_step"),
                 learning_curves.reported_error(cell, "final"))


def _entk_method(config, num_samples) -> str:
  method = config.scaling.empirical_ntk_method
  if method == "auto":
    fits = num_samples ** 2 * 8 / 2 ** 30 <= config.scaling.memory_limit_gb / 2
    return "kernel" if fits else "linearized"
  return method


def _run_width(config, dataset, orders, width, sizes, kinds, cells, workdir):
  """network / empirical_ntk cells of one width for every seed and n."""
  n_test = len(dataset.x_test)
  for seed in config.seeds:
    order = orders[seed]
    todo = [(k, n) for k in kinds for n in sizes if cells.get(k, width, n, seed) is None]
    if not todo:
      continue
    method = "kernel" if INTERPOLANT in kinds else _entk_method(config, sizes[-1] + n_test)
    k_entk = None
    for kind, n in todo:
      idx = order[:n]
      model = common.build_at_width(config, dataset, width, seed)
      start = time.time()
      label = f"{kind} width {width} n={n} seed {seed}"
      if kind == "network":
        run = scaling_runs.train(scaling_runs.network(model, config, dataset, idx),
                                 config.train, n, seed, label)
      elif method == "linearized":
        t = config.train
        lin = learning_curves.LinearizedModelSGD(
            model, dataset.x_train[idx], dataset.targets_train[idx], dataset.x_test,
            dataset.labels_test, loss=t.loss, momentum=t.momentum,
            threshold=dataset.decision_threshold, eval_batch_size=t.eval_batch_size,
            jit_compile=t.jit_compile)
        run = scaling_runs.train(lin, config.train, n, seed, label)
      else:
        if k_entk is None:
          scaling_runs.check_kernel_fits(sizes[-1] + n_test, config.scaling.memory_limit_gb,
                                         "eNTK")
          x = np.concatenate([dataset.x_train[order[:sizes[-1]]], dataset.x_test])
          blocks = f"entk_w{width}_seed{seed}_n{sizes[-1]}"  # Sweep and curve: other samples.
          k_entk = scaling_runs.entk(model, x, memory_limit_gb=config.scaling.memory_limit_gb,
                                     checkpoint_dir=os.path.join(workdir, "kernels", blocks))
        test_rows = np.arange(sizes[-1], sizes[-1] + n_test)
        if kind == INTERPOLANT:
          cells.put(kind, width, n, seed, _interpolant_cell(
              k_entk[:n, :n], k_entk[test_rows, :n], dataset, idx, start))
          continue
        km = scaling_runs.kernel_model(config, dataset, k_entk[:n, :n], k_entk[test_rows, :n],
                                       idx)
        run = scaling_runs.train(km, config.train, n, seed, label)
      cell = scaling_runs.curve_summary(run)
      cell.update(seconds=time.time() - start, method=method if kind != "network" else None)
      cells.put(kind, width, n, seed, cell)


def _interpolant_cell(k_train, k_test, dataset, idx, start) -> dict:
  """The minimum-norm kernel interpolant's test error: kernel SGD's converged limit."""
  fit = kernel_solver.interpolate(k_train, dataset.targets_train[idx].astype(np.float64), k_test)
  err = learning_curves.test_error(fit["test"], dataset.labels_test, dataset.decision_threshold)
  return dict(best_test_error=err, final_test_error=err, best_step=None, rank=fit["rank"],
              seconds=time.time() - start)


def _run_infinite(config, dataset, orders, sizes, cells, workdir):
  """infinite_ntk (SGD) and infinite_ntk_regression cells, from one kernel over all samples."""
  regression = config.scaling.infinite_regression
  wanted = ["infinite_ntk"] + (["infinite_ntk_regression"] if regression else [])
  todo = [(k, n, s) for s in config.seeds for n in sizes for k in wanted
          if cells.get(k, "inf", n, s) is None]
  if not todo:
    return
  rows = np.unique(np.concatenate([orders[s][:sizes[-1]] for s in config.seeds]))
  n_test = len(dataset.x_test)
  scaling_runs.check_kernel_fits(len(rows) + n_test, config.scaling.memory_limit_gb,
                                 "infinite NTK")
  m = config.model
  k_all = infinite.kernels(
      m.name, np.concatenate([dataset.x_train[rows], dataset.x_test]), depth=m.depth,
      w_std=m.w_std, b_std=m.b_std, dtype="float64",
      memory_limit_gb=config.scaling.memory_limit_gb,
      checkpoint_dir=os.path.join(workdir, "kernels", "infinite"))["ntk"]
  position = np.full(len(dataset.x_train), -1)
  position[rows] = np.arange(len(rows))
  test_rows = np.arange(len(rows), len(rows) + n_test)
  for kind, n, seed in todo:
    idx = orders[seed][:n]
    k_train, k_test = k_all[np.ix_(position[idx], position[idx])], k_all[np.ix_(test_rows,
                                                                                  position[idx])]
    start = time.time()
    if kind == "infinite_ntk":
      run = scaling_runs.train(scaling_runs.kernel_model(config, dataset, k_train, k_test, idx),
                               config.train, n, seed, f"infinite_ntk n={n} seed {seed}")
      cell = scaling_runs.curve_summary(run)
    else:
      cell = _interpolant_cell(k_train, k_test, dataset, idx, start)
    cell["seconds"] = time.time() - start
    cells.put(kind, "inf", n, seed, cell)


def _collect(cells, kind, width, sizes, seeds, stopping):
  """Errors [seed][n] of one kind under `stopping` ("optimal" or "final")."""
  return [[learning_curves.reported_error(cells.get(kind, width, n, s), stopping)
           for n in sizes] for s in seeds]


def _diverged(run: dict) -> bool:
  """The final train loss above the first logged one: SGD above the critical rate (the loss
  grows without reaching inf within the budget; its final error means nothing)."""
  losses = run.get("train_loss") or []
  return len(losses) > 1 and losses[-1] > losses[1]


def _convergence(runs) -> dict:
  """How many of these SGD runs (cells) met train.train_loss_tol or diverged, the worst loss."""
  losses = [r["final_train_loss"] for r in runs if r.get("final_train_loss") is not None]
  return dict(runs=len(runs), converged=sum(bool(r.get("converged")) for r in runs),
              diverged=sum(_diverged(r) for r in runs),
              max_final_train_loss=max(losses) if losses else None)


def _width_sweep(config, cells, n, stopping) -> dict:
  """Mean/std over seeds by width at n, under `stopping` and (by_stopping) under both."""
  w = config.width_sweep
  entk = _sweep_entk_kind(config)
  sweep = dict(train_size=n, widths=list(w.widths), by_stopping={}, entk_fit=w.entk_fit)
  for mode in learning_curves.STOPPING:
    entry = {}
    for kind, stored in (("network", "network"), ("empirical_ntk", entk)):
      errors = np.array([_collect(cells, stored, width, [n], config.seeds, mode)
                         for width in w.widths])[:, :, 0].T  # [seed][width]
      entry[kind] = dict(mean=errors.mean(axis=0).tolist(), std=errors.std(axis=0).tolist())
    if "infinite_ntk" in config.scaling.kinds:
      entry["infinite_ntk"] = float(np.mean(_collect(cells, "infinite_ntk", "inf", [n],
                                                     config.seeds, mode)))
    sweep["by_stopping"][mode] = entry
  sweep.update(sweep["by_stopping"][stopping])
  sweep["convergence"] = {kind: _convergence([cells.get(stored, width, n, seed)
                                              for width in w.widths for seed in config.seeds])
                          for kind, stored in (("network", "network"), ("empirical_ntk", entk))
                          if stored != INTERPOLANT}  # An interpolant has no SGD to converge.
  # Per width: a network that cannot fit its training set is outside the papers' regime.
  sweep["network_convergence_by_width"] = [
      _convergence([cells.get("network", width, n, seed) for seed in config.seeds])
      for width in w.widths]
  return sweep


def _sweep_entk_kind(config) -> str:
  return INTERPOLANT if config.width_sweep.entk_fit == "interpolate" else "empirical_ntk"


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  dataset = scaling_runs.load_data(config)
  s, w = config.scaling, config.width_sweep
  common.check_sgd_memory(config, dataset, (config.model.width,) + tuple(w.widths))
  sizes = learning_curves.check_train_sizes(s.train_sizes, dataset.labels_train,
                                            "scaling.train_sizes")
  sweep_sizes = []
  if tuple(w.widths):
    sweep_sizes = learning_curves.check_train_sizes((w.train_size,), dataset.labels_train,
                                                    "width_sweep.train_size")
  orders = {seed: learning_curves.nested_balanced_order(dataset.labels_train, seed)
            for seed in config.seeds}
  n_test = len(dataset.x_test)
  if "infinite_ntk" in s.kinds:  # Refuse before any training, not after hours of it.
    union = np.unique(np.concatenate([orders[seed][:max(sizes + sweep_sizes)]
                                      for seed in config.seeds]))
    scaling_runs.check_kernel_fits(len(union) + n_test, s.memory_limit_gb, "infinite NTK")
  if s.empirical_ntk_method == "kernel":
    scaling_runs.check_kernel_fits(max(sizes + sweep_sizes) + n_test, s.memory_limit_gb, "eNTK")
  cells = _Cells(workdir)
  width = config.model.width
  finite = [k for k in s.kinds if k != "infinite_ntk"]
  _run_width(config, dataset, orders, width, sizes, finite, cells, workdir)
  for sweep_width in w.widths:
    _run_width(config, dataset, orders, sweep_width, sweep_sizes,
               ["network", _sweep_entk_kind(config)], cells, workdir)
  if "infinite_ntk" in s.kinds:
    _run_infinite(config, dataset, orders, sorted(set(sizes) | set(sweep_sizes)), cells,
                  workdir)

  kinds = list(finite) + (["infinite_ntk"] + (["infinite_ntk_regression"]
                                              if s.infinite_regression else [])
                          if "infinite_ntk" in s.kinds else [])
  stopping = config.train.stopping
  results = dict(experiment="scaling_law", dataset=config.dataset.name,
                 model=config.model.name, width=width, seeds=list(config.seeds),
                 train_sizes=sizes, num_test=len(dataset.x_test), kinds=kinds,
                 stopping=stopping, train_loss_tol=config.train.train_loss_tol,
                 paper=config.paper.to_dict())
  results["by_stopping"] = {mode: {} for mode in learning_curves.STOPPING}
  results["convergence"] = {}
  for kind in kinds:
    key = "inf" if kind.startswith("infinite") else width
    for mode in learning_curves.STOPPING:
      results["by_stopping"][mode][kind] = scaling.fit_mean_curve(
          sizes, _collect(cells, kind, key, sizes, config.seeds, mode), s.num_resamples,
          s.confidence, config.seed)
    results[kind] = results["by_stopping"][stopping][kind]
    if kind != "infinite_ntk_regression":
      results["convergence"][kind] = _convergence([cells.get(kind, key, n, seed)
                                                   for n in sizes for seed in config.seeds])
  if tuple(w.widths):
    results["width_sweep"] = _width_sweep(config, cells, sweep_sizes[0], stopping)
  figures = [(plots.learning_curves, "learning_curves.png")]
  if "width_sweep" in results:
    figures.append((plots.width_sweep, "width_sweep.png"))
  report = format_report(results)
  return common.finish(workdir, results, report, figures, report)


STOPPING_NAMES = dict(optimal="optimal early stopping", final="final error at convergence")


def _beta_text(r: dict) -> str:
  beta = "–" if r["beta"] is None else f"{r['beta']:.3f}"
  return beta + (" (flat)" if r.get("beta_is_exponent") is False else "")


def _interval_text(r: dict) -> str:
  if not r["beta_interval"]:
    return "–"
  return f"[{r['beta_interval'][0]:.3f}, {r['beta_interval'][1]:.3f}]"


def _convergence_line(convergence: dict, tol) -> str:
  """Runs of each kind that met train_loss_tol (the final errors' convergence)."""
  head = (f"Converged (train loss <= {tol})" if tol is not None else
          "Converged (no train.train_loss_tol: final errors at the step budget)")
  entries = []
  for kind, c in convergence.items():
    text = f"{kind} {c['converged']}/{c['runs']}"
    if c["max_final_train_loss"] is not None:
      text += f" (worst final loss {c['max_final_train_loss']:.2g})"
    if c.get("diverged"):
      text += f", {c['diverged']} DIVERGED (final loss above the first: lower the lr)"
    entries.append(text)
  return f"{head}: " + "; ".join(entries)


def _sweep_lines(sweep: dict, tol) -> list:
  """The width sweep's mean errors by width, the infinite NTK's beside them."""
  kinds = ["network", "empirical_ntk"]
  lines = ["", f"Width sweep at n = {sweep['train_size']}"
           + (f" (infinite NTK {sweep['infinite_ntk']:.4f})" if "infinite_ntk" in sweep else ""),
           "", "| width | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
  for i, width in enumerate(sweep["widths"]):
    lines.append(f"| {width} | " + " | ".join(
        f"{sweep[k]['mean'][i]:.4f} ± {sweep[k]['std'][i]:.4f}" for k in kinds) + " |")
  if sweep.get("convergence"):
    lines += ["", _convergence_line(sweep["convergence"], tol)]
  return lines


def format_report(results: dict) -> str:
  """β per model kind beside the paper's, then the mean test errors by n."""
  paper = results.get("paper") or {}
  stopping = results.get("stopping", "optimal")
  other = [m for m in learning_curves.STOPPING if m != stopping][0]
  by_stopping = results.get("by_stopping", {})
  lines = [f"# Data scaling: {results['model']} width {results['width']} on "
           f"{results['dataset']} ({len(results['seeds'])} seed(s), {results['num_test']} test "
           f"samples; {STOPPING_NAMES[stopping]})", "",
           f"| model | beta | interval | beta ({other}) | paper beta |", "|---|---|---|---|---|"]
  for kind in results["kinds"]:
    r = results[kind]
    alt = by_stopping.get(other, {}).get(kind)
    published = paper.get(kind)
    lines.append(f"| {kind} | {_beta_text(r)} | {_interval_text(r)} | "
                 f"{'–' if alt is None else _beta_text(alt)} | "
                 f"{'–' if published is None else published} |")
  if paper.get("reference"):
    lines.append(f"\nPaper: {paper['reference']}")
  lines += ["", "| n | " + " | ".join(results["kinds"]) + " |",
            "|---" * (len(results["kinds"]) + 1) + "|"]
  for i, n in enumerate(results["train_sizes"]):
    cells = [f"{results[k]['test_error_mean'][i]:.4f} ± {results[k]['test_error_std'][i]:.4f}"
             for k in results["kinds"]]
    lines.append(f"| {n} | " + " | ".join(cells) + " |")
  if results.get("convergence"):
    lines += ["", _convergence_line(results["convergence"], results.get("train_loss_tol"))]
  if results.get("width_sweep"):
    lines += _sweep_lines(results["width_sweep"], results.get("train_loss_tol"))
  for kind in results["kinds"]:
    if results[kind]["fit_error"]:
      lines.append(f"\n{kind}: no fit ({results[kind]['fit_error']})")
  if any(results[k].get("beta_is_exponent") is False for k in results["kinds"]):
    lines.append(f"\n(flat): the fitted law spends < {scaling.POWER_LAW_FRACTION:.0%} of the "
                 "n range as a power law (the curve reached its floor, α ≫ 1/n); its β is not "
                 "a data-scaling exponent.")
  return "\n".join(lines) + "\n"
