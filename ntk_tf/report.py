"""Paper tables and figures from a sweep's files: `python -m ntk_tf.report --workdir=<sweep dir>`.

Reads <workdir>/sweep.json and every finished cell's results.json (nothing is recomputed) and
writes <workdir>/report/: Markdown and CSV tables in the papers' layouts and figures as PNG and
PDF. `compare` sweeps give Samarin et al.'s width table (rows LinNet/Net × Test/Train, columns
widths, mean ± std over every seed of every cell) and accuracy vs width with trajectories;
`spectrum` the effective rank by width (Samarin 2022 Fig. 6) and singular values (Fig. 7);
`binary_solver` Tables 1/2; `kernel_regression` Arora et al.'s Table 1 (kernel x depth per n);
`scaling_law` the exponents with their learning curves; every experiment also a table of each
cell's scalar results.
"""

import csv
import math
import os
import sys
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
from absl import app, flags, logging  # pylint: disable=g-import-not-at-top,wrong-import-position

from ntk_tf.cli import console as cli
from ntk_tf.errors import ConfigError, NtkTfError  # pylint: disable=wrong-import-position
from ntk_tf.experiments import compare_results, contract
from ntk_tf.reproduction import paper_tables
from ntk_tf.utils import io, model_names, plots


PRETTY = model_names.PRETTY


def collect(workdir: str) -> List[Dict]:
  """The finished cells of a sweep: name, overrides, results (unfinished ones are logged)."""
  path = os.path.join(workdir, "sweep.json")
  if not os.path.exists(path):
    raise ConfigError(f"{workdir} holds no sweep.json; run python -m ntk_tf.sweep "
                      f"--config=<file> --workdir={workdir} first.")
  sweep = io.read_json(path)
  cells, missing = [], []
  for cell in sweep["cells"]:
    results_path = os.path.join(workdir, "cells", cell["name"], "results.json")
    if os.path.exists(results_path):
      config_path = os.path.join(os.path.dirname(results_path), "config.json")
      cells.append(dict(cell, results=contract.Results.read(os.path.dirname(results_path)),
                        workdir=os.path.dirname(results_path),
                        config=io.read_json(config_path) if os.path.exists(config_path) else {}))
    else:
      missing.append(cell["name"])
  if missing:
    logging.warning("report: %d of %d cells are unfinished and left out: %s", len(missing),
                    len(sweep["cells"]), ", ".join(missing))
  if not cells:
    raise ConfigError(f"no finished cell in {workdir}; run or resume the sweep first.")
  return cells


def _save(fig, base: str) -> List[str]:
  paths = [base + ".png", base + ".pdf"]
  for path in paths:
    fig.savefig(path, dpi=120)
  plt.close(fig)
  return paths


def _fmt(value, digits: int = 2) -> str:
  return "–" if value is None else f"{value:.{digits}f}"


def _write_csv(path: str, header: List[str], rows: List[List]):
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(header)
    writer.writerows(rows)


# -- compare: Samarin et al.'s width tables ------------------------------------------------
COMPARE_ROWS = (("linearized", "test"), ("standard", "test"), ("linearized", "train"),
                ("standard", "train"))


def compare_values(cells: List[Dict]) -> Dict:
  """{(model, split): {width: [accuracy of every seed of every cell at that width]}}."""
  values = {row: {} for row in COMPARE_ROWS}
  for cell in cells:
    r = cell["results"]
    for model, split in COMPARE_ROWS:
      found = compare_results.accuracies(r, model, split)
      if found:
        values[(model, split)].setdefault(compare_results.width(r), []).extend(found)
  return values


def linearized_hyperparameters(cell: Dict) -> Tuple[Optional[float], Optional[float]]:
  """The learning rate and weight decay of a compare cell's linearization (None: unknown).

  From the cell's config.json (train.linearized_* or, when unset, the network's own values),
  else from its results.
  """
  sources = [(cell.get("config") or {}).get("train") or {}, cell.get("results") or {}]
  values = []
  for name in ("learning_rate", "weight_decay"):
    found = [src.get(f"linearized_{name}") for src in sources] + [src.get(name) for src in sources]
    values.append(next((float(v) for v in found if v is not None), None))
  return values[0], values[1]


def _paper_width_rows(cells: List[Dict], names: Dict, widths: List[int]) -> List[str]:
  """The paper's rows of the width table (the variant matching the cells' linearized learning
  rate, e.g. LinAlexNet LR 1 or LR 0.1), and a line naming the source and variant."""
  r = cells[0]["results"]
  translate = (cells[0].get("config") or {}).get("dataset", {}).get("translate", 0)
  rates = {linearized_hyperparameters(c)[0] for c in cells} - {None}
  rate = rates.pop() if len(rates) == 1 else None
  paper = paper_tables.width_table(r["model"], r["dataset"], translate, rate)
  if not paper:
    return []
  if len(rates) > 1:  # Several cells, several rates: no single variant to compare with.
    paper = dict(paper_tables.without_linearized(paper), note=(
        "No linearized rows: the cells' linearizations use lr "
        + ", ".join(f"{x:g}" for x in sorted(rates))))
  lines = []
  for kind, split in COMPARE_ROWS:
    if (kind, split) in paper:
      label = f", {paper['label']}" if kind == "linearized" and "label" in paper else ""
      lines.append(f"| {names[kind]} {split.capitalize()} (paper{label}) | " + " | ".join(
          _fmt(paper[(kind, split)].get(w)) for w in widths) + " |")
  footer = f"\nPaper rows: {paper['source']}."
  if paper.get("variant"):
    run = ("this run's linearized learning rate is unknown" if rate is None
           else f"matching this run's linearized learning rate {rate:g}")
    footer += f" {names['linearized']} rows: {paper['variant']}, {run}."
    decay = linearized_hyperparameters(cells[0])[1]
    if decay is not None and not math.isclose(decay, paper["weight_decay"], rel_tol=1e-9):
      footer += (f" This run's linearized weight decay {decay:g} differs from the paper's "
                 f"{paper['weight_decay']:g}.")
  elif paper.get("note"):
    footer += f" {paper['note']}."
  return lines + [footer]


def compare_report(cells: List[Dict], out: str) -> List[str]:
  model = model_names.pretty(cells[0]["results"]["model"])
  lin = model_names.linearized(cells[0]["results"]["model"])
  dataset = cells[0]["results"]["dataset"]
  values = compare_values(cells)
  widths = sorted({w for row in values.values() for w in row})
  names = {"linearized": lin, "standard": model}
  lines = [f"# {model} and {lin} on {dataset}: accuracy (%) by width, mean ± std over "
           "seeds", "", "| | " + " | ".join(f"x{w}" for w in widths) + " |",
           "|---" * (len(widths) + 1) + "|"]
  rows = []
  for kind, split in COMPARE_ROWS:
    if not values[(kind, split)]:
      continue
    entries = []
    for w in widths:
      v = values[(kind, split)].get(w)
      if v:
        entries.append(f"{np.mean(v):.2f} ± {np.std(v):.2f}")
        rows.append([names[kind], split, w, np.mean(v), np.std(v), len(v)])
      else:
        entries.append("–")
    lines.append(f"| {names[kind]} {split.capitalize()} | " + " | ".join(entries) + " |")
  lines += _paper_width_rows(cells, names, widths)
  with open(os.path.join(out, "width_table.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
  _write_csv(os.path.join(out, "width_table.csv"),
             ["model", "split", "width", "mean_accuracy", "std_accuracy", "num_seeds"], rows)
  fig, ax = plt.subplots(figsize=(5.5, 4.2))
  for kind, split in COMPARE_ROWS:
    series = values[(kind, split)]
    if not series:
      continue
    ws = sorted(series)
    ax.errorbar(ws, [np.mean(series[w]) for w in ws], yerr=[np.std(series[w]) for w in ws],
                fmt="-o" if split == "test" else "--s", color=plots.COLORS[kind], capsize=2,
                label=f"{names[kind]} {split}")
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("accuracy (%)")
  ax.set_title(f"{model} vs {lin} on {dataset}")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  written = _save(fig, os.path.join(out, "accuracy_vs_width"))
  for cell in cells:  # Output trajectories of the first seed of each width (Samarin Fig. 2).
    r = cell["results"]
    npz = os.path.join(cell["workdir"], f"seed_{r['seeds'][0]}", "trajectories.npz")
    base = os.path.join(out, f"trajectories_x{r['width']}")
    if os.path.exists(npz) and not os.path.exists(base + ".png"):
      for ext in (".png", ".pdf"):
        plots.trajectories(npz, base + ext, f"{model_names.label(r['model'], r['width'], True)} on "
                           f"{dataset}")
      written += [base + ".png", base + ".pdf"]
  return [os.path.join(out, "width_table.md"), os.path.join(out, "width_table.csv")] + written


# -- scaling_law: exponents ----------------------------------------------------------------
def scaling_report(cells: List[Dict], out: str) -> List[str]:
  kinds = []
  for cell in cells:
    kinds += [k for k in cell["results"]["kinds"] if k not in kinds]
  lines = ["# Data-scaling exponents beta (L(n) = A(1/n + alpha)^beta), per sweep cell", "",
           "| cell | " + " | ".join(kinds) + " |", "|---" * (len(kinds) + 1) + "|"]
  rows, written = [], []
  for cell in cells:
    r = cell["results"]
    entries = []
    for kind in kinds:
      k = r.get(kind)
      if not k or k["beta"] is None:
        entries.append("–")
        continue
      text = f"{k['beta']:.3f}"
      if k.get("beta_interval"):
        text += f" [{k['beta_interval'][0]:.3f}, {k['beta_interval'][1]:.3f}]"
      entries.append(text)
      rows.append([cell["name"], kind, k["beta"], *(k.get("beta_interval") or [None, None])])
    lines.append(f"| {cell['name']} | " + " | ".join(entries) + " |")
    base = os.path.join(out, f"learning_curves_{cell['name']}")
    results_path = os.path.join(cell["workdir"], "results.json")
    for ext in (".png", ".pdf"):
      plots.learning_curves(results_path, base + ext)
    written += [base + ".png", base + ".pdf"]
  with open(os.path.join(out, "scaling_exponents.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
  _write_csv(os.path.join(out, "scaling_exponents.csv"),
             ["cell", "kind", "beta", "beta_low", "beta_high"], rows)
  return [os.path.join(out, "scaling_exponents.md"),
          os.path.join(out, "scaling_exponents.csv")] + written


# -- spectrum: effective rank by width ------------------------------------------------------
def spectrum_report(cells: List[Dict], out: str) -> List[str]:
  """Effective rank (mean ± std over cells, e.g. seeds) by width, one row per translation
  (Samarin 2022 Fig. 6), and the singular-value distributions of every cell (Fig. 7)."""
  ranks = {}
  for cell in cells:
    for translate, entry in cell["results"]["translations"].items():
      for width, info in entry["widths"].items():
        ranks.setdefault(int(translate), {}).setdefault(int(width), []).append(
            info["effective_rank"])
  widths = sorted({w for row in ranks.values() for w in row})
  lines = [f"# Effective rank of the empirical NTK by width ({cells[0]['results']['model']} on "
           f"{cells[0]['results']['dataset']}, {cells[0]['results']['num_samples']} samples)",
           "", "| data | " + " | ".join(f"x{w}" for w in widths) + " |",
           "|---" * (len(widths) + 1) + "|"]
  rows = []
  fig, ax = plt.subplots(figsize=(5.5, 4.2))
  for translate in sorted(ranks):
    label = "plain" if translate == 0 else f"shifted <= {translate} px"
    entries = []
    for w in widths:
      v = ranks[translate].get(w)
      entries.append("–" if not v else f"{np.mean(v):.1f} ± {np.std(v):.1f}")
      if v:
        rows.append([translate, w, np.mean(v), np.std(v), len(v)])
    lines.append(f"| {label} | " + " | ".join(entries) + " |")
    ws = sorted(ranks[translate])
    ax.errorbar(ws, [np.mean(ranks[translate][w]) for w in ws],
                yerr=[np.std(ranks[translate][w]) for w in ws], fmt="-*", capsize=2,
                label=label)
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("effective rank")
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  written = _save(fig, os.path.join(out, "effective_rank_vs_width"))
  with open(os.path.join(out, "effective_rank.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
  _write_csv(os.path.join(out, "effective_rank.csv"),
             ["translate", "width", "mean_effective_rank", "std_effective_rank", "num_cells"],
             rows)
  for cell in cells:
    base = os.path.join(out, f"singular_values_{cell['name']}")
    for ext in (".png", ".pdf"):
      plots.singular_value_distributions(cell["workdir"], base + ext)
    written += [base + ".png", base + ".pdf"]
  return [os.path.join(out, "effective_rank.md"), os.path.join(out, "effective_rank.csv")] + \
      written


# -- binary_solver: Samarin 2022 Tables 1/2 ----------------------------------------------------
def binary_report(cells: List[Dict], out: str) -> List[str]:
  """The cells' widths merged into one Table 1/2 (rows method x split, columns widths; float32
  solver rows beside the float64 ones)."""
  from ntk_tf.experiments import binary_solver  # pylint: disable=import-outside-toplevel
  merged = dict(cells[0]["results"], widths={})
  rows = []
  for cell in cells:
    for width, methods in cell["results"]["widths"].items():
      merged["widths"][width] = methods
      for method, r in methods.items():
        rows.append([width, method, r.get("dtype"), r.get("train_accuracy"),
                     r.get("test_accuracy"), r.get("converged", True)])
  merged["widths"] = dict(sorted(merged["widths"].items(), key=lambda kv: int(kv[0])))
  title = (f"# Binary {merged.get('positive_class', 0)}-vs-rest on {merged['dataset']}"
           f"{' (translated)' if merged.get('translate') else ''}: accuracy (%)\n\n")
  paper = paper_tables.binary_table(merged.get("translate", 0))
  paper_rows = []
  if paper:
    widths = [int(w) for w in merged["widths"]]
    for split in ("test", "train"):
      for method in ("Solver", "Lin.", "LeNet"):
        paper_rows.append(f"| {split.capitalize()} (paper) | {method} | " + " | ".join(
            _fmt(paper[(method, split)].get(w)) for w in widths) + " |")
  table = binary_solver.format_table(merged, paper_rows)
  if paper:
    table += (f"\n\nPaper rows: {paper['source']}; the paper's solves are in single precision "
              "(its §4), the float32 Solver rows' setting.")
  with open(os.path.join(out, "binary_table.md"), "w") as f:
    f.write(title + table + "\n")
  _write_csv(os.path.join(out, "binary_table.csv"),
             ["width", "method", "dtype", "train_accuracy", "test_accuracy", "converged"],
             rows)
  return [os.path.join(out, "binary_table.md"), os.path.join(out, "binary_table.csv")]


# -- kernel_regression: Arora et al. Table 1 --------------------------------------------------
def kernel_regression_report(cells: List[Dict], out: str) -> List[str]:
  """Test accuracy (%) with rows kernel/architecture and columns depth, one table per n."""
  acc = {}
  for cell in cells:
    r = cell["results"]
    depth = r.get("depth", cell["overrides"].get("model.depth"))
    if depth is not None and r["model"] in ("cnn_v", "cnn_gap"):
      depth += 1  # Arora et al. count the dense readout as a layer.
    prefix = {"infinite": "NTK", "empirical": "eNTK", "monte_carlo": "MC-NTK"}[r["kernel"]]
    name = f"{prefix}-{model_names.pretty(r['model'])}"
    if r["kernel"] == "infinite" and r["model"] in ("cnn_v", "cnn_gap"):
      name = "CNTK-" + ("V" if r["model"] == "cnn_v" else "GAP")  # Arora et al.'s names.
    for n, entry in r["train_sizes"].items():
      acc.setdefault(int(n), {}).setdefault(name, {})[depth] = 100 * entry["test_accuracy"]
  lines, rows = [], []
  for n in sorted(acc):
    depths = sorted({d for row in acc[n].values() for d in row}, key=lambda d: (d is None, d))
    lines += [f"# Kernel regression test accuracy (%), n = {n} (depth: layers with the readout)",
              "", "| kernel | " + " | ".join(f"depth {d}" for d in depths) + " |",
              "|---" * (len(depths) + 1) + "|"]
    for name in sorted(acc[n]):
      lines.append(f"| {name} | " + " | ".join(_fmt(acc[n][name].get(d)) for d in depths)
                   + " |")
      rows += [[n, name, d, acc[n][name][d]] for d in depths if d in acc[n][name]]
    if cells[0]["results"]["dataset"] == "cifar10":
      for name in sorted(acc[n]):
        paper = paper_tables.ARORA2019.get((name, n))
        if paper:
          lines.append(f"| {name} (paper) | " + " | ".join(_fmt(paper.get(d)) for d in depths)
                       + " |")
      lines.append(f"\nPaper rows: {paper_tables.ARORA2019['source']}.")
    lines.append("")
  with open(os.path.join(out, "kernel_table.md"), "w") as f:
    f.write("\n".join(lines))
  _write_csv(os.path.join(out, "kernel_table.csv"), ["n", "kernel", "depth", "test_accuracy"],
             rows)
  return [os.path.join(out, "kernel_table.md"), os.path.join(out, "kernel_table.csv")]


# -- any experiment: scalar results per cell ------------------------------------------------
def _scalars(results: Dict, prefix: str = "") -> Dict:
  out = {}
  for key, value in results.items():
    if isinstance(value, bool) or key in ("per_seed",):
      continue
    if isinstance(value, (int, float)):
      out[prefix + key] = value
    elif isinstance(value, dict):
      out.update(_scalars(value, f"{prefix}{key}."))
  return out


def generic_report(cells: List[Dict], out: str) -> List[str]:
  columns = []
  table = []
  for cell in cells:
    scalars = _scalars(cell["results"])
    columns += [k for k in scalars if k not in columns]
    table.append((cell["name"], scalars))
  _write_csv(os.path.join(out, "results.csv"), ["cell"] + columns,
             [[name] + [s.get(c) for c in columns] for name, s in table])
  lines = ["| cell | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
  for name, s in table:
    lines.append(f"| {name} | " + " | ".join("–" if s.get(c) is None else f"{s[c]:.4g}"
                                             for c in columns) + " |")
  with open(os.path.join(out, "results.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
  return [os.path.join(out, "results.md"), os.path.join(out, "results.csv")]


REPORTERS = {"compare": compare_report, "scaling_law": scaling_report,
             "spectrum": spectrum_report, "binary_solver": binary_report,
             "kernel_regression": kernel_regression_report}


def build_report(workdir: str) -> List[str]:
  """Writes <workdir>/report/ from the finished cells; returns the files written."""
  cells = collect(workdir)
  out = os.path.join(workdir, "report")
  os.makedirs(out, exist_ok=True)
  experiments = {c["results"].get("experiment") for c in cells}
  if len(experiments) != 1:
    raise ConfigError(f"the cells of {workdir} come from several experiments {experiments}; "
                      "report one sweep at a time.")
  written = generic_report(cells, out)
  reporter = REPORTERS.get(experiments.pop())
  if reporter is not None:
    written += reporter(cells, out)
  return written


def main(argv):
  del argv
  cli.concise_logging()
  workdir = flags.FLAGS.workdir
  if not workdir:
    print("ntk_tf.report: error: --workdir=<sweep dir> is required.", file=sys.stderr)
    sys.exit(2)
  try:
    written = build_report(workdir)
  except NtkTfError as e:
    print(f"ntk_tf.report: error: {e}", file=sys.stderr)
    sys.exit(2)
  for path in written:
    print(path)


if __name__ == "__main__":
  cli.quiet_start(sys.argv)
  flags.DEFINE_string("workdir", None, "A sweep directory (python -m ntk_tf.sweep).")
  app.run(main)
