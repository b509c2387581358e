"""The reproduction page's figures, drawn from the claims' measured values (small PNGs)."""

import os
from typing import Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position

from ntk_tf.reproduction import paper_tables

DPI = 80
# Samarin et al. 2022, Sec. 4.1: test-error gaps (pp) at x1 and x60, mean of 5 reruns.
PAPER_GAPS = {"MNIST": {1: 4.67, 60: 0.48}, "translated MNIST": {1: 27.65, 60: 3.91},
              "harder": {1: 20.22, 60: 13.17}}


def _by_id(entries) -> Dict[str, dict]:
  return {e["id"]: e for e in entries if e.get("values")}


def _save(fig, path) -> str:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  fig.tight_layout()
  fig.savefig(path, dpi=DPI)
  plt.close(fig)
  return path


def gaps_vs_width(values: dict, path: str) -> str:
  """Test gap (pp) of every compare task against width, the paper's x1/x60 gaps as markers."""
  fig, ax = plt.subplots(figsize=(5.5, 3.6))
  for i, (task, by_width) in enumerate(values["tasks"].items()):
    widths = sorted(by_width, key=float)
    mean = [by_width[w]["gap_test"]["mean"] for w in widths]
    std = [by_width[w]["gap_test"]["std"] for w in widths]
    color = f"C{i}"
    ax.errorbar([float(w) for w in widths], mean, yerr=std, fmt="-o", ms=4, capsize=3,
                color=color, label=f"{task} (ours)")
    if task in PAPER_GAPS:
      ws, gs = zip(*PAPER_GAPS[task].items())
      ax.plot(ws, gs, "s", mfc="none", color=color, label=f"{task} (paper)")
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("test gap network − linearization (pp)")
  ax.set_title("Samarin et al. 2022: the gap by width")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, path)


def accuracy_vs_width(values: dict, path: str) -> str:
  """LeNet and LinLeNet test accuracy against width (ours ± std, the paper's Fig. 3 dashed)."""
  fig, ax = plt.subplots(figsize=(5.5, 3.6))
  widths = sorted(values["widths"], key=float)
  paper = paper_tables.width_table("lenet", "mnist") or {}
  for key, label, color in (("standard_test", "LeNet", "tab:blue"),
                            ("linearized_test", "LinLeNet", "tab:orange")):
    ax.errorbar([float(w) for w in widths], [values["widths"][w][key]["mean"] for w in widths],
                yerr=[values["widths"][w][key]["std"] for w in widths], fmt="-o", ms=4,
                capsize=3, color=color, label=f"{label} test (ours)")
    row = paper.get((key.split("_")[0], "test"))
    if row:
      ax.plot(list(row), list(row.values()), "--s", mfc="none", color=color, alpha=0.7,
              label=f"{label} test (paper, full MNIST)")
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("test accuracy (%)")
  ax.set_title("Samarin et al. 2020 Fig. 3: MNIST")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  return _save(fig, path)


def effective_rank(values: dict, path: str) -> str:
  fig, ax = plt.subplots(figsize=(5.5, 3.6))
  for t, by_width in values["translations"].items():
    widths = sorted(by_width, key=float)
    ax.plot([float(w) for w in widths], [by_width[w]["effective_rank"] for w in widths], "-o",
            ms=4, label=f"σ(J), shifts ≤ {t} px")
    kernel = [by_width[w].get("kernel_effective_rank") for w in widths]
    if all(k is not None for k in kernel):
      ax.plot([float(w) for w in widths], kernel, "--s", ms=4, mfc="none",
              label=f"kernel σ², shifts ≤ {t} px")
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("effective rank (of 6000 rows)")
  ax.set_title("Samarin et al.: effective rank of the eNTK")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  return _save(fig, path)


def learning_curves(values: dict, path: str) -> str:
  """Test error against n on log-log axes for every kind of the first scaling run."""
  name, betas = next(iter(values["runs"].items()))
  fig, ax = plt.subplots(figsize=(5.5, 3.6))
  for kind, b in betas.items():
    if isinstance(b, dict) and b.get("n"):
      label = f"{kind} (β {b['beta']:.3f})" if b["beta"] is not None else kind
      ax.loglog(b["n"], b["errors"], "-o", ms=4, label=label)
  ax.set_xlabel("training samples n")
  ax.set_ylabel("test error")
  ax.set_title(f"Vyas et al.: data scaling ({name})")
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=7)
  return _save(fig, path)


FIGURES = {"gap_vs_width": gaps_vs_width, "accuracy_vs_width": accuracy_vs_width,
           "scaling_exponents": learning_curves, "effective_rank": effective_rank}


def draw(entries: List[dict], out_dir: str, figure_of: Dict[str, str]) -> List[str]:
  """Every figure of FIGURES, in that order, from the first claim naming it (`figure_of`: claim
  id -> figure) that has measured values; returns their paths."""
  by_id, out = _by_id(entries), []
  for name, plot in FIGURES.items():
    cid = next((c for c, f in figure_of.items() if f == name and c in by_id), None)
    if cid:
      out.append(plot(by_id[cid]["values"], os.path.join(out_dir, f"{name}.png")))
  return out
