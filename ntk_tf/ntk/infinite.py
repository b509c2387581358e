"""Infinite-width NNGP and NTK kernels of ReLU MLPs and CNNs (Jacot et al. 2018; Arora et al.
2019, CNTK): the architectures as layer lists (`layers`), which weight layers are trained
(`trained_flags`), the kernels of one block pair by the layer recursions of infinite_layers.py
(`block_kernels`, and `symmetric_block_kernels` for a block with itself), and `kernels`, which
plans blocks of sample pairs within a memory budget and computes them with the block driver
(blocked.py: devices, checkpoints, progress), reading out shallower depths of the same net on
the way when asked.
"""

import functools
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.errors import ConfigError, require_finite_inputs
from ntk_tf.ntk import blocked, infinite_layers
from ntk_tf.utils import io, memory


ARCHITECTURES = ("mlp", "cnn_v", "cnn_gap", "myrtle", "cnn5")
TRAINED_LAYERS = ("all", "middle")  # Whose weights the NTK differentiates (`trained_flags`).
VARIANT_LABELS = {"all": "all layers trained",
                  "middle": "first and last layers fixed (only the middle layers trained)"}
CACHE_BYTES = 16 * 2 ** 20  # Target size of one same-pixel block's cross-kernel tensor.
PIXEL_PAIR_BLOCK = 16  # Samples per block of pixel-pair kernels (28x28 CNTK-GAP: 48 pairs/s at
                       # 8, 52 at 12, 55 at 16; float32, 2-core CPU).


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

  Θ is linear in the per-layer terms, Θ = Σ_l Θ_l, where Θ_l (the kernel of the gradients of
  weight layer l's W and b) is that layer's "+ K'" (infinite_layers.apply_layer), carried
  through the layers after it (ReLU multiplies by K̇, convolutions and pooling apply their
  linear maps, the readout scales by W_std²). "middle" keeps only the layers strictly between
  the first and the readout, as when those two are fixed at initialization (Arora et al. 2019's
  released CNTK code, option `fix`, used for Table 1's CNTK-GAP column). It drops exactly two
  terms:
  - the first layer's: Θ = 0 after it instead of Θ¹ = K¹ (Arora et al.'s Θ⁽⁰⁾ = Σ⁽⁰⁾ set to 0),
    and
  - the readout's: Θ' = W_std² Θ instead of W_std² Θ + K' (the NNGP of the output,
    K' = W_std² K + b_std² with K the pooled/flattened penultimate kernel).
  So Θ_middle = Θ − NNGP − Θ_1 (both dropped terms are PSD kernels); the NNGP is unchanged.
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


def block_kernels(spec: Sequence[Tuple], x1, x2, w_std: float = math.sqrt(2.0),
                  b_std: float = 0.0, diagonal: Optional[bool] = None,
                  trained_layers: str = "all", readout_depths: Optional[Sequence[int]] = None):
  """(nngp, ntk) of shape (b1, b2) for one block pair of inputs (tensors).

  diagonal: track only same-pixel pairs (default: whenever the architecture allows it).
  trained_layers: "all", or "middle" (the first and readout layers fixed; `trained_flags`).
  readout_depths: also the kernels of the same net with these numbers of convolutions, read
    out on the way (`readout_points`); then {depth: (nngp, ntk)} for these and the full depth.
  """
  spec = list(spec)
  flags = trained_flags(spec, trained_layers)
  points = readout_points(spec, readout_depths)
  if _same_pixel(spec) if diagonal is None else diagonal:
    b1, b2 = tf.shape(x1)[0], tf.shape(x2)[0]
    cut = lambda k: tf.reshape(k[:b1 * b2], [b1, b2])
    out = _pair_kernels(spec, flags, infinite_layers.cross_pairs(x1, x2), w_std, b_std,
                        points)
    return _by_depth(out, cut, spec, readout_depths)
  if spec and spec[0][0] == "flatten":
    # Flatten at the input: K = x·x'/(H·W·C), as the mean over same-pixel pairs gives.
    x1, x2 = tf.reshape(x1, [tf.shape(x1)[0], -1]), tf.reshape(x2, [tf.shape(x2)[0], -1])
    spec, flags = spec[1:], flags[1:]
  state, out = infinite_layers.input_state(x1, x2), {}
  for i, (layer, trained) in enumerate(zip(spec, flags)):
    state = infinite_layers.apply_layer(layer, state, w_std, b_std, trained)
    if i in points:
      head = state
      for tail, tail_trained in zip(spec[-2:], flags[-2:]):
        head = infinite_layers.apply_layer(tail, head, w_std, b_std, tail_trained)
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
  pairs, entry_pair = infinite_layers.triangle_pairs(x)
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


def _pair_kernels(spec, flags, pairs: infinite_layers.Pairs, w_std: float, b_std: float,
                  points=None):
  """{None: (nngp, ntk)}, each (P,), of the network `spec` on the input kernels of `pairs`,
  and {depth: (nngp, ntk)} read out after the layers of `points` (`readout_points`)."""
  w2, b2, out = w_std ** 2, b_std ** 2, {}
  finish = lambda p: (p.nngp, tf.zeros_like(p.nngp) if p.ntk is None else p.ntk)
  for i, (layer, trained) in enumerate(zip(spec, flags)):
    pairs = infinite_layers.pairs_apply_layer(layer, pairs, w2, b2, trained)
    if points and i in points:
      head = pairs
      for tail, tail_trained in zip(spec[-2:], flags[-2:]):
        head = infinite_layers.pairs_apply_layer(tail, head, w2, b2, tail_trained)
      out[points[i]] = finish(head)
  if pairs.nngp.shape.rank != 1:
    raise ConfigError("the architecture must end with a dense readout.")
  out[None] = finish(pairs)
  return out


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
      first and readout layers fixed (Arora et al.'s CNTK-GAP of Table 1; `trained_flags`).
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
