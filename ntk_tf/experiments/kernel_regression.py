"""Experiment 'kernel_regression': kernel ridge with a chosen kernel, accuracy vs training size n.

The kernel of a network at initialization (`kernel.name="empirical"`), after training or at
step t (`kernel.checkpoint_dir` / `checkpoint_step` of a `compare` run: the after-kernel and
K^t of Vyas et al. 2022). Targets: the dataset's (one-hot by default). With
`kernel.subtract_initial_outputs` the regression is on y − f(w0, X) and f(w0, ·) is added back:
exactly the linearized network fitted to convergence (Lee et al. 2019); otherwise the plain
kernel regression of Arora et al. 2019 and Vyas et al. `kernel.name="infinite"`: the exact
infinite-width NTK or NNGP (`kernel.which`) of `model.name` (mlp, cnn_v, cnn_gap with
`model.depth`, myrtle, cnn5; ntk.infinite) — Arora et al.'s CNTK-V and CNTK-GAP, the latter
with `kernel.trained_layers="middle"` (the first and readout layers fixed, as their code's `fix`
option for Table 1's GAP column; default "all": every layer trained);
`"monte_carlo"`: its estimate for max-pool nets (lenet, alexnet) from `kernel.num_samples`
initializations at width `model.width` (ntk.monte_carlo; standard errors saved).

`kernel.outputs`: "trace" uses one (n, n) kernel Σ_a Θ[i, j, a, a] / L shared by the L outputs
(what papers fit; the eNTK is close to diagonal in outputs); "full" the (n·L, n·L) eNTK.
The kernels over max(train_sizes) training samples and test × training samples are computed
once (blocks checkpointed; the test × test block is never needed), and nested training sets (the
first n of the seeded shuffle) are fitted from them. `kernel.readout_depths` (infinite cnn_v /
cnn_gap, counted in convolutions like `model.depth`): the same run also fits the nets of these
depths, read out in the kernel's one pass (results["by_depth"]; Arora et al.'s depth columns).

Workdir: results.json, accuracy_vs_n.png, kernel_blocks/ (resume), kernel.npz (optional).
"""

import math
import os

import ml_collections
import numpy as np
from absl import logging

from ntk_tf import data, models
from ntk_tf.analysis import metrics
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.ntk import empirical, infinite, monte_carlo
from ntk_tf.solvers import kernel as kernel_solver
from ntk_tf.training import checkpoints, steps as training
from ntk_tf.utils import distribute, io, memory, model_names, plots

default_config = defaults.kernel_regression
KERNELS = ("empirical", "infinite", "monte_carlo")
WHICH = ("ntk", "nngp")
OUTPUTS = ("trace", "full")


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  defaults = default_config()
  common.check_keys(config, defaults, "")
  for section in ("kernel", "regression"):
    common.check_keys(config[section], defaults[section], section)
  data.validate(config.dataset)
  distribute.validate(config.get("distribute", "default"))
  common.validate_model(config.model, config.dataset, config.get("dtype", "float32"))
  k = config.kernel
  if k.name not in KERNELS:
    raise ConfigError(f"kernel.name={k.name!r}; available kernels: {', '.join(KERNELS)}.")
  if k.which not in WHICH:
    raise ConfigError(f"kernel.which={k.which!r}; use 'ntk' or 'nngp'.")
  if k.name != "empirical":
    for key, bad in (("outputs", k.outputs == "full"),
                     ("subtract_initial_outputs", k.subtract_initial_outputs),
                     ("checkpoint_dir", k.checkpoint_dir)):
      if bad:
        raise ConfigError(f"kernel.{key} applies to kernel.name='empirical' only; the "
                          f"{k.name} kernel is one (n, n) kernel at initialization.")
  if k.trained_layers not in infinite.TRAINED_LAYERS:
    raise ConfigError(f"kernel.trained_layers={k.trained_layers!r}; use one of "
                      f"{', '.join(infinite.TRAINED_LAYERS)}.")
  if k.trained_layers != "all" and (k.name != "infinite" or k.which != "ntk"):
    raise ConfigError(f"kernel.trained_layers={k.trained_layers!r} applies to the infinite NTK "
                      "only (kernel.name='infinite', kernel.which='ntk').")
  if k.name == "infinite" and model_names.is_user_model(config.model.name):
    raise ConfigError("kernel.name='infinite': closed-form kernels exist for the built-in "
                      f"architectures only, not for a user model ({config.model.name}); use "
                      "kernel.name='empirical' (its eNTK at initialization) or 'monte_carlo' "
                      "(the mean eNTK/NNGP over kernel.num_samples initializations).")
  if k.readout_depths and config.model.depth is None:
    raise ConfigError("kernel.readout_depths needs model.depth (the full net's number of "
                      "convolutions) set explicitly.")
  if k.readout_depths and k.name != "infinite":
    raise ConfigError("kernel.readout_depths applies to kernel.name='infinite' (cnn_v, "
                      "cnn_gap); run one config per depth for the other kernels.")
  if k.name == "infinite":
    spec = infinite.layers(config.model.name, config.model.depth)  # Refuses lenet/alexnet.
    infinite.trained_flags(spec, k.trained_layers)  # Refuses nets without middle layers.
    infinite.readout_points(spec, tuple(k.readout_depths), k.trained_layers)  # Bad depths.
  if k.outputs not in OUTPUTS:
    raise ConfigError(f"kernel.outputs={k.outputs!r}; use 'trace' or 'full'.")
  if k.method not in empirical.METHODS:
    raise ConfigError(f"kernel.method={k.method!r}; use one of {', '.join(empirical.METHODS)}.")
  sizes = tuple(config.regression.train_sizes)
  if not sizes or any(not isinstance(n, int) or n < 1 for n in sizes):
    raise ConfigError(f"regression.train_sizes={sizes} must be positive integers.")
  alphas = tuple(config.regression.alphas)
  if not alphas or any(not (a >= 0 and math.isfinite(a)) for a in alphas):
    raise ConfigError(f"regression.alphas={alphas} must be finite numbers >= 0.")
  if k.outputs == "full" and len(alphas) > 1:
    raise ConfigError("kernel.outputs='full' takes one alpha (validation splits are by sample "
                      "over the 'trace' kernel); give regression.alphas=(a,).")
  if not 0 < config.regression.validation_fraction < 1:
    raise ConfigError("regression.validation_fraction must be in (0, 1).")
  return contract.Spec("kernel_regression", config, seeds=contract.seeds_of(config))


def compute_kernel(model, x, params, cfg, workdir: str, devices=None) -> np.ndarray:
  """Θ(x, x) as (n, n) ("trace": output-averaged) or (n·L, n·L) ("full"), blocks checkpointed."""
  n, num_out = len(x), int(model.output_shape[-1])
  size = n * (num_out if cfg.outputs == "full" else 1)
  memory.check(2 * size * size * 8, f"the {cfg.outputs} kernel over {n} samples "
               f"({size}x{size}) and its solve",
               "use kernel.outputs='trace', fewer samples, or a larger limit on a larger machine.",
               limit_gb=cfg.memory_limit_gb)
  kernel = empirical.empirical_ntk(
      model, x, params=params, method=cfg.method, memory_limit_gb=cfg.memory_limit_gb,
      outputs="trace" if cfg.outputs == "trace" else "all",
      checkpoint_dir=os.path.join(workdir, "kernel_blocks"), devices=devices)
  return kernel if cfg.outputs == "trace" else empirical.flatten(kernel)


def _infinite_kernels(config, x_train, x_test, workdir: str) -> dict:
  """{depth: (train × train, test × train)} of the exact infinite-width kernel, the model's
  depth and every readout depth: the symmetric training kernel and the cross kernel, each
  blocked and checkpointed on its own (kernel_blocks/train, kernel_blocks/test)."""
  m, k = config.model, config.kernel
  readout = tuple(k.readout_depths) or None
  parts = []
  for name, x1, x2 in (("train", x_train, None), ("test", x_test, x_train)):
    parts.append(infinite.kernels(
        m.name, x1, x2, depth=m.depth, w_std=m.w_std, b_std=m.b_std, dtype=k.dtype,
        memory_limit_gb=k.memory_limit_gb,
        checkpoint_dir=os.path.join(workdir, "kernel_blocks", name),
        devices=common.kernel_devices(config), trained_layers=k.trained_layers,
        readout_depths=readout))
  if readout is None:
    return {m.depth: tuple(part[k.which] for part in parts)}
  return {d: tuple(part["by_depth"][d][k.which] for part in parts)
          for d in parts[0]["by_depth"]}


def _monte_carlo_kernel(config, x, workdir: str) -> np.ndarray:
  """The Monte-Carlo estimate of the infinite-width kernel over all samples x."""
  m, k = config.model, config.kernel
  out = monte_carlo.kernels(m.name, x, width=m.width, num_samples=k.num_samples,
                            seed=config.seed, dtype=config.dtype,
                            memory_limit_gb=k.memory_limit_gb, w_std=m.w_std, b_std=m.b_std,
                            depth=m.depth)
  io.write_npy(os.path.join(workdir, f"{k.which}_stderr.npy"), out[f"{k.which}_stderr"])
  return out[k.which]


def _sub(kernel, rows, cols, num_out, full):
  if full:
    rows = (np.asarray(rows)[:, None] * num_out + np.arange(num_out)).ravel()
    cols = (np.asarray(cols)[:, None] * num_out + np.arange(num_out)).ravel()
  return kernel[np.ix_(rows, cols)]


def _as_kernel_targets(values, full):
  return values.reshape(-1, 1) if full else values


def _fit_sizes(config, dataset, sizes, kernels, f0_train, f0_test) -> dict:
  """{str(n): accuracies} of the kernel fit on the first n training samples, for each size.

  kernels: (train × train, test × train) over the largest size, sample-major (a sample's L
  rows together when kernel.outputs="full").
  """
  k_train_all, k_test_all = kernels
  num_out, full = dataset.num_outputs, config.kernel.outputs == "full"
  rows = num_out if full else 1
  threshold, offsets = dataset.decision_threshold, np.ndim(f0_train) > 0
  per_size = {}
  for n in sizes:
    y = dataset.targets_train[:n].astype(np.float64) - (f0_train[:n] if offsets else 0)
    k_train, k_test = k_train_all[:n * rows, :n * rows], k_test_all[:, :n * rows]
    choice = kernel_solver.select_alpha(
        k_train, _as_kernel_targets(y, full), dataset.labels_train[:n], config.regression.alphas,
        config.regression.validation_fraction, config.seed,
        accuracy_fn=lambda pred, labels: metrics.accuracy(pred, labels, threshold),
        offsets=f0_train[:n] if offsets else None)
    fit = kernel_solver.kernel_ridge(k_train, _as_kernel_targets(y, full), k_test,
                                     choice["alpha"])
    train_out = fit["train"].reshape(n, num_out) + (f0_train[:n] if offsets else 0)
    test_out = fit["test"].reshape(len(dataset.x_test), num_out) + f0_test
    per_size[str(n)] = dict(
        train_accuracy=metrics.accuracy(train_out, dataset.labels_train[:n], threshold),
        test_accuracy=metrics.accuracy(test_out, dataset.labels_test, threshold),
        test_mse=float(np.mean((test_out - dataset.targets_test) ** 2)),
        alpha=choice["alpha"], validation_accuracy=choice["validation"])
    logging.info("n=%d: train %.4f test %.4f (alpha %g)", n, per_size[str(n)]["train_accuracy"],
                 per_size[str(n)]["test_accuracy"], choice["alpha"])
  return per_size


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  sizes = sorted(int(n) for n in config.regression.train_sizes)
  dataset = data.load(config.dataset, seed=config.seed)
  logging.info("\n%s", dataset.summary())
  if sizes[-1] > len(dataset.x_train):
    raise ConfigError(f"regression.train_sizes goes up to {sizes[-1]} but the training set has "
                      f"{len(dataset.x_train)} samples; lower the sizes or use a larger dataset.")
  n_max, num_out, full = sizes[-1], dataset.num_outputs, config.kernel.outputs == "full"
  x_train, x_test = dataset.x_train[:n_max], dataset.x_test
  model, params, source, num_params = None, None, "initialization", None
  if config.kernel.name == "infinite":
    by_depth = _infinite_kernels(config, x_train, x_test, workdir)
  else:
    x_all = np.concatenate([x_train, x_test])
    if config.kernel.name == "empirical":
      model = common.build_model(config.model, dataset.input_shape, dataset.num_outputs,
                                 config.seed, config.dtype)
      num_params = models.num_params(model)
      if config.kernel.checkpoint_dir:
        path = checkpoints.checkpoint_path(config.kernel.checkpoint_dir,
                                           config.kernel.checkpoint_step)
        params, source = checkpoints.load_params(model, path), path
      k_all = compute_kernel(model, x_all, params, config.kernel, workdir,
                             common.kernel_devices(config))
    else:
      k_all = _monte_carlo_kernel(config, x_all, workdir)
    train_idx, test_idx = np.arange(n_max), np.arange(n_max, len(x_all))
    by_depth = {config.model.depth: (_sub(k_all, train_idx, train_idx, num_out, full),
                                     _sub(k_all, test_idx, train_idx, num_out, full))}
  k_train, k_test = by_depth[config.model.depth]
  if config.kernel.save_kernel:
    io.write_npz(os.path.join(workdir, "kernel.npz"), train=k_train, test=k_test)
  f0_train = f0_test = 0.0
  if config.kernel.subtract_initial_outputs:
    apply = (lambda x: model(x)) if params is None else (
        lambda x: model.stateless_call(params, [v.value for v in model.non_trainable_variables],
                                       x)[0])
    # Only the empirical kernel subtracts f(w0) (validate), so x_all is the joint inputs here.
    outputs = training.batched_outputs(apply, x_all, 500, model.compute_dtype).astype(np.float64)
    f0_train, f0_test = outputs[:n_max], outputs[n_max:]
  fits = {d: _fit_sizes(config, dataset, sizes, kernels, f0_train, f0_test)
          for d, kernels in by_depth.items()}
  per_size = fits[config.model.depth]
  results = dict(experiment="kernel_regression", kernel=config.kernel.name,
                 which=config.kernel.which if config.kernel.name != "empirical" else "ntk",
                 kernel_variant=config.kernel.trained_layers,
                 kernel_variant_label=infinite.VARIANT_LABELS[config.kernel.trained_layers],
                 outputs=config.kernel.outputs, weights=source, model=config.model.name,
                 width=config.model.width, depth=config.model.depth, num_params=num_params,
                 dataset=config.dataset.name, num_test=len(x_test), train_sizes=per_size)
  if config.kernel.readout_depths:
    results["by_depth"] = {str(d): fit for d, fit in sorted(fits.items())}
  lines = [f"{config.kernel.name} {results['which'].upper()} of {config.model.name}: "
           f"{results['kernel_variant_label']}"]
  for d, fit in sorted(fits.items()):
    if len(fits) > 1:
      lines.append(f"depth {d} (convolutions):")
    lines += [f"n={n:>6}: train {100 * r['train_accuracy']:6.2f}%  test "
              f"{100 * r['test_accuracy']:6.2f}%  (alpha {r['alpha']:g})"
              for n, r in fit.items()]
  return common.finish(workdir, results, figures=[(plots.accuracy_vs_train_size,
                                                   "accuracy_vs_n.png")],
                       text="\n".join(lines))
