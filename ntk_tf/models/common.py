"""Helpers shared by the architecture modules."""

import dataclasses
import math

import keras

from ntk_tf.errors import ConfigError
from ntk_tf.models import layers


@dataclasses.dataclass
class LayerFactory:
  """Makes Dense/Conv2D layers with one parameterization, consecutive seeds and a dtype."""
  parameterization: str
  seed: int
  dtype: str = "float32"
  w_std: float = math.sqrt(2.0)
  b_std: float = 0.0
  _count: int = 0

  def _kwargs(self):
    self._count += 1
    return dict(parameterization=self.parameterization, seed=(self.seed, self._count),
                w_std=self.w_std, b_std=self.b_std, dtype=self.dtype)

  def dense(self, units, **kwargs):
    return layers.Dense(units, **self._kwargs(), **kwargs)

  def conv(self, filters, kernel_size, strides=1, padding=0, **kwargs):
    return layers.Conv2D(filters, kernel_size, strides, padding, **self._kwargs(), **kwargs)

  # Parameter-free layers get the model's dtype too: Keras casts a layer's inputs to its own
  # dtype, so a default (float32) ReLU would silently round a float64 model.
  def relu(self):
    return keras.layers.ReLU(dtype=self.dtype)

  def flatten(self):
    return keras.layers.Flatten(dtype=self.dtype)

  def max_pool(self, size, strides=None):
    if strides is None or strides == size:
      return layers.MaxPool2D(size, dtype=self.dtype)
    return keras.layers.MaxPooling2D(size, strides=strides, dtype=self.dtype)

  def avg_pool(self, size):
    return keras.layers.AveragePooling2D(size, dtype=self.dtype)

  def global_avg_pool(self):
    return keras.layers.GlobalAveragePooling2D(dtype=self.dtype)


def require_image(name: str, input_shape, min_size: int, hint: str = ""):
  """Checks an (H, W, C) input shape against an architecture's smallest input."""
  if len(input_shape) != 3:
    raise ConfigError(f"model {name!r} needs images of shape (H, W, C); got input shape "
                      f"{tuple(input_shape)}. Use an image data set or model 'mlp'.")
  h, w, _ = input_shape
  if min(h, w) < min_size:
    raise ConfigError(f"model {name!r} cannot take {h}x{w} inputs: it needs at least "
                      f"{min_size}x{min_size}{hint}. Use larger images or another model.")
