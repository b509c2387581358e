"""Dense and Conv2D in the two parameterizations the papers use.

- "standard": PyTorch's default initialization of nn.Linear / nn.Conv2d, which Samarin et al.
  use: weights and biases uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with
  a=sqrt(5) for weights); the layer computes x W + b.
- "ntk": the NTK parameterization (Jacot et al. 2018), used by Vyas et al. and by
  infinite-width kernels: weights and biases N(0, 1), the layer computes
  (w_std / sqrt(fan_in)) x W + b_std b.

Initial values come from NumPy generators seeded by (model seed, layer index), so a model
has the same initial weights in float32 and float64.
"""

import math
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

PARAMETERIZATIONS = ("standard", "ntk")


@keras.saving.register_keras_serializable(package="ntk_tf")
class SeededInitializer(keras.initializers.Initializer):
  """Uniform(-limit, limit) or N(0, 1) from a NumPy generator with a fixed seed."""

  def __init__(self, distribution: str, limit: float, seed):
    self.distribution, self.limit, self.seed = distribution, float(limit), tuple(seed)

  def __call__(self, shape, dtype=None):
    rng = np.random.default_rng(list(self.seed))
    if self.distribution == "uniform":
      values = rng.uniform(-self.limit, self.limit, size=shape)
    else:
      values = rng.standard_normal(size=shape)
    return tf.constant(values, dtype=dtype or "float32")

  def get_config(self):
    return dict(distribution=self.distribution, limit=self.limit, seed=self.seed)


class _ParameterizedLayer(keras.layers.Layer):
  """Shared weight creation for Dense and Conv2D."""

  def __init__(self, parameterization: str = "standard", seed=(0, 0), w_std: float = math.sqrt(2),
               b_std: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    if parameterization not in PARAMETERIZATIONS:
      raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}")
    self.parameterization, self.seed = parameterization, tuple(seed)
    self.w_std, self.b_std = float(w_std), float(b_std)

  def _make_weights(self, kernel_shape, fan_in: int, units: int):
    self.fan_in = fan_in
    if self.parameterization == "standard":
      limit = 1.0 / math.sqrt(fan_in)
      kernel_init = SeededInitializer("uniform", limit, self.seed + (0,))
      bias_init = SeededInitializer("uniform", limit, self.seed + (1,))
    else:
      kernel_init = SeededInitializer("normal", 1.0, self.seed + (0,))
      bias_init = SeededInitializer("normal", 1.0, self.seed + (1,))
    self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=kernel_init)
    self.bias = self.add_weight(name="bias", shape=(units,), initializer=bias_init)

  @property
  def kernel_scale(self) -> float:
    """s in z = s·(x ∗ W) + β·b: 1 (standard) or w_std/sqrt(fan_in) (NTK)."""
    return 1.0 if self.parameterization == "standard" else self.w_std / math.sqrt(self.fan_in)

  @property
  def bias_scale(self) -> float:
    """β in z = s·(x ∗ W) + β·b: 1 (standard) or b_std (NTK)."""
    return 1.0 if self.parameterization == "standard" else self.b_std

  def _scale(self, y, bias=None):
    bias = self.bias if bias is None else bias
    if self.parameterization == "standard":
      return y + bias
    return self.kernel_scale * y + self.b_std * bias

  def get_config(self):
    config = super().get_config()
    config.update(parameterization=self.parameterization, seed=self.seed, w_std=self.w_std,
                  b_std=self.b_std)
    return config


@keras.saving.register_keras_serializable(package="ntk_tf")
class Dense(_ParameterizedLayer):
  """A fully connected layer: y = x W + b in either parameterization."""

  def __init__(self, units: int, **kwargs):
    super().__init__(**kwargs)
    self.units = int(units)

  def build(self, input_shape):
    self._make_weights((input_shape[-1], self.units), int(input_shape[-1]), self.units)

  def call(self, x):
    return self.apply_with(self.kernel, self.bias, x)

  def apply_with(self, kernel, bias, x):
    """The layer at the given weights (a pure function of its arguments)."""
    return self._scale(tf.matmul(x, kernel), bias)

  def compute_output_shape(self, input_shape):
    return tuple(input_shape[:-1]) + (self.units,)

  def get_config(self):
    return dict(super().get_config(), units=self.units)


@keras.saving.register_keras_serializable(package="ntk_tf")
class Conv2D(_ParameterizedLayer):
  """A 2-D convolution (NHWC) with explicit symmetric zero padding, like torch.nn.Conv2d.

  `padding` is an int (pixels on each side), "same" (stride 1, odd kernels) or "valid".
  """

  def __init__(self, filters: int, kernel_size: int, strides: int = 1, padding=0, **kwargs):
    super().__init__(**kwargs)
    self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
    if padding == "same":
      padding = (self.kernel_size - 1) // 2
    elif padding == "valid":
      padding = 0
    self.padding = int(padding)

  def build(self, input_shape):
    channels = int(input_shape[-1])
    self._make_weights((self.kernel_size, self.kernel_size, channels, self.filters),
                       channels * self.kernel_size ** 2, self.filters)

  def call(self, x):
    return self.apply_with(self.kernel, self.bias, x)

  def pad(self, x):
    p = self.padding
    return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]) if p else x

  def apply_with(self, kernel, bias, x):
    """The layer at the given weights (a pure function of its arguments)."""
    y = tf.nn.conv2d(self.pad(x), kernel, strides=self.strides, padding="VALID")
    return self._scale(y, bias)

  def output_size(self, size: int) -> int:
    return (size + 2 * self.padding - self.kernel_size) // self.strides + 1

  def compute_output_shape(self, input_shape):
    n, h, w, _ = input_shape
    return (n, self.output_size(h), self.output_size(w), self.filters)

  def get_config(self):
    return dict(super().get_config(), filters=self.filters, kernel_size=self.kernel_size,
                strides=self.strides, padding=self.padding)


@keras.saving.register_keras_serializable(package="ntk_tf")
class AdaptiveAvgPool2D(keras.layers.Layer):
  """torch.nn.AdaptiveAvgPool2d: averages over bins [floor(i H/o), ceil((i+1) H/o))."""

  def __init__(self, output_size: int, **kwargs):
    super().__init__(**kwargs)
    self.output_size = int(output_size)

  def _bins(self, size):
    o = self.output_size
    return [(i * size // o, -((-(i + 1) * size) // o)) for i in range(o)]

  def call(self, x):
    h, w = int(x.shape[1]), int(x.shape[2])
    if (h, w) == (self.output_size, self.output_size):
      return x
    rows = [tf.reduce_mean(x[:, a:b], axis=1, keepdims=True) for a, b in self._bins(h)]
    x = tf.concat(rows, axis=1)
    cols = [tf.reduce_mean(x[:, :, a:b], axis=2, keepdims=True) for a, b in self._bins(w)]
    return tf.concat(cols, axis=2)

  def compute_output_shape(self, input_shape):
    return (input_shape[0], self.output_size, self.output_size, input_shape[-1])

  def get_config(self):
    return dict(super().get_config(), output_size=self.output_size)


def pooled_size(size: int, pool: int, stride: Optional[int] = None) -> int:
  stride = stride or pool
  return (size - pool) // stride + 1


@keras.saving.register_keras_serializable(package="ntk_tf")
class MaxPool2D(keras.layers.Layer):
  """Non-overlapping max-pooling (pool = stride, floor mode, as torch.nn.MaxPool2d(k)).

  Written as a sum of the window's entries times a one-hot mask of its (first) maximum, the
  mask held constant: the same values and a.e. the same gradients as a max-pool op, but its
  forward-mode derivative is one masked sum, where TensorFlow's ForwardAccumulator would
  otherwise transpose the max-pool gradient op. This makes the linearized model's JVP cheaper.
  """

  def __init__(self, pool_size: int, **kwargs):
    super().__init__(**kwargs)
    self.pool_size = int(pool_size)

  def call(self, x):
    k = self.pool_size
    _, h, w, c = x.shape
    oh, ow = h // k, w // k
    windows = tf.reshape(x[:, :oh * k, :ow * k, :], [-1, oh, k, ow, k, c])
    windows = tf.reshape(tf.transpose(windows, [0, 1, 3, 5, 2, 4]), [-1, oh, ow, c, k * k])
    mask = tf.stop_gradient(tf.one_hot(tf.argmax(windows, axis=-1), k * k, dtype=x.dtype))
    return tf.reduce_sum(windows * mask, axis=-1)

  def compute_output_shape(self, input_shape):
    n, h, w, c = input_shape
    return (n, h // self.pool_size, w // self.pool_size, c)

  def get_config(self):
    return dict(super().get_config(), pool_size=self.pool_size)
