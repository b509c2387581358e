"""The blocked driver shared by every kernel computed pair of sample blocks by pair of blocks:
the empirical NTK (empirical.py) and the infinite-width kernels (infinite.py).

A kernel over n1 × n2 samples is cut into blocks of `block_size` samples (the last one may be
partial). The driver owns what every such computation needs, written once:
- the block plan: which block pairs to compute (a symmetric kernel computes each off-diagonal
  pair once and mirrors it, Θ[j, i, b, a] = Θ[i, j, a, b]);
- devices round robin: one block pair per device, all dispatched before any is read back, so
  GPUs work concurrently;
- checkpoints: each finished block pair is written atomically beside a manifest of what
  identifies the kernel, and a rerun of the same kernel reuses it (a damaged file is set aside
  and recomputed);
- a finiteness check of every fresh block, with the caller's diagnosis;
- progress with entries per second and an ETA.
The caller supplies only `compute(rows, cols, device)`, the arrays of one block pair.
"""

import contextlib
import os
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.errors import ConfigError, require_finite
from ntk_tf.utils import distribute, io, progress


_BLAS_GFLOPS = {}


def blas_gflops(itemsize: int = 4) -> float:
  """This machine's matrix-product rate (GFLOP/s) in float32 (itemsize 4) or float64, measured
  once per process on a 768×768 product (best of 3, ~10 ms): what the cost estimates of
  contractions are divided by."""
  if itemsize not in _BLAS_GFLOPS:
    a = np.random.default_rng(0).normal(size=(768, 768)).astype(np.float32 if itemsize == 4
                                                                 else np.float64)
    best = float("inf")
    for _ in range(3):
      start = time.perf_counter()
      a @ a
      best = min(best, time.perf_counter() - start)
    _BLAS_GFLOPS[itemsize] = 2 * 768 ** 3 / max(best, 1e-9) / 1e9
  return _BLAS_GFLOPS[itemsize]


def pair_bytes(block: int, entries: int, itemsize: int) -> int:
  """Memory of one block pair's result on its way out: the computation's products in its
  dtype (a Gram, its product with another, the running sum, one spare) and the float64 copy
  `run` checks and mirrors. entries: per sample pair (L² for every output pair, 1 with the
  trace). Calibrated on LeNet x1 and ResNet-18 (benchmarks/ntk_memory.py)."""
  return block * block * entries * (4 * itemsize + 16)


def largest_fitting(fits: Callable[[int], bool], high: int) -> int:
  """The largest b in 0..high with fits(b), for fits true up to some size and false after
  (0 if not even 1 fits); by bisection."""
  low = 0
  while low < high:
    middle = (low + high + 1) // 2
    low, high = (middle, high) if fits(middle) else (low, middle - 1)
  return low


def blocks(n: int, size: int) -> List[slice]:
  """Consecutive slices of `size` samples covering range(n); the last may be shorter."""
  return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def block_pairs(n1: int, n2: int, size: int, symmetric: bool):
  """(row slices, column slices, [(i, j)] block pairs to compute): j ≥ i when symmetric."""
  rows, cols = blocks(n1, size), blocks(n2, size)
  pairs = [(i, j) for i in range(len(rows)) for j in range(len(cols)) if not symmetric or j >= i]
  return rows, cols, pairs


def open_checkpoints(directory: str, fingerprint: dict, hint: str,
                     defaults: Optional[dict] = None) -> None:
  """Creates the block directory, or checks that its blocks belong to this kernel.

  defaults: keys added to fingerprints later, with the value a manifest without them meant.
  """
  os.makedirs(directory, exist_ok=True)
  changed = io.check_manifest(os.path.join(directory, "manifest.json"), fingerprint)
  for key, value in (defaults or {}).items():
    if key in changed and changed[key] is None and fingerprint[key] == value:
      del changed[key]
  if changed:
    digests = {"sha1", "digest"} & set(changed)
    values = ", ".join(f"{k}={v!r}" for k, v in changed.items() if k not in digests)
    raise ConfigError(f"checkpoint_dir {directory} holds blocks of another kernel "
                      f"({', '.join(changed)} differ{': ' + values if values else ''}"
                      f"{'; inputs or weights differ' if digests else ''}); {hint}")


def mirrored(block: np.ndarray) -> np.ndarray:
  """The block of the transposed pair: (b1, b2, *trailing) -> (b2, b1, *reversed trailing)."""
  rank = block.ndim
  return block.transpose((1, 0) + tuple(range(rank - 1, 1, -1)))


def run(n1: int, n2: int, block_size: int, *, symmetric: bool,
        trailing: Dict[str, Tuple[int, ...]],
        compute: Callable[[slice, slice, Optional[str]], Dict[str, object]],
        label: str, where: Callable[[slice, slice], str], fix: str,
        finish: Optional[Callable[[str, np.ndarray], np.ndarray]] = None,
        checkpoint_dir: Optional[str] = None, devices=None,
        log_every_seconds: float = 30.0) -> Dict[str, np.ndarray]:
  """Computes a blocked kernel; returns {name: float64 array (n1, n2, *trailing[name])}.

  Args:
    trailing: the arrays every block pair gives, by name, with their per-entry shapes (() for
      a scalar kernel, (L, L) for every output pair). A single array named "array" is
      checkpointed as .npy, several as .npz.
    compute: (row slice, column slice, device name or None) -> {name: tensor or array} for one
      block pair, dispatched on that device; read back only after the whole device group is
      dispatched.
    where, fix: what a non-finite fresh block is called, and what to do about it.
    finish: applied to each fresh block as a float64 array (e.g. the output trace).
  """
  rows, cols, pairs = block_pairs(n1, n2, block_size, symmetric)
  out = {name: np.zeros((n1, n2) + tuple(shape)) for name, shape in trailing.items()}
  suffix = "npy" if list(trailing) == ["array"] else "npz"
  device_list = distribute.resolve_devices(devices)
  if len(device_list) > 1:
    logging.info("%s: block pairs spread over %s", label, ", ".join(map(str, device_list)))
  bar = progress.Progress(len(pairs), label, unit="block pairs",
                          log_every_seconds=log_every_seconds)
  entries = 0
  for group_start in range(0, len(pairs), len(device_list)):
    launched = []
    for device, (i, j) in zip(device_list, pairs[group_start:group_start + len(device_list)]):
      path = checkpoint_dir and os.path.join(checkpoint_dir, f"block_{i}_{j}.{suffix}")
      shape = (rows[i].stop - rows[i].start, cols[j].stop - cols[j].start)
      if path and os.path.exists(path):
        saved = io.load_arrays(path, shapes={name: shape + tuple(s)
                                             for name, s in trailing.items()})
        if saved is not None:  # Else set aside with a warning, and recomputed.
          launched.append((i, j, path, saved, False))
          continue
      with tf.device(device) if device else contextlib.nullcontext():
        launched.append((i, j, path, compute(rows[i], cols[j], device), True))
    for i, j, path, arrays, fresh in launched:
      if fresh:
        arrays = {name: require_finite(np.asarray(arrays[name], dtype=np.float64),
                                       f"{where(rows[i], cols[j])}"
                                       f"{'' if len(trailing) == 1 else f' ({name.upper()})'}", fix)
                  for name in trailing}
        if finish:
          arrays = {name: finish(name, a) for name, a in arrays.items()}
        if path:
          if suffix == "npy":
            io.write_npy(path, arrays["array"])
          else:
            io.write_npz(path, **arrays)
        entries += (rows[i].stop - rows[i].start) * (cols[j].stop - cols[j].start)
      for name, block in arrays.items():
        out[name][rows[i], cols[j]] = block
        if symmetric and i != j:
          out[name][cols[j], rows[i]] = mirrored(block)
    elapsed = max(time.time() - bar.start, 1e-9)
    bar.update(len(launched), extra=f"({entries / elapsed:,.0f} entries/s)")
  bar.close()
  return out
