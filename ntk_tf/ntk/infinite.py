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

Precision: d/dc arccos(c) diverges at c = 1, so entries with x ≈ x' (the diagonal) inherit a
relative rounding error of order √eps from cos θ: ~1e-8 in float64, ~3e-4 in float32.
"""

import dataclasses
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
CACHE_BYTES = 16 * 2 ** 20  # Target size of one block's cross-kernel tensor.


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


# -- kernel algebra on blocks --------------------------------------------------------------
@dataclasses.dataclass
class _State:
  """NNGP and NTK of a block of sample pairs, and each sample's self-kernel.

  Images: cross (b1, b2, H, W, H, W), self (b, H, W, H, W); with `diagonal` only the
  same-pixel pairs p = p': (b1, b2, H, W) and (b, H, W). Vectors: (b1, b2) and (b,).
  """
  nngp: tf.Tensor
  ntk: tf.Tensor
  self1: tf.Tensor
  self2: tf.Tensor
  image: bool
  diagonal: bool = False


def _input_state(x1, x2, diagonal: bool = False) -> _State:
  if len(x1.shape) == 2:  # Vectors: K = x·x' / d.
    d = tf.cast(tf.shape(x1)[-1], x1.dtype)
    nngp = tf.matmul(x1, x2, transpose_b=True) / d
    return _State(nngp, tf.zeros_like(nngp), tf.reduce_sum(x1 * x1, -1) / d,
                  tf.reduce_sum(x2 * x2, -1) / d, image=False)
  c = tf.cast(tf.shape(x1)[-1], x1.dtype)
  if diagonal:
    nngp = tf.einsum("ahwc,bhwc->abhw", x1, x2) / c
    return _State(nngp, tf.zeros_like(nngp), tf.reduce_sum(x1 * x1, -1) / c,
                  tf.reduce_sum(x2 * x2, -1) / c, image=True, diagonal=True)
  nngp = tf.einsum("ahwc,bijc->ahwbij", x1, x2) / c
  nngp = tf.transpose(nngp, [0, 3, 1, 2, 4, 5])
  return _State(nngp, tf.zeros_like(nngp), tf.einsum("ahwc,aijc->ahwij", x1, x1) / c,
                tf.einsum("ahwc,aijc->ahwij", x2, x2) / c, image=True)


def _diag(self_kernel, image: bool, diagonal: bool = False):
  """K(x, x) at each pixel (b, H, W) from the self-kernel (b, H, W, H, W), or (b,)."""
  if not image or diagonal:
    return self_kernel
  b, h, w = tf.shape(self_kernel)[0], tf.shape(self_kernel)[1], tf.shape(self_kernel)[2]
  flat = tf.reshape(self_kernel, [b, h * w, h * w])
  return tf.reshape(tf.linalg.diag_part(flat), [b, h, w])


def _conv_sum(k, size: int, padding: str, batch_dims: int, diagonal: bool = False):
  """Σ_δ K(p+δ, p'+δ) over the size×size offsets δ for the spatial dims after batch_dims
  (with `diagonal`, K holds only p = p' and this is a box sum over the image).

  The sum is separable: shifts along rows (i, i') then along columns (j, j'), 2·size slice-adds
  instead of size² (measured 1.5x faster than the direct form on the CPU).
  """
  spatial = 2 if diagonal else 4
  if padding == "same":
    lo = (size - 1) // 2
    pads = [[0, 0]] * batch_dims + [[lo, size - 1 - lo]] * spatial
    k = tf.pad(k, pads)
  for axis in (0, 1):  # Rows (dims batch+0 and batch+2), then columns (batch+1, batch+3).
    dims = [batch_dims + axis] + ([] if diagonal else [batch_dims + 2 + axis])
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


def _relu(state: _State) -> _State:
  d1 = _diag(state.self1, state.image, state.diagonal)
  d2 = _diag(state.self2, state.image, state.diagonal)

  def arccos(k, theta, v1, v2):
    norm = tf.sqrt(v1 * v2)
    safe = tf.where(norm > 0, norm, tf.ones_like(norm))
    cos = tf.clip_by_value(tf.where(norm > 0, k / safe, tf.zeros_like(k)), -1.0, 1.0)
    angle = tf.acos(cos)
    k_new = norm * (tf.sin(angle) + (math.pi - angle) * cos) / (2 * math.pi)
    derivative = (math.pi - angle) / (2 * math.pi)
    return k_new, theta * derivative

  if state.diagonal:
    v1, v2 = d1[:, None], d2[None]
    s1, s2 = (d1, d1), (d2, d2)
  elif state.image:
    v1 = d1[:, None, :, :, None, None]
    v2 = d2[None, :, None, None, :, :]
    s1 = (d1[:, :, :, None, None], d1[:, None, None, :, :])
    s2 = (d2[:, :, :, None, None], d2[:, None, None, :, :])
  else:
    v1, v2 = d1[:, None], d2[None, :]
    s1, s2 = (d1, d1), (d2, d2)
  nngp, ntk = arccos(state.nngp, state.ntk, v1, v2)
  self1, _ = arccos(state.self1, state.self1, *s1)
  self2, _ = arccos(state.self2, state.self2, *s2)
  return _State(nngp, ntk, self1, self2, state.image, state.diagonal)


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
    scale = w2 / size ** 2

    def conv(batch_dims):
      return lambda k: scale * _conv_sum(k, size, padding, batch_dims, state.diagonal)

    nngp = conv(2)(state.nngp) + b2
    ntk = conv(2)(state.ntk) + (nngp if trained else 0.0)
    return _State(nngp, ntk, conv(1)(state.self1) + b2,
                  conv(1)(state.self2) + b2, True, state.diagonal)
  if state.diagonal and kind == "flatten":
    return _State(*(tf.reduce_mean(t, axis=[-2, -1]) for t in (state.nngp, state.ntk,
                                                              state.self1, state.self2)),
                  image=False)
  if state.diagonal:
    raise ConfigError(f"layer {kind} needs pixel pairs p != p' (no diagonal mode).")
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
                  trained_layers: str = "all"):
  """(nngp, ntk) of shape (b1, b2) for one block pair of inputs (tensors).

  diagonal: track only same-pixel pairs (default: whenever the architecture allows it).
  trained_layers: "all", or "middle" (the first and readout layers fixed; module docstring).
  """
  spec = list(spec)
  flags = trained_flags(spec, trained_layers)
  if spec and spec[0][0] == "flatten":
    # Flatten at the input: K = x·x'/(H·W·C), as the mean over same-pixel pairs gives.
    x1, x2 = tf.reshape(x1, [tf.shape(x1)[0], -1]), tf.reshape(x2, [tf.shape(x2)[0], -1])
    spec, flags = spec[1:], flags[1:]
  state = _input_state(x1, x2, _diagonal(spec) if diagonal is None else diagonal)
  for layer, trained in zip(spec, flags):
    state = _apply(layer, state, w_std, b_std, trained)
  if state.image:
    raise ConfigError("the architecture must end with a dense readout.")
  return state.nngp, state.ntk


def _diagonal(spec) -> bool:
  """Whether only same-pixel pairs are needed: convolutions preserve the offset p' − p and a
  flatten readout keeps p = p', so without pooling K(p, p') with p' ≠ p never matters (Arora
  et al.'s CNTK-V then costs O(H·W) per pair instead of O((H·W)²))."""
  kinds = [layer[0] for layer in spec]
  return (bool(kinds) and kinds[0] == "conv" and "flatten" in kinds
          and not {"avg_pool", "gap"} & set(kinds[:kinds.index("flatten")]))


# -- blocked driver ------------------------------------------------------------------------
def _pair_bytes(spec, input_shape, itemsize: int) -> int:
  """Bytes per sample pair of the largest intermediate (×6 for NNGP, NTK and temporaries)."""
  if len(input_shape) != 3 or spec[0][0] == "flatten":
    return 64 * itemsize
  h, w = input_shape[:2]
  return 6 * h * w * (1 if _diagonal(spec) else h * w) * itemsize


def kernels(arch: str, x1, x2=None, *, depth: Optional[int] = None,
            w_std: float = math.sqrt(2.0), b_std: float = 0.0, dtype="float64",
            memory_limit_gb: float = 4.0, block_size: Optional[int] = None,
            checkpoint_dir: Optional[str] = None, log_every_seconds: float = 30.0,
            devices: Optional[Sequence[str]] = None, trained_layers: str = "all") -> dict:
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
  """
  spec = layers(arch, depth)
  trained_flags(spec, trained_layers)  # Refuses unknown variants and nets without middle layers.
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
    if block_size >= 1:  # The work is elementwise: tensors of ~16 MB stay in cache and run
      # 2.2x faster than the largest blocks that fit (measured, CNTK-V on 28x28).
      block_size = max(1, min(block_size, math.isqrt(CACHE_BYTES * 6 // per_pair)))
  if block_size < 1:
    raise ConfigError(
        f"one sample pair of {arch} on {x1.shape[1:]} inputs needs ~{per_pair / 2 ** 30:.2f} GiB"
        f" plus {2 * n1 * n2 * 8 / 2 ** 30:.2f} GiB for the kernels, over memory_limit_gb="
        f"{memory_limit_gb}; raise the limit or use fewer samples.")
  memory.check(2 * n1 * n2 * 8 + per_pair * block_size ** 2,
               f"the {n1}x{n2} {arch} kernels (blocks of {block_size})",
               "use fewer samples, a smaller kernel.block_size, or a larger machine.")
  fn = tf.function(lambda a, b: block_kernels(spec, a, b, w_std, b_std,
                                              trained_layers=trained_layers))
  if checkpoint_dir:
    blocked.open_checkpoints(
        checkpoint_dir, dict(arch=arch, depth=depth, w_std=w_std, b_std=b_std,
                             dtype=dtype.name, block_size=block_size, n1=n1, n2=n2,
                             symmetric=symmetric, digest=io.sha1_of(x1, x2),
                             trained_layers=trained_layers),
        "use an empty directory.", defaults=_MANIFEST_DEFAULTS)
  num_pairs = len(blocked.block_pairs(n1, n2, block_size, symmetric)[2])
  logging.info("%s kernel %dx%d (%s): blocks of %d samples, %d block pairs", arch, n1, n2,
               VARIANT_LABELS[trained_layers], block_size, num_pairs)

  def compute(rows, cols, device):
    del device  # The driver places the work.
    k, t = fn(tf.constant(x1[rows], dtype), tf.constant(x2[cols], dtype))
    return {"nngp": k, "ntk": t}

  return blocked.run(
      n1, n2, block_size, symmetric=symmetric, trailing={"nngp": (), "ntk": ()},
      compute=compute, label=f"{arch} kernel",
      where=lambda r, c: (f"the {arch} kernel block of samples {r.start}:{r.stop} x "
                          f"{c.start}:{c.stop}"),
      fix=("the inputs were finite, so this is an overflow: standardize the inputs or lower "
           "w_std/b_std, or compute in float64 (dtype='float64')."),
      checkpoint_dir=checkpoint_dir, devices=devices, log_every_seconds=log_every_seconds)


# Keys added to the manifest later, with the value an older manifest without them meant.
_MANIFEST_DEFAULTS = {"trained_layers": "all"}

