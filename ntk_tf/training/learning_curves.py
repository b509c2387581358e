"""SGD with optimal early stopping for networks, eNTK models and kernels (Vyas et al. 2022).

Vyas, Bansal, Nakkiran train every model with the same SGD (momentum 0.9, batch 200, MSE on ±1
labels) and report its optimal-early-stopping test error, logged "after an increase of 1.1
multiplicative factor in the number of gradient steps" (App. A.4). Figs. 2(c) and 8 instead
report "the final test error at convergence (train loss ≤ 2 × 10⁻⁶ for neural network)": every
run here records both, so a caller chooses with `reported_error(run, stopping)` (STOPPING):

- "optimal": the least test error over the log points (optimal early stopping);
- "final": the test error at the last step, where training stopped because the mean batch loss
  since the previous log point fell to `train_loss_tol` (converged) or the step budget ran out
  (`converged` False: e.g. a network too narrow to fit the set, or a rank-deficient eNTK).

Three models share one loop:

- `NetworkModel`: the network f(w, x) (optionally f(w, x) − f(w0, x), their App. A.4 Table 1);
- `LinearizedModelSGD`: a `LinearizedModel` (centered: g(u, x) = J(w0, x)·u, their "empirical
  NTK" model of Sec. 2, which omits f(w0, x));
- `KernelSGD`: SGD on the linear system of a kernel matrix (their infinite NTK). With θ = Φᵀa a
  minibatch step on θ is a step on the dual coefficients a of the batch, so a kernel model needs
  only K: identical in function space to SGD on the features, e.g. to `LinearizedModelSGD`
  with K the eNTK (checked in the tests).

Training sets of several sizes come from `nested_balanced_order`, whose prefixes are class
balanced, so the learning curve of one seed uses nested subsets.
"""

import math
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from ntk_tf.analysis import metrics
from ntk_tf.errors import ConfigError
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import optimizers, steps as training
from ntk_tf.training.steps import TrainingDivergedError
from ntk_tf.utils import progress

KERNEL_LOSSES = ("mse", "half_mse", "mse_sum_outputs")
STOPPING = ("optimal", "final")  # Which test error a run reports (module docstring).


def log_steps(max_steps: int, factor: float = 1.1) -> np.ndarray:
  """Steps at which the test error is logged: 0, 1, 2, ..., each ⌈factor·previous⌉ (at least
  one more), and `max_steps` itself."""
  if not factor > 1:
    raise ConfigError(f"log factor {factor} must be > 1 (Vyas et al.: 1.1).")
  steps, s = [0], 1
  while s < max_steps:
    steps.append(s)
    s = max(s + 1, math.ceil(s * factor))
  if max_steps > 0:
    steps.append(int(max_steps))
  return np.asarray(steps, dtype=np.int64)


def nested_balanced_order(labels: np.ndarray, seed: int) -> np.ndarray:
  """A seeded order of the samples whose every prefix is class balanced (counts differ by at
  most one while every class has samples left): the first n are the size-n training set."""
  labels = np.asarray(labels)
  rng = np.random.default_rng([int(seed), 2022])
  rank = np.empty(len(labels), dtype=np.float64)
  for c in np.unique(labels):
    members = np.flatnonzero(labels == c)
    rank[rng.permutation(members)] = np.arange(len(members))
  return np.argsort(rank + 0.5 * rng.random(len(labels)), kind="stable")


def check_train_sizes(sizes: Sequence[int], labels: np.ndarray, what: str) -> List[int]:
  """Sorted sizes, refused unless each fits the pool and holds every class."""
  sizes = sorted(int(n) for n in sizes)
  num_classes = len(np.unique(labels))
  if not sizes:
    raise ConfigError(f"{what} is empty; give at least one training-set size.")
  if sizes[0] < num_classes:
    raise ConfigError(f"{what} starts at {sizes[0]}, fewer than the {num_classes} classes; "
                      f"use sizes >= {num_classes}.")
  if sizes[-1] > len(labels):
    raise ConfigError(f"{what} goes up to {sizes[-1]} but only {len(labels)} training samples "
                      "are loaded; raise dataset.num_train (or the synthetic num_train) or "
                      "lower the sizes.")
  return sizes


def test_error(outputs: np.ndarray, labels: np.ndarray, threshold: float) -> float:
  return 1.0 - metrics.accuracy(np.asarray(outputs), labels, threshold)


class NetworkModel:
  """The network trained by SGD with momentum (TorchSGD, no weight decay)."""

  def __init__(self, model, x_train, targets_train, x_test, labels_test, *, loss: str,
               momentum: float, threshold: float, subtract_initial_outputs: bool = False,
               eval_batch_size: int = 1000, jit_compile: bool = False, labels_train=None):
    """labels_train: the training samples' labels, for `train_error` (None: not available)."""
    self.model, self.threshold, self.labels_test = model, threshold, labels_test
    self.labels_train = labels_train
    self.dtype = model.trainable_weights[0].dtype
    self.eval_batch_size = eval_batch_size
    self.x_train = tf.constant(x_train, self.dtype)
    self.y_train = tf.constant(targets_train, self.dtype)
    self.x_test = np.asarray(x_test)
    self.params = [v.value for v in model.trainable_variables]
    self.optimizer = _built_sgd(momentum, model.trainable_variables)
    loss_fn = training.loss_function(loss, int(targets_train.shape[1]))
    forward = tf.function(lambda x: model(x, training=False), jit_compile=jit_compile)
    self.f0_train = self.f0_test = None
    if subtract_initial_outputs:
      self.f0_train = tf.constant(training.batched_outputs(forward, np.asarray(x_train),
                                                           eval_batch_size, self.dtype))
      self.f0_test = training.batched_outputs(forward, self.x_test, eval_batch_size, self.dtype)
    self._forward = forward

    @tf.function(jit_compile=jit_compile)
    def step(idx, lr):
      x, y = tf.gather(self.x_train, idx), tf.gather(self.y_train, idx)
      if self.f0_train is not None:
        y = y + tf.gather(self.f0_train, idx)  # f − f0 fits y  ⇔  f fits y + f0.
      with tf.GradientTape() as tape:
        loss = loss_fn(model(x, training=True), y)
      self.optimizer.apply_at(lr, tape.gradient(loss, self.params), model.trainable_variables)
      return loss

    self._step = step

  def step(self, indices: np.ndarray, learning_rate: float) -> float:
    return float(self._step(tf.constant(indices, tf.int32),
                            tf.constant(learning_rate, self.dtype)))

  def test_outputs(self) -> np.ndarray:
    out = training.batched_outputs(self._forward, self.x_test, self.eval_batch_size, self.dtype)
    return out if self.f0_test is None else out - self.f0_test

  def test_error(self) -> float:
    return test_error(self.test_outputs(), self.labels_test, self.threshold)

  def train_error(self) -> float:
    """The error on the training samples (their labels given at construction)."""
    if self.labels_train is None:
      raise ValueError("NetworkModel(labels_train=None): pass the training labels to measure "
                       "the train error.")
    out = training.batched_outputs(self._forward, self.x_train.numpy(), self.eval_batch_size,
                                   self.dtype)
    if self.f0_train is not None:
      out = out - self.f0_train.numpy()
    return test_error(out, self.labels_train, self.threshold)

  def state(self) -> List[np.ndarray]:
    """A copy of the weights (for the early-stopping point or a snapshot at step t)."""
    return [np.array(p.numpy()) for p in self.params]


class LinearizedModelSGD:
  """A `LinearizedModel` (centered by default: Vyas et al.'s empirical NTK model) under SGD."""

  def __init__(self, model, x_train, targets_train, x_test, labels_test, *, loss: str,
               momentum: float, threshold: float, centered: bool = True,
               eval_batch_size: int = 1000, jit_compile: bool = False):
    self.linearized = LinearizedModel(model, centered=centered)
    self.dtype = self.linearized.dtype
    self.threshold, self.labels_test = threshold, labels_test
    self.eval_batch_size = eval_batch_size
    self.x_train = tf.constant(x_train, self.dtype)
    self.y_train = tf.constant(targets_train, self.dtype)
    self.x_test = np.asarray(x_test)
    self.optimizer = _built_sgd(momentum, self.linearized.u)
    loss_fn = training.loss_function(loss, int(targets_train.shape[1]))
    lin = self.linearized

    @tf.function(jit_compile=jit_compile)
    def step(idx, lr):
      loss, grads = lin.loss_and_gradient(tf.gather(self.x_train, idx),
                                          tf.gather(self.y_train, idx), loss_fn)
      self.optimizer.apply_at(lr, grads, lin.u)
      return loss

    self._step = step
    self._forward = tf.function(lin.apply, jit_compile=jit_compile)

  def step(self, indices: np.ndarray, learning_rate: float) -> float:
    return float(self._step(tf.constant(indices, tf.int32),
                            tf.constant(learning_rate, self.dtype)))

  def test_outputs(self) -> np.ndarray:
    return training.batched_outputs(self._forward, self.x_test, self.eval_batch_size, self.dtype)

  def test_error(self) -> float:
    return test_error(self.test_outputs(), self.labels_test, self.threshold)

  def state(self) -> List[np.ndarray]:
    return [np.array(u.numpy()) for u in self.linearized.u]


def _built_sgd(momentum: float, variables) -> optimizers.TorchSGD:
  """TorchSGD without weight decay, built on `variables` (a compiled step cannot build it)."""
  optimizer = optimizers.TorchSGD(0.0, momentum=momentum)
  optimizer.build(variables)
  return optimizer


def _loss_and_output_gradient(loss: str, out: np.ndarray, y: np.ndarray):
  """(ℓ, ∂ℓ/∂out) of the L2 losses of `training`, in float64 NumPy."""
  r = out - y
  if loss == "mse":
    return float(np.mean(r * r)), 2.0 * r / r.size
  if loss == "half_mse":
    return float(0.5 * np.mean(r * r)), r / r.size
  return float(np.mean(np.sum(r * r, axis=1))), 2.0 * r / r.shape[0]  # mse_sum_outputs


class KernelSGD:
  """SGD with momentum on the kernel system: f(x) = Σ_j K(x, x_j) a_j over training samples.

  A feature-space step θ ← θ − η v, v ← μ v + Φ_Bᵀ g (g = ∂ℓ/∂f on the batch B) keeps θ = Φᵀa,
  v = Φᵀb with b ← μ b + e_B g and a ← a − η b: each step costs |B|·n. One (n, n) kernel is shared
  by the L outputs (exact for one output, as in the binary tasks of Vyas et al.).
  """

  def __init__(self, k_train, k_test_train, targets_train, labels_test, *, loss: str,
               momentum: float, threshold: float):
    if loss not in KERNEL_LOSSES:
      raise ConfigError(f"loss {loss!r} for a kernel model: use one of {', '.join(KERNEL_LOSSES)}.")
    self.k_train = np.asarray(k_train, np.float64)
    self.k_test_train = np.asarray(k_test_train, np.float64)
    self.y = np.asarray(targets_train, np.float64)
    if not (np.all(np.isfinite(self.k_train)) and np.all(np.isfinite(self.k_test_train))):
      raise TrainingDivergedError("the kernel matrix holds NaN or inf; recompute it in float64 "
                                  "(kernel dtype) and check the inputs for NaN.")
    self.labels_test, self.threshold, self.loss = labels_test, threshold, loss
    self.momentum = float(momentum)
    self.coef = np.zeros_like(self.y)
    self.velocity = np.zeros_like(self.y)

  def step(self, indices: np.ndarray, learning_rate: float) -> float:
    with np.errstate(over="ignore", invalid="ignore"):  # Divergence is reported by the loop.
      out = self.k_train[indices] @ self.coef
      loss, grad = _loss_and_output_gradient(self.loss, out, self.y[indices])
      self.velocity *= self.momentum
      np.add.at(self.velocity, indices, grad)
      self.coef -= learning_rate * self.velocity
    return loss

  def test_outputs(self) -> np.ndarray:
    return self.k_test_train @ self.coef

  def train_outputs(self) -> np.ndarray:
    return self.k_train @ self.coef

  def test_error(self) -> float:
    return test_error(self.test_outputs(), self.labels_test, self.threshold)

  def state(self) -> np.ndarray:
    return self.coef.copy()


def max_steps_for(num_train: int, batch_size: int, epochs: Optional[float],
                  max_steps: Optional[int]) -> int:
  """Step budget: `max_steps` if given, else ⌈epochs · ⌈n / batch⌉⌉."""
  if max_steps is not None:
    return int(max_steps)
  return int(math.ceil(float(epochs) * math.ceil(num_train / batch_size)))


def train_with_early_stopping(model, num_train: int, *, batch_size: int, learning_rate: float,
                              max_steps: int, seed: int, log_factor: float = 1.1,
                              train_loss_tol: Optional[float] = None,
                              snapshot_steps: Sequence[int] = (), keep_best: bool = False,
                              label: str = "", log_every_seconds: float = 30.0,
                              on_log: Optional[Callable[[int, float], None]] = None,
                              record_train_error: bool = False) -> Dict:
  """Minibatch SGD on `model` with the test error logged at `log_steps`.

  Batches are `training.epoch_batches` (a seeded permutation per epoch, the last batch smaller).
  Training stops at `max_steps`, or at a log point where the mean batch loss since the previous
  log point is ≤ `train_loss_tol` (the train set is fitted: converged).

  Returns:
    dict with steps, test_error, train_loss (mean batch loss since the previous log point; NaN at
    step 0), best_step, best_test_error (the optimal-early-stopping error), final_test_error
    and final_train_loss (at the last step, num_steps, always a log point), num_steps, stopped
    ("max_steps" or "train_loss_tol"), converged (stopped by train_loss_tol), snapshots
    {step: model.state()} for the requested steps that were reached, best_state
    (keep_best) — the weights at best_step — and, with record_train_error, train_error at each
    logged step (the model's `train_error()`).
  """
  schedule = set(int(s) for s in log_steps(max_steps, log_factor))
  wanted = set(int(s) for s in snapshot_steps)
  schedule |= {s for s in wanted if s <= max_steps}
  steps, errors, losses, snapshots, train_errors = [], [], [], {}, []
  best_step, best_error, best_state = 0, math.inf, None
  batch_losses, step, epoch, stopped = [], 0, 0, "max_steps"
  bar = progress.Progress(max_steps, label or "SGD", unit="steps",
                          log_every_seconds=log_every_seconds)

  def record(s):
    nonlocal best_step, best_error, best_state
    err = model.test_error()
    steps.append(s)
    errors.append(err)
    losses.append(float(np.mean(batch_losses)) if batch_losses else math.nan)
    if record_train_error:
      train_errors.append(model.train_error())
    if s in wanted:
      snapshots[s] = model.state()
    if err < best_error:
      best_step, best_error = s, err
      if keep_best:
        best_state = model.state()
    if on_log is not None:
      on_log(s, err)

  record(0)
  while step < max_steps:
    for idx in training.epoch_batches(num_train, batch_size, seed, epoch):
      loss = model.step(idx, learning_rate)
      step += 1
      if not math.isfinite(loss):
        raise TrainingDivergedError(
            f"{label or 'model'}: the training loss became {loss} at step {step} with learning "
            f"rate {learning_rate}; lower train.learning_rate (every model must be trained "
            "below the critical rate of its kernel, Vyas et al. Sec. 2).")
      batch_losses.append(loss)
      if step in schedule:
        record(step)
        if train_loss_tol is not None and losses[-1] <= train_loss_tol:
          stopped = "train_loss_tol"
        batch_losses = []
      bar.update(1, extra=f"test error {errors[-1]:.4f}, best {best_error:.4f} at step "
                 f"{best_step}")
      if step >= max_steps or stopped != "max_steps":
        break
    if stopped != "max_steps":
      break
    epoch += 1
  bar.close(extra=f"best test error {best_error:.4f} at step {best_step}")
  out = dict(steps=steps, test_error=errors, train_loss=losses, best_step=best_step,
             best_test_error=best_error, final_test_error=errors[-1],
             final_train_loss=losses[-1], num_steps=step, stopped=stopped,
             converged=stopped == "train_loss_tol", snapshots=snapshots,
             best_state=best_state)
  if record_train_error:
    out["train_error"] = train_errors
  return out


def check_stopping(stopping: str) -> str:
  if stopping not in STOPPING:
    raise ConfigError(f"stopping={stopping!r}: use 'optimal' (optimal early stopping, Vyas et "
                      "al. Fig. 1) or 'final' (the test error at convergence, Figs. 2c, 8).")
  return stopping


def reported_error(run: Dict, stopping: str) -> float:
  """The test error a run (or a cell keeping its curve) reports under `stopping`.

  Args:
    run: a `train_with_early_stopping` result or a summary of it; one without a curve (a kernel
      regression, exact) reports its best_test_error under both.
    stopping: "optimal" (best_test_error) or "final" (final_test_error, else the curve's last
      logged error for cells written before it was recorded).
  """
  if check_stopping(stopping) == "optimal":
    return float(run["best_test_error"])
  if run.get("final_test_error") is not None:
    return float(run["final_test_error"])
  if run.get("test_error"):
    return float(run["test_error"][-1])
  return float(run["best_test_error"])
