"""The structured empirical NTK of stock Keras models (ntk_tf/ntk/structured.py): every rule,
the per-layer fallback, shared layers and any topology, against explicit per-sample
Jacobians in float64 (Novak et al. 2022 structured derivatives must be exact)."""

from unittest import mock

import keras
import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

import ntk_tf
from ntk_tf.errors import ConfigError
from ntk_tf.models import stock_keras
from ntk_tf.ntk import inspection, planning, structured, structured_survey
from tests import test_utils
from tests.keras_models_test import MODELS, explicit_kernel

F64 = "float64"


def looped_kernel(model, x):
  """explicit_kernel without pfor (its grouped-convolution filter gradient fails): one
  gradient per sample and output."""
  rows = []
  for xi in x:
    with tf.GradientTape(persistent=True) as tape:
      outs = tf.unstack(model(xi[None], training=False)[0])
    rows.append([np.concatenate([np.ravel(tf.convert_to_tensor(g)) for g in tape.gradient(
        out, model.trainable_weights)]) for out in outs])  # Embedding: IndexedSlices.
  jac = np.asarray(rows)
  return np.einsum("iap,jbp->ijab", jac, jac)


def sequential(input_shape, *layers):
  """A float64 Sequential model of `layers` on inputs of `input_shape`."""
  return keras.Sequential([keras.Input(input_shape, dtype=F64)] + list(layers))


class Scaled(keras.layers.Layer):
  """A custom layer with a weight and no rule: y = x ⊙ tanh(v)."""

  def build(self, input_shape):
    self.v = self.add_weight(shape=input_shape[-1:], initializer="random_normal")

  def call(self, x):
    return x * keras.ops.tanh(self.v)


class Tied(keras.layers.Layer):
  """Reads another layer's kernel: a weight no per-layer interception can attribute."""

  def __init__(self, other, **kwargs):
    super().__init__(**kwargs)
    self.other = other

  def call(self, x):
    return keras.ops.matmul(x, keras.ops.transpose(self.other.kernel))


CASES = {
    "dense_2d": (lambda: sequential((5,), keras.layers.Dense(4, activation="tanh", dtype=F64),
                                    keras.layers.Dense(3, dtype=F64)), (4, 5)),
    "dense_no_bias": (lambda: sequential(
        (5,), keras.layers.Dense(4, activation="relu", use_bias=False, dtype=F64),
        keras.layers.Dense(2, use_bias=False, dtype=F64)), (4, 5)),
    "dense_3d_input": (lambda: sequential(
        (3, 4), keras.layers.Dense(6, activation="tanh", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (4, 3, 4)),
    "conv2d_stride2_same": (lambda: sequential(
        (7, 7, 2), keras.layers.Conv2D(3, 3, strides=2, padding="same", activation="relu",
                                       dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 7, 7, 2)),
    "conv2d_even_kernel_same": (lambda: sequential(
        (6, 6, 1), keras.layers.Conv2D(2, (4, 2), strides=(2, 1), padding="same", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 6, 6, 1)),
    "conv2d_dilation2_valid": (lambda: sequential(
        (9, 9, 2), keras.layers.Conv2D(3, 3, dilation_rate=2, activation="tanh", dtype=F64),
        keras.layers.GlobalAveragePooling2D(dtype=F64), keras.layers.Dense(2, dtype=F64)),
        (3, 9, 9, 2)),
    "conv2d_dilation2_same_no_bias": (lambda: sequential(
        (6, 6, 2), keras.layers.Conv2D(3, 3, dilation_rate=2, padding="same", use_bias=False,
                                       dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 6, 6, 2)),
    "conv2d_groups2": (lambda: sequential(
        (6, 6, 4), keras.layers.Conv2D(6, 3, groups=2, padding="same", activation="relu",
                                       dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 6, 6, 4)),
    "conv1d_causal_dilated": (lambda: sequential(
        (8, 2), keras.layers.Conv1D(3, 3, padding="causal", dilation_rate=2,
                                    activation="tanh", dtype=F64),
        keras.layers.Conv1D(2, 2, strides=2, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 8, 2)),
    "conv3d_same": (lambda: sequential(
        (4, 4, 4, 1), keras.layers.Conv3D(2, 3, padding="same", strides=2, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 4, 4, 4, 1)),
    "batchnorm_no_center": (lambda: sequential(
        (4, 4, 2), keras.layers.Conv2D(3, 3, dtype=F64),
        keras.layers.BatchNormalization(center=False, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 4, 4, 2)),
    "layernorm_two_axes_no_center": (lambda: sequential(
        (4, 4, 2), keras.layers.Conv2D(3, 3, padding="same", dtype=F64),
        keras.layers.LayerNormalization(axis=[1, 3], center=False, dtype=F64),
        keras.layers.Dense(2, activation="tanh", dtype=F64),
        keras.layers.LayerNormalization(dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 4, 4, 2)),
    "fallback_custom_between_rules": (lambda: sequential(
        (6, 6, 2), keras.layers.DepthwiseConv2D(3, depth_multiplier=2, dtype=F64),
        keras.layers.LayerNormalization(dtype=F64), Scaled(dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(3, dtype=F64)), (3, 6, 6, 2)),
    "depthwise2d_stride2_same": (lambda: sequential(
        (7, 7, 2), keras.layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2,
                                                activation="tanh", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 7, 7, 2)),
    "depthwise2d_dilation2_no_bias": (lambda: sequential(
        (7, 7, 3), keras.layers.DepthwiseConv2D((3, 2), dilation_rate=2, use_bias=False,
                                                dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 7, 7, 3)),
    "depthwise1d_same": (lambda: sequential(
        (8, 2), keras.layers.DepthwiseConv1D(3, padding="same", depth_multiplier=3, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 8, 2)),
    "separable2d_stride2_same": (lambda: sequential(
        (7, 7, 2), keras.layers.SeparableConv2D(4, 3, strides=2, padding="same",
                                                depth_multiplier=2, activation="relu",
                                                dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 7, 7, 2)),
    "separable2d_dilation2_no_bias": (lambda: sequential(
        (7, 7, 2), keras.layers.SeparableConv2D(3, 3, dilation_rate=2, use_bias=False,
                                                dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 7, 7, 2)),
    "separable1d_valid": (lambda: sequential(
        (8, 3), keras.layers.SeparableConv1D(2, 3, activation="tanh", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 8, 3)),
    "conv2d_transpose_stride2_same": (lambda: sequential(
        (4, 4, 2), keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                activation="tanh", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 4, 4, 2)),
    "conv2d_transpose_output_padding_no_bias": (lambda: sequential(
        (3, 4, 2), keras.layers.Conv2DTranspose(2, (3, 2), strides=2, output_padding=1,
                                                use_bias=False, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 3, 4, 2)),
    "conv2d_transpose_valid_strides_1_2": (lambda: sequential(
        (4, 3, 2), keras.layers.Conv2DTranspose(2, 3, strides=(1, 2), activation="relu",
                                                dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 4, 3, 2)),
    "conv1d_transpose_same_and_conv3d_transpose": (lambda: sequential(
        (3, 2, 2, 1), keras.layers.Conv3DTranspose(2, 2, strides=(1, 2, 1), dtype=F64),
        keras.layers.Reshape((-1, 2), dtype=F64),
        keras.layers.Conv1DTranspose(2, 3, strides=2, padding="same", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 3, 2, 2, 1)),
    "einsum_dense_matrix": (lambda: sequential(
        (5,), keras.layers.EinsumDense("ab,bc->ac", 4, bias_axes="c", activation="tanh",
                                       dtype=F64),
        keras.layers.EinsumDense("ab,bc->ac", 2, dtype=F64)), (4, 5)),
    "einsum_dense_sequence_ellipsis": (lambda: sequential(
        (3, 4), keras.layers.EinsumDense("...b,bc->...c", (5,), bias_axes="c", dtype=F64),
        keras.layers.EinsumDense("abc,cde->abde", (3, 2, 2), bias_axes="de",
                                 activation="relu", dtype=F64),
        keras.layers.EinsumDense("abcd,bcde->ae", 2, bias_axes="e", dtype=F64)), (4, 3, 4)),
    "einsum_dense_bias_on_a_middle_axis": (lambda: sequential(
        (3, 4), keras.layers.EinsumDense("abc,cd->abd", (3, 2), bias_axes="b", dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (4, 3, 4)),
    "groupnorm_two_groups": (lambda: sequential(
        (5, 5, 2), keras.layers.Conv2D(4, 3, padding="same", dtype=F64),
        keras.layers.GroupNormalization(groups=2, dtype=F64),
        keras.layers.Conv2D(3, 2, activation="tanh", dtype=F64),
        keras.layers.GroupNormalization(groups=3, center=False, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 5, 5, 2)),
    "groupnorm_sequence": (lambda: sequential(
        (6, 4), keras.layers.GroupNormalization(groups=2, scale=False, dtype=F64),
        keras.layers.Conv1D(3, 2, dtype=F64),
        keras.layers.Flatten(dtype=F64), keras.layers.Dense(2, dtype=F64)), (3, 6, 4)),
}
KINDS = {"conv1d_causal_dilated": ["conv", "conv", "dense"],
         "batchnorm_no_center": ["conv", "batchnorm", "dense"],
         "layernorm_two_axes_no_center": ["conv", "layernorm", "dense", "layernorm", "dense"],
         "fallback_custom_between_rules": ["depthwise", "layernorm", "fallback", "dense"],
         "depthwise1d_same": ["depthwise", "dense"],
         "separable1d_valid": ["separable", "dense"],
         "conv1d_transpose_same_and_conv3d_transpose": ["conv_transpose", "conv_transpose",
                                                        "dense"],
         "einsum_dense_sequence_ellipsis": ["einsum"] * 3,
         "groupnorm_two_groups": ["conv", "groupnorm", "conv", "groupnorm", "dense"]}
# References by one gradient per sample and output, where pfor's Jacobian fails or is slow.
LOOPED = ("groups", "depthwise", "separable", "transpose", "fallback_custom", "middle_axis")


def nested_model():
  """A functional model holding a Sequential block called twice (shared) and a skip."""
  block = sequential((4,), keras.layers.Dense(4, activation="tanh", dtype=F64),
                     keras.layers.BatchNormalization(dtype=F64))
  inp = keras.Input((4,), dtype=F64)
  h = block(block(inp)) + keras.layers.Dense(4, dtype=F64)(inp)
  return keras.Model(inp, keras.layers.Dense(2, dtype=F64)(h))


def late_stage_convs():
  """A ResNet-like late stage: 3x3 maps, many channels (pixel pairs are cheaper there), a
  strided and a dilated convolution, a shared convolution called twice, biases, a skip."""
  inp = keras.Input((6, 6, 3), dtype=F64)
  h = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", dtype=F64)(inp)
  shared = keras.layers.Conv2D(32, 3, padding="same", dtype=F64)
  h = keras.layers.Activation("tanh", dtype=F64)(shared(h)) + h
  h = shared(h) + keras.layers.Conv2D(32, 2, dilation_rate=2, padding="same", use_bias=False,
                                      dtype=F64)(h)
  h = keras.layers.GlobalAveragePooling2D(dtype=F64)(keras.layers.ReLU(dtype=F64)(h))
  return keras.Model(inp, keras.layers.Dense(6, dtype=F64)(h))


class StructuredKerasTest(test_utils.TestCase, parameterized.TestCase):

  def assert_exact(self, theta, reference, tolerance=1e-10):
    self.assertEqual(theta.shape, reference.shape)
    self.assertLess(np.abs(theta - reference).max() / np.abs(reference).max(), tolerance)

  def kernel(self, model, x, x2=None, **kwargs):
    return ntk_tf.empirical_ntk(model, x, x2, method="structured", dtype=F64, **kwargs)

  @parameterized.named_parameters(*[(name, name) for name in CASES])
  def test_rule_matches_explicit_jacobians(self, name):
    keras.utils.set_random_seed(0)
    build, shape = CASES[name]
    model = build()
    rng = np.random.default_rng(9)
    for layer in model.layers:  # Moving statistics away from 0/1, so x̂ is not x; γ, β ≠ 1, 0.
      if isinstance(layer, keras.layers.BatchNormalization):
        layer.moving_mean.assign(np.linspace(-0.5, 0.5, layer.moving_mean.shape[0]))
        layer.moving_variance.assign(np.linspace(0.5, 2.0, layer.moving_variance.shape[0]))
      if isinstance(layer, (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                            keras.layers.GroupNormalization)):
        for w in layer.trainable_weights:
          w.assign(w.numpy() + 0.3 * rng.normal(size=w.shape))
    if name in KINDS:
      self.assertEqual([u.kind for u in structured.units(model)[0]], KINDS[name])
    x = np.random.default_rng(1).normal(size=shape)
    looped = any(part in name for part in LOOPED)
    reference = (looped_kernel if looped else explicit_kernel)(model, x)
    self.assert_exact(self.kernel(model, x, block_size=2), reference)

  @parameterized.named_parameters(("int_sequence", "int32", (4,)), ("float_id_grid", F64, (2, 3)))
  def test_embedding_rule_matches_explicit_jacobians(self, input_dtype, shape):
    keras.utils.set_random_seed(0)
    inp = keras.Input(shape, dtype=input_dtype)
    embedding = keras.layers.Embedding(7, 3, dtype=F64)
    h = keras.layers.Flatten(dtype=F64)(embedding(inp))
    h = keras.layers.Dense(4, activation="tanh", dtype=F64)(h)
    model = keras.Model(inp, keras.layers.Dense(2, dtype=F64)(h))
    self.assertEqual([u.kind for u in structured.units(model)[0]],
                     ["embedding", "dense", "dense"])
    x = np.random.default_rng(1).integers(0, 7, size=(5,) + shape)  # Repeated ids in a row.
    self.assert_exact(self.kernel(model, x, block_size=2), looped_kernel(model, x))

  @parameterized.named_parameters(*[(name, name) for name in MODELS])
  def test_keras_models_module(self, name):
    keras.utils.set_random_seed(0)
    build, shape = MODELS[name]
    model = build()
    x = np.random.default_rng(1).normal(size=shape)
    self.assert_exact(self.kernel(model, x), explicit_kernel(model, x))

  @parameterized.parameters("all", "trace")
  def test_pixel_pair_convolutions_match_explicit_jacobians(self, outputs):
    keras.utils.set_random_seed(0)
    model = late_stage_convs()
    trace = outputs == "trace"  # 3x3 maps of 32 channels: the shared conv takes pixel pairs.
    self.assertTrue(structured.pixel_pairs(9, 9 * 32, 32, 6, trace))
    x = np.random.default_rng(11).normal(size=(5, 6, 6, 3))
    reference = explicit_kernel(model, x)
    if outputs == "trace":
      reference = np.einsum("ijaa->ij", reference) / reference.shape[-1]
    self.assert_exact(self.kernel(model, x, block_size=2, outputs=outputs), reference)
    x2 = np.random.default_rng(12).normal(size=(3, 6, 6, 3))  # Unequal blocks, S1 = S2.
    both = explicit_kernel(model, np.concatenate([x, x2]))[:5, 5:]
    if outputs == "all":
      self.assert_exact(self.kernel(model, x, x2, block_size=3), both)

  @parameterized.parameters(True, False)
  def test_both_contraction_orders_give_the_same_kernel(self, trace):
    keras.utils.set_random_seed(0)
    model = MODELS["residual_batchnorm_concat"][0]()  # 8x8 maps of 2-4 channels.
    x = np.random.default_rng(13).normal(size=(4, 8, 8, 2))
    outputs = "trace" if trace else "all"
    kernels = []
    for forced in (True, False):
      with mock.patch.object(structured, "pixel_pairs", lambda *args, forced=forced: forced):
        kernels.append(self.kernel(model, x, block_size=3, outputs=outputs))
    self.assert_exact(kernels[0], kernels[1])

  def test_the_contraction_order_follows_the_costs(self):
    # LeNet x1's conv2 (10x10 maps, K = 150, C = 16), a ResNet-18's stage 1 (32x32, 576, 64):
    # weight gradients; its stage 4 (4x4, 4,608, 512) and stage 3 (8x8, 2,304, 256): pixel pairs.
    self.assertFalse(structured.pixel_pairs(100, 150, 16, 10))
    self.assertFalse(structured.pixel_pairs(1024, 576, 64, 10))
    self.assertTrue(structured.pixel_pairs(16, 4608, 512, 10))
    self.assertTrue(structured.pixel_pairs(16, 4608, 512, 10, trace=True))
    self.assertTrue(structured.pixel_pairs(64, 2304, 256, 10))

  def test_vit_transformer_block_matches_explicit_jacobians(self):
    # Patch embedding, class token and positions (custom layers: the fallback rule),
    # MultiHeadAttention (its EinsumDense projections), LayerNormalization, a GELU MLP.
    keras.utils.set_random_seed(0)
    model = stock_keras.vit(num_outputs=3, input_shape=(8, 8, 2), patch=4, dim=8, heads=2,
                            mlp_dim=16, dtype=F64)
    self.assertEqual([u.kind for u in structured.units(model)[0]],
                     ["conv", "fallback", "fallback", "layernorm"] + ["einsum"] * 4
                     + ["layernorm", "dense", "dense", "layernorm", "dense"])
    x = np.random.default_rng(14).normal(size=(5, 8, 8, 2))
    self.assert_exact(self.kernel(model, x, block_size=2), explicit_kernel(model, x))

  @parameterized.parameters("all", "trace")
  def test_vit_through_position_pairs_matches_explicit_jacobians(self, outputs):
    # Every position-wise layer forced through token pairs: the patch convolution, the MLP's
    # Dense on tokens and attention's query/key/value/output EinsumDense projections.
    keras.utils.set_random_seed(0)
    model = stock_keras.vit(num_outputs=3, input_shape=(8, 8, 2), patch=4, dim=8, heads=2,
                            mlp_dim=16, dtype=F64)
    x = np.random.default_rng(15).normal(size=(5, 8, 8, 2))
    reference = explicit_kernel(model, x)
    if outputs == "trace":
      reference = np.einsum("ijaa->ij", reference) / reference.shape[-1]
    with mock.patch.object(structured, "pixel_pairs", lambda *args: True):
      found, _ = structured_survey.survey(model, (8, 8, 2), F64)
      self.assertLen(found.pixel_units(3), 7)  # conv, 4 projections, 2 Dense on tokens.
      theta = self.kernel(model, x, block_size=2, outputs=outputs)
    self.assert_exact(theta, reference)

  def test_the_plan_lists_each_layers_order_and_why(self):
    keras.utils.set_random_seed(0)
    model = stock_keras.vit(num_outputs=3, input_shape=(8, 8, 2), patch=4, dim=8, heads=2,
                            mlp_dim=16, dtype=F64)
    orders = dict((name, (order, why)) for name, order, why in
                  planning.plan(model, 10, 10, "structured").layer_orders)
    self.assertLen(orders, 13)
    kinds = [order for order, _ in orders.values()]
    self.assertEqual(kinds.count("fallback"), 2)   # ClassToken, PositionEmbedding.
    self.assertEqual(kinds.count("inputs x cotangents Gram"), 1)  # The readout.
    self.assertIn("no rule for ClassToken", " ".join(why for _, why in orders.values()))
    # 4 patches of 4x4x2 into 8 channels, 3 outputs: S²(K+LC)+L²CS = 1,184 < L²KC = 2,304.
    self.assertEqual([o for n, (o, _) in orders.items() if n.startswith("conv2d")],
                     ["position pairs"])
    # 5 tokens of 8 dims: projections and the MLP are cheaper through weight gradients (and
    # the 3 LayerNormalizations have no other order).
    self.assertEqual(kinds.count("weight gradients"), 9)

  def test_nested_shared_block_and_skip(self):
    keras.utils.set_random_seed(0)
    model = nested_model()
    x = np.random.default_rng(2).normal(size=(5, 4))
    self.assert_exact(self.kernel(model, x, block_size=2), explicit_kernel(model, x))

  def test_our_layers_rewired_as_a_functional_model_give_the_layer_list_kernel(self):
    ours = ntk_tf.build_model("myrtle", width=2, input_shape=(8, 8, 2), num_outputs=2,
                              parameterization="ntk", b_std=0.1, seed=0, dtype=F64)
    rewired = keras.Model(ours.inputs, ours.outputs)  # Not Sequential: the intercepting path.
    self.assertEqual({u.kind for u in structured.units(rewired)[0]}, {"own_conv", "own_dense"})
    x = np.random.default_rng(8).normal(size=(4, 8, 8, 2))
    self.assert_exact(self.kernel(rewired, x), self.kernel(ours, x))

  def test_kernel_at_other_params_leaves_the_weights(self):
    keras.utils.set_random_seed(0)
    model = MODELS["residual_batchnorm_concat"][0]()
    x = np.random.default_rng(3).normal(size=(4, 8, 8, 2))
    rng = np.random.default_rng(4)
    current = [v.numpy() for v in model.trainable_weights]
    params = [w + 0.3 * rng.normal(size=w.shape) for w in current]
    theta = self.kernel(model, x, params=params)
    for v, w in zip(model.trainable_weights, current):
      self.assertAllClose(v.numpy(), w, rtol=0, atol=0)
    for v, p in zip(model.trainable_weights, params):
      v.assign(p)
    self.assert_exact(theta, explicit_kernel(model, x))

  def test_trace_is_the_average_diagonal(self):
    keras.utils.set_random_seed(0)
    model = nested_model()
    x = np.random.default_rng(5).normal(size=(5, 4))
    full = self.kernel(model, x)
    trace = self.kernel(model, x, outputs="trace", block_size=3)
    self.assert_exact(trace, np.einsum("ijaa->ij", full) / full.shape[-1])

  def test_two_inputs_and_a_partial_block(self):
    keras.utils.set_random_seed(0)
    model = MODELS["subclassed_shared_layer"][0]()
    rng = np.random.default_rng(6)
    x1, x2 = rng.normal(size=(5, 5)), rng.normal(size=(3, 5))
    theta = self.kernel(model, x1, x2, block_size=2)
    both = explicit_kernel(model, np.concatenate([x1, x2]))
    self.assert_exact(theta, both[:5, 5:])

  def test_a_weight_outside_its_layer_falls_back_to_jacobians(self):
    keras.utils.set_random_seed(0)
    inp = keras.Input((3,), dtype=F64)
    first = keras.layers.Dense(4, activation="tanh", dtype=F64)
    model = keras.Model(inp, Tied(first, dtype=F64)(first(inp)))
    with self.assertRaisesRegex(ConfigError, "cannot run on model"):
      self.kernel(model, np.zeros((2, 3)))
    self.assertEqual(planning.plan(model, 4, 4).method, "jacobian")
    x = np.random.default_rng(7).normal(size=(4, 3))
    self.assert_exact(ntk_tf.empirical_ntk(model, x, dtype=F64), explicit_kernel(model, x))

  def test_auto_plans_structured_with_the_layers_sizes(self):
    keras.utils.set_random_seed(0)
    model = MODELS["residual_batchnorm_concat"][0]()
    self.assertEqual(planning.plan(model, 100, 100).method, "structured")
    found, _ = planning.survey(model)
    convs = sum(u.num_params for u in found.units if u.kind in ("conv", "batchnorm"))
    self.assertEqual(found.features, convs)  # The Dense head uses the Gram rule.
    self.assertGreater(found.cotangents, 8 * 8 * 4)
    size = lambda b: planning.block_bytes(model, "structured", 2, 1000, 8, b)
    self.assertEmpty(found.pixel_units(2))  # No position-pair chunks: per sample + per pair.
    # The block pair's result: b²·L² entries in float64 products, a float64 copy and mirror.
    self.assertEqual(size(30) - 2 * size(20) + size(10), 2 * 10 ** 2 * 2 ** 2 * (4 * 8 + 16))
    per_sample = (size(20) - size(10) - (20 ** 2 - 10 ** 2) * 2 ** 2 * 48) / 10
    self.assertGreater(per_sample, 8 * 2 * (found.cotangents + found.features))
    self.assertEqual(size(10) - 10 * per_sample - 10 ** 2 * 2 ** 2 * 48,
                     structured_survey.RUNTIME_BYTES)

  def test_structured_blocks_stop_at_the_feature_working_set(self):
    keras.utils.set_random_seed(0)
    model = MODELS["residual_batchnorm_concat"][0]()
    found, _ = planning.survey(model)
    activations = inspection.activation_size(model)
    forming, held = structured_survey.sample_bytes(found, activations, 2, 4)
    self.assertGreater(forming, held)
    with mock.patch.object(planning, "FEATURE_BYTES", 10 * forming):
      self.assertEqual(planning.plan(model, 100, 100, "structured", 64.0).block_size, 10)
      # A block given explicitly is the caller's choice.
      self.assertEqual(planning.plan(model, 100, 100, "structured", 64.0,
                                     block_size=40).block_size, 40)
    # n = b + 3, symmetric: the pair's other block holds 3 samples, not b.
    full = planning.plan(model, 40, 40, "structured", 64.0, block_size=20, symmetric=True)
    short = planning.plan(model, 23, 23, "structured", 64.0, block_size=20, symmetric=True)
    self.assertEqual(full.peak_bytes - short.peak_bytes,
                     17 * held + full.output_bytes - short.output_bytes)


if __name__ == "__main__":
  absltest.main()
