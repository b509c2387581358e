"""Figures drawn from the files an experiment wrote (never from memory only)."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
import matplotlib.ticker  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position

from ntk_tf.utils import io  # pylint: disable=wrong-import-position

COLORS = {"standard": "tab:blue", "linearized": "tab:orange"}
LABELS = {"standard": "network", "linearized": "linearization"}
_RUN = {"label": ""}  # The config a command-line run came from, named in every title.


def label_runs(config_path: str) -> None:
  """Titles name the config file (`configs/quickstart.py:smoke` -> 'quickstart:smoke'); set by
  ntk_tf.main, empty for library use."""
  base, _, arg = config_path.partition(":")
  name = base.rsplit("/", 1)[-1].removesuffix(".py")
  _RUN["label"] = f"{name}:{arg}" if arg else name


def _title(ax, title: str) -> None:
  """The axes' title, with the config's name when a command-line run set one."""
  label = _RUN["label"]
  ax.set_title(f"{title} [{label}]" if label and title else (title or label), fontsize=10)


def _integer_ticks(ax) -> None:
  """Epochs and steps are whole numbers: no 0.5-epoch ticks."""
  ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))


def accuracy_curves(metrics_path: str, out_path: str, title: str = ""):
  """Train (dashed) and test (solid) accuracy per epoch of both models."""
  records = io.read_jsonl(metrics_path)
  fig, ax = plt.subplots(figsize=(6, 4))
  for which in ("standard", "linearized"):
    rows = [r for r in records if which in r]
    if not rows:
      continue
    epochs = [r["epoch"] for r in rows]
    ax.plot(epochs, [r[which]["test_accuracy"] for r in rows], "-o", ms=3,
            color=COLORS[which], label=f"{LABELS[which]} test")
    ax.plot(epochs, [r[which]["train_accuracy"] for r in rows], "--", color=COLORS[which],
            label=f"{LABELS[which]} train")
  ax.set_xlabel("epoch")
  _integer_ticks(ax)
  ax.set_ylabel("accuracy")
  _title(ax, title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, ncol=2, loc="lower right", framealpha=0.9)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def trajectories(npz_path: str, out_path: str, title: str = "", max_points: int = 4):
  """The output for the correct class on validation points vs step (Samarin 2020, Fig. 2);
  light lines: the linearization."""
  with np.load(npz_path) as z:
    steps, std, lin = z["step"], z["standard"], z["linearized"]
  fig, ax = plt.subplots(figsize=(6, 4))
  for i in range(min(max_points, std.shape[1])):
    line, = ax.plot(steps, std[:, i], "-", lw=1.2)
    ax.plot(steps, lin[:, i], "-", lw=1.2, color=line.get_color(), alpha=0.35)
  ax.set_xscale("symlog", linthresh=1)
  ax.set_xlabel("step")
  ax.set_ylabel("output for the correct class")
  _title(ax, title + " (light: linearization)")
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def effective_rank_vs_width(results_path: str, out_path: str):
  """Effective rank of ∇_w f(w0, X) against width, one line per translation (Samarin 2022
  Fig. 6)."""
  with open(results_path) as f:
    results = json.load(f)
  fig, ax = plt.subplots(figsize=(5, 4))
  for translate, entry in results["translations"].items():
    widths = sorted(entry["widths"], key=int)
    ax.plot([int(w) for w in widths], [entry["widths"][w]["effective_rank"] for w in widths],
            "-*", ms=8, label="plain" if translate == "0" else f"shifted ≤ {translate} px")
  ax.set_xscale("log")
  ax.set_xlabel("width factor")
  ax.set_ylabel("effective rank")
  rows = next(iter(results["widths"].values()))["num_rows"]
  _title(ax, f"{results['model']} on {results['dataset']} ({rows} rows)")
  ax.grid(alpha=0.3)
  ax.legend()
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def singular_value_distributions(workdir: str, out_path: str):
  """Sorted singular values σ_k / σ_1 for every saved spectrum (Samarin 2022 Fig. 7)."""
  import glob  # pylint: disable=import-outside-toplevel
  import os  # pylint: disable=import-outside-toplevel
  fig, ax = plt.subplots(figsize=(6, 4))
  for path in sorted(glob.glob(os.path.join(workdir, "singular_values", "*.npy"))):
    s = np.load(path)
    ax.plot(np.arange(1, len(s) + 1), s / s[0], lw=1,
            label=os.path.basename(path)[:-4].replace("_", " "))
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("index k")
  ax.set_ylabel("σ_k / σ_1")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def accuracy_vs_train_size(results_path: str, out_path: str):
  """Kernel-regression train/test accuracy (and test error) against the number of samples."""
  with open(results_path) as f:
    results = json.load(f)
  sizes = sorted(results["train_sizes"], key=int)
  n = [int(s) for s in sizes]
  fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
  for split, style in (("train", "--o"), ("test", "-o")):
    left.plot(n, [100 * results["train_sizes"][s][f"{split}_accuracy"] for s in sizes], style,
              label=split)
  right.loglog(n, [1 - results["train_sizes"][s]["test_accuracy"] for s in sizes], "-o")
  left.set_ylabel("accuracy (%)")
  right.set_ylabel("test error")
  for ax in (left, right):
    ax.set_xscale("log")
    ax.set_xlabel("training samples n")
    ax.grid(alpha=0.3)
  left.legend()
  fig.suptitle(f"{results['kernel']} kernel ({results['model']} x{results['width']}, "
               f"{results['weights'] if results['weights'] == 'initialization' else 'trained'})"
               f" on {results['dataset']}")
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


KIND_STYLES = {"network": ("tab:blue", "o"), "empirical_ntk": ("tab:orange", "s"),
               "infinite_ntk": ("tab:green", "^"), "infinite_ntk_regression": ("tab:olive", "v")}


def learning_curves(results_path: str, out_path: str):
  """Mean test error vs n on log-log axes, ± std over seeds, with each fitted A(1/n + α)^β
  (Vyas et al. 2022, Fig. 1)."""
  with open(results_path) as f:
    results = json.load(f)
  fig, ax = plt.subplots(figsize=(5.5, 4.2))
  for kind in results["kinds"]:
    r = results[kind]
    color, marker = KIND_STYLES.get(kind, (None, "o"))
    label = kind if r["beta"] is None else f"{kind} (β = {r['beta']:.3f})"
    ax.errorbar(r["n"], r["test_error_mean"], yerr=r["test_error_std"], fmt=marker,
                color=color, label=label, capsize=2)
    if r["fit"]:
      n = np.geomspace(min(r["n"]), max(r["n"]), 100)
      f = r["fit"]
      with np.errstate(all="ignore"):  # Wild fits to few points stay off the figure.
        law = f["A"] * (1.0 / n + f["alpha"]) ** f["beta"]
      ok = np.isfinite(law) & (law > 0)
      ax.plot(n[ok], law[ok], "-", color=color, alpha=0.7)
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.set_xlabel("training samples n")
  ax.set_ylabel("test error (optimal early stopping)")
  _title(ax, f"{results['model']} width {results['width']} on {results['dataset']}")
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def width_sweep(results_path: str, out_path: str):
  """Test error vs width at fixed n for the network and its eNTK, the infinite NTK as a line
  (Vyas et al. 2022, Figs. 2b/c)."""
  with open(results_path) as f:
    results = json.load(f)
  sweep = results["width_sweep"]
  fig, ax = plt.subplots(figsize=(5.5, 4.2))
  for kind in ("network", "empirical_ntk"):
    color, marker = KIND_STYLES[kind]
    ax.errorbar(sweep["widths"], sweep[kind]["mean"], yerr=sweep[kind]["std"], fmt=f"-{marker}",
                color=color, label=kind, capsize=2)
  if "infinite_ntk" in sweep:
    ax.axhline(sweep["infinite_ntk"], color=KIND_STYLES["infinite_ntk"][0], ls="--",
               label="infinite_ntk")
  ax.set_xscale("log")
  ax.set_xlabel("width")
  ax.set_ylabel("test error")
  _title(ax, f"n = {sweep['train_size']}")
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def after_kernel(results_path: str, out_path: str):
  """Learning curves of after-kernels K_m(n) (solid: same samples, dashed: fresh) and the
  network, and K_m(n0) against m (Vyas et al. 2022, Fig. 4)."""
  with open(results_path) as f:
    results = json.load(f)
  fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
  cmap = plt.get_cmap("viridis")
  kernels = results["kernels"]
  for i, (m, entry) in enumerate(kernels.items()):
    color = cmap(i / max(len(kernels) - 1, 1))
    name = "K_0 (init)" if m == "0" else f"K_{m}"
    for key, style in (("same", "-o"), ("fresh", "--s")):
      curve = entry[key]
      if curve["n"] and not (m == "0" and key == "same"):
        left.plot(curve["n"], curve["test_error_mean"], style, color=color, ms=4,
                  label=f"{name} ({key})")
  d = results["diagonal"]
  if d["n"]:
    left.plot(d["n"], d["network"], "-^k", label="network")
  v = results["error_at_smallest_n_vs_m"]
  for key, style in (("same", "-o"), ("fresh", "--s")):
    points = [(m, e) for m, e in zip(v["m"], v[key]) if e is not None and m > 0]
    if points:
      right.plot(*zip(*points), style, label=f"K_m({v['n']}) {key}")
  for ax, xlabel in ((left, "samples n the kernel is fitted on"), (right, "m")):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test error")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
  _title(left, f"after-kernels, {results['model']} width {results['width']}")
  _title(right, "after-kernel trained on m samples")
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)


def time_dynamics(results_path: str, out_path: str):
  """Test error against step t on log-log axes: the network, the eNTK-at-initialization model
  and K^t fitted on the training set (Vyas et al. 2022, Fig. 5a)."""
  with open(results_path) as f:
    results = json.load(f)
  fig, ax = plt.subplots(figsize=(5.5, 4.2))
  for key, color in (("network", "tab:blue"), ("empirical_ntk_init", "tab:orange")):
    c = results[key]
    steps = np.asarray(c["steps"])
    ax.plot(steps[steps > 0], np.asarray(c["test_error_mean"])[steps > 0], "-", color=color,
            label=f"{key} at step t")
  k = results["kernel"]
  steps = np.asarray(k["steps"])
  ax.errorbar(steps[steps > 0], np.asarray(k["test_error_mean"])[steps > 0],
              yerr=np.asarray(k["test_error_std"])[steps > 0], fmt="o-", color="tab:red",
              label="K^t fitted")
  if 0 in k["steps"]:
    ax.axhline(k["test_error_mean"][k["steps"].index(0)], color="tab:red", ls=":",
               label="K^0 fitted")
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("step t (batches)")
  ax.set_ylabel("test error")
  _title(ax, f"{results['model']} width {results['width']}, n = {results['train_size']}")
  ax.grid(alpha=0.3, which="both")
  ax.legend(fontsize=8)
  fig.tight_layout()
  fig.savefig(out_path, dpi=120)
  plt.close(fig)
