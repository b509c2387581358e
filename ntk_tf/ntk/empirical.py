"""The empirical NTK Θ[i, j, a, b] = ⟨∂f_a(x_i)/∂w, ∂f_b(x_j)/∂w⟩ of a Keras model, the
library's entry point: `empirical_ntk` (one kernel), `kernel_fn` (a reusable kernel function
of a model, kernel_function.py), `flatten` and the METHODS they take: "jacobian" (per-sample
Jacobians, the reference), "ntvp" (NTK-vector products, memory proportional to a chunk) and
"structured" (per-layer contraction without weight Jacobians where possible, Novak et al.
2022; engines.py), all of which must agree (tests/empirical_ntk_test.py); "auto" picks
"structured" whenever it can run, else (weights outside any layer, a variable shared by two
layers) "jacobian", saying why. Work is blocked over samples within a memory budget, planned
before starting (planning.py), with progress lines and optional per-block checkpoints so an
interrupted kernel resumes.
"""

from typing import Optional, Sequence

import keras
import numpy as np

from ntk_tf.ntk.kernel_function import KernelFunction
from ntk_tf.ntk.validation import METHODS


def flatten(kernel: np.ndarray) -> np.ndarray:
  """(n1, n2, L, L) -> (n1·L, n2·L), rows and columns ordered (sample, output)."""
  n1, n2, l1, l2 = kernel.shape
  return kernel.transpose(0, 2, 1, 3).reshape(n1 * l1, n2 * l2)


def kernel_fn(model: keras.Model, outputs: str = "full", **kwargs) -> KernelFunction:
  """A reusable empirical-NTK function of `model` (cf. Neural Tangents' empirical_kernel_fn):
  kernel_fn(model)(x1, x2=None, params=None, checkpoint_dir=None).

  Args:
    outputs: "full" (every output pair: (n1, n2, *out, *out)), "diagonal" (each output with
      itself: (n1, n2, *out)) or "trace" (their average: (n1, n2); the structured method then
      contracts the outputs inside its products, L times fewer flops).
    output_axes: for outputs of rank > 2 (e.g. (batch, T, L)), the output axes kept (counted
      without the batch axis; default all); the others are averaged over their diagonal, as
      Neural Tangents' trace_axes.
    method, dtype, memory_limit_gb, block_size, jit_compile, log_every_seconds, devices,
      output_index: as empirical_ntk.
  """
  return KernelFunction(model, outputs=outputs, **kwargs)


def empirical_ntk(model: keras.Model, x1, x2=None, *, params: Optional[Sequence] = None,
                  method: str = "auto", dtype=None, memory_limit_gb: float = 4.0,
                  block_size: Optional[int] = None, checkpoint_dir: Optional[str] = None,
                  jit_compile: bool = False, log_every_seconds: float = 30.0,
                  outputs: str = "all", devices=None,
                  output_index: Optional[int] = None) -> np.ndarray:
  """The empirical NTK of `model` at `params` (default: its current weights); one call of
  kernel_fn (whose KernelFunction reuses its traced functions across calls).

  Any built Keras model: Sequential, functional (branches, skip connections, shared layers) or
  subclassed. The kernel is taken in inference mode (BatchNormalization uses its moving
  statistics and updates nothing; Dropout is off) over the trainable weights only.

  Args:
    x1, x2: inputs (n1, ...) and (n2, ...); x2=None computes the symmetric Θ(x1, x1).
    params: weights to take the kernel at, in `model.trainable_weights` order (e.g. w0,
      a checkpoint's weights after training, or at step t).
    method: "auto", "jacobian", "ntvp" or "structured".
    dtype: computation dtype; must be the model's (build a float64 model for float64 kernels).
    memory_limit_gb: budget for the whole computation; refused before starting if too small.
    block_size: samples per block (default: the largest that fits the budget).
    checkpoint_dir: if given, finished blocks are saved there and reused by a rerun of the
      same kernel (a manifest of method, block size, inputs and weights guards against mixing).
    jit_compile: compile the block computations with XLA.
    outputs: "all" for every output pair; "trace" for (1/L) Σ_a Θ[i, j, a, a], the
      output-averaged kernel that kernel regression shares across outputs (the structured
      method then contracts the outputs inside its products, L times fewer flops).
    output_index: for a model with several outputs, the one whose kernel is taken.
    devices: where block pairs run, round robin (distribute.resolve_devices: None = every GPU
      when there are several; "CPU"/"GPU"; a list of names; a tf.distribute.Strategy).

  Returns:
    float64 array (n1, n2, L, L) (`flatten` gives the (n1·L, n2·L) matrix), or (n1, n2) with
    outputs="trace".
  """
  return KernelFunction(model, outputs=outputs, method=method, dtype=dtype,
                        memory_limit_gb=memory_limit_gb, block_size=block_size,
                        jit_compile=jit_compile, log_every_seconds=log_every_seconds,
                        devices=devices, output_index=output_index)(
                            x1, x2, params=params, checkpoint_dir=checkpoint_dir)
