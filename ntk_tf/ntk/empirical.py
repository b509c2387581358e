"""The empirical NTK Θ[i, j, a, b] = ⟨∂f_a(x_i)/∂w, ∂f_b(x_j)/∂w⟩ of a Keras model.

Three implementations that must agree (tests/empirical_ntk_test.py):
- "jacobian": per-sample Jacobians by tf.GradientTape.jacobian, vectorized over samples with
  pfor, contracted blockwise: the reference.
- "ntvp": NTK-vector products: rows of J for a chunk of columns by VJPs, then J·v by JVPs;
  memory proportional to the chunk, never the whole J of a block.
- "structured": per-layer contraction without weight Jacobians where possible (Novak et al.
  2022, 'Fast Finite Width NTK'): a dense layer contributes (s² A₁A₂ᵀ + β²) ⊙ (G₁G₂ᵀ) from its
  inputs A and the cotangents G = ∂f/∂z of its outputs; a convolution contributes the Gram
  matrix of its per-sample weight gradients, formed from input patches and cotangents (Pᵀ G),
  which is small because convolutions have few weights. A plain layer list of ntk_tf
  Dense/Conv2D layers (this project's models) is walked layer by layer here; any other built
  Keras model goes through ntk_tf/ntk/structured.py, which intercepts every weight-holding
  layer's calls (any topology, shared layers) and has a per-layer fallback for layers without
  a rule.
"auto" picks "structured" whenever one of the two applies, else (weights outside any layer,
a variable shared by two layers) "jacobian", saying why.

Work is blocked over samples within a memory budget (block sizes need not divide n; symmetric
kernels compute each off-diagonal block once), estimated before starting, with periodic
progress lines and optional per-block checkpoints so an interrupted kernel resumes.
"""

import dataclasses
import math
import os
import time
import weakref
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf import io, memory, progress
from ntk_tf.errors import ConfigError, require_finite, require_finite_inputs
from ntk_tf.models import layers as ntk_layers
from ntk_tf.models import traced
from ntk_tf.ntk import blocked, structured, structured_survey

METHODS = ("auto", "jacobian", "ntvp", "structured")
NTVP_CHUNK = 16  # Tangents per vectorized JVP in method "ntvp".
PARTIAL_SAVE_SECONDS = 120  # A long block pair saves its partial sums this often.
WORKING_BYTES = 6 * 2 ** 30  # At most, for reverse passes and a chunk of wide gradients.
# The structured survey path forms a block's features within this much, whatever the budget:
# larger blocks slow the reverse passes and the contraction gains nothing (ResNet-18, 100
# images: blocks of 10-20 30-33 s, of 50 35 s, one block of 100 49 s; BUILD_NOTES, issue 28).
FEATURE_BYTES = 2.5 * 2 ** 30


def flatten(kernel: np.ndarray) -> np.ndarray:
  """(n1, n2, L, L) -> (n1·L, n2·L), rows and columns ordered (sample, output)."""
  n1, n2, l1, l2 = kernel.shape
  return kernel.transpose(0, 2, 1, 3).reshape(n1 * l1, n2 * l2)


@dataclasses.dataclass
class Plan:
  """What a kernel computation will cost, decided before it starts."""
  method: str
  block_size: int
  num_blocks: int
  peak_bytes: int
  output_bytes: int
  flops: float = 0.0     # Of the contraction of per-sample features, the dominant term.
  seconds: float = 0.0   # flops at this machine's measured BLAS rate: a lower bound.
  batch: Optional[int] = None  # Samples per reverse pass (None: the whole block at once).
  chunk_bytes: int = 0   # Weight gradients of a wide convolution formed at once (per chunk).
  # structured: per weight layer, (name, contraction order, why), e.g. ("conv2d_17",
  # "position pairs", "S²(K+L·C)+L²·C·S = 1.2e+07 < L²·K·C = 5.9e+07 flops per sample pair").
  layer_orders: tuple = ()

  def describe(self) -> str:
    """'~1.2 GiB peak, ≥ 35s (4.1 TFLOP at 120 GFLOP/s)' for the log before a kernel starts."""
    text = f"~{self.peak_bytes / 2 ** 30:.2f} GiB peak"
    if self.seconds:
      text += (f", ≥ {progress.duration(self.seconds)} ({self.flops / 1e12:.3g} TFLOP of "
               f"contraction at {self.flops / self.seconds / 1e9:.0f} GFLOP/s)")
    return text


def _contracted_size(model, method: str, num_params: int, num_outputs: int = 1,
                     trace: bool = False) -> int:
  """Per-sample, per-output length of the vectors a block pair's Gram products contract (the
  pixel-pair contractions counted by their flops)."""
  if method == "jacobian":
    return num_params
  if method != "structured":
    return 0
  if not _plain_layer_list(model):
    found = _structured_survey(model)[0]
    pixel = found.pixel_flops(num_outputs, trace) / (2 * num_outputs * (
        1 if trace else num_outputs))
    return int(found.feature_size(num_outputs, trace) + found.gram_outputs + pixel)
  total = 0  # Convolutions: their per-sample weight gradients; Dense: G Gᵀ over its outputs.
  for layer in model.layers:
    if isinstance(layer, ntk_layers.Conv2D):
      total += _num_params(layer.trainable_weights)
    elif isinstance(layer, ntk_layers.Dense):
      total += int(layer.trainable_weights[0].shape[-1])
  return total


def _contraction_flops(n1: int, n2: int, block: int, symmetric: bool, num_outputs: int,
                       size: int, trace: bool, half_diagonal: bool = False) -> float:
  """2 · entries · (L² or L with trace) · size over the block pairs computed (a symmetric
  kernel's other pairs once; its diagonal blocks in full, or in half with half_diagonal: the
  structured method's F Fᵀ, which NumPy hands to BLAS syrk)."""
  rows, cols, pairs = blocked.block_pairs(n1, n2, block, symmetric)
  entries = 0.0
  for i, j in pairs:
    b1, b2 = rows[i].stop - rows[i].start, cols[j].stop - cols[j].start
    if symmetric and i == j and half_diagonal:
      rows_out = b1 * (1 if trace else num_outputs)
      entries += rows_out * (rows_out + 1) / 2 / (1 if trace else num_outputs ** 2)
    else:
      entries += b1 * b2
  return 2.0 * entries * num_outputs * (1 if trace else num_outputs) * size


def _num_params(params) -> int:
  return int(sum(int(np.prod(p.shape)) for p in params))


def _plain_layer_list(model) -> bool:
  """A Sequential model whose weights are all in ntk_tf Dense/Conv2D: walked layer by layer."""
  param_layers = [l for l in model.layers if l.trainable_weights]
  return isinstance(model, keras.Sequential) and all(
      isinstance(l, (ntk_layers.Dense, ntk_layers.Conv2D)) for l in param_layers)


def _structured_survey(model):
  """(structured_survey.Survey, None) for the intercepting path, or (None, why it cannot
  run)."""
  return structured_survey.survey(model, model_shapes(model)[0],
                                  model.trainable_weights[0].dtype)


def _supports_structured(model) -> bool:
  return _plain_layer_list(model) or _structured_survey(model)[0] is not None


# Per model (weakly held, so a new model never inherits a collected one's entry):
_ACTIVATION_SIZES = weakref.WeakKeyDictionary()  # model -> elements per traced sample.
_SHAPES = weakref.WeakKeyDictionary()  # model -> (sample shape, number of outputs).
_LOGGED_ORDERS = weakref.WeakKeyDictionary()  # model -> the layer orders last logged.


def model_shapes(model, sample=None):
  """(shape of one input sample, number of outputs) of a built Keras model.

  Sequential and functional models know both; a subclassed model is called once on `sample`
  (one input of the kernel) to learn them.
  """
  if model in _SHAPES:
    return _SHAPES[model]
  try:
    shapes = tuple(int(d) for d in model.input_shape[1:]), int(model.output_shape[-1])
  except (AttributeError, ValueError, TypeError):
    if sample is None:
      raise ConfigError(f"model {model.name} does not declare its input shape (a subclassed "
                        "model): pass the kernel's inputs so it can be called once.") from None
    sample = np.asarray(sample)[:1]
    shapes = tuple(sample.shape[1:]), int(model(sample, training=False).shape[-1])
  _SHAPES[model] = shapes
  return shapes
def _activation_size(model) -> int:
  """Numbers per sample in all layer outputs: from the layers' static shapes where every layer
  of a plain layer list knows them (this project's models: the block plans were calibrated on
  these counts), else from the model's traced graph (_traced_activation_size)."""
  if not isinstance(model, keras.Sequential):
    return _traced_activation_size(model)
  shape, total = (1,) + tuple(model.input_shape[1:]), 0
  try:
    for layer in model.layers:
      shape = layer.compute_output_shape(shape)
      total += int(np.prod(shape[1:]))
  except NotImplementedError:  # A layer without static shapes: read the traced graph.
    return _traced_activation_size(model)
  return total


def _traced_activation_size(model) -> int:
  """Numbers per sample in every intermediate tensor of the model's traced forward pass.

  Read from the graph of one traced call on a single sample, so it holds for any built Keras
  model (Sequential, functional with branches, subclassed), not only for layer lists whose
  layers know their output shapes.
  """
  if model not in _ACTIVATION_SIZES:
    _ACTIVATION_SIZES[model] = traced.activation_sizes(model, model_shapes(model)[0])[0]
  return _ACTIVATION_SIZES[model]


def _block_bytes(model, method: str, num_outputs: int, num_params: int, itemsize: int,
                 block: int, trace: bool = False, other: Optional[int] = None) -> int:
  """Working memory of one block pair of `block` samples (the dominant terms); other: the
  samples of the pair's other block (default `block`), for the structured survey path."""
  activations = _activation_size(model)
  # Only the structured contraction sums the outputs inside its products; the others form
  # every output pair and take the trace afterwards.
  result = blocked.pair_bytes(block, 1 if trace and method == "structured" else
                              num_outputs ** 2, itemsize)
  if method == "jacobian":  # Both blocks' Jacobians plus pfor's per-output work space:
    # 2.8x one block's, measured on LeNet x1 (2.7x) and ResNet-18 (2.5x).
    return int(2.8 * block * num_outputs * (num_params + activations) * itemsize) + result
  if method == "ntvp":  # block·L rows of J, then JVPs over `block` samples, NTVP_CHUNK at once.
    return (2 * block * num_outputs * num_params
            + 4 * block * NTVP_CHUNK * activations) * itemsize + result
  if not _plain_layer_list(model):
    return structured_survey.block_bytes(_structured_survey(model)[0], activations,
                                         num_outputs, itemsize, block, trace, other)
  conv_params = sum(int(np.prod(w.shape)) for l in model.layers
                    if isinstance(l, ntk_layers.Conv2D) for w in l.trainable_weights)
  # Cotangents of every layer output for every output and conv weight gradients, for both
  # blocks, and the pair's Gram products: measured on LeNet x1 (1.36 MiB per sample, 24 bytes
  # per entry of the pair's result; benchmarks/ntk_memory.py). Models with wide convolutions
  # are planned by _wide_plan.
  return 2 * block * num_outputs * (activations + conv_params) * itemsize + result


def _param_layer_shapes(model):
  """[("dense", d_in, d_out) or ("conv", positions P, taps·channels K, filters C)] for the
  weight layers of a plain layer list, from the layers' static shapes."""
  shape, found = (1,) + tuple(model.input_shape[1:]), []
  for layer in model.layers:
    out = layer.compute_output_shape(shape)
    if isinstance(layer, ntk_layers.Dense):
      found.append(("dense", int(shape[-1]), int(out[-1])))
    elif isinstance(layer, ntk_layers.Conv2D):
      found.append(("conv", int(out[1] * out[2]), layer.kernel_size ** 2 * int(shape[-1]),
                    int(out[-1])))
    shape = out
  return found


def _layer_orders(model, num_outputs: int, trace: bool) -> tuple:
  """Plan.layer_orders of the structured method."""
  if not _plain_layer_list(model):
    return tuple(_structured_survey(model)[0].orders(num_outputs, trace))
  weight_layers = [l for l in model.layers if isinstance(l, (ntk_layers.Dense, ntk_layers.Conv2D))]
  found = []
  for layer, (kind, *dims) in zip(weight_layers, _param_layer_shapes(model)):
    if kind == "dense":
      found.append((layer.name, "inputs x cotangents Gram", "(A Aᵀ)⊙(G Gᵀ): d_in + L²·d_out "
                    "flops per sample pair"))
    elif keeps_patches(*dims, num_outputs):
      positions, taps, filters = dims
      found.append((layer.name, "weight gradients from kept patches", (
          f"keeps S·(K+L·C) = {positions * (taps + num_outputs * filters):,} numbers per "
          f"sample < L·K·C = {num_outputs * taps * filters:,}; gradients formed a chunk of "
          f"channels at a time")))
    else:
      positions, taps, filters = dims
      found.append((layer.name, "weight gradients", f"L·K·C = {num_outputs * taps * filters:,}"
                    f" per sample ≤ S·(K+L·C) = {positions * (taps + num_outputs * filters):,}"))
  return tuple(found)


def _has_wide_convolutions(model, num_outputs: int) -> bool:
  return _plain_layer_list(model) and any(
      kind == "conv" and keeps_patches(*dims, num_outputs)
      for kind, *dims in _param_layer_shapes(model))


def _wide_costs(model, num_outputs: int):
  """Per-sample numbers for a plain layer list with wide convolutions: (kept, reverse, widest,
  whole).

  kept: what a block keeps per sample (dense inputs and cotangents, narrow convolutions' weight
  gradients, wide ones' patches and cotangents); reverse: the working set of one sample's
  reverse passes (every output's cotangents of every activation, and the temporaries of what
  is kept); widest: K of the widest wide convolution (one output channel of its gradients per
  row); whole: L·K·C of the largest (all its gradients at once). Checked against measured
  peaks in BUILD_NOTES (LeNet x2 ... x60).
  """
  kept, narrow, widest, whole = 0, 0, 0, 0
  for kind, *dims in _param_layer_shapes(model):
    if kind == "dense":
      kept += dims[0] + 1 + num_outputs * dims[1]
    elif keeps_patches(*dims, num_outputs):
      positions, taps, filters = dims
      kept += positions * taps + num_outputs * filters * (positions + 1)
      widest, whole = max(widest, taps), max(whole, num_outputs * taps * filters)
    else:
      positions, taps, filters = dims
      kept += num_outputs * filters * (taps + 1)
      narrow += num_outputs * filters * taps
  reverse = 4 * num_outputs * _activation_size(model) + 3 * narrow + 3 * kept
  return kept, reverse, widest, whole


def _wide_plan(model, n1, n2, num_outputs, itemsize, available, block_size, symmetric):
  """(block, batch, chunk_bytes, bytes) for a model with wide convolutions: the blocks' kept
  features and Gram products, the reverse passes of `batch` samples, and one chunk of weight
  gradients for both blocks."""
  kept, reverse, widest, whole = _wide_costs(model, num_outputs)

  def fixed(b):  # Kept features of the row and column blocks, and the Gram temporaries.
    blocks_kept = (1 if symmetric and b >= n1 else 2) * b * kept
    return (blocks_kept + 3 * (b * num_outputs) ** 2) * itemsize + 8 * (b * num_outputs) ** 2

  def least(b):  # One sample's reverse passes and one output channel of gradients.
    return fixed(b) + reverse * itemsize + 2 * b * num_outputs * widest * itemsize

  if block_size is None:
    block_size = blocked.largest_fitting(lambda b: least(b) <= available, max(n1, n2))
  b = max(int(block_size), 1)
  # A third for the reverse passes, the rest for a chunk (larger ones gain little). They add
  # up: the memory of the reverse passes stays with the process while the chunks are formed
  # (LeNet x25: 11.7 GiB resident where their maximum planned 7.2).
  spare = min(available - fixed(b), WORKING_BYTES)
  batch = int(min(b, max(1, spare // 3 // (reverse * itemsize))))
  chunk = int(min(max(spare - batch * reverse * itemsize,
                      2 * b * num_outputs * widest * itemsize), 2 * b * whole * itemsize))
  return int(block_size), batch, chunk, fixed(b) + batch * reverse * itemsize + chunk


def plan(model, n1: int, n2: int, method: str = "auto", memory_limit_gb: float = 4.0,
         block_size: Optional[int] = None, itemsize: int = 4, num_outputs: int = None,
         outputs: str = "all", symmetric: bool = False) -> Plan:
  """Chooses the method and block size, or refuses with what would be needed; estimates the
  time of the contraction (symmetric: each off-diagonal block pair once)."""
  if method not in METHODS:
    raise ConfigError(f"empirical NTK method {method!r}; use one of {', '.join(METHODS)}.")
  if method == "structured" and not _supports_structured(model):
    raise ConfigError(f"method 'structured' cannot run on model {model.name}: "
                      f"{_structured_survey(model)[1]}; use method='jacobian' or 'ntvp'.")
  if method == "auto":
    method = "structured" if _supports_structured(model) else "jacobian"
    if method == "jacobian":
      logging.info("%s: the structured empirical NTK cannot run (%s); using per-sample "
                   "Jacobians.", model.name, _structured_survey(model)[1])
  num_outputs = num_outputs or model_shapes(model)[1]
  p = _num_params(model.trainable_weights)
  output_bytes = n1 * n2 * (1 if outputs == "trace" else num_outputs ** 2) * 8
  budget = int(memory_limit_gb * 2 ** 30)
  available = budget - output_bytes - 2 * p * itemsize
  batch, chunk_bytes, wide_bytes = None, 0, None
  if method == "structured" and _has_wide_convolutions(model, num_outputs):
    block_size, batch, chunk_bytes, wide_bytes = _wide_plan(
        model, n1, n2, num_outputs, itemsize, available, block_size, symmetric)

  def cost(m, b):
    if m == method and wide_bytes is not None:
      return wide_bytes
    # The pair's other block: the whole of the smaller side, or what the symmetric loop
    # leaves after the first block.
    other = max(0, min(b, n1 - b)) if symmetric else min(b, n2)
    return _block_bytes(model, m, num_outputs, p, itemsize, b, outputs == "trace", other)
  def largest(high):  # The largest block up to `high` that fits (cost grows with the block).
    if wide_bytes is not None:
      return _wide_plan(model, n1, n2, num_outputs, itemsize, available, None, symmetric)[0]
    return blocked.largest_fitting(lambda b: cost(method, b) <= available, high)
  requested = block_size
  if block_size is not None:  # A block larger than the data is the data.
    block_size = min(int(block_size), max(n1, n2))
  if block_size is None:
    high = max(n1, n2)
    if method == "structured" and not _plain_layer_list(model):
      forming, _ = structured_survey.sample_bytes(
          _structured_survey(model)[0], _activation_size(model), num_outputs, itemsize,
          outputs == "trace")
      high = min(high, max(1, int(FEATURE_BYTES // forming)))
    block_size = largest(high)
  block_size = int(block_size)
  peak = output_bytes + 2 * p * itemsize + cost(method, max(block_size, 1))
  fits = largest(block_size - 1) if requested is not None and peak > budget else 0
  if fits >= 1:
    raise ConfigError(
        f"blocks of {block_size} samples need ~{peak / 2 ** 30:.2f} GiB for the {n1}x{n2} "
        f"empirical NTK with method '{method}' but memory_limit_gb={memory_limit_gb}; blocks of "
        f"{fits} fit: pass block_size={fits} or leave it unset.")
  if block_size < 1 or peak > budget:
    need = (output_bytes + 2 * p * itemsize + cost(method, 1)) / 2 ** 30
    alternatives = [m for m in ("structured", "ntvp", "jacobian") if m != method and
                    (m != "structured" or _supports_structured(model))]
    cheapest = min(alternatives, key=lambda m: cost(m, 1))
    raise ConfigError(
        f"the {n1}x{n2} empirical NTK with {num_outputs} outputs ({p:,} parameters) needs at "
        f"least {need:.2f} GiB with method '{method}' (the kernel alone is "
        f"{output_bytes / 2 ** 30:.2f} GiB) but memory_limit_gb={memory_limit_gb}; raise the "
        f"limit, use fewer samples, or try method='{cheapest}'.")
  blocks = math.ceil(n1 / block_size) * math.ceil(n2 / block_size)
  flops = _contraction_flops(n1, n2, block_size, symmetric, num_outputs,
                             _contracted_size(model, method, p, num_outputs,
                                              outputs == "trace"),
                             trace=outputs == "trace" and method == "structured",
                             half_diagonal=method == "structured")
  seconds = flops / (blocked.blas_gflops(itemsize) * 1e9) if flops else 0.0
  orders = _layer_orders(model, num_outputs, outputs == "trace") if method == "structured" \
      else ()
  return Plan(method, block_size, blocks, int(peak), output_bytes, flops, seconds, batch,
              chunk_bytes, orders)


class _Engine:
  """Compiled block computations for one model at fixed weights."""

  def __init__(self, model: keras.Model, params: Sequence, dtype, jit_compile: bool = False,
               trace: bool = False):
    self.model, self.dtype, self.trace = model, dtype, trace  # trace: outputs="trace".
    # Variables, so that the traced functions serve any weights (set_params), not constants.
    self.params = [tf.Variable(tf.convert_to_tensor(p, dtype=dtype), trainable=False,
                               name=f"kernel_params_{i}") for i, p in enumerate(params)]
    self.non_trainable = [tf.Variable(v.value, trainable=False, name=f"kernel_state_{i}")
                          for i, v in enumerate(model.non_trainable_variables)]
    self.num_outputs = model_shapes(model)[1]
    self.input_dtype = input_dtype(model, dtype)
    self.param_layers = [l for l in model.layers
                         if isinstance(l, (ntk_layers.Dense, ntk_layers.Conv2D))]
    # Any other model: the intercepting structured path (ntk_tf/ntk/structured.py).
    self.units = None if _plain_layer_list(model) else structured.units(model)[0]
    # One trace per block shape (a last partial block traces once more). Not reduce_retracing:
    # a shape-generalized trace fuses ops differently, so a resumed run meeting the shapes in
    # another order would differ from an uninterrupted one in the last bits.
    # Without AutoGraph: the engine's code is tensor algebra and Keras never converts a layer's
    # call, so converting only cost time (a quarter of a fresh LeNet 6000x6000 kernel: 4.59 ->
    # 3.36 s, bit-identical); a call() that branches on tensors is refused up front.
    for name in ("jacobian", "ntvp_block", "layer_features"):
      setattr(self, name, tf.function(getattr(self, "_" + name), jit_compile=jit_compile,
                                      autograph=False))

  def set_params(self, params):
    """The weights the next kernels are taken at (same shapes; nothing is retraced), and the
    model's non-trainable state as it is now."""
    if len(params) != len(self.params):
      raise ConfigError(f"{len(params)} weights given for an engine of {len(self.params)}.")
    for variable, value in zip(self.params, params):
      variable.assign(tf.convert_to_tensor(value, dtype=self.dtype))
    for variable, current in zip(self.non_trainable, self.model.non_trainable_variables):
      variable.assign(current.value)

  def f(self, params, x):
    out, _ = self.model.stateless_call(list(params), self.non_trainable, x)
    return out

  # -- jacobian -------------------------------------------------------------------------
  def _jacobian(self, x):
    """Per-sample Jacobians: a list over weights of (b, L, *shape)."""
    w = self.params

    def one(xi):
      with tf.GradientTape() as tape:
        tape.watch(w)
        out = self.f(w, xi[None])[0]
      return tape.jacobian(out, w)

    return tf.vectorized_map(one, x)

  @staticmethod
  def contract(jac1, jac2):
    """Σ over weights of ⟨J1[i, a], J2[j, b]⟩ -> (b1, b2, L, L)."""
    total = 0.0
    for a, b in zip(jac1, jac2):
      a = tf.reshape(a, [a.shape[0], a.shape[1], -1])
      b = tf.reshape(b, [b.shape[0], b.shape[1], -1])
      total += tf.einsum("iap,jbp->ijab", a, b)
    return total

  # -- ntvp -----------------------------------------------------------------------------
  def _ntvp_block(self, x1, x2):
    """Θ(x1, x2) column by column: VJPs on x2 give rows of J2, JVPs on x1 apply J1."""
    w, num_out = self.params, self.num_outputs
    b2 = tf.shape(x2)[0]
    eye = tf.eye(num_out, dtype=self.dtype)

    def row(index):  # ∂f_b(x_j)/∂w for index = j·L + b.
      j, b = index // num_out, index % num_out
      with tf.GradientTape() as tape:
        tape.watch(w)
        out = self.f(w, x2[j][None])
      return tape.gradient(out, w, output_gradients=eye[b][None])

    def column(tangent):  # J1 · tangent, shape (b1, L).
      with tf.autodiff.ForwardAccumulator(w, tangent) as acc:
        out = self.f(w, x1)
      return acc.jvp(out)

    rows = tf.vectorized_map(row, tf.range(b2 * num_out))
    # JVPs in chunks of NTVP_CHUNK tangents, one chunk at a time: memory ∝ chunk · b1, not
    # (b2·L) · b1 (vectorizing all b2·L tangents at once took 618 s for LeNet x1 at 600).
    total = b2 * num_out
    # Never more tangents at once than there are (a block of one sample has only L).
    chunk = min(NTVP_CHUNK, x2.shape[0] * num_out) if x2.shape[0] else NTVP_CHUNK
    chunks = (total + chunk - 1) // chunk
    padded = [tf.reshape(tf.pad(r, [[0, chunks * chunk - total]]
                                + [[0, 0]] * (len(r.shape) - 1)),
                         [chunks, chunk] + r.shape[1:].as_list()) for r in rows]
    cols = tf.map_fn(lambda tangents: tf.vectorized_map(column, tangents), padded,
                     fn_output_signature=tf.TensorSpec([chunk, None, num_out], self.dtype),
                     parallel_iterations=1)           # (chunks, chunk, b1, L)
    cols = tf.reshape(cols, [chunks * chunk, tf.shape(x1)[0], num_out])[:total]
    cols = tf.reshape(cols, [b2, num_out, tf.shape(x1)[0], num_out])
    return tf.transpose(cols, [2, 0, 3, 1])          # (b1, b2, L, L)

  # -- structured -----------------------------------------------------------------------
  def _layer_features(self, x):
    """What the structured method contracts, for a block of samples.

    Returns (dense, conv, wide): dense is a list over dense layers of (s²-free input A
    (b, d_in), cotangent G = ∂f/∂z (b, L, d_out)); conv is (b, L, Q): the per-sample weight
    gradients of the narrow convolutions and every convolution's bias gradients, scaled by s and
    β and concatenated; wide is a list over the wide convolutions (`keeps_patches`) of (s·patches
    (b, P, K), cotangents (b, L, C, P)), whose weight gradients the contraction forms chunk by
    chunk. A model that is not a plain layer list: structured.layer_features.
    """
    if self.units is not None:
      return structured.layer_features(self, self.units, x)
    w = list(self.params)
    zs, inputs, index = [], [], 0
    with tf.GradientTape() as tape:
      h = x
      for layer in self.model.layers:
        if isinstance(layer, (ntk_layers.Dense, ntk_layers.Conv2D)):
          inputs.append(h)
          h = layer.apply_with(w[index], w[index + 1], h)
          index += 2
          tape.watch(h)
          zs.append(h)
        else:
          h = layer(h)
      summed = tf.reduce_sum(h, axis=0)  # Samples are independent: one VJP per output.
    cotangents = tape.jacobian(summed, zs)  # (L, b, ...) per layer.
    dense, conv, wide = [], [], []
    for layer, a, g in zip(self.param_layers, inputs, cotangents):
      g = tf.transpose(g, [1, 0] + list(range(2, len(g.shape))))  # (b, L, ...)
      if isinstance(layer, ntk_layers.Dense):
        dense.append((a, g))  # The Dense layer's input is already flat: (b, d_in).
        continue
      k, st = layer.kernel_size, layer.strides
      patches = tf.image.extract_patches(layer.pad(a), sizes=[1, k, k, 1],
                                         strides=[1, st, st, 1], rates=[1, 1, 1, 1],
                                         padding="VALID")           # (b, oh, ow, k·k·cin)
      b, num_out = tf.shape(g)[0], self.num_outputs
      positions, taps, filters = patches.shape[1] * patches.shape[2], patches.shape[3], \
          g.shape[-1]
      if keeps_patches(positions, taps, filters, num_out):
        wide.append((layer.kernel_scale * tf.reshape(patches, [b, positions, taps]),
                     tf.reshape(tf.transpose(g, [0, 1, 4, 2, 3]),
                                [b, num_out, filters, positions])))
      else:
        weight_grads = tf.einsum("bhwk,bahwc->bakc", patches, g)      # Pᵀ G per sample
        conv.append(layer.kernel_scale * tf.reshape(weight_grads, [b, num_out, -1]))
      conv.append(layer.bias_scale * tf.reduce_sum(g, axis=[2, 3]))  # (b, L, cout)
    conv = tf.concat(conv, axis=-1) if conv else None
    return dense, conv, wide

  def block_features(self, x, batch: Optional[int] = None):
    """layer_features of a block as NumPy arrays, computed `batch` samples at a time (the
    reverse passes' memory grows with the samples at once; the kept features are the same)."""
    def numpy(v):
      return tf.nest.map_structure(lambda t: None if t is None else np.asarray(t),
                                   self.layer_features(tf.constant(v, dtype=self.input_dtype)))

    if self.units is not None or not batch or batch >= len(x):
      return numpy(x)
    whole = None
    for rows in blocked.blocks(len(x), batch):  # Filled in place: no second copy to join.
      part = numpy(x[rows])
      if whole is None:
        whole = tf.nest.map_structure(
            lambda t: None if t is None else np.empty((len(x),) + t.shape[1:], t.dtype), part)
      for target, source in zip(tf.nest.flatten(whole), tf.nest.flatten(part)):
        if source is not None:
          target[rows] = source
    return whole

  def structured_block(self, feats1, feats2, trace: bool = False, chunk_bytes: int = 2 ** 30,
                       partial: Optional[str] = None, log_every_seconds: float = 30.0
                       ) -> np.ndarray:
    """Θ for a block pair from the layer features; the products run in NumPy's BLAS, which
    is ~2x faster than TensorFlow's matmul on the CPU here. trace: only Σ_a Θ[i, j, a, a]
    (b1, b2), contracting the outputs inside the matrix products (L times fewer flops).

    Wide convolutions are contracted chunk by chunk of output channels (`_wide_gram`) in
    float64 sums, each chunk's weight gradients within chunk_bytes; partial: a file the sum so
    far is saved to every few minutes and resumed from (the same block of the same kernel).
    """
    if self.units is not None:
      return structured.block(feats1, feats2, self.num_outputs, trace)
    (dense1, conv1, wide1), (dense2, conv2, wide2) = feats1, feats2
    num_out = self.num_outputs

    def gram(f1, f2):  # (b1, L, d), (b2, L, d) -> (b1, L, b2, L), or (b1, b2) with trace.
      if trace:
        return f1.reshape(len(f1), -1) @ f2.reshape(len(f2), -1).T
      return (f1.reshape(-1, f1.shape[-1]) @ f2.reshape(-1, f2.shape[-1]).T).reshape(
          len(f1), num_out, len(f2), num_out)

    total = None
    for layer, (a1, g1), (a2, g2) in zip(
        [l for l in self.param_layers if isinstance(l, ntk_layers.Dense)], dense1, dense2):
      a1, a2, g1, g2 = (np.asarray(t) for t in (a1, a2, g1, g2))
      k_in = layer.kernel_scale ** 2 * (a1 @ a2.T) + layer.bias_scale ** 2
      term = gram(g1, g2) * (k_in if trace else k_in[:, None, :, None])
      total = term if total is None else total + term
    if conv1 is not None:
      term = gram(np.asarray(conv1), np.asarray(conv2))
      total = term if total is None else total + term
    if wide1:
      total = _wide_gram(total, wide1, wide2, same=feats1 is feats2, trace=trace,
                         chunk_bytes=chunk_bytes, partial=partial,
                         log_every_seconds=log_every_seconds)
    return total if trace else total.transpose(0, 2, 1, 3)


def keeps_patches(positions: int, taps: int, filters: int, num_outputs: int) -> bool:
  """Whether a convolution keeps its patches (P·K per sample) and cotangents (L·C·P) for the
  contraction to form its weight gradients (L·K·C) from, a chunk of output channels at a time,
  instead of keeping the gradients: whenever that is less to keep. LeNet x60's conv2 keeps
  1.9M numbers per sample instead of 86M, so all 600 samples of the papers' kernel fit at once
  and each weight gradient is formed once, not once per block pair."""
  return num_outputs * taps * filters > positions * (taps + num_outputs * filters)


def _wide_gram(total, wide1, wide2, *, same: bool, trace: bool, chunk_bytes: int,
               partial: Optional[str], log_every_seconds: float):
  """total + Σ over wide convolutions of the Gram matrix of their weight gradients, formed
  chunk by chunk of output channels c: F[(i, a), (c, k)] = Σ_p g[i, a, c, p] patches[i, p, k].

  A diagonal block (same) takes F Fᵀ, which NumPy hands to BLAS syrk (half the flops of a
  product). Sums are float64: (b1·L, b2·L), or (b1, b2) with trace.
  """
  b1, num_out = wide1[0][1].shape[:2]
  b2 = wide2[0][1].shape[0]
  shape = (b1, b2) if trace else (b1 * num_out, b2 * num_out)
  start = {"total": np.zeros(shape), "layer": 0, "channel": 0, "chunk": 0}
  if total is not None:
    start["total"] += total.reshape(shape)
  if partial and os.path.exists(partial):
    saved = io.load_arrays(partial, shapes={"total": shape, "layer": (), "channel": (),
                                            "chunk": ()})
    if saved is not None:
      start = {k: (v if k == "total" else int(v)) for k, v in saved.items()}
      logging.info("resuming a block of the empirical NTK at convolution %d, channel %d",
                   start["layer"], start["channel"])
  total = start["total"]
  work = [(layer, c) for layer, (_, g) in enumerate(wide1) for c in range(g.shape[2])]
  done = sum(1 for layer, c in work if (layer, c) < (start["layer"], start["channel"]))
  bar = progress.Progress(len(work), "empirical NTK block", unit="channels", done=done,
                          log_every_seconds=log_every_seconds)
  saved_at = time.time()
  for layer, ((p1, g1), (p2, g2)) in enumerate(zip(wide1, wide2)):
    if layer < start["layer"]:
      continue
    filters, taps = g1.shape[2], p1.shape[2]
    rows = b1 if same else b1 + b2
    chunk = start["chunk"] if layer == start["layer"] and start["chunk"] else max(
        1, min(filters, chunk_bytes // (rows * num_out * taps * p1.itemsize)))
    first = start["channel"] if layer == start["layer"] else 0
    # Written in place chunk after chunk: fresh 4 GiB arrays cost as much in page faults.
    buffers = [np.empty(b * num_out * chunk * taps, p1.dtype) for b in ((b1,) if same else
                                                                        (b1, b2))]
    for c in range(first, filters, chunk):
      channels = slice(c, min(c + chunk, filters))
      f1 = _weight_grads(p1, g1, channels, trace, buffers[0])
      f2 = f1 if same else _weight_grads(p2, g2, channels, trace, buffers[1])
      total += f1 @ f2.T
      del f1, f2
      bar.update(channels.stop - channels.start)
      if partial and time.time() - saved_at >= PARTIAL_SAVE_SECONDS and channels.stop < filters:
        io.write_npz(partial, total=total, layer=layer, channel=channels.stop, chunk=chunk)
        saved_at = time.time()
  bar.close()
  if partial and os.path.exists(partial):
    os.remove(partial)
  return total.reshape(b1, num_out, b2, num_out) if not trace else total


def _weight_grads(patches, cotangents, channels: slice, trace: bool,
                  buffer: np.ndarray) -> np.ndarray:
  """Per-sample weight gradients of output channels `channels`, written into the start of
  `buffer`: (b·L, c·K), or (b, L·c·K) with trace."""
  b, num_out = cotangents.shape[:2]
  g = np.ascontiguousarray(cotangents[:, :, channels]).reshape(b, -1, cotangents.shape[3])
  f = buffer[:g.shape[1] * b * patches.shape[2]].reshape(b, g.shape[1], patches.shape[2])
  np.matmul(g, patches, out=f)                                 # (b, L·c, K)
  return f.reshape(b, -1) if trace else f.reshape(b * num_out, -1)


def _nbytes(structure) -> int:
  """Bytes held by the arrays and tensors of a nested structure of features."""
  return sum(int(np.prod(t.shape)) * t.dtype.size if tf.is_tensor(t) else t.nbytes
             for t in tf.nest.flatten(structure) if t is not None)


def _fingerprint(p: Plan, dtype, x1, x2, params, outputs: str = "all") -> dict:
  """What identifies a kernel's blocks: a checkpoint directory only serves the same kernel."""
  return {"method": p.method, "block_size": p.block_size, "n1": len(x1), "n2": len(x2),
          "outputs": outputs, "dtype": tf.as_dtype(dtype).name,
          "sha1": io.sha1_of(x1, x2, *[np.asarray(w) for w in params])}


def jacobian_rows(model: keras.Model, x, *, params: Optional[Sequence] = None,
                  block_size: int = 64, jit_compile: bool = False):
  """Yields (sample slice, rows) of J = ∇_w f(params, x) block by block.

  rows has shape (b·L, P), rows ordered (sample, output) as in `flatten`, columns the weights
  of `model.trainable_weights` flattened and concatenated in that order.
  """
  dtype = tf.as_dtype(model.trainable_weights[0].dtype)
  params = [v.value for v in model.trainable_weights] if params is None else params
  engine = _Engine(model, params, dtype, jit_compile)
  x = np.asarray(x)
  for rows in blocked.blocks(len(x), block_size):
    jac = engine.jacobian(tf.constant(x[rows], dtype=engine.input_dtype))
    b, num_out = rows.stop - rows.start, engine.num_outputs
    yield rows, np.concatenate([np.reshape(j, (b * num_out, -1)) for j in jac], axis=1)


def _check_built(model):
  if not getattr(model, "built", False) or not model.trainable_weights:
    raise ConfigError(f"model {model.name} has no trainable weights yet: build it first "
                      "(call it once on an input, or model.build(input_shape)).")
  stateful = sorted({type(l).__name__ for l in getattr(model, "_flatten_layers", lambda: [])()
                     if isinstance(l, keras.layers.BatchNormalization)})
  if stateful:
    logging.info("%s: the kernel is taken in inference mode (%s with its moving statistics, "
                 "not updated).", model.name, ", ".join(stateful))
  return model


def input_dtype(model, dtype):
  """The dtype inputs are fed in: a model's declared integer input (token ids for an
  Embedding) stays integer; any other input is computed in `dtype`."""
  inputs = getattr(model, "inputs", None) or []
  declared = tf.as_dtype(inputs[0].dtype) if len(inputs) == 1 else None
  return declared if declared is not None and declared.is_integer else tf.as_dtype(dtype)


_DIFFERENTIABLE = weakref.WeakKeyDictionary()  # model -> (its trainable weights' ids, None or
# the first weight without a gradient).


def _check_differentiable(model, sample_shape, fed_dtype):
  """Refuses a model whose outputs have no gradient with respect to a weight its forward pass
  reads (an op without a gradient, such as round, argmax or a cast to integers, between the
  weight and the outputs): its kernel would silently miss that weight. One traced forward and
  backward pass on one symbolic sample."""
  key = tuple(id(v) for v in model.trainable_weights)  # Freezing a layer changes the answer.
  if _DIFFERENTIABLE.get(model, (None,))[0] != key:
    holder = {}

    def trace(x, params):
      with tf.GradientTape() as tape:
        tape.watch(params)
        out = model.stateless_call(list(params), [v.value for v in
                                                  model.non_trainable_variables], x)[0]
        total = tf.reduce_sum(tf.cast(out, params[0].dtype))
      holder["grads"] = tape.gradient(total, params)
      holder["params"] = params
      return total

    specs = [tf.TensorSpec(v.shape, v.dtype) for v in model.trainable_weights]
    try:
      tf.function(trace, autograph=False).get_concrete_function(
          tf.TensorSpec((1,) + tuple(sample_shape), fed_dtype), specs)
    except tf.errors.OperatorNotAllowedInGraphError as error:
      raise ConfigError(
          f"model {model.name}'s call() branches or loops in Python on a tensor's value, which "
          "a traced (graph) forward pass cannot do (Keras does not convert a layer's call "
          "with AutoGraph); write the branch with keras.ops.cond / keras.ops.where or the loop "
          f"with keras.ops.while_loop / fori_loop. ({str(error).split('.')[0]}.)") from None
    _DIFFERENTIABLE[model] = key, next(
        (weight for weight, grad, param in zip(model.trainable_weights, holder["grads"],
                                               holder["params"])
         if grad is None and param.consumers()), None)
  weight = _DIFFERENTIABLE[model][1]
  if weight is not None:
    raise ConfigError(
        f"the outputs of model {model.name} have no gradient with respect to the weight "
        f"{weight.path}, though the forward pass reads it (an op without a gradient, such as "
        "round, argmax or a cast to integers, lies between it and the outputs); replace that "
        "op with a differentiable one, or freeze the layer (layer.trainable = False) to take "
        "the kernel of the other weights.")


def _check_inputs(model, x, name, expected, fed_dtype):
  """One error for inputs of the wrong shape or dtype."""
  if tuple(x.shape[1:]) != expected:
    raise ConfigError(f"{name} has shape {x.shape[1:]} per sample but the model takes "
                      f"{expected}; pass inputs of that shape.")
  if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or \
      np.issubdtype(x.dtype, np.complexfloating):
    raise ConfigError(f"{name} has dtype {x.dtype}; pass real numbers (a float array, or "
                      "integer ids for a model whose input is integer).")
  if fed_dtype.is_integer and not np.issubdtype(x.dtype, np.integer) and \
      np.any(x != np.round(x)):
    raise ConfigError(f"model {model.name} takes {fed_dtype.name} inputs (ids) but {name} "
                      "holds non-integer values; pass the integer ids.")


def _single_output(model, output_index: Optional[int]):
  """The model, or its sub-model for one output when it has several."""
  outputs = getattr(model, "outputs", None) or []
  if len(outputs) <= 1:
    return model
  if output_index is None:
    raise ConfigError(f"model {model.name} has {len(outputs)} outputs; choose one with "
                      f"output_index=0..{len(outputs) - 1}.")
  return keras.Model(model.inputs, outputs[output_index])


OUTPUT_MODES = ("full", "all", "trace", "diagonal")


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
    if outputs not in OUTPUT_MODES:
      raise ConfigError(f"outputs={outputs!r}; use 'full' (every output pair), 'diagonal' "
                        "(each output with itself) or 'trace' (their average).")
    if method not in METHODS:
      raise ConfigError(f"empirical NTK method {method!r}; use one of {', '.join(METHODS)}.")
    model = _single_output(_check_built(model), output_index)
    model_dtype = model.trainable_weights[0].dtype
    self.dtype = tf.as_dtype(dtype or model_dtype)
    if self.dtype != tf.as_dtype(model_dtype):
      raise ConfigError(f"the model computes in {tf.as_dtype(model_dtype).name}; for a "
                        f"{self.dtype.name} kernel build the model with "
                        f"dtype='{self.dtype.name}'.")
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
    expected = model_shapes(model, x1)[0]
    shape = _output_shape(model, x1)
    if self._output_axes is None:
      kept = tuple(range(len(shape)))
    else:
      axes = (self._output_axes,) if isinstance(self._output_axes, int) else \
          tuple(self._output_axes)
      if any(not -len(shape) <= a < len(shape) for a in axes):
        raise ConfigError(f"output_axes={self._output_axes} for a model whose outputs are "
                          f"(batch,) + {shape}: give axes among 0..{len(shape) - 1} (the batch "
                          "axis excluded), or -1 for the last.")
      kept = tuple(sorted({a % len(shape) for a in axes}))
    self.output_shape, self.kept = shape, kept
    if len(shape) != 1:
      self.model = _flattened(model, expected, input_dtype(model, self.dtype))
    self.expected = model_shapes(self.model, x1)[0]
    self.fed_dtype = input_dtype(self.model, self.dtype)
    _check_differentiable(self.model, self.expected, self.fed_dtype)
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
      _check_inputs(model, x, name, self.expected, self.fed_dtype)
    if params is None:
      params = [v.value for v in model.trainable_weights]
    if len(params) != len(model.trainable_weights) or any(
        tuple(p.shape) != tuple(w.shape) for p, w in zip(params, model.trainable_weights)):
      raise ConfigError("params do not match the model's weights (count or shapes); pass the "
                        "weights of this architecture and width, in trainable_weights order.")
    require_finite_inputs(x1, x2)
    for weight, value in zip(model.trainable_weights, params):
      require_finite(value, f"the weight {weight.path} the empirical NTK is taken at",
                     "a diverged training run? Take the kernel at its last good checkpoint, "
                     "or lower the learning rate that produced these weights.")
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
    model, dtype = self.model, self.dtype
    outputs = "trace" if trace else "all"
    n1, n2 = len(x1), len(x2)
    p = plan(model, n1, n2, self.method, self.memory_limit_gb, self.block_size, dtype.size,
             outputs=outputs, symmetric=symmetric)
    memory.check(p.peak_bytes, f"the {n1}x{n2} empirical NTK ({p.method}, blocks of "
                 f"{p.block_size})", "lower memory_limit_gb below that (smaller blocks, the "
                 "same kernel) or use fewer samples.")
    key = (trace, tuple(id(w) for w in model.trainable_weights))  # Not after (un)freezing.
    if key not in self._engines:
      self._engines[key] = _Engine(model, params, dtype, self.jit_compile, trace)
    engine = self._engines[key]
    engine.set_params(params)
    num_out, log_every_seconds = engine.num_outputs, self.log_every_seconds
    logging.info("empirical NTK %dx%d (L=%d) by '%s': blocks of %d samples, %d block pairs, "
                 "%s", n1, n2, num_out, p.method, p.block_size, p.num_blocks, p.describe())
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
    cache, spare = {}, max(0, room - p.peak_bytes)

    def features(x, key, keep=None):
      """Features of a block, cached: every block's as long as they fit in the budget the
      plan leaves (then each is computed once per kernel), else a new block evicts every
      cached one except `keep` (two blocks' features are in the plan's peak)."""
      if key not in cache:
        if cache:
          held = sum(_nbytes(v) for v in cache.values())
          per_block = held / len(cache)
          if held + per_block > spare + 2 * per_block:  # The peak planned holds two blocks'.
            for stale in [k for k in cache if k != keep]:
              del cache[stale]
        if p.method == "structured":
          cache[key] = engine.block_features(x, p.batch)
        else:
          t = tf.constant(x, dtype=engine.input_dtype)
          cache[key] = engine.jacobian(t) if p.method == "jacobian" else t
      return cache[key]

    def compute(rows, cols, device):
      del device  # The driver places the work.
      i, j = rows.start // p.block_size, cols.start // p.block_size
      a = features(x1[rows], ("x1", i))
      b = features(x2[cols], ("x1" if symmetric else "x2", j), keep=("x1", i))
      if p.method == "jacobian":
        return {"array": engine.contract(a, b)}
      if p.method == "structured":
        partial = checkpoint_dir and os.path.join(checkpoint_dir, f"partial_{i}_{j}.npz")
        return {"array": engine.structured_block(a, b, trace=trace, chunk_bytes=p.chunk_bytes,
                                                 partial=partial,
                                                 log_every_seconds=log_every_seconds)}
      return {"array": engine.ntvp_block(a, b)}

    def finish(name, block):
      del name
      if trace and block.ndim == 4:
        block = np.einsum("ijaa->ij", block)
      return block / num_out if trace else block

    return blocked.run(
        n1, n2, p.block_size, symmetric=symmetric,
        trailing={"array": () if trace else (num_out, num_out)}, compute=compute,
        label="empirical NTK",
        where=lambda r, c: (f"the empirical NTK block of samples {r.start}:{r.stop} x "
                            f"{c.start}:{c.stop}"),
        fix=("the inputs and weights were finite, so this is an overflow: standardize the "
             "inputs, lower the init scale (w_std), or compute in float64 (dtype='float64')."),
        finish=finish, checkpoint_dir=checkpoint_dir, devices=self.devices,
        log_every_seconds=log_every_seconds)["array"]


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


def _output_shape(model, x1) -> tuple:
  """The per-sample output shape of a built model (called once on x1[:1] if undeclared)."""
  try:
    return tuple(int(d) for d in model.output_shape[1:])
  except (AttributeError, ValueError, TypeError):
    return tuple(int(d) for d in model(np.asarray(x1)[:1], training=False).shape[1:])


def _flattened(model, sample_shape, fed_dtype):
  """model with its outputs (batch, ...) reshaped to (batch, P)."""
  inputs = keras.Input(tuple(sample_shape), dtype=fed_dtype)
  out = keras.layers.Flatten(dtype=model.trainable_weights[0].dtype)(model(inputs))
  return keras.Model(inputs, out, name=f"{model.name}_flat")


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
