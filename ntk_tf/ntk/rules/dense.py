"""The rules of linear maps applied alike at every position: ntk_tf's Dense, Keras Dense and
EinsumDense (attention's query/key/value/output projections). On vectors a dense layer's term
is (A A'ᵀ) ⊙ (G G'ᵀ) from its inputs A and the cotangents G = ∂f/∂z of its outputs (Novak et
al. 2022, §3 fully connected layers), the bias as a constant input column and the
NTK-parameterization scales folded into A; on inputs with positions its per-sample weight
gradient is Σ_positions aᵀ g, or its term is formed from position pairs. EinsumDense's
gradient is its equation with g in place of the output, keeping the batch axis, the bias as g
summed where it broadcasts.
"""

import re
import string
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.models import layers as ntk_layers
from ntk_tf.ntk.rules import base


@base.register
class OwnDenseRule(base.Rule):
  """ntk_tf's Dense (either parameterization): z = s·(x W) + β·b, no fused activation."""
  name = "own_dense"
  position_wise = True

  def matches(self, layer) -> bool:
    return base.same_call(layer, ntk_layers.Dense)

  def scales(self, layer):
    return layer.kernel_scale, (layer.bias_scale or None)

  @base.plain_python
  def features(self, unit, call, engine):
    """Σ_positions aᵀ g per sample, for inputs of any rank, and the bias's Σ g."""
    del engine
    s, beta = self.scales(unit.layer)
    g = call.cotangents[0]
    a = tf.reshape(call.inputs, [tf.shape(g)[0], -1, call.inputs.shape[-1]])
    g = tf.reshape(g, [tf.shape(g)[0], g.shape[1], -1, g.shape[-1]])
    parts = [s * tf.reshape(tf.einsum("bsi,baso->baio", a, g), [tf.shape(g)[0], g.shape[1], -1])]
    if beta is not None:
      parts.append(beta * tf.reduce_sum(g, axis=2))
    return tf.concat(parts, axis=-1)

  def gram(self, call) -> bool:
    return len(call.inputs.shape) == 2

  @base.plain_python
  def gram_terms(self, unit, call):
    s, beta = self.scales(unit.layer)
    a = s * call.inputs
    if beta is not None:
      a = tf.concat([a, beta * tf.ones_like(a[:, :1])], axis=1)
    return a, call.cotangents[0]

  def positionwise_shape(self, unit, call):
    if len(call.inputs.shape) <= 2:
      return None
    z = call.probes[0]
    return int(np.prod(z.shape[1:-1])), int(call.inputs.shape[-1]), int(z.shape[-1])

  @base.plain_python
  def pixel_terms(self, unit, call):
    s, beta = self.scales(unit.layer)
    g = call.cotangents[0]
    bias = None if beta is None else base.summed_bias_grads(g, beta)
    return base.position_terms(call.inputs, g, self.positionwise_shape(unit, call), s), bias


@base.register
class DenseRule(OwnDenseRule):
  """Keras Dense: z = x W + b, probed before its fused activation."""
  name = "dense"
  pre_activation = True

  def matches(self, layer) -> bool:
    return base.plain(layer) and base.same_call(layer, keras.layers.Dense)

  def scales(self, layer):
    return base.Rule.scales(self, layer)


@base.plain_python
def einsum_specs(layer, rank: Optional[int] = None):
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


@base.plain_python
def einsum_layout(layer, rank: int):
  """(x_spec, out_spec, positions, contracted, outputs) of an EinsumDense whose input axes
  are the batch, positions and contracted axes, kernel axes the contracted and output axes,
  and output axes the batch, positions and output axes (attention's projections), or None."""
  specs = einsum_specs(layer, rank)
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


@base.plain_python
def bias_grads(g, bias_shape):
  """Per-sample ∂f_a/∂b (b, L, |b|) for a bias of `bias_shape` broadcast onto g's trailing
  axes (numpy broadcasting, right-aligned): g summed over every axis the bias is constant on."""
  rank = len(g.shape)
  padded = [1] * (rank - 2 - len(bias_shape)) + list(bias_shape)
  axes = [2 + d for d, size in enumerate(padded) if size == 1 and g.shape[2 + d] != 1]
  summed = tf.reduce_sum(g, axis=axes) if axes else g
  return tf.reshape(summed, [tf.shape(g)[0], g.shape[1], -1])


@base.register
class EinsumDenseRule(base.Rule):
  """Keras EinsumDense whose batch axis leads its input and output: z = einsum(x, W) + b."""
  name = "einsum"
  pre_activation = True
  position_wise = True

  def matches(self, layer) -> bool:
    return (base.plain(layer) and base.same_call(layer, keras.layers.EinsumDense)
            and einsum_specs(layer) is not None)

  @base.plain_python
  def features(self, unit, call, engine):
    """∂f_a/∂W = einsum(x, g_a) per sample, and the bias's gradients."""
    del engine
    layer, g = unit.layer, call.cotangents[0]
    x_spec, w_spec, out_spec = einsum_specs(layer, len(call.inputs.shape))
    output = next(c for c in string.ascii_letters if c not in x_spec + w_spec + out_spec)
    batch = x_spec[0]
    grads = tf.einsum(f"{x_spec},{batch}{output}{out_spec[1:]}->{batch}{output}{w_spec}",
                      call.inputs, g)
    parts = [tf.reshape(grads, [tf.shape(g)[0], g.shape[1], -1])]
    if layer.bias is not None:
      parts.append(bias_grads(g, layer.bias.shape))
    return tf.concat(parts, axis=-1)

  def positionwise_shape(self, unit, call):
    layout = einsum_layout(unit.layer, len(call.inputs.shape))
    if layout is None:
      return None
    x_spec, out_spec, positions, contracted, outputs = layout
    size = lambda spec, letters, shape: int(np.prod([shape[spec.index(c)] for c in letters]))
    return (size(x_spec, positions, call.inputs.shape),
            size(x_spec, contracted, call.inputs.shape),
            size(out_spec, outputs, call.probes[0].shape))

  @base.plain_python
  def pixel_terms(self, unit, call):
    layer, g, x = unit.layer, call.cotangents[0], call.inputs
    x_spec, out_spec, positions, contracted, outputs = einsum_layout(layer, len(x.shape))
    batch, out = x_spec[0], next(c for c in string.ascii_letters if c not in x_spec + out_spec)
    x = tf.einsum(f"{x_spec}->{batch}{positions}{contracted}", x)
    bias = None if layer.bias is None else bias_grads(g, layer.bias.shape)
    shape = self.positionwise_shape(unit, call)
    g = tf.einsum(f"{batch}{out}{out_spec[1:]}->{batch}{out}{positions}{outputs}", g)
    return base.position_terms(x, g, shape, 1.0), bias
