"""Infinite-width NNGP and NTK kernels of ReLU MLPs and CNNs (Jacot et al. 2018; Arora et al.
2019, CNTK), in TensorFlow, batched over blocks of sample pairs.

Conventions are those of the Neural Tangents library's `stax` (and of this project's finite
models in NTK parameterization, `model.parameterization="ntk"`): a layer computes
z = (W_std / sqrt(fan_in)) · (W x) + b_std · b with W, b ~ N(0, 1). Kernels are normalized per
channel: the input kernel of images x, x' (H, W, C) is K⁰(p, p') = Σ_c x[p, c] x'[p', c] / C
for every pair of pixels p, p', and Θ⁰ = 0.

Layer rules (for each pair of samples; p, p' range over pixels, δ over the k×k filter offsets):
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

Trained layers: Θ is linear in the per-layer terms, Θ = Σ_l Θ_l, where Θ_l (the kernel of the
gradients of weight layer l's W and b) is that layer's "+ K'" above, carried through the layers
after it (ReLU multiplies by K̇, convolutions and pooling apply their linear maps, the readout
scales by W_std²). `trained_layers="middle"` keeps only the layers strictly between the first
and the readout, as when those two are fixed at initialization (Arora et al. 2019's released
CNTK code, option `fix`, used for Table 1's CNTK-GAP column). It drops exactly two terms:
- the first layer's: Θ = 0 after it instead of Θ¹ = K¹ (Arora et al.'s Θ⁽⁰⁾ = Σ⁽⁰⁾ set to 0), and
- the readout's: Θ' = W_std² Θ instead of W_std² Θ + K' (the NNGP of the output, K' = W_std²
  K + b_std² with K the pooled/flattened penultimate kernel).
So Θ_middle = Θ − NNGP − Θ_1 (both dropped terms are PSD kernels); the NNGP is unchanged.

ReLU needs K(x, x) at every pixel pair of each sample (average pooling mixes pixels), so each
block carries the self-kernels of its samples beside the cross kernel.

Same-pixel architectures (CNTK-V, cnn5: a flatten readout and no pooling) only ever need
p = p' (Arora et al. 2019 §4: the CNTK is tr Θ⁽ᴸ⁾, the trace over pixels, and each layer's
patch trace tr([K]_{D_ij,i'j'}) keeps the offset p' − p). There a block is one list of sample pairs, each sample's pair with itself included,
held as a (pairs, H, W) tensor; each layer is a few elementwise ops and two band-matrix
products over all pairs at once, and a block with itself computes each unordered pair once.

Precision: d/dc arccos(c) diverges at c = 1, so entries with x ≈ x' (the diagonal) inherit a
relative rounding error of order √eps from cos θ: ~1e-8 in float64, ~3e-4 in float32. The
same-pixel pairs avoid it on the diagonal: a pair with itself has cos θ = 1 exactly.
"""

import dataclasses
import functools
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf import io, memory
from ntk_tf.errors import ConfigError, require_finite_inputs
from ntk_tf.ntk import blocked

ARCHITECTURES = ("mlp", "cnn_v", "cnn_gap", "myrtle", "cnn5")
TRAINED_LAYERS = ("all", "middle")  # Whose weights the NTK differentiates (module docstring).
VARIANT_LABELS = {"all": "all layers trained",
                  "middle": "first and last layers fixed (only the middle layers trained)"}
CACHE_BYTES = 16 * 2 ** 20  # Target size of one same-pixel block's cross-kernel tensor.
PIXEL_PAIR_BLOCK = 16  # Samples per block of pixel-pair kernels (28x28 CNTK-GAP: 48 pairs/s at
                       # 8, 52 at 12, 55 at 16; float32, 2-core CPU).


# -- architectures -----------------------------------------------------------------------
def layers(arch: str, depth: Optional[int] = None) -> List[Tuple]:
  """The layer list of an architecture, matching ntk_tf.models (widths do not matter here)."""
  conv, relu = ("conv", 3, "same"), ("relu",)
  if arch == "mlp":
    depth = 4 if depth is None else depth
    if depth < 1:
      raise ConfigError(f"depth={depth}: an MLP needs depth >= 1.")
    return [("flatten",)] + [("dense",), relu] * (depth - 1) + [("dense",)]
  if arch in ("cnn_v", "cnn_gap"):
    depth = 3 if depth is None else depth
    if depth < 1:
      raise ConfigError(f"depth={depth}: {arch} needs at least one convolution.")
    head = [("flatten",)] if arch == "cnn_v" else [("gap",)]
    return [conv, relu] * depth + head + [("dense",)]
  if arch == "cnn5":
    return [conv, relu] * 4 + [("flatten",), ("dense",)]
  if arch == "myrtle":
    out = []
    for i in range(4):
      out += [conv, relu] + ([("avg_pool", 2)] if i > 0 else [])
    return out + [("gap",), ("dense",)]
  raise ConfigError(f"no infinite-width kernel for architecture {arch!r}; available: "
                    f"{', '.join(ARCHITECTURES)} (lenet and alexnet have max-pooling: use "
                    "ntk_tf.ntk.monte_carlo).")


def trained_flags(spec: Sequence[Tuple], trained_layers: str = "all") -> List[bool]:
  """Per layer of `spec`, whether its weights enter the NTK (only conv/dense layers have any).

  Args:
    spec: a layer list (`layers`).
    trained_layers: "all", or "middle" for all weight layers but the first and the readout.
  """
  if trained_layers not in TRAINED_LAYERS:
    raise ConfigError(f"trained_layers={trained_layers!r}; use one of "
                      f"{', '.join(TRAINED_LAYERS)}.")
  weighted = [i for i, layer in enumerate(spec) if layer[0] in ("conv", "dense")]
  if trained_layers == "all":
    return [True] * len(spec)
  if len(weighted) < 3:
    raise ConfigError(f"trained_layers='middle' fixes the first and the readout layer, leaving "
                      f"no trained layer among {len(weighted)} weight layers (the kernel would "
                      "be 0); use a depth with at least one middle layer.")
  return [i in weighted[1:-1] for i in range(len(spec))]


def readout_points(spec: Sequence[Tuple], depths: Optional[Sequence[int]],
                   trained_layers: str = "all") -> dict:
  """{layer index: depth}: after which layer of a cnn_v/cnn_gap `spec` the kernel of the same
  architecture with `depth` convolutions is read out, by applying the spec's head (flatten or
  GAP, and the readout) to the state there. The layers before are the same in both nets (and
  so are their trained flags, "all" or "middle"), so one pass gives every shallower depth.
  Refuses depths the net lacks, and depth 1 with "middle" (no trained layer).
  """
  if not depths:
    return {}
  convs = [i for i, layer in enumerate(spec) if layer[0] == "conv"]
  kinds = [layer[0] for layer in spec]
  if not convs or kinds != ["conv", "relu"] * len(convs) + kinds[2 * len(convs):] or \
      len(kinds) != 2 * len(convs) + 2:
    raise ConfigError("readout depths need a cnn_v or cnn_gap architecture (convolutions with "
                      "ReLU, then the head).")
  bad = [d for d in depths if not (isinstance(d, int) and 1 <= d <= len(convs))]
  if bad:
    raise ConfigError(f"readout depths {bad} are not between 1 and the net's {len(convs)} "
                      "convolutions; give depths the net has (its depth is always read out).")
  if trained_layers == "middle" and min(depths) < 2:
    raise ConfigError("readout depth 1 with trained_layers='middle' has no trained layer (its "
                      "kernel would be 0); read out from depth 2.")
  return {2 * d - 1: d for d in sorted(set(depths)) if d < len(convs)}


# -- kernel algebra on blocks --------------------------------------------------------------
@dataclasses.dataclass
class _State:
  """NNGP and NTK of a block of sample pairs at every pixel pair, and each sample's
  self-kernel: images cross (b1, b2, H, W, H, W), self (b, H, W, H, W); vectors (b1, b2), (b,).
  """
  nngp: tf.Tensor
  ntk: tf.Tensor
  self1: tf.Tensor
  self2: tf.Tensor
  image: bool


def _input_state(x1, x2) -> _State:
  if len(x1.shape) == 2:  # Vectors: K = x·x' / d.
    d = tf.cast(tf.shape(x1)[-1], x1.dtype)
    nngp = tf.matmul(x1, x2, transpose_b=True) / d
    return _State(nngp, tf.zeros_like(nngp), tf.reduce_sum(x1 * x1, -1) / d,
                  tf.reduce_sum(x2 * x2, -1) / d, image=False)
  c = tf.cast(tf.shape(x1)[-1], x1.dtype)
  nngp = tf.einsum("ahwc,bijc->ahwbij", x1, x2) / c
  nngp = tf.transpose(nngp, [0, 3, 1, 2, 4, 5])
  return _State(nngp, tf.zeros_like(nngp), tf.einsum("ahwc,aijc->ahwij", x1, x1) / c,
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


def _arc_cosine(k, v1, v2):
  """The ReLU's arc-cosine maps K' and K̇ (Cho & Saul; the expectations in Arora et al. 2019
  eq. (11)-(12)) of pre-activations with covariance k and variances v1, v2; a zero variance
  gives cos θ = 0 and K' = 0."""
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


def _relu(state: _State) -> _State:
  d1, d2 = _diag(state.self1, state.image), _diag(state.self2, state.image)
  if state.image:
    v1 = d1[:, None, :, :, None, None]
    v2 = d2[None, :, None, None, :, :]
    nngp, ntk = _pixel_pair_arc_cosine(state.nngp, v1, v2, state.ntk)
    self1, _ = _pixel_pair_arc_cosine(state.self1, d1[:, :, :, None, None],
                                      d1[:, None, None, :, :])
    self2, _ = _pixel_pair_arc_cosine(state.self2, d2[:, :, :, None, None],
                                      d2[:, None, None, :, :])
    return _State(nngp, ntk, self1, self2, state.image)
  nngp, derivative = _arc_cosine(state.nngp, d1[:, None], d2[None, :])
  self1, _ = _arc_cosine(state.self1, d1, d1)
  self2, _ = _arc_cosine(state.self2, d2, d2)
  return _State(nngp, state.ntk * derivative, self1, self2, state.image)


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


def _apply(layer: Tuple, state: _State, w_std: float, b_std: float,
           trained: bool = True) -> _State:
  """One layer's rule; an untrained weight layer adds no term of its own to the NTK."""
  kind = layer[0]
  w2, b2 = w_std ** 2, b_std ** 2
  if kind == "dense":
    if state.image:
      raise ConfigError("a dense layer needs flattened or pooled inputs.")
    nngp = w2 * state.nngp + b2
    ntk = w2 * state.ntk + (nngp if trained else 0.0)
    return _State(nngp, ntk, w2 * state.self1 + b2, w2 * state.self2 + b2, False)
  if kind == "relu":
    return _relu(state)
  if not state.image:
    raise ConfigError(f"layer {kind} needs image inputs (H, W, C).")
  if kind == "conv":
    size, padding = layer[1], layer[2]
    conv = lambda batch_dims, shift: _fused_conv(size, padding, batch_dims, w2 / size ** 2, shift)
    nngp = conv(2, b2)(state.nngp)
    ntk = conv(2, 0.0)(state.ntk) + (nngp if trained else 0.0)
    return _State(nngp, ntk, conv(1, b2)(state.self1), conv(1, b2)(state.self2), True)
  if kind == "avg_pool":
    return _State(_avg_pool(state.nngp, layer[1], 2), _avg_pool(state.ntk, layer[1], 2),
                  _avg_pool(state.self1, layer[1], 1), _avg_pool(state.self2, layer[1], 1),
                  True)
  if kind in ("gap", "flatten"):
    gap = kind == "gap"
    return _State(_flatten_or_gap(state.nngp, 2, gap), _flatten_or_gap(state.ntk, 2, gap),
                  _flatten_or_gap(state.self1, 1, gap), _flatten_or_gap(state.self2, 1, gap),
                  False)
  raise ConfigError(f"unknown layer {kind!r}.")


def block_kernels(spec: Sequence[Tuple], x1, x2, w_std: float = math.sqrt(2.0),
                  b_std: float = 0.0, diagonal: Optional[bool] = None,
                  trained_layers: str = "all", readout_depths: Optional[Sequence[int]] = None):
  """(nngp, ntk) of shape (b1, b2) for one block pair of inputs (tensors).

  diagonal: track only same-pixel pairs (default: whenever the architecture allows it).
  trained_layers: "all", or "middle" (the first and readout layers fixed; module docstring).
  readout_depths: also the kernels of the same net with these numbers of convolutions, read
    out on the way (`readout_points`); then {depth: (nngp, ntk)} for these and the full depth.
  """
  spec = list(spec)
  flags = trained_flags(spec, trained_layers)
  points = readout_points(spec, readout_depths)
  if _same_pixel(spec) if diagonal is None else diagonal:
    b1, b2 = tf.shape(x1)[0], tf.shape(x2)[0]
    cut = lambda k: tf.reshape(k[:b1 * b2], [b1, b2])
    out = _pair_kernels(spec, flags, _cross_pairs(x1, x2), w_std, b_std, points)
    return _by_depth(out, cut, spec, readout_depths)
  if spec and spec[0][0] == "flatten":
    # Flatten at the input: K = x·x'/(H·W·C), as the mean over same-pixel pairs gives.
    x1, x2 = tf.reshape(x1, [tf.shape(x1)[0], -1]), tf.reshape(x2, [tf.shape(x2)[0], -1])
    spec, flags = spec[1:], flags[1:]
  state, out = _input_state(x1, x2), {}
  for i, (layer, trained) in enumerate(zip(spec, flags)):
    state = _apply(layer, state, w_std, b_std, trained)
    if i in points:
      head = state
      for tail, tail_trained in zip(spec[-2:], flags[-2:]):
        head = _apply(tail, head, w_std, b_std, tail_trained)
      out[points[i]] = (head.nngp, head.ntk)
  if state.image:
    raise ConfigError("the architecture must end with a dense readout.")
  out[None] = (state.nngp, state.ntk)
  return _by_depth(out, lambda k: k, spec, readout_depths)


def _by_depth(out: dict, cut, spec, readout_depths):
  """(nngp, ntk) of the full net (key None of `out`), or with readout depths asked for,
  {depth: (nngp, ntk)} of those and of the full net."""
  full = tuple(cut(k) for k in out.pop(None))
  if readout_depths is None:
    return full
  result = {d: tuple(cut(k) for k in kernels) for d, kernels in out.items()}
  result[sum(layer[0] == "conv" for layer in spec)] = full
  return result


def symmetric_block_kernels(spec: Sequence[Tuple], x, w_std: float = math.sqrt(2.0),
                            b_std: float = 0.0, trained_layers: str = "all",
                            readout_depths: Optional[Sequence[int]] = None):
  """(nngp, ntk) of shape (b, b) for a block of inputs with itself, of a same-pixel
  architecture (CNTK-V, cnn5): each unordered pair once, b(b+1)/2 pairs instead of b².
  readout_depths: as in `block_kernels`."""
  spec = list(spec)
  if not _same_pixel(spec):
    raise ConfigError("symmetric_block_kernels needs a same-pixel architecture (a flatten "
                      "readout without pooling); use block_kernels(spec, x, x).")
  pairs, entry_pair = _triangle_pairs(x)
  out = _pair_kernels(spec, trained_flags(spec, trained_layers), pairs, w_std, b_std,
                      readout_points(spec, readout_depths))
  return _by_depth(out, lambda k: tf.gather(k, entry_pair), spec, readout_depths)


def _same_pixel(spec) -> bool:
  """Whether only same-pixel pairs are needed: convolutions preserve the offset p' − p and a
  flatten readout keeps p = p', so without pooling K(p, p') with p' ≠ p never matters (Arora
  et al.'s CNTK-V then costs O(H·W) per pair instead of O((H·W)²))."""
  kinds = [layer[0] for layer in spec]
  return (bool(kinds) and kinds[0] == "conv" and "flatten" in kinds
          and not {"avg_pool", "gap"} & set(kinds[:kinds.index("flatten")]))


# -- same-pixel pairs (CNTK-V, cnn5): one tensor of sample pairs ---------------------------
@dataclasses.dataclass
class _Pairs:
  """NNGP and NTK of a list of sample pairs (a, b), each at the same pixel p of both samples.

  The list holds every sample's pair with itself, so K(a, a) at the same layer is an entry of
  the same tensor: own1[q] and own2[q] index the pairs (a, a) and (b, b) of pair q = (a, b).
  A pair with itself thus gets cos θ = K / sqrt(K·K) = 1 exactly, as the arc-cosine needs
  (its derivative diverges at 1; module docstring).
  """
  nngp: tf.Tensor  # (P, H, W); (P,) after the flatten.
  ntk: Optional[tf.Tensor]  # As nngp; None while it is 0 (no trained layer yet).
  own1: tf.Tensor  # (P,) int32.
  own2: tf.Tensor


def _cross_pairs(x1, x2) -> _Pairs:
  """The pairs of x1 × x2 (row-major), then each sample of x1 and of x2 with itself."""
  b1, b2 = tf.shape(x1)[0], tf.shape(x2)[0]
  c = tf.cast(tf.shape(x1)[-1], x1.dtype)
  cross = tf.einsum("ahwc,bhwc->abhw", x1, x2) / c
  cross = tf.reshape(cross, tf.concat([[b1 * b2], tf.shape(cross)[2:]], 0))
  nngp = tf.concat([cross, tf.reduce_sum(x1 * x1, -1) / c, tf.reduce_sum(x2 * x2, -1) / c], 0)
  cross_index, own = tf.range(b1 * b2), b1 * b2 + tf.range(b1 + b2)
  return _Pairs(nngp, None, tf.concat([b1 * b2 + cross_index // b2, own], 0),
                tf.concat([b1 * b2 + b1 + cross_index % b2, own], 0))


def _triangle_pairs(x) -> Tuple[_Pairs, tf.Tensor]:
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
  pairs = _Pairs(tf.gather(gram, first * n + second), None, index(first, first),
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


def _pairs_apply(layer: Tuple, pairs: _Pairs, w2: float, b2: float, trained: bool) -> _Pairs:
  """One layer's rule (module docstring) on same-pixel pairs."""
  kind, image = layer[0], pairs.nngp.shape.rank == 3
  nngp, ntk = pairs.nngp, pairs.ntk
  if kind == "relu":
    nngp, derivative = _arc_cosine(nngp, tf.gather(nngp, pairs.own1),
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
  return _Pairs(nngp, ntk, pairs.own1, pairs.own2)


def _pair_kernels(spec, flags, pairs: _Pairs, w_std: float, b_std: float, points=None):
  """{None: (nngp, ntk)}, each (P,), of the network `spec` on the input kernels of `pairs`,
  and {depth: (nngp, ntk)} read out after the layers of `points` (`readout_points`)."""
  w2, b2, out = w_std ** 2, b_std ** 2, {}
  finish = lambda p: (p.nngp, tf.zeros_like(p.nngp) if p.ntk is None else p.ntk)
  for i, (layer, trained) in enumerate(zip(spec, flags)):
    pairs = _pairs_apply(layer, pairs, w2, b2, trained)
    if points and i in points:
      head = pairs
      for tail, tail_trained in zip(spec[-2:], flags[-2:]):
        head = _pairs_apply(tail, head, w2, b2, tail_trained)
      out[points[i]] = finish(head)
  if pairs.nngp.shape.rank != 1:
    raise ConfigError("the architecture must end with a dense readout.")
  out[None] = finish(pairs)
  return out


# -- blocked driver ------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _block_function(spec: Tuple[Tuple, ...], w_std: float, b_std: float, trained_layers: str,
                    readout_depths: Optional[Tuple[int, ...]],
                    signature: Tuple[tf.TensorSpec, ...]):
  """block_kernels (two inputs) or symmetric_block_kernels (one) traced for `signature`, kept
  for later calls: tracing a deep CNTK takes longer than computing 64 images' CNTK-V, so a
  kernel computed again (after a warm-up, on another split) reuses the graph."""
  kwargs = dict(trained_layers=trained_layers, readout_depths=readout_depths)
  if len(signature) == 1:
    fn = lambda x: symmetric_block_kernels(spec, x, w_std, b_std, **kwargs)
  else:
    fn = lambda a, b: block_kernels(spec, a, b, w_std, b_std, **kwargs)
  return tf.function(fn, input_signature=signature, autograph=False)


def _block_signature(spec, block, dtype) -> tf.TensorSpec:
  """The traced input of a block of samples: same-pixel graphs serve every block size (unknown
  batch dimension); the others are traced per block shape, as before (a trace generalized over
  shapes rounds differently). Either way a block's values do not depend on which block came
  first, so a resumed run is bit-identical."""
  return tf.TensorSpec((None if _same_pixel(spec) else len(block),) + block.shape[1:], dtype)


def _pair_bytes(spec, input_shape, itemsize: int) -> int:
  """Bytes per sample pair of the largest intermediate, times the copies alive at the peak:
  6 for same-pixel pairs (NNGP, NTK and temporaries), 11 for pixel pairs (measured: 6.7 GB
  peak for blocks of 16 on 28x28 CNTK-GAP in float32)."""
  if len(input_shape) != 3 or spec[0][0] == "flatten":
    return 64 * itemsize
  h, w = input_shape[:2]
  if _same_pixel(spec):
    return 6 * h * w * itemsize
  return 11 * (h * w) ** 2 * itemsize


def kernels(arch: str, x1, x2=None, *, depth: Optional[int] = None,
            w_std: float = math.sqrt(2.0), b_std: float = 0.0, dtype="float64",
            memory_limit_gb: float = 4.0, block_size: Optional[int] = None,
            checkpoint_dir: Optional[str] = None, log_every_seconds: float = 30.0,
            devices: Optional[Sequence[str]] = None, trained_layers: str = "all",
            readout_depths: Optional[Sequence[int]] = None) -> dict:
  """{"nngp": (n1, n2), "ntk": (n1, n2)} float64 arrays of the infinite-width network.

  Args:
    arch: one of ARCHITECTURES; depth for mlp (dense layers), cnn_v and cnn_gap (convs).
    x1, x2: inputs (n, H, W, C) or (n, D); x2=None computes the symmetric kernel once per pair.
    w_std, b_std: the NTK parameterization's weight and bias standard deviations.
    dtype: "float32" or "float64" computation.
    memory_limit_gb: the blocks of sample pairs are sized to fit; refused if one pair cannot.
    checkpoint_dir: finished blocks are saved there and reused by a rerun of the same kernel.
    devices: TensorFlow device names to spread block pairs over, round robin and concurrently
      (default: every GPU, else the default device); "CPU" or "GPU" selects all of that kind.
    trained_layers: "all" (the NTK of the fully trained net), or "middle": the NTK with the
      first and readout layers fixed (Arora et al.'s CNTK-GAP of Table 1; module docstring).
    readout_depths: cnn_v/cnn_gap: also the kernels of the same net with these numbers of
      convolutions, read out in the same pass (`readout_points`), returned under "by_depth":
      {d: {"nngp", "ntk"}}, the full depth included.
  """
  spec = layers(arch, depth)
  trained_flags(spec, trained_layers)  # Refuses unknown variants and nets without middle layers.
  points = readout_points(spec, readout_depths, trained_layers)  # Refuses bad depths.
  depths = sorted(points.values()) + [sum(layer[0] == "conv" for layer in spec)]
  if readout_depths is not None:
    readout_depths = tuple(sorted(set(readout_depths)))
  dtype = tf.as_dtype(dtype)
  symmetric = x2 is None
  x1 = np.asarray(x1)
  x2 = x1 if symmetric else np.asarray(x2)
  if x1.shape[1:] != x2.shape[1:]:
    raise ConfigError(f"x1 and x2 have different sample shapes {x1.shape[1:]} and "
                      f"{x2.shape[1:]}.")
  require_finite_inputs(x1, x2)
  n1, n2 = len(x1), len(x2)
  budget = memory_limit_gb * 2 ** 30 - 2 * n1 * n2 * 8
  per_pair = _pair_bytes(spec, x1.shape[1:], dtype.size)
  if block_size is None:
    block_size = min(math.isqrt(int(max(0, budget) // per_pair)), max(n1, n2))
    if block_size >= 1 and _same_pixel(spec):  # Elementwise work: tensors of ~16 MB stay in
      # cache and run 2.2x faster than the largest blocks that fit (measured, CNTK-V on 28x28).
      block_size = max(1, min(block_size, math.isqrt(CACHE_BYTES * 6 // per_pair)))
    elif block_size >= 1:  # Pixel pairs, fused by XLA: larger blocks amortize better.
      block_size = min(block_size, PIXEL_PAIR_BLOCK)
  if block_size < 1:
    raise ConfigError(
        f"one sample pair of {arch} on {x1.shape[1:]} inputs needs ~{per_pair / 2 ** 30:.2f} GiB"
        f" plus {2 * n1 * n2 * 8 / 2 ** 30:.2f} GiB for the kernels, over memory_limit_gb="
        f"{memory_limit_gb}; raise the limit or use fewer samples.")
  memory.check(2 * n1 * n2 * 8 + per_pair * block_size ** 2,
               f"the {n1}x{n2} {arch} kernels (blocks of {block_size})",
               "use fewer samples, a smaller kernel.block_size, or a larger machine.")
  if checkpoint_dir:
    blocked.open_checkpoints(
        checkpoint_dir, dict(arch=arch, depth=depth, w_std=w_std, b_std=b_std,
                             dtype=dtype.name, block_size=block_size, n1=n1, n2=n2,
                             symmetric=symmetric, digest=io.sha1_of(x1, x2),
                             trained_layers=trained_layers,
                             readout_depths=list(readout_depths or ())),
        "use an empty directory.", defaults=_MANIFEST_DEFAULTS)
  num_pairs = len(blocked.block_pairs(n1, n2, block_size, symmetric)[2])
  logging.info("%s kernel %dx%d (%s): blocks of %d samples, %d block pairs", arch, n1, n2,
               VARIANT_LABELS[trained_layers], block_size, num_pairs)

  triangles = symmetric and _same_pixel(spec)  # A block with itself: each pair once.

  def compute(rows, cols, device):
    del device  # The driver places the work.
    blocks = [x1[rows]] if triangles and rows == cols else [x1[rows], x2[cols]]
    fn = _block_function(tuple(spec), w_std, b_std, trained_layers, readout_depths,
                         tuple(_block_signature(spec, b, dtype) for b in blocks))
    out = fn(*(tf.constant(b, dtype) for b in blocks))
    if readout_depths is None:
      return {"nngp": out[0], "ntk": out[1]}
    return {f"{name}@{d}": out[d][i] for d in depths for i, name in enumerate(("nngp", "ntk"))}

  names = ["nngp", "ntk"] if readout_depths is None else [
      f"{name}@{d}" for d in depths for name in ("nngp", "ntk")]
  result = blocked.run(
      n1, n2, block_size, symmetric=symmetric, trailing={name: () for name in names},
      compute=compute, label=f"{arch} kernel",
      where=lambda r, c: (f"the {arch} kernel block of samples {r.start}:{r.stop} x "
                          f"{c.start}:{c.stop}"),
      fix=("the inputs were finite, so this is an overflow: standardize the inputs or lower "
           "w_std/b_std, or compute in float64 (dtype='float64')."),
      checkpoint_dir=checkpoint_dir, devices=devices, log_every_seconds=log_every_seconds)
  if readout_depths is None:
    return result
  by_depth = {d: {name: result[f"{name}@{d}"] for name in ("nngp", "ntk")} for d in depths}
  return dict(by_depth[depths[-1]], by_depth=by_depth)


# Keys added to the manifest later, with the value an older manifest without them meant.
_MANIFEST_DEFAULTS = {"trained_layers": "all", "readout_depths": []}

