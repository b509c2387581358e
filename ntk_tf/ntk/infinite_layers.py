"""The layer recursions of infinite-width NNGP and NTK kernels of ReLU networks (Jacot et al.
2018; Arora et al. 2019, CNTK) on a block of sample pairs, in TensorFlow, with the conventions
of the Neural Tangents library's `stax` (and of this project's finite models in NTK
parameterization, `model.parameterization="ntk"`): a layer computes
z = (W_std / sqrt(fan_in)) · (W x) + b_std · b with W, b ~ N(0, 1), and kernels are normalized
per channel: the input kernel of images x, x' (H, W, C) is K⁰(p, p') = Σ_c x[p, c] x'[p', c] / C
for every pair of pixels p, p', and Θ⁰ = 0. `apply_layer` takes one layer on every pixel pair
of the samples (a `State`); `pairs_apply_layer` on same-pixel pairs only (`Pairs`), all that a
net without pooling and with a flatten readout needs.
"""

import dataclasses
import functools
import math
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

from ntk_tf.errors import ConfigError


@dataclasses.dataclass
class State:
  """NNGP and NTK of a block of sample pairs at every pixel pair, and each sample's
  self-kernel: images cross (b1, b2, H, W, H, W), self (b, H, W, H, W); vectors (b1, b2), (b,).

  ReLU needs K(x, x) at every pixel pair of each sample (average pooling mixes pixels), so each
  block carries the self-kernels of its samples beside the cross kernel.
  """
  nngp: tf.Tensor
  ntk: tf.Tensor
  self1: tf.Tensor
  self2: tf.Tensor
  image: bool


def input_state(x1, x2) -> State:
  """The input kernels of two blocks: x·x' / d for vectors, per pixel pair over channels for
  images."""
  if len(x1.shape) == 2:  # Vectors: K = x·x' / d.
    d = tf.cast(tf.shape(x1)[-1], x1.dtype)
    nngp = tf.matmul(x1, x2, transpose_b=True) / d
    return State(nngp, tf.zeros_like(nngp), tf.reduce_sum(x1 * x1, -1) / d,
                  tf.reduce_sum(x2 * x2, -1) / d, image=False)
  c = tf.cast(tf.shape(x1)[-1], x1.dtype)
  nngp = tf.einsum("ahwc,bijc->ahwbij", x1, x2) / c
  nngp = tf.transpose(nngp, [0, 3, 1, 2, 4, 5])
  return State(nngp, tf.zeros_like(nngp), tf.einsum("ahwc,aijc->ahwij", x1, x1) / c,
                tf.einsum("ahwc,aijc->ahwij", x2, x2) / c, image=True)


def _diag(self_kernel, image: bool):
  """K(x, x) at each pixel (b, H, W) from the self-kernel (b, H, W, H, W), or (b,)."""
  if not image:
    return self_kernel
  b, h, w = tf.shape(self_kernel)[0], tf.shape(self_kernel)[1], tf.shape(self_kernel)[2]
  flat = tf.reshape(self_kernel, [b, h * w, h * w])
  return tf.reshape(tf.linalg.diag_part(flat), [b, h, w])


def _conv_sum(k, size: int, padding: str, batch_dims: int):
  """Σ_δ K(p+δ, p'+δ) over the size×size offsets δ for the spatial dims after batch_dims.

  The sum is separable: shifts along rows (i, i') then along columns (j, j'), 2·size slice-adds
  instead of size² (measured 1.5x faster than the direct form on the CPU).
  """
  if padding == "same":
    lo = (size - 1) // 2
    pads = [[0, 0]] * batch_dims + [[lo, size - 1 - lo]] * 4
    k = tf.pad(k, pads)
  for axis in (0, 1):  # Rows (dims batch+0 and batch+2), then columns (batch+1, batch+3).
    dims = [batch_dims + axis, batch_dims + 2 + axis]
    out_len = k.shape[dims[0]] - size + 1
    total = None
    for a in range(size):
      index = [slice(None)] * len(k.shape)
      for dim in dims:
        index[dim] = slice(a, a + out_len)
      term = k[tuple(index)]
      total = term if total is None else total + term
    k = total
  return k


def arc_cosine(k, v1, v2):
  """The ReLU's arc-cosine maps K' and K̇ (Cho & Saul; the expectations in Arora et al. 2019
  eq. (11)-(12)) of pre-activations with covariance k and variances v1, v2; a zero variance
  gives cos θ = 0 and K' = 0.

  Precision: d/dc arccos(c) diverges at c = 1, so entries with x ≈ x' (the diagonal) inherit a
  relative rounding error of order √eps from cos θ: ~1e-8 in float64, ~3e-4 in float32. The
  same-pixel pairs avoid it on the diagonal: a pair with itself has cos θ = 1 exactly.
  """
  norm = tf.sqrt(v1 * v2)
  cos = tf.clip_by_value(tf.math.divide_no_nan(k, norm), -1.0, 1.0)
  angle = tf.acos(cos)
  k_new = norm * (tf.sin(angle) + (math.pi - angle) * cos) / (2 * math.pi)
  return k_new, (math.pi - angle) / (2 * math.pi)


# Pixel-pair states (CNTK-GAP, pooling) hold (b1, b2, H, W, H, W) tensors: every layer is memory
# bound, so its slice-adds and elementwise ops are fused by XLA. Measured on 28x28 CNTK-GAP at
# depth 11, float32, 2-core CPU: 23 pairs/s plain TensorFlow, 43 with these, 55 with blocks of
# 16 samples. XLA's arccos is slower than TensorFlow's (5.3 vs 1.0 ms per pair and layer), so
# the arc-cosine is fused on either side of a plain tf.acos.
def _xla(fn):
  return tf.function(fn, jit_compile=True, autograph=False)


@functools.lru_cache(maxsize=None)
def _fused_conv(size: int, padding: str, batch_dims: int, scale: float, shift: float):
  """k -> scale · Σ_δ K(p+δ, p'+δ) + shift (the conv rule), XLA-compiled."""
  return _xla(lambda k: scale * _conv_sum(k, size, padding, batch_dims) + shift)


@_xla
def _fused_cosine(k, v1, v2):
  norm = tf.sqrt(v1 * v2)
  return norm, tf.clip_by_value(tf.math.divide_no_nan(k, norm), -1.0, 1.0)


@_xla
def _fused_arc_cosine_maps(norm, cos, angle, ntk):
  """K', and Θ·K̇ (ntk=None: K̇ itself), from cos θ and θ; sin θ = sqrt(1 − cos²θ)."""
  derivative = (math.pi - angle) / (2 * math.pi)
  k_new = norm * (tf.sqrt(tf.maximum(1 - cos * cos, 0)) / (2 * math.pi) + derivative * cos)
  return k_new, derivative if ntk is None else ntk * derivative


def _pixel_pair_arc_cosine(k, v1, v2, ntk=None):
  """_arc_cosine fused for pixel-pair states; returns K' and Θ·K̇ (ntk=None: K̇)."""
  norm, cos = _fused_cosine(k, v1, v2)
  return _fused_arc_cosine_maps(norm, cos, tf.acos(cos), ntk)


def _relu(state: State) -> State:
  d1, d2 = _diag(state.self1, state.image), _diag(state.self2, state.image)
  if state.image:
    v1 = d1[:, None, :, :, None, None]
    v2 = d2[None, :, None, None, :, :]
    nngp, ntk = _pixel_pair_arc_cosine(state.nngp, v1, v2, state.ntk)
    self1, _ = _pixel_pair_arc_cosine(state.self1, d1[:, :, :, None, None],
                                      d1[:, None, None, :, :])
    self2, _ = _pixel_pair_arc_cosine(state.self2, d2[:, :, :, None, None],
                                      d2[:, None, None, :, :])
    return State(nngp, ntk, self1, self2, state.image)
  nngp, derivative = arc_cosine(state.nngp, d1[:, None], d2[None, :])
  self1, _ = arc_cosine(state.self1, d1, d1)
  self2, _ = arc_cosine(state.self2, d2, d2)
  return State(nngp, state.ntk * derivative, self1, self2, state.image)


def _avg_pool(k, size: int, batch_dims: int):
  shape = tf.shape(k)
  h, w = k.shape[batch_dims] // size * size, k.shape[batch_dims + 1] // size * size
  index = [slice(None)] * batch_dims + [slice(0, h), slice(0, w)] * 2
  k = k[tuple(index)]
  new = [shape[i] for i in range(batch_dims)] + [h // size, size, w // size, size] * 2
  k = tf.reshape(k, new)
  axes = [batch_dims + 1, batch_dims + 3, batch_dims + 5, batch_dims + 7]
  return tf.reduce_mean(k, axis=axes)


def _flatten_or_gap(k, batch_dims: int, gap: bool):
  if gap:
    return tf.reduce_mean(k, axis=list(range(batch_dims, batch_dims + 4)))
  shape = tf.shape(k)
  hw = shape[batch_dims] * shape[batch_dims + 1]
  flat = tf.reshape(k, tf.concat([shape[:batch_dims], [hw, hw]], 0))
  return tf.reduce_mean(tf.linalg.diag_part(flat), axis=-1)


def apply_layer(layer: Tuple, state: State, w_std: float, b_std: float,
                trained: bool = True) -> State:
  """One layer's rule; an untrained weight layer adds no term of its own to the NTK.

  For each pair of samples (p, p' range over pixels, δ over the k×k filter offsets):
  - Dense:   K' = W_std² K + b_std²;                        Θ' = W_std² Θ + K'.
  - Conv:    K'(p, p') = W_std²/k² Σ_δ K(p+δ, p'+δ) + b_std²; Θ' likewise + K' (zero padding
             outside the image for SAME; Arora et al. eq. (7)-(8), with their c_σ = W_std²).
  - ReLU:    with cos θ = K(p, p') / sqrt(K(p, p) K(p', p')) (each variance from its own
             sample): K' = sqrt(K(p, p) K(p', p')) (sin θ + (π − θ) cos θ) / 2π,
             K̇ = (π − θ) / 2π, Θ' = Θ · K̇ (the arc-cosine kernels of Cho & Saul).
  - AvgPool (s×s, stride s): the mean of K over the s² × s² pixel pairs of two windows.
  - GlobalAvgPool: the mean over all pixel pairs; Flatten: the mean over p = p' (Arora et al.
    §4: a fully connected readout of the flattened image sees only same-position pairs).
  The readout's kernel is the same for every output (Θ ⊗ I_L), so kernels are (n1, n2).
  """
  kind = layer[0]
  w2, b2 = w_std ** 2, b_std ** 2
  if kind == "dense":
    if state.image:
      raise ConfigError("a dense layer needs flattened or pooled inputs.")
    nngp = w2 * state.nngp + b2
    ntk = w2 * state.ntk + (nngp if trained else 0.0)
    return State(nngp, ntk, w2 * state.self1 + b2, w2 * state.self2 + b2, False)
  if kind == "relu":
    return _relu(state)
  if not state.image:
    raise ConfigError(f"layer {kind} needs image inputs (H, W, C).")
  if kind == "conv":
    size, padding = layer[1], layer[2]
    conv = lambda batch_dims, shift: _fused_conv(size, padding, batch_dims, w2 / size ** 2, shift)
    nngp = conv(2, b2)(state.nngp)
    ntk = conv(2, 0.0)(state.ntk) + (nngp if trained else 0.0)
    return State(nngp, ntk, conv(1, b2)(state.self1), conv(1, b2)(state.self2), True)
  if kind == "avg_pool":
    return State(_avg_pool(state.nngp, layer[1], 2), _avg_pool(state.ntk, layer[1], 2),
                  _avg_pool(state.self1, layer[1], 1), _avg_pool(state.self2, layer[1], 1),
                  True)
  if kind in ("gap", "flatten"):
    gap = kind == "gap"
    return State(_flatten_or_gap(state.nngp, 2, gap), _flatten_or_gap(state.ntk, 2, gap),
                  _flatten_or_gap(state.self1, 1, gap), _flatten_or_gap(state.self2, 1, gap),
                  False)
  raise ConfigError(f"unknown layer {kind!r}.")


@dataclasses.dataclass
class Pairs:
  """NNGP and NTK of a list of sample pairs (a, b), each at the same pixel p of both samples.

  The list holds every sample's pair with itself, so K(a, a) at the same layer is an entry of
  the same tensor: own1[q] and own2[q] index the pairs (a, a) and (b, b) of pair q = (a, b).
  A pair with itself thus gets cos θ = K / sqrt(K·K) = 1 exactly, as the arc-cosine needs
  (its derivative diverges at 1; `arc_cosine`).

  Same-pixel architectures (CNTK-V, cnn5: a flatten readout and no pooling) only ever need
  p = p' (Arora et al. 2019 §4: the CNTK is tr Θ⁽ᴸ⁾, the trace over pixels, and each layer's
  patch trace tr([K]_{D_ij,i'j'}) keeps the offset p' − p). There a block is one list of sample
  pairs, each sample's pair with itself included, held as a (pairs, H, W) tensor; each layer is
  a few elementwise ops and two band-matrix products over all pairs at once, and a block with
  itself computes each unordered pair once.
  """
  nngp: tf.Tensor  # (P, H, W); (P,) after the flatten.
  ntk: Optional[tf.Tensor]  # As nngp; None while it is 0 (no trained layer yet).
  own1: tf.Tensor  # (P,) int32.
  own2: tf.Tensor


def cross_pairs(x1, x2) -> Pairs:
  """The pairs of x1 × x2 (row-major), then each sample of x1 and of x2 with itself."""
  b1, b2 = tf.shape(x1)[0], tf.shape(x2)[0]
  c = tf.cast(tf.shape(x1)[-1], x1.dtype)
  cross = tf.einsum("ahwc,bhwc->abhw", x1, x2) / c
  cross = tf.reshape(cross, tf.concat([[b1 * b2], tf.shape(cross)[2:]], 0))
  nngp = tf.concat([cross, tf.reduce_sum(x1 * x1, -1) / c, tf.reduce_sum(x2 * x2, -1) / c], 0)
  cross_index, own = tf.range(b1 * b2), b1 * b2 + tf.range(b1 + b2)
  return Pairs(nngp, None, tf.concat([b1 * b2 + cross_index // b2, own], 0),
                tf.concat([b1 * b2 + b1 + cross_index % b2, own], 0))


def triangle_pairs(x) -> Tuple[Pairs, tf.Tensor]:
  """The pairs (a, b), a ≤ b, of the samples of x (row-major), and for each entry (a, b) of the
  (n, n) kernel the index of its pair."""
  n = tf.shape(x)[0]
  c = tf.cast(tf.shape(x)[-1], x.dtype)

  def index(a, b):  # Of the pair (a, b), a ≤ b: the rows before a hold n, n − 1, ... pairs.
    return a * n - a * (a - 1) // 2 + b - a

  samples = tf.range(n)
  upper = tf.cast(tf.where(samples[:, None] <= samples[None, :]), tf.int32)  # Row-major.
  first, second = upper[:, 0], upper[:, 1]
  gram = tf.einsum("ahwc,bhwc->abhw", x, x) / c
  gram = tf.reshape(gram, tf.concat([[n * n], tf.shape(gram)[2:]], 0))
  pairs = Pairs(tf.gather(gram, first * n + second), None, index(first, first),
                 index(second, second))
  rows, cols = samples[:, None], samples[None, :]
  return pairs, index(tf.minimum(rows, cols), tf.maximum(rows, cols))


def _box_matrix(n: int, size: int, padding: str, dtype, scale: float = 1.0) -> tf.Tensor:
  """(n_out, n) matrix M with (M k)[i] = scale · Σ_a k[i + a − lo] over the `size` offsets a,
  zero outside the input (lo = (size − 1) // 2 for SAME, 0 for VALID)."""
  lo = (size - 1) // 2 if padding == "same" else 0
  n_out = n if padding == "same" else n - size + 1
  offset = np.arange(n)[None, :] - np.arange(n_out)[:, None] + lo
  return tf.constant(scale * ((offset >= 0) & (offset < size)), dtype)


def _box_sum(k, size: int, padding: str, scale: float):
  """scale · Σ_δ K(p + δ) over the size×size offsets δ, for K (P, H, W): the patch trace
  tr([K]_{D_ij,ij}) of Arora et al. 2019 §4 at p = p', as a band-matrix product on each side."""
  rows = _box_matrix(k.shape[1], size, padding, k.dtype)
  cols = _box_matrix(k.shape[2], size, padding, k.dtype, scale)
  return tf.matmul(tf.matmul(rows, k), cols, transpose_b=True)


def pairs_apply_layer(layer: Tuple, pairs: Pairs, w2: float, b2: float,
                      trained: bool) -> Pairs:
  """One layer's rule (`apply_layer`) on same-pixel pairs."""
  kind, image = layer[0], pairs.nngp.shape.rank == 3
  nngp, ntk = pairs.nngp, pairs.ntk
  if kind == "relu":
    nngp, derivative = arc_cosine(nngp, tf.gather(nngp, pairs.own1),
                                   tf.gather(nngp, pairs.own2))
    ntk = None if ntk is None else ntk * derivative
  elif kind in ("conv", "dense"):
    if (kind == "conv") != image:
      raise ConfigError(f"layer {kind} needs {'image' if kind == 'conv' else 'flattened'} "
                        "inputs.")
    if kind == "conv":
      linear = lambda k: _box_sum(k, layer[1], layer[2], w2 / layer[1] ** 2)
    else:
      linear = lambda k: w2 * k
    nngp = linear(nngp) + b2 if b2 else linear(nngp)
    ntk = None if ntk is None else linear(ntk)
    if trained:
      ntk = nngp if ntk is None else ntk + nngp
  elif kind == "flatten" and image:
    nngp = tf.reduce_mean(nngp, axis=[1, 2])
    ntk = None if ntk is None else tf.reduce_mean(ntk, axis=[1, 2])
  else:
    raise ConfigError(f"layer {kind} needs pixel pairs p != p' (no same-pixel mode).")
  return Pairs(nngp, ntk, pairs.own1, pairs.own2)
