"""What the structured empirical NTK of a model (structured.py) will hold and cost, read before
any block is computed: `survey` traces the intercepted forward once on a symbolic sample,
checks that every weight is read only inside its own layer's calls (else the model is
unsupported, and why), and adds up per-sample sizes from the calls' static shapes and their
rules (cotangents, weight-gradient features, fallback VJP rows, position-wise shapes);
`Survey` turns them into the contraction order of every layer and its flops, and
`sample_bytes` and `block_bytes` into the memory of a block pair, for the planner.
"""

import dataclasses
import weakref
from typing import Optional

import numpy as np
import tensorflow as tf

from ntk_tf.ntk import blocked, structured

# What the process gains once the traced functions first run, whatever the block (stock LeNet:
# 0.04-0.11 GiB above its per-sample terms at blocks of 100-600).
RUNTIME_BYTES = 96 * 2 ** 20
_SURVEYS = weakref.WeakKeyDictionary()  # model -> (key, (Survey, None) or (None, why)).


@dataclasses.dataclass
class Survey:
  """Per-sample sizes of the structured computation, read from one traced forward."""
  units: list
  cotangents: int = 0     # Σ_calls output elements (each has L cotangents per sample).
  features: int = 0       # Σ_feature units weights (per-sample gradients, per output).
  fallback: int = 0       # Σ_fallback calls (input + output + weights): per row of its VJPs.
  gram_outputs: int = 0   # Σ_Gram-rule calls output units (the G Gᵀ products' inner size).
  # Convolutions, Dense and EinsumDense, per unit: its kernel's weights and each call's
  # (S, K, C) (None: not position-wise); whether `pixel_pairs` takes them depends on the number
  # of outputs and the trace.
  positionwise: dict = dataclasses.field(default_factory=dict)
  gram_units: set = dataclasses.field(default_factory=set)
  called: set = dataclasses.field(default_factory=set)
  fallback_rows: dict = dataclasses.field(default_factory=dict)  # unit -> its part of fallback.

  def pixel_units(self, num_outputs: int, trace: bool = False) -> list:
    """The position-wise layers contracted through position pairs (as layer_features
    decides: every call position-wise and cheaper that way)."""
    return [u for u, (_, shapes) in self.positionwise.items()
            if all(shape is not None and structured.pixel_pairs(*shape, num_outputs, trace)
                   for shape in shapes)]

  def feature_size(self, num_outputs: int, trace: bool = False) -> int:
    """Per-sample, per-output length of the weight-gradient features (pixel-pair kernels'
    weights excluded: only their biases are kept)."""
    return self.features - sum(self.positionwise[u][0]
                               for u in self.pixel_units(num_outputs, trace))

  def pixel_held(self, num_outputs: int, trace: bool = False) -> int:
    """Per-sample numbers a block holds for its position-pair layers: S·(K + L·C) per call."""
    return sum(s * (k + num_outputs * c) for u in self.pixel_units(num_outputs, trace)
               for s, k, c in self.positionwise[u][1])

  def pixel_chunk_bytes(self, num_outputs: int, block: int, itemsize: int,
                        trace: bool = False) -> int:
    """The largest patch or cotangent Gram chunk `_pixel_gram` forms for blocks of `block`."""
    largest = max([s1 * s2 for u in self.pixel_units(num_outputs, trace)
                   for s1, _, _ in self.positionwise[u][1]
                   for s2, _, _ in self.positionwise[u][1]], default=0)
    return min(structured.PIXEL_CHUNK_BYTES, block * block * largest * itemsize) if largest \
        else 0

  def pixel_stage_bytes(self, num_outputs: int, block: int, itemsize: int,
                        trace: bool = False) -> int:
    """_pixel_gram's second stage without the trace: X (L·C, b2·S2) per row of block 1, and
    its reordered copy."""
    if trace:
      return 0
    return 2 * block * itemsize * max(
        [num_outputs * c * s for u in self.pixel_units(num_outputs, trace)
         for s, _, c in self.positionwise[u][1]], default=0)

  def pixel_flops(self, num_outputs: int, trace: bool = False) -> float:
    """Flops per sample pair of the pixel-pair contractions (every call pair)."""
    total, l = 0.0, num_outputs
    for u in self.pixel_units(num_outputs, trace):
      for s1, k, c in self.positionwise[u][1]:
        for s2, _, _ in self.positionwise[u][1]:
          total += 2 * s1 * s2 * (k + l * c) + (
              structured.ELEMENTWISE_FLOPS * s1 * s2 if trace else 2 * l * l * c * s2)
    return total

  def orders(self, num_outputs: int, trace: bool = False) -> list:
    """[(layer name, contraction order, why)] for every unit the forward calls."""
    l, pixel, found = num_outputs, set(self.pixel_units(num_outputs, trace)), []
    per_pair = lambda u: [structured.order_costs(*shape, l, trace)
                          for shape in self.positionwise[u][1]]
    for u, unit in enumerate(self.units):
      if u not in self.called:
        continue
      name = unit.layer.name
      pair_text, weight_text = (("S²(K+L·C)+8·S²", "L·K·C") if trace else
                                ("S²(K+L·C)+L²·C·S", "L²·K·C"))
      shapes = self.positionwise.get(u, (0, [None]))[1]
      if u in pixel:
        pairs, weights = (sum(c) for c in zip(*per_pair(u)))
        found.append((name, "position pairs", f"{pair_text} = {pairs:.3g} < {weight_text} = "
                      f"{weights:.3g} flops per sample pair (summed over calls)"))
      elif u in self.gram_units and all(shape is None for shape in shapes):
        found.append((name, "inputs x cotangents Gram", "(A Aᵀ)⊙(G Gᵀ): the position-pair "
                      "order with one position, never dearer than weight gradients"))
      else:
        order, why = unit.rule.weight_gradient_order(unit, self.fallback_rows.get(u, 0))
        if all(shape is not None for shape in shapes):
          pairs, weights = (sum(c) for c in zip(*per_pair(u)))
          why = (f"{weight_text} = {weights:.3g} ≤ {pair_text} = {pairs:.3g} flops per "
                 "sample pair (summed over calls)")
        found.append((name, order, why))
    return found


def survey(model, sample_shape, dtype):
  """(Survey, None), or (None, why structured cannot run) for a built model."""
  key = (tuple(id(v) for v in model.trainable_weights), tuple(sample_shape), str(dtype))
  if model in _SURVEYS and _SURVEYS[model][0] == key:  # Not after a layer was (un)frozen.
    return _SURVEYS[model][1]
  unit_list, why = structured.units(model)
  result = (None, why)
  if unit_list is not None:
    try:
      result = (_measure(model, unit_list, sample_shape, dtype), None)
    except Exception as error:  # pylint: disable=broad-except
      result = (None, str(error) if isinstance(error, ValueError) else
                f"tracing the intercepted forward failed ({type(error).__name__}: {error})")
  _SURVEYS[model] = key, result
  return result


class _Tracer:
  """The engine interface structured.forward needs: the model at params, current
  non-trainables."""

  def __init__(self, model, params):
    self.model, self.params = model, params
    self.non_trainable = [v.value for v in model.non_trainable_variables]

  def f(self, params, x):
    return self.model.stateless_call(list(params), self.non_trainable, x)[0]


def _measure(model, unit_list, sample_shape, dtype) -> Survey:
  """Traces the intercepted forward on one sample (weights as graph inputs), checks that each
  weight is read only inside its own layer's calls, and adds up the sizes planning needs."""
  holder = {}

  def trace(x, params):
    tracer = _Tracer(model, params)
    _, holder["calls"], _ = structured.forward(tracer, unit_list, x, track_ops=True)
    holder["params"] = params
    return tf.zeros(())

  specs = [tf.TensorSpec(v.shape, v.dtype) for v in model.trainable_weights]
  tf.function(trace, autograph=False).get_concrete_function(
      tf.TensorSpec((1,) + tuple(sample_shape), dtype), specs)
  calls = holder["calls"]
  for k, unit in enumerate(unit_list):
    inside = set().union(*[c.ops for c in calls if c.unit == k])
    for i in unit.indices:
      outside = [op.name for op in holder["params"][i].consumers() if op.name not in inside]
      if outside:
        raise ValueError(f"the weight {model.trainable_weights[i].path} is read outside "
                         f"the calls of its layer {unit.layer.name} (by {outside[0]})")
  return _sizes(unit_list, calls)


def _sizes(unit_list, calls) -> Survey:
  """Per-sample sizes of the traced calls (static shapes), as their rules count them."""
  result = Survey(unit_list)
  size = lambda t: int(np.prod(t.shape[1:]))
  counted = set()
  for call in calls:
    unit = unit_list[call.unit]
    rule = unit.rule
    out = sum(size(p) for p in call.probes)
    result.cotangents += out
    result.called.add(call.unit)
    row = rule.vjp_row_size(unit, call)
    if row is not None:
      result.fallback += row
      result.fallback_rows[call.unit] = result.fallback_rows.get(call.unit, 0) + row
    result.cotangents += rule.extra_cotangents(unit, call)
    if rule.position_wise:
      entry = result.positionwise.setdefault(
          call.unit, (int(np.prod(unit.layer.kernel.shape)), []))
      entry[1].append(rule.positionwise_shape(unit, call))
    gram = rule.gram(call)
    if gram:
      result.gram_outputs += out
      result.gram_units.add(call.unit)
    if not gram and call.unit not in counted:
      counted.add(call.unit)
      result.features += unit.num_params
  return result


def sample_bytes(found: Survey, activations: int, num_outputs: int, itemsize: int,
                 trace: bool = False):
  """(forming, held): per sample, the memory of forming a block's features and of holding
  them. Forming takes the forward's activations, every call's cotangents for every output
  (tape.jacobian's result, partly copied into the (b, L, ...) layout), the per-sample weight
  gradients twice (formed, then concatenated), the position-pair layers' patches and
  cotangents and the fallback's b·L vectorized single-sample VJPs; a held block keeps its
  features, patches and cotangents. Coefficients from measured peaks of ResNet-18 (features:
  x3 with both blocks; cotangents: x1.25), the ViT and stock LeNet (benchmarks/ntk_memory.py;
  BUILD_NOTES, issue 28)."""
  l = num_outputs
  features = l * (found.feature_size(l, trace) + found.gram_outputs)
  held = features + found.pixel_held(l, trace)
  forming = activations + 1.25 * l * found.cotangents + features + held + l * found.fallback
  return forming * itemsize, held * itemsize


def block_bytes(found: Survey, activations: int, num_outputs: int, itemsize: int,
                block: int, trace: bool = False, other: Optional[int] = None) -> int:
  """Working memory of a block pair: one block's features formed while the other block's
  (`other` samples, default `block`) are held, then the pair's Gram products and the largest
  position-pair Gram chunk (two at once), and RUNTIME_BYTES."""
  forming, held = sample_bytes(found, activations, num_outputs, itemsize, trace)
  other = block if other is None else other
  return int(RUNTIME_BYTES + block * forming + other * held
             + blocked.pair_bytes(block, 1 if trace else num_outputs ** 2, itemsize)
             + 2 * found.pixel_chunk_bytes(num_outputs, block, itemsize, trace)
             + found.pixel_stage_bytes(num_outputs, block, itemsize, trace))
