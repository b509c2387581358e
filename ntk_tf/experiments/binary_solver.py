"""Experiment 'binary_solver': digit 0 vs rest solved exactly and by SGD (Samarin 2022 §4.3).

For each width: the linearized LeNet's system J(w0, X)·u = y − f(w0, X) (eq. 4, one output) is
solved by the methods in `config.solver.methods` — "lstsq" (dense, LAPACK gelsd), "lsqr"/"lsmr"
(matrix-free, any width), "nystrom_pcg" (matrix-free CG on Θ α = r, u = Jᵀ α, preconditioned
by `solver.nystrom_rank` columns of the eNTK Θ), "kernel" (u = Jᵀ Θ⁺ r via the empirical
NTK) — and "sgd" trains LeNet
and LinLeNet side by side as the `compare` experiment does (lr 0.01, 200 epochs in the paper).
Tables 1 and 2 of the paper: rows Solver / Lin. / LeNet x Test / Train, columns widths.

The solvers run once per precision in `config.solver.dtypes`: float64, and float32 as in the
paper ("All displayed results are obtained with single precision", §4). In float32 the network
(w0, f(w0, X), J's products, the NTK) computes in single precision and, unless solver.rcond is
set, the cutoffs are those of a single-precision solve (`precision_options`). Results of
method m are under key m in float64 (as before) and "m_float32" in float32.

Workdir: results.json, table.md, w<width>/<key>.json (finished cells, reused on a rerun),
w<width>/sgd/ (the compare run: metrics, checkpoints), w<width>/<method>_iterate.npz (LSQR;
float32 solves in w<width>/float32/).
"""

import math
import os

import ml_collections
import numpy as np
from absl import logging

from ntk_tf import data, models
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.solvers import linearized
from ntk_tf.training import paired_runs
from ntk_tf.utils import io, model_names

default_config = defaults.binary_solver
METHODS = linearized.METHODS + ("sgd",)
DENSE = ("lstsq", "kernel")   # Methods whose memory grows with rows x parameters or rows².


def majority_accuracy(dataset) -> dict:
  """{"train", "test"}: the accuracy of always predicting the larger class (a model that
  learned nothing scores this: e.g. 0.9 for 0 vs rest on balanced digits)."""
  def share(labels):
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    return float(counts.max() / counts.sum())
  return dict(train=share(dataset.labels_train), test=share(dataset.labels_test))


def dtypes_of(config) -> tuple:
  """The solvers' precisions: solver.dtypes, or the one of the old key solver.dtype."""
  old = config.solver.get("dtype")
  return (old,) if old else tuple(config.solver.dtypes)


def result_key(method: str, dtype: str) -> str:
  """Where a method's results go: "lstsq" in float64, "lstsq_float32" in float32."""
  return method if dtype == "float64" else f"{method}_{dtype}"


def precision_options(config, method: str, dtype: str, num_rows: int) -> dict:
  """Solver options of a float32 solve where the config leaves them to the solver: cutoffs at
  float32's resolution ε, since a float32 J is only known to ~ε (float64: none).

  lstsq: rcond ε (what SciPy's lstsq, i.e. LAPACK sgelsd, uses on a float32 J); kernel: the
  eigenvalue floor n·ε·λ_max (scipy.linalg.pinvh's on a float32 Θ); lsqr/lsmr: atol, btol at
  least ε (SciPy: "if A is only accurate to about d digits, set atol to 10^-d"); nystrom_pcg:
  pcg_tol at least 10·ε (its float32 products stall CG's recomputed residual near ε·cond(J)).
  """
  if dtype == "float64":
    return {}
  eps = float(np.finfo(dtype).eps)
  if method in ("lsqr", "lsmr"):
    return dict(atol=max(config.solver.atol, eps), btol=max(config.solver.btol, eps))
  if method == "nystrom_pcg":
    return dict(pcg_tol=max(config.solver.pcg_tol, 10 * eps))
  if config.solver.rcond is not None:
    return {}
  return dict(rcond=eps if method == "lstsq" else math.sqrt(num_rows * eps))


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  defaults = default_config()
  common.check_keys(config, defaults, "")
  common.check_keys(config.solver, defaults.solver, "solver")
  data.validate(config.dataset)
  common.validate_model_widths(config.model, config.dtype, config.dataset)
  methods = tuple(config.solver.methods)
  unknown = [m for m in methods if m not in METHODS]
  if unknown or not methods:
    raise ConfigError(f"solver.methods={methods}: use some of {', '.join(METHODS)}.")
  dtypes = dtypes_of(config)
  if not dtypes or len(set(dtypes)) < len(dtypes) or any(d not in models.DTYPES for d in dtypes):
    key = "solver.dtype" if config.solver.get("dtype") else "solver.dtypes"
    raise ConfigError(f"{key}={config.solver.get('dtype') or dtypes!r}; use float64 and/or "
                      "float32, each once, e.g. ('float64', 'float32').")
  if model_names.is_user_model(config.model.name):  # Its function must build in each precision.
    for d in dtypes:
      models.validate(config.model.name, 1, config.model.parameterization, d)
  if config.dataset.target != "class_vs_rest":
    raise ConfigError("binary_solver needs dataset.target='class_vs_rest' (one output).")
  train = common.validate_train(config.train) if "sgd" in methods else None
  return contract.Spec("binary_solver", config, train=train, seeds=contract.seeds_of(config))


def _solver_options(config, cell_dir: str) -> dict:
  keys = set(linearized.options()) - {"workdir"}
  return dict({k: config.solver[k] for k in keys}, workdir=cell_dir)


def _methods_at(config, width: int) -> list:
  dense_widths = config.solver.dense_widths
  return [m for m in config.solver.methods
          if m not in DENSE or dense_widths is None or width in tuple(dense_widths)]


def _sgd(spec: contract.Spec, dataset, width: int, cell_dir: str) -> dict:
  config, seed = spec.config, int(spec.config.seed)
  build = lambda: common.build_model(  # noqa: E731
      common.model_at_width(config.model, width), dataset.input_shape, dataset.num_outputs,
      seed, config.dtype)
  final = paired_runs.run_seed(build, dataset, spec.train, seed, os.path.join(cell_dir, "sgd"),
                               config.dtype)
  out = {}
  for which in ("standard", "linearized"):
    if which in final:
      out[f"sgd_{which}"] = dict(method=f"sgd_{which}", num_params=final["num_params"],
                                 dtype=config.dtype, **final[which])
  return out


def _solve(config, dataset, model, method: str, dtype: str, cell_dir: str) -> dict:
  """One exact solve of the linearized system in the model's precision `dtype`."""
  solve_dir = cell_dir if dtype == "float64" else os.path.join(cell_dir, dtype)
  os.makedirs(solve_dir, exist_ok=True)
  overrides = precision_options(config, method, dtype, len(dataset.x_train))
  options = dict(_solver_options(config, solve_dir), **overrides)
  result = linearized.solve(model, dataset.x_train, dataset.targets_train, dataset.labels_train,
                            dataset.x_test, dataset.labels_test, method=method,
                            threshold=dataset.decision_threshold, **options)
  result["dtype"] = dtype
  if overrides:
    result["precision_options"] = overrides
  return {result_key(method, dtype): result}


def _work_at(config, width: int) -> list:
  """(key, method, dtype) of every piece of work at a width; SGD once, in config.dtype."""
  work = []
  for method in _methods_at(config, width):
    if method == "sgd":
      work.append(("sgd", "sgd", config.dtype))
    else:
      work += [(result_key(method, d), method, d) for d in dtypes_of(config)]
  return work


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  dataset = data.load(config.dataset, seed=config.seed)
  logging.info("\n%s", dataset.summary())
  if dataset.num_outputs != 1:
    raise ConfigError("binary_solver needs one output; set dataset.target='class_vs_rest'.")
  rows = len(dataset.x_train)
  models_by_width = {}
  for width in config.model.widths:  # Every dense and Nyström solve is checked before any work.
    width = models.width_factor(width)
    models_by_width[width] = {d: common.build_model(
        common.model_at_width(config.model, width), dataset.input_shape, 1, int(config.seed), d)
        for d in dtypes_of(config)}
    num_params = models.num_params(next(iter(models_by_width[width].values())))
    for method in ("lstsq", "nystrom_pcg"):
      if method in _methods_at(config, width):
        linearized.check_feasible(method, rows, num_params,
                                  linearized.options(**_solver_options(config, None)))
  results = dict(experiment="binary_solver", model=config.model.name, dataset=config.dataset.name,
                 translate=config.dataset.translate, num_train=rows,
                 num_test=len(dataset.x_test), positive_class=config.dataset.positive_class,
                 majority_accuracy=majority_accuracy(dataset),
                 methods=list(config.solver.methods), dtypes=list(dtypes_of(config)), widths={})
  for width, models_by_dtype in models_by_width.items():
    cell_dir = os.path.join(workdir, f"w{width}")
    os.makedirs(cell_dir, exist_ok=True)
    cells = {}
    for key, method, dtype in _work_at(config, width):
      path = os.path.join(cell_dir, f"{key}.json")
      saved = io.read_cell(path)
      if saved is not None:
        logging.info("width %s, %s: finished earlier, reusing %s", width, key, path)
        cells.update(saved)
        continue
      logging.info("width %s: %s in %s (%d parameters)", width, method, dtype,
                   models.num_params(next(iter(models_by_dtype.values()))))
      if method == "sgd":
        cell = _sgd(spec, dataset, width, cell_dir)
      else:
        cell = _solve(config, dataset, models_by_dtype[dtype], method, dtype, cell_dir)
      io.write_json(path, cell)
      cells.update(cell)
    results["widths"][str(width)] = cells
  table = format_table(results)
  out = common.finish(workdir, results, table + "\n", report_name="table.md")
  logging.info("\n%s", table)
  return out


SOLVER_ROWS = (("Solver (lstsq)", "lstsq"), ("Solver (kernel)", "kernel"),
               ("Solver (LSQR)", "lsqr"), ("Solver (LSMR)", "lsmr"),
               ("Solver (Nyström PCG)", "nystrom_pcg"))
ROWS = SOLVER_ROWS + (("Lin.", "sgd_linearized"), ("LeNet", "sgd_standard"))


def table_rows() -> list:
  """(row name, result key) in table order: each solver in float64, then beside it float32."""
  rows = []
  for name, method in SOLVER_ROWS:
    rows += [(name, method), (f"{name[:-1]}, float32)", result_key(method, "float32"))]
  return rows + list(ROWS[len(SOLVER_ROWS):])


def format_table(results: dict, extra_rows=()) -> str:
  """Samarin 2022 Tables 1/2: accuracy in percent, rows method x split, columns widths; then
  `extra_rows` (e.g. the paper's, as table lines) and the notes."""
  widths = list(results["widths"])
  lines = ["| split | method | " + " | ".join(f"x{w}" for w in widths) + " |",
           "|---|---|" + "---|" * len(widths)]
  for split in ("test", "train"):
    for name, key in table_rows():
      cells = [results["widths"][w].get(key) for w in widths]
      if not any(cells):
        continue
      if key == "sgd_standard" and results.get("model") != "lenet":
        model = results.get("model", name)
        name = model_names.pretty(model) if model_names.is_user_model(model) else model
      values = []
      for c in cells:
        if not c:
          values.append("–")
        else:
          flag = "" if c.get("converged", True) else "*"
          values.append(f"{100 * c[f'{split}_accuracy']:.2f}{flag}")
      lines.append(f"| {split.capitalize()} | {name} | " + " | ".join(values) + " |")
  lines += list(extra_rows)
  if any(not c.get("converged", True) for w in widths for c in results["widths"][w].values()):
    lines.append("\n* stopped before converging (iteration limit or conlim; istop in w<width>/"
                 "<key>.json).")
  if any(key.endswith("_float32") for w in widths for key in results["widths"][w]):
    lines.append("\nfloat32 rows: the network (w0, J, the NTK) in single precision, as in the "
                 "paper, and the cutoffs of a single-precision solve (precision_options in "
                 "w<width>/<key>.json).")
  return "\n".join(lines)
