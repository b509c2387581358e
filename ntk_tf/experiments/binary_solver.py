"""Experiment 'binary_solver': digit 0 vs rest solved exactly and by SGD (Samarin 2022 §4.3).

For each width: the linearized LeNet's system J(w0, X)·u = y − f(w0, X) (eq. 4, one output) is
solved by the methods in `config.solver.methods` — "lstsq" (dense, LAPACK gelsd), "lsqr"/"lsmr"
(matrix-free, any width), "kernel" (u = Jᵀ Θ⁺ r via the empirical NTK) — and "sgd" trains LeNet
and LinLeNet side by side as the `compare` experiment does (lr 0.01, 200 epochs in the paper).
Tables 1 and 2 of the paper: rows Solver / Lin. / LeNet x Test / Train, columns widths.

Workdir: results.json, table.md, w<width>/<method>.json (finished cells, reused on a rerun),
w<width>/sgd/ (the compare run: metrics, checkpoints), w<width>/<method>_iterate.npz (LSQR).
"""

import os

import ml_collections
from absl import logging

from ntk_tf import data, io, models
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, compare
from ntk_tf.solvers import linearized

prepare_workdir = common.prepare_workdir
METHODS = linearized.METHODS + ("sgd",)
DENSE = ("lstsq", "kernel")   # Methods whose memory grows with rows x parameters or rows².


def default_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.experiment = "binary_solver"
  config.seed = 0
  config.deterministic = False
  config.dtype = "float32"          # SGD runs (as in `compare`).
  config.dataset = data.default_config()
  config.dataset.name = "mnist"
  config.dataset.target = "class_vs_rest"
  config.dataset.positive_class = 0
  config.dataset.binary_labels = "01"  # One output; target 1 for digit 0, else 0.
  config.model = common.model_config()
  config.model.widths = (1,)
  config.solver = ml_collections.ConfigDict(dict(
      methods=("lstsq", "sgd"),
      dtype="float64",                # The solvers' model (same seeded w0 as float32).
      dense_widths=ml_collections.FieldReference(None, field_type=tuple),  # None: all widths.
      **{k: v for k, v in linearized.options().items() if k not in ("workdir",)
         and v is not None},
      rcond=ml_collections.FieldReference(None, field_type=float),
      iter_lim=ml_collections.FieldReference(None, field_type=int),
  ))
  config.solver.atol = config.solver.btol = 1e-8
  config.train = common.train_config()
  config.train.epochs = 200
  config.train.batch_size = 32
  config.train.learning_rate = 0.01
  config.train.momentum = 0.9
  config.train.weight_decay = 5e-5
  return config


PAPER_WIDTHS = (1, 2, 5, 10, 25, 60)


def paper_config(translate: int = 0) -> ml_collections.ConfigDict:
  """Samarin et al. 2022 §4.3 (Tables 1 and 2): LeNet on MNIST 0 vs rest, widths 1-60, gelsd at
  widths 1, 2, 5 as in the paper, LSQR at every width, SGD lr 0.01 for 200 epochs."""
  config = default_config()
  config.dataset.name = "mnist"
  config.dataset.translate = translate
  config.model.name = "lenet"
  config.model.widths = PAPER_WIDTHS
  config.solver.methods = ("lstsq", "lsqr", "sgd")
  config.solver.dense_widths = (1, 2, 5)
  config.solver.memory_limit_gb = 64.0   # Full MNIST x1: 27.6 GiB for J (a large CPU node).
  config.solver.iter_lim = 5000
  return config


def validate(config: ml_collections.ConfigDict):
  defaults = default_config()
  common.check_keys(config, defaults, "")
  common.check_keys(config.solver, defaults.solver, "solver")
  data.validate(config.dataset)
  common.validate_model_widths(config.model, config.dtype, config.dataset)
  methods = tuple(config.solver.methods)
  unknown = [m for m in methods if m not in METHODS]
  if unknown or not methods:
    raise ConfigError(f"solver.methods={methods}: use some of {', '.join(METHODS)}.")
  if config.solver.dtype not in models.DTYPES:
    raise ConfigError(f"solver.dtype={config.solver.dtype!r}; use float32 or float64.")
  if config.dataset.target != "class_vs_rest":
    raise ConfigError("binary_solver needs dataset.target='class_vs_rest' (one output).")
  if "sgd" in methods:
    common.validate_train(config.train)


def _solver_options(config, cell_dir: str) -> dict:
  keys = set(linearized.options()) - {"workdir"}
  return dict({k: config.solver[k] for k in keys}, workdir=cell_dir)


def _methods_at(config, width: int) -> list:
  dense_widths = config.solver.dense_widths
  return [m for m in config.solver.methods
          if m not in DENSE or dense_widths is None or width in tuple(dense_widths)]


def _sgd(config, dataset, width: int, cell_dir: str) -> dict:
  run_cfg = ml_collections.ConfigDict(dict(model=common.model_at_width(config.model, width),
                                           train=config.train.to_dict(), dtype=config.dtype))
  final = compare.run_seed(run_cfg, dataset, int(config.seed), os.path.join(cell_dir, "sgd"))
  out = {}
  for which in ("standard", "linearized"):
    if which in final:
      out[f"sgd_{which}"] = dict(method=f"sgd_{which}", num_params=final["num_params"],
                                 **final[which])
  return out


def run(config: ml_collections.ConfigDict, workdir: str) -> dict:
  validate(config)
  dataset = data.load(config.dataset, seed=config.seed)
  logging.info("\n%s", dataset.summary())
  if dataset.num_outputs != 1:
    raise ConfigError("binary_solver needs one output; set dataset.target='class_vs_rest'.")
  rows = len(dataset.x_train)
  models_by_width = {}
  for width in config.model.widths:  # Every dense solve is checked before any work starts.
    model = common.build_model(common.model_at_width(config.model, width), dataset.input_shape,
                               1, int(config.seed), config.solver.dtype)
    models_by_width[int(width)] = model
    for method in _methods_at(config, int(width)):
      if method == "lstsq":
        linearized.check_feasible(method, rows, models.num_params(model),
                                  linearized.options(**_solver_options(config, None)))
  results = dict(experiment="binary_solver", model=config.model.name, dataset=config.dataset.name,
                 translate=config.dataset.translate, num_train=rows,
                 num_test=len(dataset.x_test), positive_class=config.dataset.positive_class,
                 methods=list(config.solver.methods), widths={})
  for width, model in models_by_width.items():
    cell_dir = os.path.join(workdir, f"w{width}")
    os.makedirs(cell_dir, exist_ok=True)
    cells = {}
    for method in _methods_at(config, width):
      path = os.path.join(cell_dir, f"{method}.json")
      saved = io.read_cell(path)
      if saved is not None:
        logging.info("width %d, %s: finished earlier, reusing %s", width, method, path)
        cells.update(saved)
        continue
      logging.info("width %d: %s (%d parameters)", width, method, models.num_params(model))
      if method == "sgd":
        cell = _sgd(config, dataset, width, cell_dir)
      else:
        cell = {method: linearized.solve(
            model, dataset.x_train, dataset.targets_train, dataset.labels_train,
            dataset.x_test, dataset.labels_test, method=method,
            threshold=dataset.decision_threshold, **_solver_options(config, cell_dir))}
      io.write_json(path, cell)
      cells.update(cell)
    results["widths"][str(width)] = cells
  io.write_json(os.path.join(workdir, "results.json"), results)
  table = format_table(results)
  with open(os.path.join(workdir, "table.md"), "w") as f:
    f.write(table + "\n")
  logging.info("\n%s", table)
  return results


ROWS = (("Solver (lstsq)", "lstsq"), ("Solver (kernel)", "kernel"), ("Solver (LSQR)", "lsqr"),
        ("Solver (LSMR)", "lsmr"), ("Lin.", "sgd_linearized"), ("LeNet", "sgd_standard"))


def format_table(results: dict) -> str:
  """Samarin 2022 Tables 1/2: accuracy in percent, rows method x split, columns widths."""
  widths = list(results["widths"])
  lines = ["| split | method | " + " | ".join(f"x{w}" for w in widths) + " |",
           "|---|---|" + "---|" * len(widths)]
  for split in ("test", "train"):
    for name, key in ROWS:
      cells = [results["widths"][w].get(key) for w in widths]
      if not any(cells):
        continue
      if key == "sgd_standard" and results.get("model") != "lenet":
        name = results.get("model", name)
      values = []
      for c in cells:
        if not c:
          values.append("–")
        else:
          flag = "" if c.get("converged", True) else "*"
          values.append(f"{100 * c[f'{split}_accuracy']:.2f}{flag}")
      lines.append(f"| {split.capitalize()} | {name} | " + " | ".join(values) + " |")
  if any(not c.get("converged", True) for w in widths for c in results["widths"][w].values()):
    lines.append("\n* stopped before converging (iteration limit or conlim; istop in w<width>/"
                 "<method>.json).")
  return "\n".join(lines)
