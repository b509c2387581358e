"""Models by name: `build(name, *, width, input_shape, num_outputs, seed, ...)` -> keras.Model.

A name is a built-in architecture (ARCHITECTURES) or a user model, "package.module:function" or
"path/to/file.py:function": a function (input_shape, num_outputs, seed) -> built keras.Model
(ntk_tf.models.user; width 1 and parameterization "standard" only).
"""

import dataclasses
import math

import keras

from ntk_tf.errors import ConfigError
from ntk_tf.models import alexnet, arora, common, layers, lenet, user, vyas
from ntk_tf.models.layers import PARAMETERIZATIONS
from ntk_tf.utils.model_names import is_user_model

ARCHITECTURES = {
    "lenet": lenet.build,
    "alexnet": alexnet.build,
    "myrtle": vyas.build_myrtle,
    "cnn5": vyas.build_cnn5,
    "mlp": vyas.build_mlp,
    "cnn_v": arora.build_cnn_v,
    "cnn_gap": arora.build_cnn_gap,
}
DTYPES = ("float32", "float64")


# Models whose width factor may be fractional: their layers' base widths (channels rounded).
FRACTIONAL_WIDTHS = {"lenet": (6, 16, 120, 84)}


def width_factor(width):
  """A width as the model takes it: an integral value as int (1.0 -> 1), else the float."""
  w = float(width)
  return int(w) if w.is_integer() else w


def validate(name, width, parameterization="standard", dtype="float32"):
  """Checks the build arguments that do not depend on the data (before any work); a user
  model's module or file is imported and its function's arguments checked."""
  if dtype not in DTYPES:
    raise ConfigError(f"dtype {dtype!r} is not supported; use float32 or float64.")
  if is_user_model(name):
    user.validate(name, width, parameterization, dtype)
    return
  if name not in ARCHITECTURES:
    raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(ARCHITECTURES)}, or "
                      "your own function as 'package.module:function' or "
                      "'path/to/file.py:function'.")
  if name in FRACTIONAL_WIDTHS and isinstance(width, float) and not isinstance(width, bool):
    if not width > 0 or min(round(c * width) for c in FRACTIONAL_WIDTHS[name]) < 1:
      raise ConfigError(f"model.width={width!r}: a fractional width factor must leave every "
                        f"layer of {name} at least one channel (at least "
                        f"{0.5 / min(FRACTIONAL_WIDTHS[name]):.3g}).")
  elif isinstance(width, bool) or not isinstance(width, int) or width < 1:
    raise ConfigError(f"model.width={width!r} must be a positive integer (a width factor for "
                      "lenet/alexnet, channels or units for the others; lenet also takes a "
                      "fractional factor such as 0.25).")
  if parameterization not in PARAMETERIZATIONS:
    raise ConfigError(f"model.parameterization={parameterization!r}; use one of "
                      f"{', '.join(PARAMETERIZATIONS)}.")


def _layers(name: str, width: int, input_shape, num_outputs: int = 1, **kwargs) -> list:
  """The architecture's layer list, without weights (shape errors raised as ConfigError)."""
  factory = common.LayerFactory("standard", 0, "float32", math.sqrt(2.0), 0.0)
  try:
    return ARCHITECTURES[name](width, tuple(input_shape), int(num_outputs), factory, **kwargs)
  except TypeError as e:
    raise ConfigError(f"model {name!r} does not take options {sorted(kwargs)} ({e}).") from e


def check_input(name: str, width: int, input_shape, num_outputs: int = 1, **kwargs):
  """Raises the ConfigError `build` would for this input shape (e.g. AlexNet on 28x28),
  without creating any weights (a user model is built once, at seed 0, and checked)."""
  if is_user_model(name):
    user.probe(name, input_shape, num_outputs, kwargs)
    return
  _layers(name, width, input_shape, num_outputs, **kwargs)


def has_overlapping_max_pool(name: str, width: int, input_shape, **kwargs) -> bool:
  """Whether the model uses Keras' max-pool (stride < window, e.g. AlexNet), whose gradient
  has no deterministic XLA kernel (op determinism + jit_compile fails). A user model: any
  Keras MaxPooling layer with a stride smaller than its window, in the built model."""
  if is_user_model(name):
    return user.probe(name, input_shape, options=kwargs).overlapping_max_pool
  return any(isinstance(layer, keras.layers.MaxPooling2D)
             for layer in _layers(name, width, input_shape, **kwargs))


@dataclasses.dataclass(frozen=True)
class Footprint:
  """What one model occupies, from its layer shapes alone (no weights created)."""
  num_params: int
  activations_per_sample: int   # Elements of every layer's output and large temporaries.
  peak_layer_activations: int   # The most one layer holds at once (input, output, temporaries).


def footprint(name: str, width: int, input_shape, num_outputs: int = 1, **kwargs) -> Footprint:
  """Parameter count and per-sample activation elements of architecture `name`.

  Counted layer by layer with compute_output_shape, so a model too large to build can be
  refused before its weights exist. Convolutions add their padded input, the max-pool its
  window copy and one-hot mask (see layers.MaxPool2D). A user model (assumed small enough to
  build) is built once and its activations read from its traced forward pass.
  """
  if is_user_model(name):
    p = user.probe(name, input_shape, num_outputs, kwargs)
    return Footprint(p.num_params, p.activations_per_sample, p.peak_layer_activations)
  layer_list = _layers(name, width, input_shape, num_outputs, **kwargs)
  shape = (1,) + tuple(int(d) for d in input_shape)
  params = activations = peak = 0
  for layer in layer_list:
    out = tuple(layer.compute_output_shape(shape))
    size_in, size_out = math.prod(shape[1:]), math.prod(out[1:])
    temporaries = 0
    if isinstance(layer, layers.Dense):
      params += (shape[-1] + 1) * layer.units
    elif isinstance(layer, layers.Conv2D):
      params += (layer.kernel_size ** 2 * shape[-1] + 1) * layer.filters
      p = layer.padding
      temporaries = (shape[1] + 2 * p) * (shape[2] + 2 * p) * shape[3] if p else 0
    elif isinstance(layer, layers.MaxPool2D):
      temporaries = 2 * size_in
    activations += size_out + temporaries
    peak = max(peak, size_in + size_out + temporaries)
    shape = out
  return Footprint(int(params), int(activations), int(peak))


def build(name: str, *, width: int, input_shape, num_outputs: int, seed: int = 0,
          parameterization: str = "standard", dtype: str = "float32",
          w_std: float = math.sqrt(2.0), b_std: float = 0.0, **kwargs) -> keras.Model:
  """Builds architecture `name` and creates its weights (deterministic in `seed`).

  A user model ("module:function", "file.py:function") is `function(input_shape, num_outputs,
  seed)` (with dtype= if it takes that keyword) after keras.utils.set_random_seed(seed); it
  takes width 1 and parameterization "standard" only, and no w_std, b_std or options.

  Args:
    width: width factor (lenet, alexnet) or channels/units c (myrtle, cnn5, mlp, cnn_v, cnn_gap).
    input_shape: (H, W, C) images, or (D,) vectors for mlp.
    num_outputs: L, the size of the output layer (not widened).
    parameterization: "standard" (PyTorch default init) or "ntk" (NTK parameterization with
      w_std, b_std).
    **kwargs: architecture options, e.g. depth for mlp, cnn_v, cnn_gap.
  """
  validate(name, width, parameterization, dtype)
  if int(num_outputs) < 1:
    raise ConfigError(f"num_outputs={num_outputs} must be at least 1.")
  if is_user_model(name):
    if kwargs:
      user.validate(name, width, parameterization, dtype, kwargs)
    return user.build(name, input_shape, num_outputs, seed, dtype)
  factory = common.LayerFactory(parameterization, int(seed), dtype, w_std, b_std)
  try:
    layer_list = ARCHITECTURES[name](width, tuple(input_shape), int(num_outputs), factory,
                                     **kwargs)
  except TypeError as e:
    raise ConfigError(f"model {name!r} does not take options {sorted(kwargs)} ({e}).") from e
  model = keras.Sequential([keras.Input(tuple(input_shape), dtype=dtype)] + layer_list,
                           name=f"{name}_x{width}")
  return model


def num_params(model: keras.Model) -> int:
  return int(sum(int(v.shape.num_elements()) for v in model.trainable_variables))
