"""What the empirical NTK reads off a built Keras model before computing anything: the shape of
one input sample and the number of outputs (`model_shapes`; a subclassed model is called once
to learn them), its per-sample output shape, the dtype its inputs are fed in (integer ids stay
integer), how many numbers its forward pass holds per sample (`activation_size`, the planner's
activations), its weight count, and whether it is a plain layer list of ntk_tf Dense/Conv2D
layers, which the structured method walks layer by layer (layer_list.py). Results are kept
per model, weakly, so a new model never inherits a collected one's entry.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.errors import ConfigError
from ntk_tf.models import layers as ntk_layers
from ntk_tf.models import traced

_ACTIVATION_SIZES = weakref.WeakKeyDictionary()  # model -> elements per traced sample.
_SHAPES = weakref.WeakKeyDictionary()  # model -> (sample shape, number of outputs).


def model_shapes(model, sample=None):
  """(shape of one input sample, number of outputs) of a built Keras model.

  Sequential and functional models know both; a subclassed model is called once on `sample`
  (one input of the kernel) to learn them.
  """
  if model in _SHAPES:
    return _SHAPES[model]
  try:
    shapes = tuple(int(d) for d in model.input_shape[1:]), int(model.output_shape[-1])
  except (AttributeError, ValueError, TypeError):
    if sample is None:
      raise ConfigError(f"model {model.name} does not declare its input shape (a subclassed "
                        "model): pass the kernel's inputs so it can be called once.") from None
    sample = np.asarray(sample)[:1]
    shapes = tuple(sample.shape[1:]), int(model(sample, training=False).shape[-1])
  _SHAPES[model] = shapes
  return shapes


def output_shape(model, x1) -> tuple:
  """The per-sample output shape of a built model (called once on x1[:1] if undeclared)."""
  try:
    return tuple(int(d) for d in model.output_shape[1:])
  except (AttributeError, ValueError, TypeError):
    return tuple(int(d) for d in model(np.asarray(x1)[:1], training=False).shape[1:])


def input_dtype(model, dtype):
  """The dtype inputs are fed in: a model's declared integer input (token ids for an
  Embedding) stays integer; any other input is computed in `dtype`."""
  inputs = getattr(model, "inputs", None) or []
  declared = tf.as_dtype(inputs[0].dtype) if len(inputs) == 1 else None
  return declared if declared is not None and declared.is_integer else tf.as_dtype(dtype)


def num_params(params) -> int:
  """Numbers in a list of weights."""
  return int(sum(int(np.prod(p.shape)) for p in params))


def plain_layer_list(model) -> bool:
  """A Sequential model whose weights are all in ntk_tf Dense/Conv2D: walked layer by layer."""
  param_layers = [l for l in model.layers if l.trainable_weights]
  return isinstance(model, keras.Sequential) and all(
      isinstance(l, (ntk_layers.Dense, ntk_layers.Conv2D)) for l in param_layers)


def activation_size(model) -> int:
  """Numbers per sample in all layer outputs: from the layers' static shapes where every layer
  of a plain layer list knows them (this project's models: the block plans were calibrated on
  these counts), else from the model's traced graph (_traced_activation_size)."""
  if not isinstance(model, keras.Sequential):
    return _traced_activation_size(model)
  shape, total = (1,) + tuple(model.input_shape[1:]), 0
  try:
    for layer in model.layers:
      shape = layer.compute_output_shape(shape)
      total += int(np.prod(shape[1:]))
  except NotImplementedError:  # A layer without static shapes: read the traced graph.
    return _traced_activation_size(model)
  return total


def _traced_activation_size(model) -> int:
  """Numbers per sample in every intermediate tensor of the model's traced forward pass.

  Read from the graph of one traced call on a single sample, so it holds for any built Keras
  model (Sequential, functional with branches, subclassed), not only for layer lists whose
  layers know their output shapes.
  """
  if model not in _ACTIVATION_SIZES:
    _ACTIVATION_SIZES[model] = traced.activation_sizes(model, model_shapes(model)[0])[0]
  return _ACTIVATION_SIZES[model]
