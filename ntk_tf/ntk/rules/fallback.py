"""The fallback rule, for every weight-holding layer no other rule takes (a user's custom
layer, a class token, a quantized Dense): the per-sample Jacobian of that layer's own weights
only, by VJPs of its recorded inputs and output cotangents through the layer alone, one
single-sample VJP per sample and output, vectorized. It is not registered: `rule_for` finding
no rule means this one.
"""

import numpy as np
import tensorflow as tf

from ntk_tf.ntk.rules import base


class FallbackRule(base.Rule):
  """Any other layer: its call's arguments are recorded, its outputs probed."""
  name = "fallback"

  def matches(self, layer) -> bool:
    del layer
    return True

  def record(self, layer, x, args, kwargs):
    del layer, x
    return (args, kwargs)

  def features(self, unit, call, engine):
    """∂f_a(x_i)/∂w_u for the layer's own weights only: one VJP of (input i, cotangent (i, a))
    through the layer alone per row, vectorized over the b·L rows. Runs the layer's own code,
    which AutoGraph converts as usual."""
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
      sliced = [tf.gather(t, i[None]) if is_batched else t
                for t, is_batched in zip(flat, batched)]
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

  def vjp_row_size(self, unit, call) -> int:
    """The call's inputs, outputs and the layer's weights."""
    size = lambda t: int(np.prod(t.shape[1:]))
    inputs = sum(size(t) for t in tf.nest.flatten(call.inputs)
                 if tf.is_tensor(t) and t.shape.rank)
    return inputs + sum(size(p) for p in call.probes) + unit.num_params

  def weight_gradient_order(self, unit, vjp_rows: int):
    return "fallback", (
        f"no rule for {type(unit.layer).__name__}: its {unit.num_params:,} weight "
        f"gradients per sample and output by b·L single-sample VJPs through the layer "
        f"({vjp_rows:,} numbers per row)")


FALLBACK = FallbackRule()
