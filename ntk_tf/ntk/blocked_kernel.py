"""An engine's empirical NTK over blocks of samples: each block pair's kernel is the engine's
`block` of its two blocks' `features`, run by the block driver (blocked.py: block plan,
devices, checkpoints, finiteness, progress). Blocks' features are cached: every block's as
long as they fit in the memory the plan leaves (then each is computed once per kernel), else
a new block evicts every cached one but the block it is paired with. The output trace is
taken here from every output pair where the engine does not form it itself.
"""

import os
from typing import Optional

import numpy as np
import tensorflow as tf

from ntk_tf.ntk import blocked


def nbytes(structure) -> int:
  """Bytes held by the arrays and tensors of a nested structure of features."""
  return sum(int(np.prod(t.shape)) * t.dtype.size if tf.is_tensor(t) else t.nbytes
             for t in tf.nest.flatten(structure) if t is not None)


def compute(engine, x1: np.ndarray, x2: np.ndarray, *, symmetric: bool, block_size: int,
            batch: Optional[int] = None, chunk_bytes: int = 0, spare_bytes: int = 0,
            checkpoint_dir: Optional[str] = None, devices=None,
            log_every_seconds: float = 30.0) -> np.ndarray:
  """Θ(x1, x2) of `engine`, float64: (n1, n2, L, L), or (n1, n2) with engine.trace (the
  output average).

  Args:
    symmetric: x2 is x1; each off-diagonal block pair is computed once and mirrored.
    block_size, batch, chunk_bytes: as planned (planning.Plan).
    spare_bytes: what the budget leaves beside the plan's peak, for cached features.
    checkpoint_dir: block pairs (and a long block pair's partial sums) are saved there and
      reused; the caller has checked that its blocks belong to this kernel.
  """
  n1, n2, num_out, trace = len(x1), len(x2), engine.num_outputs, engine.trace
  cache = {}

  def features(x, key, keep=None):
    """Features of a block, cached; two blocks' features are in the plan's peak."""
    if key not in cache:
      if cache:
        held = sum(nbytes(v) for v in cache.values())
        per_block = held / len(cache)
        if held + per_block > spare_bytes + 2 * per_block:
          for stale in [k for k in cache if k != keep]:
            del cache[stale]
      cache[key] = engine.features(x, batch)
    return cache[key]

  def block_pair(rows, cols, device):
    del device  # The driver places the work.
    i, j = rows.start // block_size, cols.start // block_size
    a = features(x1[rows], ("x1", i))
    b = features(x2[cols], ("x1" if symmetric else "x2", j), keep=("x1", i))
    partial = checkpoint_dir and os.path.join(checkpoint_dir, f"partial_{i}_{j}.npz")
    return {"array": engine.block(a, b, chunk_bytes=chunk_bytes, partial=partial,
                                  log_every_seconds=log_every_seconds)}

  def finish(name, block):
    del name
    if trace and block.ndim == 4:
      block = np.einsum("ijaa->ij", block)
    return block / num_out if trace else block

  return blocked.run(
      n1, n2, block_size, symmetric=symmetric,
      trailing={"array": () if trace else (num_out, num_out)}, compute=block_pair,
      label="empirical NTK",
      where=lambda r, c: (f"the empirical NTK block of samples {r.start}:{r.stop} x "
                          f"{c.start}:{c.stop}"),
      fix=("the inputs and weights were finite, so this is an overflow: standardize the "
           "inputs, lower the init scale (w_std), or compute in float64 (dtype='float64')."),
      finish=finish, checkpoint_dir=checkpoint_dir, devices=devices,
      log_every_seconds=log_every_seconds)["array"]
