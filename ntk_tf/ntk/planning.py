"""How an empirical NTK will be computed and what it will cost, decided before it starts:
`plan` chooses the method ("auto": structured where it can run, else per-sample Jacobians,
saying why), the block size (the largest that fits the memory budget, or the caller's, refused
with what would fit), the structured method's reverse-pass batch and gradient chunk for wide
convolutions, and estimates the peak memory and the contraction's flops and time, with every
layer's contraction order and why (`Plan`). The memory models per method are calibrated on
measured peaks (benchmarks/ntk_memory.py; BUILD_NOTES).
"""

import dataclasses
import math
from typing import Optional

import numpy as np
from absl import logging

from ntk_tf.errors import ConfigError
from ntk_tf.models import layers as ntk_layers
from ntk_tf.ntk import blocked, engines, inspection, layer_list, structured_survey, validation
from ntk_tf.utils import progress

WORKING_BYTES = 6 * 2 ** 30  # At most, for reverse passes and a chunk of wide gradients.
# The structured survey path forms a block's features within this much, whatever the budget:
# larger blocks slow the reverse passes and the contraction gains nothing (ResNet-18, 100
# images: blocks of 10-20 30-33 s, of 50 35 s, one block of 100 49 s; BUILD_NOTES, issue 28).
FEATURE_BYTES = 2.5 * 2 ** 30


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
  if not inspection.plain_layer_list(model):
    found = survey(model)[0]
    pixel = found.pixel_flops(num_outputs, trace) / (2 * num_outputs * (
        1 if trace else num_outputs))
    return int(found.feature_size(num_outputs, trace) + found.gram_outputs + pixel)
  total = 0  # Convolutions: their per-sample weight gradients; Dense: G Gᵀ over its outputs.
  for layer in model.layers:
    if isinstance(layer, ntk_layers.Conv2D):
      total += inspection.num_params(layer.trainable_weights)
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


def survey(model):
  """(structured_survey.Survey, None) for the intercepting path, or (None, why it cannot
  run)."""
  return structured_survey.survey(model, inspection.model_shapes(model)[0],
                                  model.trainable_weights[0].dtype)


def _supports_structured(model) -> bool:
  """Whether the structured method can run: a plain layer list, or a model the survey
  takes."""
  return inspection.plain_layer_list(model) or survey(model)[0] is not None


def block_bytes(model, method: str, num_outputs: int, num_params: int, itemsize: int,
                block: int, trace: bool = False, other: Optional[int] = None) -> int:
  """Working memory of one block pair of `block` samples (the dominant terms); other: the
  samples of the pair's other block (default `block`), for the structured survey path."""
  activations = inspection.activation_size(model)
  # Only the structured contraction sums the outputs inside its products; the others form
  # every output pair and take the trace afterwards.
  result = blocked.pair_bytes(block, 1 if trace and method == "structured" else
                              num_outputs ** 2, itemsize)
  if method == "jacobian":  # Both blocks' Jacobians plus pfor's per-output work space:
    # 2.8x one block's, measured on LeNet x1 (2.7x) and ResNet-18 (2.5x).
    return int(2.8 * block * num_outputs * (num_params + activations) * itemsize) + result
  if method == "ntvp":  # block·L rows of J, then JVPs over `block` samples, NTVP_CHUNK at once.
    return (2 * block * num_outputs * num_params
            + 4 * block * engines.NTVP_CHUNK * activations) * itemsize + result
  if not inspection.plain_layer_list(model):
    return structured_survey.block_bytes(survey(model)[0], activations, num_outputs,
                                         itemsize, block, trace, other)
  conv_params = sum(int(np.prod(w.shape)) for l in model.layers
                    if isinstance(l, ntk_layers.Conv2D) for w in l.trainable_weights)
  # Cotangents of every layer output for every output and conv weight gradients, for both
  # blocks, and the pair's Gram products: measured on LeNet x1 (1.36 MiB per sample, 24 bytes
  # per entry of the pair's result; benchmarks/ntk_memory.py). Models with wide convolutions
  # are planned by _wide_plan.
  return 2 * block * num_outputs * (activations + conv_params) * itemsize + result


def _layer_orders(model, num_outputs: int, trace: bool) -> tuple:
  """Plan.layer_orders of the structured method."""
  if not inspection.plain_layer_list(model):
    return tuple(survey(model)[0].orders(num_outputs, trace))
  found = []
  for layer, (kind, *dims) in zip(layer_list.param_layers(model),
                                  layer_list.param_layer_shapes(model)):
    if kind == "dense":
      found.append((layer.name, "inputs x cotangents Gram", "(A Aᵀ)⊙(G Gᵀ): d_in + L²·d_out "
                    "flops per sample pair"))
    elif layer_list.keeps_patches(*dims, num_outputs):
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
  return inspection.plain_layer_list(model) and any(
      kind == "conv" and layer_list.keeps_patches(*dims, num_outputs)
      for kind, *dims in layer_list.param_layer_shapes(model))


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
  for kind, *dims in layer_list.param_layer_shapes(model):
    if kind == "dense":
      kept += dims[0] + 1 + num_outputs * dims[1]
    elif layer_list.keeps_patches(*dims, num_outputs):
      positions, taps, filters = dims
      kept += positions * taps + num_outputs * filters * (positions + 1)
      widest, whole = max(widest, taps), max(whole, num_outputs * taps * filters)
    else:
      positions, taps, filters = dims
      kept += num_outputs * filters * (taps + 1)
      narrow += num_outputs * filters * taps
  reverse = 4 * num_outputs * inspection.activation_size(model) + 3 * narrow + 3 * kept
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
  validation.check_method(method)
  if method == "structured" and not _supports_structured(model):
    raise ConfigError(f"method 'structured' cannot run on model {model.name}: "
                      f"{survey(model)[1]}; use method='jacobian' or 'ntvp'.")
  if method == "auto":
    method = "structured" if _supports_structured(model) else "jacobian"
    if method == "jacobian":
      logging.info("%s: the structured empirical NTK cannot run (%s); using per-sample "
                   "Jacobians.", model.name, survey(model)[1])
  num_outputs = num_outputs or inspection.model_shapes(model)[1]
  p = inspection.num_params(model.trainable_weights)
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
    return block_bytes(model, m, num_outputs, p, itemsize, b, outputs == "trace", other)
  def largest(high):  # The largest block up to `high` that fits (cost grows with the block).
    if wide_bytes is not None:
      return _wide_plan(model, n1, n2, num_outputs, itemsize, available, None, symmetric)[0]
    return blocked.largest_fitting(lambda b: cost(method, b) <= available, high)
  requested = block_size
  if block_size is not None:  # A block larger than the data is the data.
    block_size = min(int(block_size), max(n1, n2))
  if block_size is None:
    high = max(n1, n2)
    if method == "structured" and not inspection.plain_layer_list(model):
      forming, _ = structured_survey.sample_bytes(
          survey(model)[0], inspection.activation_size(model), num_outputs, itemsize,
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
