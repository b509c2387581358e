"""The rules of normalization layers: BatchNormalization in inference (its moving statistics;
not renorm), LayerNormalization (not RMS scaling) and GroupNormalization compute
y = γ ⊙ x̂ + β elementwise in γ and β, so their per-sample weight gradients are γ: Σ x̂ ⊙ g and
β: Σ g over the positions sharing a parameter, with x̂ the layer's normalized input, which
each call records.
"""

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.ntk.rules import base


@base.plain_python
def params_last(t, axes):
  """(n, ...) -> (n, positions, parameters): the normalized axes moved last and flattened."""
  rank = len(t.shape)
  axes = sorted(a % rank for a in (axes if isinstance(axes, (list, tuple)) else [axes]))
  rest = [d for d in range(1, rank) if d not in axes]
  t = tf.transpose(t, [0] + rest + axes)
  return tf.reshape(t, [tf.shape(t)[0], -1, int(np.prod([t.shape[d] for d in
                                                          range(len(rest) + 1, rank)]))])


class Normalization(base.Rule):
  """y = γ ⊙ x̂ + β; subclasses say which layers and how x̂ is computed (`record`)."""

  @base.plain_python
  def features(self, unit, call, engine):
    """γ: Σ x̂ ⊙ g and β: Σ g per sample, over the positions sharing a parameter."""
    del engine
    layer, parts = unit.layer, []
    g = call.cotangents[0]
    x_hat = params_last(call.inputs, layer.axis)                               # (b, S, P)
    b, num_out = tf.shape(g)[0], g.shape[1]
    g = params_last(tf.reshape(g, [-1] + g.shape[2:].as_list()), layer.axis)   # (b·L, S, P)
    g = tf.reshape(g, [b, num_out, -1, g.shape[-1]])
    if layer.scale:
      parts.append(tf.einsum("bsp,basp->bap", x_hat, g))
    if layer.center:
      parts.append(tf.reduce_sum(g, axis=2))
    return tf.concat(parts, axis=-1)


@base.plain_python
def batch_normalized(layer, x):
  """x̂ = (x - μ) / sqrt(σ² + ε) with BatchNormalization's moving statistics (inference)."""
  x = tf.cast(x, keras.backend.result_type(x.dtype, "float32"))
  shape = [1] * len(x.shape)
  shape[layer.axis] = x.shape[layer.axis]
  mean = tf.reshape(tf.cast(layer.moving_mean, x.dtype), shape)
  variance = tf.reshape(tf.cast(layer.moving_variance, x.dtype), shape)
  return (x - mean) * tf.math.rsqrt(variance + layer.epsilon)


@base.plain_python
def group_normalized(layer, x):
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


@base.register
class GroupNormalizationRule(Normalization):
  """Keras GroupNormalization."""
  name = "groupnorm"

  def matches(self, layer) -> bool:
    return base.same_call(layer, keras.layers.GroupNormalization)

  def record(self, layer, x, args, kwargs):
    del args, kwargs
    return group_normalized(layer, x)


@base.register
class BatchNormalizationRule(Normalization):
  """Keras BatchNormalization (not renorm), in inference."""
  name = "batchnorm"

  def matches(self, layer) -> bool:
    return base.same_call(layer, keras.layers.BatchNormalization) and not layer.renorm

  def record(self, layer, x, args, kwargs):
    del args, kwargs
    return batch_normalized(layer, x)


@base.register
class LayerNormalizationRule(Normalization):
  """Keras LayerNormalization (not RMS scaling)."""
  name = "layernorm"

  def matches(self, layer) -> bool:
    return base.same_call(layer, keras.layers.LayerNormalization) and not layer.rms_scaling

  def record(self, layer, x, args, kwargs):
    """x̂ = (x - mean) / sqrt(var + ε) over the layer's axes."""
    del args, kwargs
    return keras.ops.layer_normalization(x, axis=layer.axis, epsilon=layer.epsilon)
