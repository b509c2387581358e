"""The training runs of Vyas et al. (2022) from a config: data, network and kernel models, SGD.

Every model kind (the network, its eNTK model, a kernel such as the infinite NTK or an
after-kernel) is trained by the same early-stopped SGD of `config.train`
(learning_curves.train_with_early_stopping); a kernel is fitted by that SGD or by its
min-norm interpolant (`fit_kernel`). Shared by the data-scaling, after-kernel and K^t runs.
"""

import numpy as np
from absl import logging

from ntk_tf import data
from ntk_tf.ntk import empirical
from ntk_tf.solvers import kernel as kernel_solver
from ntk_tf.training import learning_curves
from ntk_tf.utils import memory

FITS = ("sgd", "regression")  # How a kernel is fitted: early-stopped SGD or interpolation.


def load_data(config):
  """`config.dataset` loaded with `config.seed`, its summary logged."""
  dataset = data.load(config.dataset, seed=config.seed)
  logging.info("\n%s", dataset.summary())
  if dataset.num_outputs != 1:
    logging.warning("%d outputs: kernel models share one output-averaged kernel across them "
                    "(exact for the binary tasks of Vyas et al.).", dataset.num_outputs)
  return dataset


def max_steps(train_cfg, n: int) -> int:
  """The step budget of SGD on n samples under `config.train`."""
  if train_cfg.max_steps is not None:
    return int(train_cfg.max_steps)
  return max(int(train_cfg.min_steps), learning_curves.max_steps_for(
      n, train_cfg.batch_size, train_cfg.epochs, None))


def train(model_kind, train_cfg, n: int, seed: int, label: str, **kwargs) -> dict:
  """`learning_curves.train_with_early_stopping` with the config's SGD."""
  return learning_curves.train_with_early_stopping(
      model_kind, n, batch_size=train_cfg.batch_size, learning_rate=train_cfg.learning_rate,
      max_steps=max_steps(train_cfg, n), seed=seed, log_factor=train_cfg.log_factor,
      train_loss_tol=train_cfg.train_loss_tol, label=label, **kwargs)


def network(model, config, dataset, idx) -> learning_curves.NetworkModel:
  """The network trained on samples idx under `config.train`."""
  t = config.train
  return learning_curves.NetworkModel(
      model, dataset.x_train[idx], dataset.targets_train[idx], dataset.x_test,
      dataset.labels_test, loss=t.loss, momentum=t.momentum,
      threshold=dataset.decision_threshold, subtract_initial_outputs=t.subtract_initial_outputs,
      eval_batch_size=t.eval_batch_size, jit_compile=t.jit_compile,
      labels_train=dataset.labels_train[idx])


def kernel_model(config, dataset, k_train, k_test_train, idx) -> learning_curves.KernelSGD:
  """SGD on the kernel system of samples idx under `config.train`."""
  return learning_curves.KernelSGD(
      k_train, k_test_train, dataset.targets_train[idx], dataset.labels_test,
      loss=config.train.loss, momentum=config.train.momentum,
      threshold=dataset.decision_threshold)


def entk(model, x, params=None, memory_limit_gb=8.0, checkpoint_dir=None) -> np.ndarray:
  """The output-averaged eNTK over x (n, n), float64."""
  return empirical.empirical_ntk(model, x, params=params, outputs="trace",
                                 memory_limit_gb=memory_limit_gb, checkpoint_dir=checkpoint_dir)


def check_kernel_fits(num_samples: int, memory_limit_gb: float, what: str):
  """The (n, n) float64 kernel and its solve's copy within the limit and the machine."""
  memory.check(2 * num_samples ** 2 * 8, f"the {what} over {num_samples} samples",
               "use fewer training/test samples or a larger limit on a larger machine.",
               limit_gb=memory_limit_gb)


def curve_summary(run: dict) -> dict:
  """What a cell keeps of a training run (no weights)."""
  return {k: run[k] for k in ("steps", "test_error", "train_loss", "best_step",
                              "best_test_error", "final_test_error", "final_train_loss",
                              "num_steps", "stopped", "converged", "train_error") if k in run}


def fit_kernel(config, dataset, k, train_rows, test_rows, idx, seed: int, label: str,
               method: str) -> float:
  """Test error of kernel k fitted on rows `train_rows` (samples idx) by `method` (FITS)."""
  k_train, k_test = k[np.ix_(train_rows, train_rows)], k[np.ix_(test_rows, train_rows)]
  if method == "regression":
    fit = kernel_solver.interpolate(k_train, dataset.targets_train[idx].astype(np.float64),
                                    k_test)
    return learning_curves.test_error(fit["test"], dataset.labels_test,
                                      dataset.decision_threshold)
  model = kernel_model(config, dataset, k_train, k_test, idx)
  return train(model, config.train, len(idx), seed, label)["best_test_error"]
