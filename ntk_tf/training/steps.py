"""Training a network and its linearization side by side (Samarin et al. 2020, 2022).

Step-decay schedules, the L2 loss on one-hot targets (torch.nn.MSELoss's mean by default), the
compiled steps and the epochs' minibatches: both models start from the same w0 and see the same
minibatches in the same order. The optimizer, SGD with momentum and weight decay in PyTorch's
semantics, is `optimizers.TorchSGD`.
"""

import dataclasses
from typing import Callable, List, Optional

import numpy as np
import tensorflow as tf

from ntk_tf.analysis import metrics
from ntk_tf.errors import ConfigError, NtkTfError

LOSSES = ("mse", "half_mse", "mse_sum_outputs", "cross_entropy")


class TrainingDivergedError(NtkTfError):
  """The loss became NaN or infinite."""


def mse(outputs, targets):
  """torch.nn.MSELoss(): the mean of (f - y)^2 over batch and outputs."""
  return tf.reduce_mean(tf.square(outputs - targets))


def half_mse(outputs, targets):
  """½ mean (f - y)^2 over batch and outputs (Neural Tangents' convention, Vyas et al.)."""
  return 0.5 * tf.reduce_mean(tf.square(outputs - targets))


def mse_sum_outputs(outputs, targets):
  """The L2 loss summed over outputs, averaged over the batch: mean_i |f(x_i) - y_i|^2."""
  return tf.reduce_mean(tf.reduce_sum(tf.square(outputs - targets), axis=-1))


def cross_entropy(outputs, targets):
  """Softmax cross-entropy against one-hot targets (the baseline of Samarin 2020, Fig. 1)."""
  return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(targets, outputs))


def loss_function(name: str, num_outputs: int) -> Callable:
  if name not in LOSSES:
    raise ConfigError(f"train.loss={name!r}; use one of {', '.join(LOSSES)}.")
  if name == "cross_entropy" and num_outputs < 2:
    raise ConfigError("train.loss='cross_entropy' needs one-hot targets with >= 2 outputs; "
                      "use 'mse' for binary targets.")
  return {"mse": mse, "half_mse": half_mse, "mse_sum_outputs": mse_sum_outputs,
          "cross_entropy": cross_entropy}[name]


def step_decay(base_lr: float, epoch: int, every: Optional[int], factor: float = 0.1) -> float:
  """The learning rate in `epoch` (0-based): base_lr * factor^(epoch // every)."""
  if not every:
    return float(base_lr)
  return float(base_lr) * factor ** (epoch // int(every))


class CompiledStep:
  """One SGD step, compiled once, run one step per call or many steps per call, same bits.

  `body(x, y, lr)` applies one step and returns its loss. `step(x, y, lr)` runs it once;
  `steps(xs, ys, n, lr)` runs it on xs[i], ys[i] for i < n in one call (xs, ys: a chunk of
  minibatches stacked on a leading axis, possibly longer than n) and returns the n losses.

  Both call one compiled function: `step` from a thin tf.function, `steps` from a TensorFlow
  graph loop, so both give identical bits, and with XLA one executable serves both (compiled
  once per batch shape, the same bits as a plain tf.function(body, jit_compile=True)). An XLA
  loop instead would be slower and differ in the last bits: XLA's CPU backend rewrites
  convolutions into the layouts of its Eigen kernels only in the entry computation, so the
  gradient convolutions inside a while loop go to its generic emitter. Without XLA the compiled
  function is never inlined into its callers: grappler's arithmetic optimizer rewrites the
  linearized step differently once inlined (a change in the last bits).
  """

  def __init__(self, body: Callable, jit_compile: bool):
    if jit_compile:
      compiled = tf.function(body, jit_compile=True)
    else:
      compiled = tf.function(body, experimental_attributes={"_noinline": True})

    @tf.function
    def step(x, y, lr):
      return compiled(x, y, lr)

    self.step = step
    self.steps = _loop_of(compiled)


def _loop_of(compiled: Callable) -> Callable:
  """A tf.function running compiled(xs[i], ys[i], lr) for i < n, one after the other; the n
  losses. The loop is TensorFlow's, not XLA's, whatever `compiled` is."""

  @tf.function
  def steps(xs, ys, n, lr):
    def body(i, losses):
      return i + 1, losses.write(i, compiled(xs[i], ys[i], lr))
    losses = tf.TensorArray(xs.dtype, size=n, element_shape=[])
    _, losses = tf.while_loop(lambda i, _: i < n, body, (tf.constant(0, n.dtype), losses),
                              parallel_iterations=1)
    return losses.stack()

  return steps


@dataclasses.dataclass
class Metrics:
  loss: float
  accuracy: float


def batched_outputs(fn: Callable, x: np.ndarray, batch_size: int, dtype) -> np.ndarray:
  """fn applied over x in batches, concatenated as a NumPy array."""
  outs = [fn(tf.constant(x[i:i + batch_size], dtype=dtype)).numpy()
          for i in range(0, len(x), batch_size)]
  return np.concatenate(outs)


def evaluate(fn: Callable, x: np.ndarray, targets: np.ndarray, labels: np.ndarray,
             loss_fn: Callable, batch_size: int, dtype, threshold: float = 0.0) -> Metrics:
  """Loss (averaged exactly over the whole set) and accuracy of outputs fn(x)."""
  outputs = batched_outputs(fn, x, batch_size, dtype)
  loss = float(loss_fn(tf.constant(outputs, dtype=tf.float64),
                       tf.constant(targets, dtype=tf.float64)).numpy())
  return Metrics(loss=loss, accuracy=metrics.accuracy(outputs, labels, threshold))


def epoch_batches(num_examples: int, batch_size: int, seed: int, epoch: int) -> List[np.ndarray]:
  """The minibatch indices of one epoch: a seeded permutation, the last batch possibly smaller
  (PyTorch's DataLoader with shuffle=True, drop_last=False)."""
  order = np.random.default_rng([int(seed), 7919, int(epoch)]).permutation(num_examples)
  return [order[i:i + batch_size] for i in range(0, num_examples, batch_size)]
