"""The structured empirical NTK of any built Keras model (Novak et al. 2022, 'Fast Finite Width
Neural Tangent Kernel', structured derivatives), whatever its topology.

Mechanism. While a block's features are computed, the `call` of every weight-holding layer (a
"unit") is wrapped: Sequential, functional (branches, skip connections) and subclassed models
all reach their layers through Layer.__call__ -> layer.call, so the wrapper sees every call.
Each call records what its rule needs (its input) and adds a zero probe to its output (for
Dense/Conv to the pre-activation z = x ∗ W + b, by wrapping the fused activation), so one
reverse pass per output (tape.jacobian of the sample-summed outputs) gives the cotangents
G = ∂f/∂z of every call at once. The forward runs in model.stateless_call, so inside a wrapped
call the layer's weights already resolve to the params the kernel is taken at.

Contraction. Θ = Σ_units ⟨∂f/∂w_u, ∂f/∂w_u⟩, and for a layer called several times (shared
weights) ∂f/∂w_u = Σ_calls of the per-call gradients, so cross-call terms are included:
- dense rule (2-D inputs): ∂f_a(x_i)/∂W = Σ_c a_c(x_i) ⊗ g_c(x_i)_a, hence
  Θ_u = Σ_{c,d} (A_c A'_dᵀ) ⊙ (G_c G'_dᵀ) (Novak et al. 2022, §3 fully connected layers), the
  bias as a constant input column and the NTK-parameterization scales folded into A.
- feature rules: per-sample weight gradients (b, L, P_u) formed without any Jacobian of the
  model, summed over calls, then one Gram matrix for all of them:
  - convolutions, Σ_positions patchᵀ g (Conv1D/2D/3D with strides, dilation, groups,
    valid/same/causal padding; DepthwiseConv1D/2D as one group per input channel);
  - SeparableConv1D/2D: the pointwise kernel from the depthwise stage's output h, the
    depthwise kernel from x and ∂f/∂h = g Pᵀ;
  - Conv1D/2D/3DTranspose, y = Cᵀ(W) x for the convolution C from y's shape to x's:
    ⟨g, Cᵀ(W) x⟩ = ⟨C(W) g, x⟩, so Σ_positions patch(g)ᵀ x;
  - Dense on inputs of rank > 2 (Σ_positions aᵀ g) and EinsumDense (its equation with g in
    place of the output, keeping the batch axis; the bias as g summed where it broadcasts);
  - Embedding: g scattered onto the rows of the ids (repeated ids add);
  - BatchNormalization in inference, LayerNormalization and GroupNormalization: γ: Σ x̂ ⊙ g,
    β: Σ g, with x̂ the layer's normalized input;
  - a fallback for every other layer: the per-sample Jacobian of that layer's own weights only,
    by VJPs of its recorded input and output cotangents through the layer alone.
Weights the wrappers cannot attribute (a model's own weights, a variable in two layers) make
the model unsupported (`units` returns the reason), and the caller uses per-sample Jacobians.

Contraction order. A layer applied alike at every position through one kernel (a convolution
with one group, Dense on inputs with positions, an EinsumDense projection such as attention's
query/key/value/output) has the weight gradient Σ_s p_s ⊗ g_s (p_s: the patch or input vector
at position s), so its term can also be formed without the gradients, from position pairs:
⟨Σ_s p_s ⊗ g_s, Σ_t p'_t ⊗ g'_t⟩ = Σ_{s,t} (p_s·p'_t)(g_s·g'_t), the patch Gram (P Pᵀ) and the
cotangent Gram (G Gᵀ) of every position pair (Novak et al. 2022, structured derivatives). Per
sample pair that costs ~S²(K + L·C) + L²·C·S against L²·K·C through the weight gradients (S
positions, K inputs per position (taps·C_in), C outputs per position, L outputs), and keeps
S·(K + L·C) numbers per sample instead of L·K·C: far cheaper for the 4×4 and 8×8 maps of a
ResNet's late stages, far dearer for early full-size maps and for the tokens of a transformer.
`pixel_pairs` chooses per layer; the dense rule above is the same order with S = 1.
"""

import contextlib
import dataclasses
import itertools
import math
import re
import string
import weakref
from typing import List, Optional

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.models import layers as ntk_layers
from ntk_tf.ntk import blocked

_KERAS_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_KERAS_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_KERAS_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
_KERAS_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
                     keras.layers.Conv3DTranspose)
# Rules whose probe goes on the pre-activation z (the layer's fused activation is wrapped).
_PRE_ACTIVATION = ("dense", "conv", "einsum", "depthwise", "separable", "conv_transpose")
# Rules that take x̂ (the normalized input) and contract γ: Σ x̂ ⊙ g, β: Σ g.
_NORMALIZATIONS = ("batchnorm", "layernorm", "groupnorm")


# The pixel-pair contraction's elementwise products and sums run at memory speed: each counts
# as this many GEMM flops in the choice of contraction order.
ELEMENTWISE_FLOPS = 8
PIXEL_CHUNK_BYTES = 2 ** 28  # _pixel_gram's patch and cotangent Grams, per row chunk.
# What the process gains once the traced functions first run, whatever the block (stock LeNet:
# 0.04-0.11 GiB above its per-sample terms at blocks of 100-600).
RUNTIME_BYTES = 96 * 2 ** 20


def order_costs(positions: int, taps: int, filters: int, num_outputs: int,
                trace: bool = False):
  """(position pairs, weight gradients): flops per sample pair of the two contraction orders
  of a position-wise layer (S positions, K = taps·C_in inputs, C = filters outputs each)."""
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


# Tensor algebra without Python control flow on tensors: AutoGraph need not convert it (its
# conversions were most of the first trace of a stock-Keras model: 5.5 s vs 2.3 s for ours).
_plain_python = tf.autograph.experimental.do_not_convert


@dataclasses.dataclass
class Unit:
  """A layer whose weights get one rule; indices: its weights in model.trainable_weights."""
  layer: object
  kind: str  # A rule of _kind (e.g. "dense", "conv", "own_conv", "batchnorm") or "fallback".
  indices: List[int]

  @property
  def num_params(self) -> int:
    """Weights of the layer (its share of the features when its rule is per-sample)."""
    return int(sum(int(np.prod(v.shape)) for v in self.layer.trainable_variables))


@dataclasses.dataclass
class Call:
  """One call of a unit during the forward pass: what its rule needs and its probes."""
  unit: int
  inputs: object = None
  probes: list = dataclasses.field(default_factory=list)
  cotangents: list = dataclasses.field(default_factory=list)
  ops: set = dataclasses.field(default_factory=set)  # Graph ops it created (survey only).


def _same_call(layer, cls) -> bool:
  """Whether `layer` runs `cls`'s own call (a subclass overriding call gets the fallback)."""
  return isinstance(layer, cls) and type(layer).call is cls.call


def _kind(layer) -> Optional[str]:
  """The rule for a layer's weights, or None for a layer without one."""
  if _same_call(layer, ntk_layers.Dense):
    return "own_dense"
  if _same_call(layer, ntk_layers.Conv2D):
    return "own_conv"
  plain = (getattr(layer, "quantization_mode", None) is None
           and not getattr(layer, "lora_enabled", False))
  if plain and _same_call(layer, keras.layers.Dense):
    return "dense"
  channels_last = getattr(layer, "data_format", "channels_last") == "channels_last"
  if plain and channels_last:
    for classes, kind in ((_KERAS_CONVS, "conv"), (_KERAS_DEPTHWISE, "depthwise"),
                          (_KERAS_SEPARABLE, "separable"), (_KERAS_TRANSPOSED, "conv_transpose")):
      if any(_same_call(layer, c) for c in classes):
        return kind
  if plain and _same_call(layer, keras.layers.EinsumDense) and _einsum_specs(layer):
    return "einsum"
  if plain and _same_call(layer, keras.layers.Embedding):
    return "embedding"
  if _same_call(layer, keras.layers.GroupNormalization):
    return "groupnorm"
  if _same_call(layer, keras.layers.BatchNormalization) and not layer.renorm:
    return "batchnorm"
  if _same_call(layer, keras.layers.LayerNormalization) and not layer.rms_scaling:
    return "layernorm"
  return None


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
      kind = _kind(sub)
      if kind is None and not getattr(sub, "_trainable_variables", None):
        visit(sub)  # A container (a nested model): its own layers are the units.
        continue
      found.append(Unit(sub, kind or "fallback",
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
  """The layer's call, recording its input and probing its output (pre-activation)."""
  layer = unit.layer

  def wrapped(*args, **kwargs):
    record = Call(k)
    calls.append(record)

    def probe(t):
      if not (tf.is_tensor(t) and t.dtype.is_floating):
        return t
      zero = tf.zeros_like(t)
      tape.watch(zero)
      record.probes.append(zero)
      return t + zero

    x = args[0] if args else kwargs.get("inputs")
    if unit.kind in _PRE_ACTIVATION:  # The probe goes on z, before the fused activation.
      record.inputs, activation = x, layer.activation
      if unit.kind == "separable":  # The depthwise stage's output and the pointwise kernel.
        record.inputs = (x, keras.ops.depthwise_conv(
            x, layer.depthwise_kernel, strides=layer.strides, padding=layer.padding,
            dilation_rate=layer.dilation_rate, data_format=layer.data_format),
            layer.pointwise_kernel)
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
    if unit.kind in ("own_dense", "own_conv"):
      record.inputs = x
    elif unit.kind == "batchnorm":
      record.inputs = _normalized(layer, x)
    elif unit.kind == "layernorm":  # x̂ = (x - mean) / sqrt(var + ε) over the layer's axes.
      record.inputs = keras.ops.layer_normalization(x, axis=layer.axis, epsilon=layer.epsilon)
    elif unit.kind == "groupnorm":
      record.inputs = _group_normalized(layer, x)
    elif unit.kind == "embedding":
      record.inputs = tf.cast(x, "int64")
    else:
      record.inputs = (args, kwargs)
    return tf.nest.map_structure(probe, out)

  return wrapped


@_plain_python
def _normalized(layer, x):
  """x̂ = (x - μ) / sqrt(σ² + ε) with BatchNormalization's moving statistics (inference)."""
  x = tf.cast(x, keras.backend.result_type(x.dtype, "float32"))
  shape = [1] * len(x.shape)
  shape[layer.axis] = x.shape[layer.axis]
  mean = tf.reshape(tf.cast(layer.moving_mean, x.dtype), shape)
  variance = tf.reshape(tf.cast(layer.moving_variance, x.dtype), shape)
  return (x - mean) * tf.math.rsqrt(variance + layer.epsilon)


@_plain_python
def _group_normalized(layer, x):
  """x̂ of GroupNormalization: each group of channels standardized over it and all non-batch
  axes (moments as the layer computes them), before γ and β."""
  x = tf.cast(x, keras.backend.result_type(x.dtype, "float32"))
  rank, axis = len(x.shape), layer.axis % len(x.shape)
  grouped = x.shape.as_list()
  grouped[0] = -1
  grouped[axis:axis + 1] = [layer.groups, x.shape[axis] // layer.groups]
  r = tf.reshape(x, grouped)
  axes = [d for d in range(1, rank + 1) if d != axis]
  mean, variance = tf.nn.moments(r, axes=axes, keepdims=True)
  return tf.reshape((r - mean) * tf.math.rsqrt(variance + layer.epsilon), tf.shape(x))


@_plain_python
def _einsum_specs(layer, rank: Optional[int] = None):
  """(input, kernel, output) subscripts of an EinsumDense equation with any ellipsis written
  out (for inputs of `rank`), or None when the rule cannot apply: the batch axis must lead both
  the input and the output."""
  match = re.fullmatch(r"([a-zA-Z.]+),([a-zA-Z]+)->([a-zA-Z.]+)", layer.equation.replace(" ", ""))
  if not match:
    return None
  x_spec, w_spec, out_spec = match.groups()
  if "..." in x_spec:
    if rank is None:
      rank = len(layer.input.shape) if getattr(layer, "_inbound_nodes", None) else None
    if rank is None:  # Unknown until called: decided again when the features are formed.
      return x_spec, w_spec, out_spec
    unused = [c for c in string.ascii_letters if c not in layer.equation]
    elided = "".join(unused[:rank - (len(x_spec) - 3)])
    x_spec, out_spec = x_spec.replace("...", elided), out_spec.replace("...", elided)
  if x_spec[:1] != out_spec[:1] or x_spec[0] in w_spec or x_spec[0] in x_spec[1:]:
    return None
  return x_spec, w_spec, out_spec


@_plain_python
def _params_last(t, axes):
  """(n, ...) -> (n, positions, parameters): the normalized axes moved last and flattened."""
  rank = len(t.shape)
  axes = sorted(a % rank for a in (axes if isinstance(axes, (list, tuple)) else [axes]))
  rest = [d for d in range(1, rank) if d not in axes]
  t = tf.transpose(t, [0] + rest + axes)
  return tf.reshape(t, [tf.shape(t)[0], -1, int(np.prod([t.shape[d] for d in
                                                          range(len(rest) + 1, rank)]))])


@_plain_python
def _scales(unit):
  """(s, β) in z = s·(x ∗ W) + β·b; β None without a bias (or a zero bias scale)."""
  layer = unit.layer
  if unit.kind.startswith("own_"):
    return layer.kernel_scale, (layer.bias_scale or None)
  return 1.0, (1.0 if layer.use_bias else None)


@_plain_python
def _conv_geometry(unit, spatial, out_spatial=None):
  """(kernel size, strides, dilations, (before, after) pads, groups) of a convolution.

  spatial: the input's spatial shape; out_spatial: the output's, which "same" padding is
  computed for when given (a transposed convolution is the adjoint of the convolution from its
  output back to its input, padded as TensorFlow pads that one).
  """
  layer = unit.layer
  if unit.kind == "own_conv":
    k, p = layer.kernel_size, layer.padding
    return (k, k), (layer.strides,) * 2, (1, 1), [(p, p)] * 2, 1
  ks, st, dil = tuple(layer.kernel_size), tuple(layer.strides), tuple(layer.dilation_rate)
  if len(st) < len(ks):
    st = st * len(ks)
  if len(dil) < len(ks):
    dil = dil * len(ks)
  if layer.padding == "valid":
    pads = [(0, 0)] * len(ks)
  elif layer.padding == "causal":
    pads = [((ks[0] - 1) * dil[0], 0)]
  else:  # "same", as TensorFlow pads: the odd pixel after.
    pads = []
    out_spatial = out_spatial or [math.ceil(n / s) for n, s in zip(spatial, st)]
    for n, m, k, s, d in zip(spatial, out_spatial, ks, st, dil):
      total = max((m - 1) * s + (k - 1) * d + 1 - n, 0)
      pads.append((total // 2, total - total // 2))
  groups = getattr(layer, "groups", 1)
  if unit.kind in ("depthwise", "separable"):  # A grouped convolution, one group per channel.
    groups = None
  return ks, st, dil, pads, groups


@_plain_python
def _patches(x, geometry, out):
  """(B, positions, taps, C): x_padded[b, position·stride + offset·dilation, c] for the output
  positions of spatial shape `out`."""
  kernel_size, strides, dilations, pads, _ = geometry
  x = tf.pad(x, [[0, 0]] + [list(p) for p in pads] + [[0, 0]])
  patches = tf.stack([
      x[(slice(None),) + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                               for o, d, s, n in zip(offset, dilations, strides, out))]
      for offset in itertools.product(*map(range, kernel_size))], axis=-2)
  return tf.reshape(patches, [tf.shape(x)[0], int(np.prod(out)), patches.shape[-2],
                              x.shape[-1]])


@_plain_python
def _conv_weight_grads(x, g, geometry):
  """Per-sample ∂f_a/∂W = Σ_positions patchᵀ g (b, L, K·C_in/groups·C_out) of a convolution.

  patch[b, position, offset, c] = x_padded[b, position·stride + offset·dilation, c]; with
  groups, output channels of group q see only input channels of group q (groups=None: one
  group per input channel, a depthwise convolution).
  """
  groups = geometry[-1] or x.shape[-1]
  patches = _patches(x, geometry, g.shape[2:-1])
  b, num_out, cin, cout = tf.shape(x)[0], g.shape[1], x.shape[-1], g.shape[-1]
  positions, taps = patches.shape[1], patches.shape[2]
  patches = tf.reshape(patches, [b, positions, taps, groups, cin // groups])
  g = tf.reshape(g, [b, num_out, positions, groups, cout // groups])
  return tf.reshape(tf.einsum("bskqc,basqo->bakcqo", patches, g), [b, num_out, -1])


@_plain_python
def _transposed_weight_grads(x, g, geometry):
  """Per-sample ∂f_a/∂W of a transposed convolution y = Cᵀ(W) x, where C(W) convolves from
  y's shape to x's: ⟨g, Cᵀ(W) x⟩ = ⟨C(W) g, x⟩, so the gradient is a convolution's weight
  gradient with g as its input and x as its output cotangent: Σ_positions patch(g)ᵀ x."""
  b, num_out = tf.shape(g)[0], g.shape[1]
  flat = tf.reshape(g, [-1] + g.shape[2:].as_list())                   # (b·L, *y, C_y)
  patches = _patches(flat, geometry, x.shape[1:-1])                     # (b·L, S, K, C_y)
  patches = tf.reshape(patches, [b, num_out] + patches.shape[1:].as_list())
  x = tf.reshape(x, [b, -1, x.shape[-1]])                               # (b, S, C_x)
  return tf.reshape(tf.einsum("baskc,bsd->bakcd", patches, x), [b, num_out, -1])


@_plain_python
def _bias_grads(g, bias_shape):
  """Per-sample ∂f_a/∂b (b, L, |b|) for a bias of `bias_shape` broadcast onto g's trailing
  axes (numpy broadcasting, right-aligned): g summed over every axis the bias is constant on."""
  rank = len(g.shape)
  padded = [1] * (rank - 2 - len(bias_shape)) + list(bias_shape)
  axes = [2 + d for d, size in enumerate(padded) if size == 1 and g.shape[2 + d] != 1]
  summed = tf.reduce_sum(g, axis=axes) if axes else g
  return tf.reshape(summed, [tf.shape(g)[0], g.shape[1], -1])


def _call_features(engine, unit, call):
  """The per-sample weight gradients (b, L, P_u) of one call under a feature rule."""
  if unit.kind == "fallback":  # Runs the layer's own code: AutoGraph converts it as usual.
    return _fallback_features(engine, unit, call)
  return _rule_features(unit, call)


@_plain_python
def _rule_features(unit, call):
  """_call_features for the layers with a rule: tensor algebra on the recorded call."""
  g = call.cotangents[0] if call.cotangents else None
  if unit.kind in ("dense", "own_dense"):   # Σ_positions aᵀ g, for inputs of any rank.
    s, beta = _scales(unit)
    a = tf.reshape(call.inputs, [tf.shape(g)[0], -1, call.inputs.shape[-1]])
    g = tf.reshape(g, [tf.shape(g)[0], g.shape[1], -1, g.shape[-1]])
    parts = [s * tf.reshape(tf.einsum("bsi,baso->baio", a, g), [tf.shape(g)[0], g.shape[1], -1])]
    if beta is not None:
      parts.append(beta * tf.reduce_sum(g, axis=2))
    return tf.concat(parts, axis=-1)
  if unit.kind in ("conv", "own_conv", "depthwise"):
    s, beta = _scales(unit)
    geometry = _conv_geometry(unit, call.inputs.shape[1:-1])
    parts = [s * _conv_weight_grads(call.inputs, g, geometry)]
    if beta is not None:
      parts.append(beta * tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1))))
    return tf.concat(parts, axis=-1)
  if unit.kind == "conv_transpose":
    geometry = _conv_geometry(unit, g.shape[2:-1], out_spatial=call.inputs.shape[1:-1])
    parts = [_transposed_weight_grads(call.inputs, g, geometry)]
    if unit.layer.use_bias:
      parts.append(tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1))))
    return tf.concat(parts, axis=-1)
  if unit.kind == "separable":  # z = P(D(x)) + b: pointwise P on h = D(x), depthwise D on x.
    x, h, pointwise = call.inputs
    b, num_out = tf.shape(g)[0], g.shape[1]
    pointwise = tf.reshape(pointwise, pointwise.shape[-2:])              # (C_h, C_out)
    g_h = tf.einsum("ba...o,co->ba...c", g, pointwise)                   # ∂f/∂h
    geometry = _conv_geometry(unit, x.shape[1:-1])
    parts = [_conv_weight_grads(x, g_h, geometry),
             tf.reshape(tf.einsum("bsc,baso->baco", tf.reshape(h, [b, -1, h.shape[-1]]),
                                  tf.reshape(g, [b, num_out, -1, g.shape[-1]])),
                        [b, num_out, -1])]
    if unit.layer.use_bias:
      parts.append(tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1))))
    return tf.concat(parts, axis=-1)
  if unit.kind == "einsum":  # z = einsum(x, W) + b: ∂f_a/∂W = einsum(x, g_a) per sample.
    layer = unit.layer
    x_spec, w_spec, out_spec = _einsum_specs(layer, len(call.inputs.shape))
    output = next(c for c in string.ascii_letters if c not in x_spec + w_spec + out_spec)
    batch = x_spec[0]
    grads = tf.einsum(f"{x_spec},{batch}{output}{out_spec[1:]}->{batch}{output}{w_spec}",
                      call.inputs, g)
    parts = [tf.reshape(grads, [tf.shape(g)[0], g.shape[1], -1])]
    if layer.bias is not None:
      parts.append(_bias_grads(g, layer.bias.shape))
    return tf.concat(parts, axis=-1)
  if unit.kind == "embedding":  # ∂f_a/∂E[v] = Σ over the positions holding id v of g_a.
    ids = tf.reshape(call.inputs, [tf.shape(g)[0], -1])                 # (b, S)
    b, num_out, vocab = tf.shape(g)[0], g.shape[1], unit.layer.input_dim
    rows = tf.reshape(tf.transpose(tf.reshape(g, [b, num_out, -1, g.shape[-1]]), [0, 2, 1, 3]),
                      [-1, num_out * g.shape[-1]])                      # (b·S, L·D)
    segments = tf.reshape(ids + tf.cast(tf.range(b)[:, None] * vocab, ids.dtype), [-1])
    table = tf.math.unsorted_segment_sum(rows, segments, b * vocab)     # (b·V, L·D)
    table = tf.reshape(table, [b, vocab, num_out, -1])
    return tf.reshape(tf.transpose(table, [0, 2, 1, 3]), [b, num_out, -1])
  if unit.kind in _NORMALIZATIONS:  # y = γ ⊙ x̂ + β, elementwise in γ and β.
    layer, parts = unit.layer, []
    x_hat = _params_last(call.inputs, layer.axis)                              # (b, S, P)
    b, num_out = tf.shape(g)[0], g.shape[1]
    g = _params_last(tf.reshape(g, [-1] + g.shape[2:].as_list()), layer.axis)  # (b·L, S, P)
    g = tf.reshape(g, [b, num_out, -1, g.shape[-1]])
    if layer.scale:
      parts.append(tf.einsum("bsp,basp->bap", x_hat, g))
    if layer.center:
      parts.append(tf.reduce_sum(g, axis=2))
    return tf.concat(parts, axis=-1)
  raise ValueError(f"no rule for {unit.kind}")


def _fallback_features(engine, unit, call):
  """∂f_a(x_i)/∂w_u for the layer's own weights only: one VJP of (input i, cotangent (i, a))
  through the layer alone per row, vectorized over the b·L rows."""
  layer = unit.layer
  weights = [engine.params[i] for i in unit.indices]
  state = {id(v): value for v, value in zip(engine.model.non_trainable_variables,
                                            engine.non_trainable)}
  fixed = [state.get(id(v), v.value) for v in layer.non_trainable_variables]
  flat = tf.nest.flatten(call.inputs)
  cotangents = call.cotangents
  b, num_out = cotangents[0].shape[0], cotangents[0].shape[1]
  batched = [tf.is_tensor(t) and t.shape.rank and t.shape[0] == b for t in flat]

  def row(index):
    i, a = index // num_out, index % num_out
    sliced = [tf.gather(t, i[None]) if is_batched else t for t, is_batched in zip(flat, batched)]
    args, kwargs = tf.nest.pack_sequence_as(call.inputs, sliced)
    with tf.GradientTape() as tape:
      tape.watch(weights)
      out, _ = layer.stateless_call(weights, fixed, *args, **kwargs)
    outs = [t for t in tf.nest.flatten(out) if tf.is_tensor(t) and t.dtype.is_floating]
    grads = tape.gradient(outs, weights, output_gradients=[c[i, a][None] for c in cotangents],
                          unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return tf.concat([tf.reshape(gr, [-1]) for gr in grads], axis=0)

  rows = tf.vectorized_map(row, tf.range(b * num_out))
  return tf.reshape(rows, [b, num_out, -1])


@_plain_python
def _gram_rule(unit, calls) -> bool:
  """Dense layers whose every call has 2-D inputs use (A Aᵀ) ⊙ (G Gᵀ) over calls."""
  return unit.kind in ("dense", "own_dense") and all(len(c.inputs.shape) == 2 for c in calls)


def _forward(engine, unit_list, x, track_ops: bool = False):
  """The intercepted forward at engine.params: (sample-summed outputs, calls, tape)."""
  calls = []
  with tf.GradientTape() as tape:
    with intercepted(unit_list, tape, calls, track_ops):
      out = engine.f(engine.params, x)
    summed = tf.reduce_sum(out, axis=0)  # Samples are independent: one VJP per output.
  return summed, calls, tape


def _plain_conv(unit) -> bool:
  """A convolution with one group: the kind `pixel_pairs` may contract through pixel pairs."""
  return unit.kind in ("conv", "own_conv") and getattr(unit.layer, "groups", 1) == 1


@_plain_python
def _einsum_layout(layer, rank: int):
  """(x_spec, out_spec, positions, contracted, outputs) of an EinsumDense whose input axes
  are the batch, positions and contracted axes, kernel axes the contracted and output axes,
  and output axes the batch, positions and output axes (attention's projections), or None."""
  specs = _einsum_specs(layer, rank)
  if specs is None or "..." in specs[0]:
    return None
  x_spec, w_spec, out_spec = specs
  if set(x_spec) & set(w_spec) & set(out_spec) or any(len(set(t)) != len(t) for t in specs):
    return None  # A kernel axis also on the input and output (elementwise), or a repeat.
  positions = "".join(c for c in x_spec[1:] if c in out_spec)
  contracted = "".join(c for c in x_spec[1:] if c in w_spec)
  outputs = "".join(c for c in w_spec if c in out_spec)
  if (len(positions) + len(contracted) != len(x_spec) - 1 or
      len(contracted) + len(outputs) != len(w_spec) or
      len(positions) + len(outputs) != len(out_spec) - 1 or not positions):
    return None
  return x_spec, out_spec, positions, contracted, outputs


def _positionwise_shape(unit, call):
  """(S positions, K inputs, C outputs per position) of a call of a position-wise layer whose
  term `pixel_pairs` may form from position pairs, or None (weight gradients only)."""
  z = call.probes[0]
  if _plain_conv(unit):
    return (int(np.prod(z.shape[1:-1])), int(np.prod(unit.layer.kernel.shape[:-1])),
            int(z.shape[-1]))
  if unit.kind in ("dense", "own_dense") and len(call.inputs.shape) > 2:
    return int(np.prod(z.shape[1:-1])), int(call.inputs.shape[-1]), int(z.shape[-1])
  if unit.kind == "einsum":
    layout = _einsum_layout(unit.layer, len(call.inputs.shape))
    if layout is not None:
      x_spec, out_spec, positions, contracted, outputs = layout
      size = lambda spec, letters, shape: int(np.prod([shape[spec.index(c)] for c in letters]))
      return (size(x_spec, positions, call.inputs.shape),
              size(x_spec, contracted, call.inputs.shape), size(out_spec, outputs, z.shape))
  return None


def _pixel_rule(unit, calls, num_out: int, trace: bool) -> bool:
  """Position-wise layers whose calls are cheaper to contract through position pairs."""
  shapes = [_positionwise_shape(unit, c) for c in calls]
  return all(shape is not None and pixel_pairs(*shape, num_out, trace) for shape in shapes)


@_plain_python
def _pixel_terms(unit, call):
  """(s·patches (b, S, K), cotangents (b, L, S, C)) of a position-wise layer's call, and its
  bias's per-sample gradients (b, L, |bias|) or None."""
  s, beta = _scales(unit) if unit.kind != "einsum" else (1.0, None)
  g, x = call.cotangents[0], call.inputs
  b, num_out = tf.shape(g)[0], g.shape[1]
  if unit.kind == "einsum":
    x_spec, out_spec, positions, contracted, outputs = _einsum_layout(unit.layer, len(x.shape))
    batch, out = x_spec[0], next(c for c in string.ascii_letters if c not in x_spec + out_spec)
    x = tf.einsum(f"{x_spec}->{batch}{positions}{contracted}", x)
    bias = None if unit.layer.bias is None else _bias_grads(g, unit.layer.bias.shape)
    g = tf.einsum(f"{batch}{out}{out_spec[1:]}->{batch}{out}{positions}{outputs}", g)
  else:
    if _plain_conv(unit):
      x = _patches(x, _conv_geometry(unit, x.shape[1:-1]), g.shape[2:-1])
    bias = None if beta is None else beta * tf.reduce_sum(
        g, axis=list(range(2, len(g.shape) - 1)))
  positions, inputs, outputs = _positionwise_shape(unit, call)
  return (s * tf.reshape(x, [b, positions, inputs]),
          tf.reshape(g, [b, num_out, positions, outputs])), bias


def layer_features(engine, unit_list, x):
  """What `block` contracts for a block of samples: (dense, features, pixel).

  dense: per Gram-rule unit, per call, (A (b, d_in [+1 bias column]) scaled, G (b, L, d_out));
  features: (b, L, Q) per-sample weight gradients of all other units (each summed over its
  calls; a position-pair unit's bias only), concatenated; None if there are none; pixel: per
  position-wise layer contracted through position pairs (`pixel_pairs`), per call,
  (s·patches (b, S, K), cotangents (b, L, S, C)).
  """
  summed, calls, tape = _forward(engine, unit_list, x)
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
    if _pixel_rule(unit, mine, num_out, trace):
      terms = [_pixel_terms(unit, c) for c in mine]
      pixel.append([pair for pair, _ in terms])
      if terms[0][1] is not None:
        features.append(tf.add_n([bias for _, bias in terms]))
    elif _gram_rule(unit, mine):
      s, beta = _scales(unit)
      terms = []
      for c in mine:
        a = s * c.inputs
        if beta is not None:
          a = tf.concat([a, beta * tf.ones_like(a[:, :1])], axis=1)
        terms.append((a, c.cotangents[0]))
      dense.append(terms)
    else:
      features.append(tf.add_n([_call_features(engine, unit, c) for c in mine]))
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


# -- planning --------------------------------------------------------------------------------
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
            if all(shape is not None and pixel_pairs(*shape, num_outputs, trace)
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
    return min(PIXEL_CHUNK_BYTES, block * block * largest * itemsize) if largest else 0

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
              ELEMENTWISE_FLOPS * s1 * s2 if trace else 2 * l * l * c * s2)
    return total

  def orders(self, num_outputs: int, trace: bool = False) -> list:
    """[(layer name, contraction order, why)] for every unit the forward calls."""
    l, pixel, found = num_outputs, set(self.pixel_units(num_outputs, trace)), []
    per_pair = lambda u: [order_costs(*shape, l, trace) for shape in self.positionwise[u][1]]
    for u, unit in enumerate(self.units):
      if u not in self.called:
        continue
      name = unit.layer.name
      pair_text, weight_text = (("S²(K+L·C)+8·S²", "L·K·C") if trace else
                                ("S²(K+L·C)+L²·C·S", "L²·K·C"))
      if u in pixel:
        pairs, weights = (sum(c) for c in zip(*per_pair(u)))
        found.append((name, "position pairs", f"{pair_text} = {pairs:.3g} < {weight_text} = "
                      f"{weights:.3g} flops per sample pair (summed over calls)"))
      elif u in self.gram_units and all(shape is None for shape in
                                        self.positionwise.get(u, (0, [None]))[1]):
        found.append((name, "inputs x cotangents Gram", "(A Aᵀ)⊙(G Gᵀ): the position-pair "
                      "order with one position, never dearer than weight gradients"))
      elif unit.kind == "fallback":
        found.append((name, "fallback", (
            f"no rule for {type(unit.layer).__name__}: its {unit.num_params:,} weight "
            f"gradients per sample and output by b·L single-sample VJPs through the layer "
            f"({self.fallback_rows[u]:,} numbers per row)")))
      else:
        why = f"{unit.kind} rule: {unit.num_params:,} per sample and output"
        shapes = self.positionwise.get(u, (0, [None]))[1]
        if all(shape is not None for shape in shapes):
          pairs, weights = (sum(c) for c in zip(*per_pair(u)))
          why = (f"{weight_text} = {weights:.3g} ≤ {pair_text} = {pairs:.3g} flops per "
                 "sample pair (summed over calls)")
        found.append((name, "weight gradients", why))
    return found


def survey(model, sample_shape, dtype):
  """(Survey, None), or (None, why structured cannot run) for a built model."""
  key = (tuple(id(v) for v in model.trainable_weights), tuple(sample_shape), str(dtype))
  if model in _SURVEYS and _SURVEYS[model][0] == key:  # Not after a layer was (un)frozen.
    return _SURVEYS[model][1]
  unit_list, why = units(model)
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
  """The engine interface _forward needs: the model at params, current non-trainables."""

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
    _, holder["calls"], _ = _forward(tracer, unit_list, x, track_ops=True)
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
  """Per-sample sizes of the traced calls (static shapes)."""
  result = Survey(unit_list)
  size = lambda t: int(np.prod(t.shape[1:]))
  counted = set()
  for call in calls:
    unit = unit_list[call.unit]
    out = sum(size(p) for p in call.probes)
    result.cotangents += out
    result.called.add(call.unit)
    if unit.kind == "fallback":
      inputs = sum(size(t) for t in tf.nest.flatten(call.inputs)
                   if tf.is_tensor(t) and t.shape.rank)
      result.fallback += inputs + out + unit.num_params
      result.fallback_rows[call.unit] = (result.fallback_rows.get(call.unit, 0) + inputs + out
                                         + unit.num_params)
    elif unit.kind == "conv_transpose":  # Patches of the cotangents: per output, like them.
      taps = int(np.prod(unit.layer.kernel.shape[:-2]))
      result.cotangents += size(call.inputs) // call.inputs.shape[-1] * taps * \
          call.probes[0].shape[-1]
    if unit.kind in ("conv", "own_conv", "dense", "own_dense", "einsum"):
      entry = result.positionwise.setdefault(
          call.unit, (int(np.prod(unit.layer.kernel.shape)), []))
      entry[1].append(_positionwise_shape(unit, call))
    gram = unit.kind in ("dense", "own_dense") and len(call.inputs.shape) == 2
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
