"""The rule of Keras Embedding: a lookup's per-sample weight gradient is its output cotangent g
scattered onto the table rows of the ids (repeated ids add), one segment sum per block.
"""

import keras
import tensorflow as tf

from ntk_tf.ntk.rules import base


@base.register
class EmbeddingRule(base.Rule):
  """Keras Embedding: ∂f_a/∂E[v] = Σ over the positions holding id v of g_a."""
  name = "embedding"

  def matches(self, layer) -> bool:
    return base.plain(layer) and base.same_call(layer, keras.layers.Embedding)

  def record(self, layer, x, args, kwargs):
    del layer, args, kwargs
    return tf.cast(x, "int64")

  @base.plain_python
  def features(self, unit, call, engine):
    del engine
    g = call.cotangents[0]
    ids = tf.reshape(call.inputs, [tf.shape(g)[0], -1])                 # (b, S)
    b, num_out, vocab = tf.shape(g)[0], g.shape[1], unit.layer.input_dim
    rows = tf.reshape(tf.transpose(tf.reshape(g, [b, num_out, -1, g.shape[-1]]), [0, 2, 1, 3]),
                      [-1, num_out * g.shape[-1]])                      # (b·S, L·D)
    segments = tf.reshape(ids + tf.cast(tf.range(b)[:, None] * vocab, ids.dtype), [-1])
    table = tf.math.unsorted_segment_sum(rows, segments, b * vocab)     # (b·V, L·D)
    table = tf.reshape(table, [b, vocab, num_out, -1])
    return tf.reshape(tf.transpose(table, [0, 2, 1, 3]), [b, num_out, -1])
