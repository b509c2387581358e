"""Reference architectures written with stock keras.layers only, as a user would write them:
a CIFAR ResNet-18 and a small ViT-style transformer. The empirical NTK takes them like any
user's model (benchmarks/keras_models.py times them; tests check them against Jacobians)."""

import keras
import numpy as np

layers = keras.layers


def resnet18(num_outputs: int = 10, input_shape=(32, 32, 3), dtype=None) -> keras.Model:
  """ResNet-18 for CIFAR (He et al. 2016, the layout of the CIFAR reimplementations): a 3x3
  stem with 64 channels and no max-pool, 4 stages of 2 BasicBlocks (64/128/256/512 channels),
  BatchNormalization, 1x1 strided projections where the shape changes, global average pooling
  and a Dense readout; 11,173,962 weights at 10 outputs."""

  def conv_bn(h, channels, kernel, stride):
    h = layers.Conv2D(channels, kernel, strides=stride, padding="same", use_bias=False,
                      dtype=dtype)(h)
    return layers.BatchNormalization(dtype=dtype)(h)

  def basic_block(x, channels, stride):
    h = layers.ReLU(dtype=dtype)(conv_bn(x, channels, 3, stride))
    h = conv_bn(h, channels, 3, 1)
    skip = x if stride == 1 and x.shape[-1] == channels else conv_bn(x, channels, 1, stride)
    return layers.ReLU(dtype=dtype)(layers.Add(dtype=dtype)([h, skip]))

  inp = keras.Input(input_shape, dtype=dtype)
  h = layers.ReLU(dtype=dtype)(conv_bn(inp, 64, 3, 1))
  for stage, channels in enumerate((64, 128, 256, 512)):
    for index in range(2):
      h = basic_block(h, channels, 2 if stage > 0 and index == 0 else 1)
  h = layers.GlobalAveragePooling2D(dtype=dtype)(h)
  return keras.Model(inp, layers.Dense(num_outputs, dtype=dtype)(h), name="resnet18")


@keras.saving.register_keras_serializable(package="ntk_tf")
class ClassToken(layers.Layer):
  """Prepends a learned token to a sequence (batch, S, D) -> (batch, S + 1, D)."""

  def build(self, input_shape):
    self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer="zeros",
                                 name="token")

  def call(self, x):
    token = keras.ops.broadcast_to(keras.ops.cast(self.token, x.dtype),
                                   (keras.ops.shape(x)[0], 1, x.shape[-1]))
    return keras.ops.concatenate([token, x], axis=1)


@keras.saving.register_keras_serializable(package="ntk_tf")
class PositionEmbedding(layers.Layer):
  """Adds a learned embedding per position of a sequence (batch, S, D)."""

  def build(self, input_shape):
    self.positions = self.add_weight(shape=tuple(input_shape[1:]), name="positions",
                                     initializer=keras.initializers.RandomNormal(stddev=0.02))

  def call(self, x):
    return x + keras.ops.cast(self.positions, x.dtype)


@keras.saving.register_keras_serializable(package="ntk_tf")
class FirstToken(layers.Layer):
  """(batch, S, D) -> (batch, D): the class token's state, as the readout reads it."""

  def call(self, x):
    return x[:, 0]

  def compute_output_shape(self, input_shape):
    return (input_shape[0], input_shape[-1])


def vit(num_outputs: int = 10, input_shape=(32, 32, 3), patch: int = 4, dim: int = 64,
        heads: int = 4, blocks: int = 1, mlp_dim: int = 128, dtype=None) -> keras.Model:
  """A ViT-style transformer (Dosovitskiy et al. 2021): patch embedding (a strided Conv2D), a
  class token and learned position embeddings, `blocks` pre-norm encoder blocks
  (LayerNormalization, MultiHeadAttention, residual; LayerNormalization, a GELU MLP,
  residual), a final LayerNormalization and a Dense readout of the class token."""
  inp = keras.Input(input_shape, dtype=dtype)
  h = layers.Conv2D(dim, patch, strides=patch, dtype=dtype)(inp)
  h = layers.Reshape((int(np.prod(h.shape[1:3])), dim), dtype=dtype)(h)
  h = PositionEmbedding(dtype=dtype)(ClassToken(dtype=dtype)(h))
  for _ in range(blocks):
    a = layers.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
    h = layers.Add(dtype=dtype)([h, layers.MultiHeadAttention(heads, dim // heads,
                                                              dtype=dtype)(a, a)])
    m = layers.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
    m = layers.Dense(mlp_dim, activation="gelu", dtype=dtype)(m)
    h = layers.Add(dtype=dtype)([h, layers.Dense(dim, dtype=dtype)(m)])
  h = layers.LayerNormalization(epsilon=1e-6, dtype=dtype)(h)
  token = FirstToken(dtype=dtype)(h)
  return keras.Model(inp, layers.Dense(num_outputs, dtype=dtype)(token), name="vit")
