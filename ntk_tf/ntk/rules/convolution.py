"""The rules of convolutions: ntk_tf's Conv2D, Keras Conv1D/2D/3D (strides, dilation, groups,
valid/same/causal padding), DepthwiseConv1D/2D (one group per input channel),
SeparableConv1D/2D and Conv1D/2D/3DTranspose, channels last. Their per-sample weight gradients
are Σ_positions patchᵀ g, formed without any Jacobian of the model: a separable convolution's
pointwise kernel from the depthwise stage's output h, its depthwise kernel from x and
∂f/∂h = g Pᵀ; a transposed convolution y = Cᵀ(W) x, for the convolution C from y's shape to
x's, from ⟨g, Cᵀ(W) x⟩ = ⟨C(W) g, x⟩, so Σ_positions patch(g)ᵀ x. A convolution with one group
is position-wise: its term may be formed from the patch and cotangent Grams of position pairs.
"""

import itertools
import math

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.models import layers as ntk_layers
from ntk_tf.ntk.rules import base


@base.plain_python
def patches(x, geometry, out):
  """(B, positions, taps, C): x_padded[b, position·stride + offset·dilation, c] for the output
  positions of spatial shape `out`."""
  kernel_size, strides, dilations, pads, _ = geometry
  x = tf.pad(x, [[0, 0]] + [list(p) for p in pads] + [[0, 0]])
  stacked = tf.stack([
      x[(slice(None),) + tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                               for o, d, s, n in zip(offset, dilations, strides, out))]
      for offset in itertools.product(*map(range, kernel_size))], axis=-2)
  return tf.reshape(stacked, [tf.shape(x)[0], int(np.prod(out)), stacked.shape[-2],
                              x.shape[-1]])


@base.plain_python
def conv_weight_grads(x, g, geometry):
  """Per-sample ∂f_a/∂W = Σ_positions patchᵀ g (b, L, K·C_in/groups·C_out) of a convolution.

  patch[b, position, offset, c] = x_padded[b, position·stride + offset·dilation, c]; with
  groups, output channels of group q see only input channels of group q (groups=None: one
  group per input channel, a depthwise convolution).
  """
  groups = geometry[-1] or x.shape[-1]
  found = patches(x, geometry, g.shape[2:-1])
  b, num_out, cin, cout = tf.shape(x)[0], g.shape[1], x.shape[-1], g.shape[-1]
  positions, taps = found.shape[1], found.shape[2]
  found = tf.reshape(found, [b, positions, taps, groups, cin // groups])
  g = tf.reshape(g, [b, num_out, positions, groups, cout // groups])
  return tf.reshape(tf.einsum("bskqc,basqo->bakcqo", found, g), [b, num_out, -1])


@base.plain_python
def transposed_weight_grads(x, g, geometry):
  """Per-sample ∂f_a/∂W of a transposed convolution y = Cᵀ(W) x, where C(W) convolves from
  y's shape to x's: ⟨g, Cᵀ(W) x⟩ = ⟨C(W) g, x⟩, so the gradient is a convolution's weight
  gradient with g as its input and x as its output cotangent: Σ_positions patch(g)ᵀ x."""
  b, num_out = tf.shape(g)[0], g.shape[1]
  flat = tf.reshape(g, [-1] + g.shape[2:].as_list())                   # (b·L, *y, C_y)
  found = patches(flat, geometry, x.shape[1:-1])                        # (b·L, S, K, C_y)
  found = tf.reshape(found, [b, num_out] + found.shape[1:].as_list())
  x = tf.reshape(x, [b, -1, x.shape[-1]])                               # (b, S, C_x)
  return tf.reshape(tf.einsum("baskc,bsd->bakcd", found, x), [b, num_out, -1])


class KerasConvolution(base.Rule):
  """A Keras convolution of `classes`, channels last: z = x ∗ W + b, probed before its fused
  activation."""
  classes = ()
  pre_activation = True
  one_group_per_channel = False  # Depthwise: a grouped convolution, one group per channel.

  def matches(self, layer) -> bool:
    return (base.plain(layer)
            and getattr(layer, "data_format", "channels_last") == "channels_last"
            and any(base.same_call(layer, c) for c in self.classes))

  @base.plain_python
  def geometry(self, layer, spatial, out_spatial=None):
    """(kernel size, strides, dilations, (before, after) pads, groups) of the convolution.

    spatial: the input's spatial shape; out_spatial: the output's, which "same" padding is
    computed for when given (a transposed convolution is the adjoint of the convolution from
    its output back to its input, padded as TensorFlow pads that one).
    """
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
    groups = None if self.one_group_per_channel else getattr(layer, "groups", 1)
    return ks, st, dil, pads, groups

  @base.plain_python
  def features(self, unit, call, engine):
    """Σ_positions patchᵀ g per sample, and the bias's Σ g."""
    del engine
    s, beta = self.scales(unit.layer)
    g = call.cotangents[0]
    geometry = self.geometry(unit.layer, call.inputs.shape[1:-1])
    parts = [s * conv_weight_grads(call.inputs, g, geometry)]
    if beta is not None:
      parts.append(base.summed_bias_grads(g, beta))
    return tf.concat(parts, axis=-1)


@base.register
class ConvolutionRule(KerasConvolution):
  """Keras Conv1D/2D/3D; with one group, position-wise."""
  name = "conv"
  classes = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
  position_wise = True

  def positionwise_shape(self, unit, call):
    if getattr(unit.layer, "groups", 1) != 1:
      return None
    z = call.probes[0]
    return (int(np.prod(z.shape[1:-1])), int(np.prod(unit.layer.kernel.shape[:-1])),
            int(z.shape[-1]))

  @base.plain_python
  def pixel_terms(self, unit, call):
    s, beta = self.scales(unit.layer)
    g, x = call.cotangents[0], call.inputs
    x = patches(x, self.geometry(unit.layer, x.shape[1:-1]), g.shape[2:-1])
    bias = None if beta is None else base.summed_bias_grads(g, beta)
    return base.position_terms(x, g, self.positionwise_shape(unit, call), s), bias


@base.register
class OwnConvolutionRule(ConvolutionRule):
  """ntk_tf's Conv2D (symmetric zero padding, either parameterization), no fused
  activation."""
  name = "own_conv"
  pre_activation = False

  def matches(self, layer) -> bool:
    return base.same_call(layer, ntk_layers.Conv2D)

  def scales(self, layer):
    return layer.kernel_scale, (layer.bias_scale or None)

  @base.plain_python
  def geometry(self, layer, spatial, out_spatial=None):
    del spatial, out_spatial
    k, p = layer.kernel_size, layer.padding
    return (k, k), (layer.strides,) * 2, (1, 1), [(p, p)] * 2, 1


@base.register
class DepthwiseRule(KerasConvolution):
  """Keras DepthwiseConv1D/2D: one group per input channel."""
  name = "depthwise"
  classes = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
  one_group_per_channel = True


@base.register
class SeparableRule(KerasConvolution):
  """Keras SeparableConv1D/2D: z = P(D(x)) + b, pointwise P on h = D(x), depthwise D on x."""
  name = "separable"
  classes = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
  one_group_per_channel = True

  def record(self, layer, x, args, kwargs):
    """x, the depthwise stage's output h and the pointwise kernel."""
    del args, kwargs
    return (x, keras.ops.depthwise_conv(
        x, layer.depthwise_kernel, strides=layer.strides, padding=layer.padding,
        dilation_rate=layer.dilation_rate, data_format=layer.data_format),
        layer.pointwise_kernel)

  @base.plain_python
  def features(self, unit, call, engine):
    """The depthwise kernel's gradients from x and ∂f/∂h = g Pᵀ, the pointwise kernel's from
    h and g, and the bias's Σ g."""
    del engine
    g = call.cotangents[0]
    x, h, pointwise = call.inputs
    b, num_out = tf.shape(g)[0], g.shape[1]
    pointwise = tf.reshape(pointwise, pointwise.shape[-2:])              # (C_h, C_out)
    g_h = tf.einsum("ba...o,co->ba...c", g, pointwise)                   # ∂f/∂h
    geometry = self.geometry(unit.layer, x.shape[1:-1])
    parts = [conv_weight_grads(x, g_h, geometry),
             tf.reshape(tf.einsum("bsc,baso->baco", tf.reshape(h, [b, -1, h.shape[-1]]),
                                  tf.reshape(g, [b, num_out, -1, g.shape[-1]])),
                        [b, num_out, -1])]
    if unit.layer.use_bias:
      parts.append(tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1))))
    return tf.concat(parts, axis=-1)


@base.register
class TransposedConvolutionRule(KerasConvolution):
  """Keras Conv1D/2D/3DTranspose: y = Cᵀ(W) x + b."""
  name = "conv_transpose"
  classes = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose,
             keras.layers.Conv3DTranspose)

  @base.plain_python
  def features(self, unit, call, engine):
    """Σ_positions patch(g)ᵀ x per sample, and the bias's Σ g."""
    del engine
    g = call.cotangents[0]
    geometry = self.geometry(unit.layer, g.shape[2:-1], out_spatial=call.inputs.shape[1:-1])
    parts = [transposed_weight_grads(call.inputs, g, geometry)]
    if unit.layer.use_bias:
      parts.append(tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1))))
    return tf.concat(parts, axis=-1)

  def extra_cotangents(self, unit, call) -> int:
    """The patches of the cotangents, per output like them."""
    taps = int(np.prod(unit.layer.kernel.shape[:-2]))
    size = int(np.prod(call.inputs.shape[1:]))
    return size // call.inputs.shape[-1] * taps * call.probes[0].shape[-1]
