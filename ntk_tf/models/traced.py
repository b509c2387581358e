"""Per-sample activation sizes of any built Keras model, read from its traced forward pass."""

import math

import tensorflow as tf

# Graph ops whose outputs are not new activations: weights, constants, the input, aliases.
NOT_ACTIVATIONS = ("Const", "ReadVariableOp", "Placeholder", "VarHandleOp", "NoOp",
                   "AssignVariableOp", "Identity")
_WEIGHTS = ("Const", "ReadVariableOp", "VarHandleOp")  # Inputs of an op that are not data.


def _float_size(tensor) -> int:
  if tensor.dtype.is_floating and tensor.shape.is_fully_defined():
    return int(math.prod(tensor.shape.as_list()))
  return 0


def activation_sizes(model, sample_shape, dtype=None) -> tuple:
  """(total, peak): elements in every intermediate tensor of one traced call on one sample of
  shape `sample_shape`, and the most one op reads and writes at once (its float inputs that
  are activations, plus its outputs).

  Read from the graph, so it holds for any built Keras model (Sequential, functional with
  branches, subclassed), not only for layer lists whose layers know their output shapes.
  """
  spec = tf.TensorSpec((1,) + tuple(int(d) for d in sample_shape), dtype or model.compute_dtype)
  traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
  total = peak = 0
  for op in traced.graph.get_operations():
    if op.type in NOT_ACTIVATIONS:
      continue
    out = sum(_float_size(t) for t in op.outputs)
    inputs = sum(_float_size(t) for t in op.inputs if t.op.type not in _WEIGHTS)
    total += out
    peak = max(peak, inputs + out)
  return total, peak
