"""The structured empirical NTK of any built Keras model (Novak et al. 2022, 'Fast Finite Width
Neural Tangent Kernel', structured derivatives), whatever its topology: while a block's
features are computed, the `call` of every weight-holding layer (a "unit", taken by the rule
of ntk_tf/ntk/rules that matches it) is wrapped. Sequential, functional (branches, skip
connections) and subclassed models all reach their layers through Layer.__call__ ->
layer.call, so the wrapper sees every call; each call records what its rule needs and adds a
zero probe to its output (or to the pre-activation z, by wrapping the fused activation), so
one reverse pass per output (tape.jacobian of the sample-summed outputs) gives the cotangents
G = ∂f/∂z of every call at once. The forward runs in model.stateless_call, so inside a wrapped
call the layer's weights already resolve to the params the kernel is taken at. Then
Θ = Σ_units ⟨∂f/∂w_u, ∂f/∂w_u⟩, and for a layer called several times (shared weights)
∂f/∂w_u = Σ_calls of the per-call gradients, so cross-call terms are included: each unit's
term comes from its rule's weight gradients, its inputs x cotangents Gram, or position pairs
(`pixel_pairs`), and `block` contracts two blocks' terms. Weights the wrappers cannot
attribute (a model's own weights, a variable in two layers) make the model unsupported
(`units` returns the reason), and the caller uses per-sample Jacobians.
"""

import contextlib

import numpy as np
import tensorflow as tf

from ntk_tf.ntk import rules

# The pixel-pair contraction's elementwise products and sums run at memory speed: each counts
# as this many GEMM flops in the choice of contraction order.
ELEMENTWISE_FLOPS = 8
PIXEL_CHUNK_BYTES = 2 ** 28  # _pixel_gram's patch and cotangent Grams, per row chunk.


def order_costs(positions: int, taps: int, filters: int, num_outputs: int,
                trace: bool = False):
  """(position pairs, weight gradients): flops per sample pair of the two contraction orders
  of a position-wise layer (S positions, K = taps·C_in inputs, C = filters outputs each).

  A layer applied alike at every position through one kernel (a convolution with one group,
  Dense on inputs with positions, an EinsumDense projection such as attention's
  query/key/value/output) has the weight gradient Σ_s p_s ⊗ g_s (p_s: the patch or input
  vector at position s), so its term can also be formed without the gradients, from position
  pairs: ⟨Σ_s p_s ⊗ g_s, Σ_t p'_t ⊗ g'_t⟩ = Σ_{s,t} (p_s·p'_t)(g_s·g'_t), the patch Gram (P Pᵀ)
  and the cotangent Gram (G Gᵀ) of every position pair. Per sample pair that costs
  ~S²(K + L·C) + L²·C·S against L²·K·C through the weight gradients (L outputs), and keeps
  S·(K + L·C) numbers per sample instead of L·K·C: far cheaper for the 4×4 and 8×8 maps of a
  ResNet's late stages, far dearer for early full-size maps and for the tokens of a
  transformer. The dense rule's Gram is the same order with S = 1.
  """
  s, k, c, l = positions, taps, filters, num_outputs
  if trace:
    return s * s * (k + l * c) + ELEMENTWISE_FLOPS * s * s, l * k * c
  return s * s * (k + l * c) + l * l * c * s, l * l * k * c


def pixel_pairs(positions: int, taps: int, filters: int, num_outputs: int,
                trace: bool = False) -> bool:
  """Whether a position-wise layer (S positions, K = taps·C_in, C = filters) is contracted
  through position pairs (cheaper per sample pair) rather than through its weight gradients."""
  pairs, weights = order_costs(positions, taps, filters, num_outputs, trace)
  return pairs < weights


def units(model):
  """(units, None), or (None, why) when some weight escapes the per-layer interception."""
  index = {id(v): i for i, v in enumerate(model.trainable_weights)}
  if getattr(model, "_trainable_variables", None):
    return None, "the model holds weights of its own, outside any layer"
  found, seen = [], set()

  def visit(layer):
    for sub in getattr(layer, "_layers", []):
      if id(sub) in seen or not sub.trainable_weights:
        continue
      seen.add(id(sub))
      rule = rules.rule_for(sub)
      if rule is None and not getattr(sub, "_trainable_variables", None):
        visit(sub)  # A container (a nested model): its own layers are the units.
        continue
      found.append(rules.Unit(sub, rule or rules.FALLBACK,
                              [index.get(id(v), -1) for v in sub.trainable_variables]))

  visit(model)
  covered = sorted(i for u in found for i in u.indices)
  if covered != list(range(len(index))):
    return None, "a weight is shared between layers or not reachable through a layer"
  return found, None


@contextlib.contextmanager
def intercepted(unit_list, tape, calls, track_ops: bool = False):
  """Wraps every unit's `call` (restored on exit); each call appends a Call to `calls`."""
  saved = []
  try:
    for k, unit in enumerate(unit_list):
      layer = unit.layer
      saved.append((layer, layer.__dict__.get("call")))
      call = _wrapper(k, unit, layer.call, tape, calls)
      object.__setattr__(layer, "call", _tracking(call, calls) if track_ops else call)
    yield calls
  finally:
    for layer, previous in saved:
      if previous is None:
        object.__delattr__(layer, "call")
      else:
        object.__setattr__(layer, "call", previous)


def _tracking(wrapped, calls):
  """The wrapped call, also noting the names of the graph ops it created (a graph trace)."""

  def tracked(*args, **kwargs):
    graph = tf.compat.v1.get_default_graph()
    start, index = len(graph.get_operations()), len(calls)
    out = wrapped(*args, **kwargs)
    calls[index].ops = {op.name for op in graph.get_operations()[start:]}
    return out

  return tracked


def _wrapper(k, unit, call, tape, calls):
  """The layer's call, recording what its rule needs and probing its output (or its
  pre-activation)."""
  layer, rule = unit.layer, unit.rule

  def wrapped(*args, **kwargs):
    record = rules.Call(k)
    calls.append(record)

    def probe(t):
      if not (tf.is_tensor(t) and t.dtype.is_floating):
        return t
      zero = tf.zeros_like(t)
      tape.watch(zero)
      record.probes.append(zero)
      return t + zero

    x = args[0] if args else kwargs.get("inputs")
    if rule.pre_activation:  # The probe goes on z, before the fused activation.
      record.inputs, activation = rule.record(layer, x, args, kwargs), layer.activation
      object.__setattr__(layer, "activation",
                         lambda z: activation(probe(z)) if activation else probe(z))
      try:
        out = call(*args, **kwargs)
      finally:
        object.__setattr__(layer, "activation", activation)
      if len(record.probes) != 1:
        raise RuntimeError(f"{layer.name}: its activation was not applied once per call.")
      return out
    out = call(*args, **kwargs)
    record.inputs = rule.record(layer, x, args, kwargs)
    return tf.nest.map_structure(probe, out)

  return wrapped


def forward(engine, unit_list, x, track_ops: bool = False):
  """The intercepted forward at engine.params: (sample-summed outputs, calls, tape)."""
  calls = []
  with tf.GradientTape() as tape:
    with intercepted(unit_list, tape, calls, track_ops):
      out = engine.f(engine.params, x)
    summed = tf.reduce_sum(out, axis=0)  # Samples are independent: one VJP per output.
  return summed, calls, tape


def _pixel_rule(unit, calls, num_out: int, trace: bool) -> bool:
  """Position-wise layers whose calls are cheaper to contract through position pairs."""
  shapes = [unit.rule.positionwise_shape(unit, c) for c in calls]
  return all(shape is not None and pixel_pairs(*shape, num_out, trace) for shape in shapes)


def layer_features(engine, unit_list, x):
  """What `block` contracts for a block of samples: (dense, features, pixel).

  dense: per Gram-rule unit, per call, (A (b, d_in [+1 bias column]) scaled, G (b, L, d_out));
  features: (b, L, Q) per-sample weight gradients of all other units (each summed over its
  calls; a position-pair unit's bias only), concatenated; None if there are none; pixel: per
  position-wise layer contracted through position pairs (`pixel_pairs`), per call,
  (s·patches (b, S, K), cotangents (b, L, S, C)).
  """
  summed, calls, tape = forward(engine, unit_list, x)
  probes = [p for c in calls for p in c.probes]
  cotangents = tape.jacobian(summed, probes,
                             unconnected_gradients=tf.UnconnectedGradients.ZERO)
  cotangents = iter(cotangents)
  for c in calls:  # (L, b, ...) -> (b, L, ...)
    c.cotangents = [tf.experimental.numpy.moveaxis(next(cotangents), 0, 1) for _ in c.probes]
  dense, features, pixel = [], [], []
  num_out, trace = summed.shape[0], getattr(engine, "trace", False)
  for k, unit in enumerate(unit_list):
    mine = [c for c in calls if c.unit == k]
    if not mine:
      continue  # Never called: its weights do not change f.
    rule = unit.rule
    if _pixel_rule(unit, mine, num_out, trace):
      terms = [rule.pixel_terms(unit, c) for c in mine]
      pixel.append([pair for pair, _ in terms])
      if terms[0][1] is not None:
        features.append(tf.add_n([bias for _, bias in terms]))
    elif all(rule.gram(c) for c in mine):
      dense.append([rule.gram_terms(unit, c) for c in mine])
    else:
      features.append(tf.add_n([rule.features(unit, c, engine) for c in mine]))
  return dense, (tf.concat(features, axis=-1) if features else None), pixel


def _pixel_gram(p1, g1, p2, g2, trace: bool, chunk_bytes: int = None) -> np.ndarray:
  """Σ_{s,t} (p1_s·p2_t)(g1_s·g2_t) for a call pair of a pixel-pair convolution: (b1, L, b2, L),
  or (b1, b2) summed over matching outputs with trace. Rows of block 1 in chunks whose patch
  Gram (rows·S1 × b2·S2) stays within chunk_bytes (default PIXEL_CHUNK_BYTES)."""
  chunk_bytes = chunk_bytes or PIXEL_CHUNK_BYTES
  b1, s1, _ = p1.shape
  b2, s2, _ = p2.shape
  num_out, filters = g1.shape[1], g1.shape[3]
  p2_flat = p2.reshape(b2 * s2, -1).T
  if trace:  # (b, S, L·C): the cotangent Gram summed over the outputs in one product.
    g2_flat = g2.transpose(0, 2, 1, 3).reshape(b2 * s2, -1).T
  else:      # (b2, t·c, b) for the second stage.
    g2_stage = g2.transpose(0, 2, 3, 1).reshape(b2, s2 * filters, num_out)
  out = np.empty((b1, b2) if trace else (b1, num_out, b2, num_out), np.result_type(p1, g1))
  rows = max(1, chunk_bytes // max(1, s1 * b2 * s2 * p1.itemsize))
  for start in range(0, b1, rows):
    i = slice(start, min(b1, start + rows))
    n = i.stop - i.start
    kp = p1[i].reshape(n * s1, -1) @ p2_flat                               # (n·S1, b2·S2)
    if trace:
      kg = g1[i].transpose(0, 2, 1, 3).reshape(n * s1, -1) @ g2_flat
      out[i] = (kp * kg).reshape(n, s1, b2, s2).sum(axis=(1, 3))
      continue
    kp = kp.reshape(n, s1, b2 * s2)
    for r in range(n):  # X[a, c, (j, t)] = Σ_s g1[a, s, c] KP[s, (j, t)], then Σ_{t,c} X g2.
      x = g1[i.start + r].transpose(0, 2, 1).reshape(num_out * filters, s1) @ kp[r]
      x = x.reshape(num_out, filters, b2, s2).transpose(2, 0, 3, 1).reshape(
          b2, num_out, s2 * filters)
      out[i.start + r] = np.matmul(x, g2_stage).transpose(1, 0, 2)         # (a, j, b)
  return out


def block(feats1, feats2, num_out: int, trace: bool = False) -> np.ndarray:
  """Θ (b1, b2, L, L) for a block pair from layer_features, or (b1, b2) Σ_a Θ[.., a, a] with
  trace; the products run in NumPy's BLAS."""
  (dense1, f1, pixel1), (dense2, f2, pixel2) = feats1, feats2

  def gram(g1, g2):  # (b1, L, d), (b2, L, d) -> (b1, L, b2, L), or (b1, b2) with trace.
    g1, g2 = np.asarray(g1), np.asarray(g2)
    if trace:
      return g1.reshape(len(g1), -1) @ g2.reshape(len(g2), -1).T
    return (g1.reshape(-1, g1.shape[-1]) @ g2.reshape(-1, g2.shape[-1]).T).reshape(
        len(g1), num_out, len(g2), num_out)

  total = 0.0
  for calls1, calls2 in zip(dense1, dense2):  # Σ over call pairs: cross terms of shared layers.
    for a1, g1 in calls1:
      for a2, g2 in calls2:
        k_in = np.asarray(a1) @ np.asarray(a2).T
        total = total + gram(g1, g2) * (k_in if trace else k_in[:, None, :, None])
  if f1 is not None:
    total = total + gram(f1, f2)
  for calls1, calls2 in zip(pixel1, pixel2):  # Every call pair, as for the dense rule.
    for p1, g1 in calls1:
      for p2, g2 in calls2:
        total = total + _pixel_gram(*(np.asarray(t) for t in (p1, g1, p2, g2)), trace)
  return total if trace else total.transpose(0, 2, 1, 3)
