"""The checks an empirical NTK passes before any block is computed, each refusing with one
ConfigError that says what to do: the options (`check_options`: outputs and method), the model
(built, one output chosen, the kernel's dtype its own, no weight without a gradient, no Python
branch on a tensor), the output axes kept, the inputs (shape, real numbers, integer ids where
the model takes ids) and the weights the kernel is taken at (count, shapes, finite).
"""

import weakref
from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.errors import ConfigError, require_finite, require_finite_inputs

METHODS = ("auto", "jacobian", "ntvp", "structured")
OUTPUT_MODES = ("full", "all", "trace", "diagonal")
_DIFFERENTIABLE = weakref.WeakKeyDictionary()  # model -> (its trainable weights' ids, None or
# the first weight without a gradient).


def check_method(method: str) -> None:
  """Refuses an unknown method."""
  if method not in METHODS:
    raise ConfigError(f"empirical NTK method {method!r}; use one of {', '.join(METHODS)}.")


def check_options(outputs: str, method: str) -> None:
  """Refuses an unknown output mode or method."""
  if outputs not in OUTPUT_MODES:
    raise ConfigError(f"outputs={outputs!r}; use 'full' (every output pair), 'diagonal' "
                      "(each output with itself) or 'trace' (their average).")
  check_method(method)


def check_built(model):
  """The model, refused without trainable weights; notes that BatchNormalization runs in
  inference."""
  if not getattr(model, "built", False) or not model.trainable_weights:
    raise ConfigError(f"model {model.name} has no trainable weights yet: build it first "
                      "(call it once on an input, or model.build(input_shape)).")
  stateful = sorted({type(l).__name__ for l in getattr(model, "_flatten_layers", lambda: [])()
                     if isinstance(l, keras.layers.BatchNormalization)})
  if stateful:
    logging.info("%s: the kernel is taken in inference mode (%s with its moving statistics, "
                 "not updated).", model.name, ", ".join(stateful))
  return model


def single_output(model, output_index: Optional[int]):
  """The model, or its sub-model for one output when it has several."""
  outputs = getattr(model, "outputs", None) or []
  if len(outputs) <= 1:
    return model
  if output_index is None:
    raise ConfigError(f"model {model.name} has {len(outputs)} outputs; choose one with "
                      f"output_index=0..{len(outputs) - 1}.")
  return keras.Model(model.inputs, outputs[output_index])


def kernel_dtype(model, dtype) -> tf.DType:
  """The kernel's computation dtype: `dtype` (default the model's), which must be the
  model's."""
  model_dtype = model.trainable_weights[0].dtype
  result = tf.as_dtype(dtype or model_dtype)
  if result != tf.as_dtype(model_dtype):
    raise ConfigError(f"the model computes in {tf.as_dtype(model_dtype).name}; for a "
                      f"{result.name} kernel build the model with dtype='{result.name}'.")
  return result


def kept_axes(output_axes, shape: tuple) -> tuple:
  """The output axes kept (sorted, non-negative) of per-sample outputs of `shape`; None: all."""
  if output_axes is None:
    return tuple(range(len(shape)))
  axes = (output_axes,) if isinstance(output_axes, int) else tuple(output_axes)
  if any(not -len(shape) <= a < len(shape) for a in axes):
    raise ConfigError(f"output_axes={output_axes} for a model whose outputs are "
                      f"(batch,) + {shape}: give axes among 0..{len(shape) - 1} (the batch "
                      "axis excluded), or -1 for the last.")
  return tuple(sorted({a % len(shape) for a in axes}))


def check_differentiable(model, sample_shape, fed_dtype):
  """Refuses a model whose outputs have no gradient with respect to a weight its forward pass
  reads (an op without a gradient, such as round, argmax or a cast to integers, between the
  weight and the outputs): its kernel would silently miss that weight. One traced forward and
  backward pass on one symbolic sample."""
  key = tuple(id(v) for v in model.trainable_weights)  # Freezing a layer changes the answer.
  if _DIFFERENTIABLE.get(model, (None,))[0] != key:
    holder = {}

    def trace(x, params):
      with tf.GradientTape() as tape:
        tape.watch(params)
        out = model.stateless_call(list(params), [v.value for v in
                                                  model.non_trainable_variables], x)[0]
        total = tf.reduce_sum(tf.cast(out, params[0].dtype))
      holder["grads"] = tape.gradient(total, params)
      holder["params"] = params
      return total

    specs = [tf.TensorSpec(v.shape, v.dtype) for v in model.trainable_weights]
    try:
      tf.function(trace, autograph=False).get_concrete_function(
          tf.TensorSpec((1,) + tuple(sample_shape), fed_dtype), specs)
    except tf.errors.OperatorNotAllowedInGraphError as error:
      raise ConfigError(
          f"model {model.name}'s call() branches or loops in Python on a tensor's value, which "
          "a traced (graph) forward pass cannot do (Keras does not convert a layer's call "
          "with AutoGraph); write the branch with keras.ops.cond / keras.ops.where or the loop "
          f"with keras.ops.while_loop / fori_loop. ({str(error).split('.')[0]}.)") from None
    _DIFFERENTIABLE[model] = key, next(
        (weight for weight, grad, param in zip(model.trainable_weights, holder["grads"],
                                               holder["params"])
         if grad is None and param.consumers()), None)
  weight = _DIFFERENTIABLE[model][1]
  if weight is not None:
    raise ConfigError(
        f"the outputs of model {model.name} have no gradient with respect to the weight "
        f"{weight.path}, though the forward pass reads it (an op without a gradient, such as "
        "round, argmax or a cast to integers, lies between it and the outputs); replace that "
        "op with a differentiable one, or freeze the layer (layer.trainable = False) to take "
        "the kernel of the other weights.")


def check_inputs(model, x, name, expected, fed_dtype):
  """One error for inputs of the wrong shape or dtype."""
  if tuple(x.shape[1:]) != expected:
    raise ConfigError(f"{name} has shape {x.shape[1:]} per sample but the model takes "
                      f"{expected}; pass inputs of that shape.")
  if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool) or \
      np.issubdtype(x.dtype, np.complexfloating):
    raise ConfigError(f"{name} has dtype {x.dtype}; pass real numbers (a float array, or "
                      "integer ids for a model whose input is integer).")
  if fed_dtype.is_integer and not np.issubdtype(x.dtype, np.integer) and \
      np.any(x != np.round(x)):
    raise ConfigError(f"model {model.name} takes {fed_dtype.name} inputs (ids) but {name} "
                      "holds non-integer values; pass the integer ids.")


def check_params(model, params) -> None:
  """Refuses weights that are not the model's: another count or shapes."""
  if len(params) != len(model.trainable_weights) or any(
      tuple(p.shape) != tuple(w.shape) for p, w in zip(params, model.trainable_weights)):
    raise ConfigError("params do not match the model's weights (count or shapes); pass the "
                      "weights of this architecture and width, in trainable_weights order.")


def check_finite(model, params, x1, x2) -> None:
  """Refuses non-finite inputs, then non-finite weights."""
  require_finite_inputs(x1, x2)
  for weight, value in zip(model.trainable_weights, params):
    require_finite(value, f"the weight {weight.path} the empirical NTK is taken at",
                   "a diverged training run? Take the kernel at its last good checkpoint, "
                   "or lower the learning rate that produced these weights.")
