"""A reusable empirical-NTK function of one model (`KernelFunction`, what
empirical.kernel_fn returns): it validates the model once and each call's inputs and weights
(validation.py), flattens outputs of rank > 2, plans the computation (planning.py), keeps one
engine per method and weights list (engines.py) so traced functions serve every later call,
computes the kernel block pair by block pair (blocked_kernel.py) with optional checkpoints,
and reduces it to the outputs asked for: every output pair, each output with itself, or their
average, over the output axes kept.
"""

import weakref
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.ntk import blocked, blocked_kernel, engines, inspection, planning, validation
from ntk_tf.utils import io, memory

_LOGGED_ORDERS = weakref.WeakKeyDictionary()  # model -> the layer orders last logged.


class KernelFunction:
  """Θ(x1, x2) of one model, reusable: kernel_fn(x1, x2=None, params=None).

  Traced functions, the model's survey and checks are made once and serve every call, at any
  weights (params) and inputs of the model's shape: a second 6000x6000 LeNet kernel skips the
  tracing that is most of the first (BUILD_NOTES, issue 29). See `kernel_fn` for arguments.
  """

  def __init__(self, model: keras.Model, *, outputs: str = "full", output_axes=None,
               method: str = "auto", dtype=None, memory_limit_gb: float = 4.0,
               block_size: Optional[int] = None, jit_compile: bool = False,
               log_every_seconds: float = 30.0, devices=None,
               output_index: Optional[int] = None):
    validation.check_options(outputs, method)
    model = validation.single_output(validation.check_built(model), output_index)
    self.dtype = validation.kernel_dtype(model, dtype)
    self.original, self.model = model, model
    self.output_shape, self.kept = None, None
    self._output_axes = output_axes
    self.outputs = "full" if outputs == "all" else outputs
    self.method, self.memory_limit_gb, self.block_size = method, memory_limit_gb, block_size
    self.jit_compile, self.log_every_seconds, self.devices = jit_compile, log_every_seconds, \
        devices
    self._engines = {}
    self._checked = None  # The trainable weights (ids) the checks were made for.

  def _prepare(self, x1):
    """Once, on the first inputs: the output shape (a model with outputs of rank > 2 is
    flattened), which output axes are kept, the differentiability check."""
    weights = tuple(id(w) for w in self.original.trainable_weights)
    if self._checked == weights:
      return
    model = self.original
    expected = inspection.model_shapes(model, x1)[0]
    shape = inspection.output_shape(model, x1)
    self.output_shape, self.kept = shape, validation.kept_axes(self._output_axes, shape)
    if len(shape) != 1:
      self.model = _flattened(model, expected, inspection.input_dtype(model, self.dtype))
    self.expected = inspection.model_shapes(self.model, x1)[0]
    self.fed_dtype = inspection.input_dtype(self.model, self.dtype)
    validation.check_differentiable(self.model, self.expected, self.fed_dtype)
    self._checked = weights

  def __call__(self, x1, x2=None, params: Optional[Sequence] = None,
               checkpoint_dir: Optional[str] = None) -> np.ndarray:
    """Θ(x1, x2) (x2=None: the symmetric Θ(x1, x1)) at params (default: the model's current
    weights), float64: (n1, n2, *out, *out) for outputs="full", (n1, n2, *out) "diagonal",
    (n1, n2) "trace" (out: the kept output axes)."""
    symmetric = x2 is None
    x1 = np.asarray(x1)
    x2 = x1 if symmetric else np.asarray(x2)
    self._prepare(x1)
    model = self.model
    for name, x in (("x1", x1), ("x2", x2)):
      validation.check_inputs(model, x, name, self.expected, self.fed_dtype)
    if params is None:
      params = [v.value for v in model.trainable_weights]
    validation.check_params(model, params)
    validation.check_finite(model, params, x1, x2)
    # Only when every output axis is kept is the output trace the engine's own (L times
    # fewer flops); otherwise every output pair is computed and reduced here.
    trace = self.outputs == "trace" and len(self.kept) == len(self.output_shape)
    theta = self._kernel(x1, x2, symmetric, params, trace, checkpoint_dir)
    return theta if trace else self._reduce(theta)

  def _reduce(self, theta: np.ndarray) -> np.ndarray:
    """(n1, n2, P, P) over the flattened outputs -> the requested outputs and axes."""
    n1, n2 = theta.shape[:2]
    shape, kept = self.output_shape, self.kept
    traced = [a for a in range(len(shape)) if a not in kept]
    if len(shape) == 1 and not traced:
      full = theta
    else:
      t = theta.reshape((n1, n2) + shape + shape)
      rank = len(shape)
      letters = "abcdefgh"[:rank]
      right = "".join(letters[a] if a in traced else letters[a].upper() for a in range(rank))
      kept_left = "".join(letters[a] for a in kept)
      kept_right = "".join(letters[a].upper() for a in kept)
      full = np.einsum(f"ij{letters}{right}->ij{kept_left}{kept_right}", t) / max(
          1, int(np.prod([shape[a] for a in traced])))
    if self.outputs == "full":
      return full
    k = len(kept)
    out_shape = tuple(shape[a] for a in kept)
    diagonal = np.einsum("ijaa->ija", full.reshape(
        (n1, n2, int(np.prod(out_shape)), int(np.prod(out_shape))))).reshape((n1, n2) + out_shape)
    if self.outputs == "diagonal":
      return diagonal
    return diagonal.reshape(n1, n2, -1).mean(axis=-1) if k else diagonal

  def _kernel(self, x1, x2, symmetric, params, trace, checkpoint_dir):
    """Θ (n1, n2, L, L), or (n1, n2) with trace: planned, checked against the machine's
    memory, then computed block pair by block pair by the method's engine."""
    model, dtype = self.model, self.dtype
    outputs = "trace" if trace else "all"
    n1, n2 = len(x1), len(x2)
    p = planning.plan(model, n1, n2, self.method, self.memory_limit_gb, self.block_size,
                      dtype.size, outputs=outputs, symmetric=symmetric)
    memory.check(p.peak_bytes, f"the {n1}x{n2} empirical NTK ({p.method}, blocks of "
                 f"{p.block_size})", "lower memory_limit_gb below that (smaller blocks, the "
                 "same kernel) or use fewer samples.")
    # Not after (un)freezing a layer.
    key = (p.method, trace, tuple(id(w) for w in model.trainable_weights))
    if key not in self._engines:
      self._engines[key] = engines.engine_for(p.method, model, params, dtype, self.jit_compile,
                                              trace)
    engine = self._engines[key]
    engine.set_params(params)
    logging.info("empirical NTK %dx%d (L=%d) by '%s': blocks of %d samples, %d block pairs, "
                 "%s", n1, n2, engine.num_outputs, p.method, p.block_size, p.num_blocks,
                 p.describe())
    if p.layer_orders and _LOGGED_ORDERS.get(model) != p.layer_orders:  # Once per model.
      _LOGGED_ORDERS[model] = p.layer_orders
      for name, order, why in p.layer_orders:
        logging.info("  %s: %s (%s)", name, order, why)
    if checkpoint_dir:
      blocked.open_checkpoints(
          checkpoint_dir, _fingerprint(p, dtype, x1, x2, params, outputs),
          "pass the same inputs, weights and block_size as the interrupted run, or an empty "
          "directory.")
    # The cache may fill what the plan leaves of the budget, and of the memory free now.
    room = memory.budget(self.memory_limit_gb)[0] or int(self.memory_limit_gb * 2 ** 30)
    return blocked_kernel.compute(
        engine, x1, x2, symmetric=symmetric, block_size=p.block_size, batch=p.batch,
        chunk_bytes=p.chunk_bytes, spare_bytes=max(0, room - p.peak_bytes),
        checkpoint_dir=checkpoint_dir, devices=self.devices,
        log_every_seconds=self.log_every_seconds)


def _flattened(model, sample_shape, fed_dtype):
  """model with its outputs (batch, ...) reshaped to (batch, P)."""
  inputs = keras.Input(tuple(sample_shape), dtype=fed_dtype)
  out = keras.layers.Flatten(dtype=model.trainable_weights[0].dtype)(model(inputs))
  return keras.Model(inputs, out, name=f"{model.name}_flat")


def _fingerprint(p: planning.Plan, dtype, x1, x2, params, outputs: str = "all") -> dict:
  """What identifies a kernel's blocks: a checkpoint directory only serves the same kernel."""
  return {"method": p.method, "block_size": p.block_size, "n1": len(x1), "n2": len(x2),
          "outputs": outputs, "dtype": tf.as_dtype(dtype).name,
          "sha1": io.sha1_of(x1, x2, *[np.asarray(w) for w in params])}
