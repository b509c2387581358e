"""Dense least squares: J built blockwise (in memory or in an np.memmap), then LAPACK gelsd.

Samarin et al. 2022 §4.3 solve eq. (4), J(w0, X)·u = y − f(w0, X), with SciPy's least-squares
solver; gelsd returns the minimum-norm solution and the numerical rank. J is stored in float64
in Fortran order so that LAPACK works on it in place (overwrite_a): peak memory is J plus
gelsd's workspace. With storage="memmap" J lives in a file (for solver-only runs on large CPU
nodes); the file is scratch space that LAPACK overwrites, removed after the solve.
"""

import dataclasses
import time
from typing import Optional, Sequence

import keras
import numpy as np
import scipy.linalg
import scipy.linalg.lapack
from absl import logging

from ntk_tf.errors import ConfigError
from ntk_tf.ntk import engines
from ntk_tf.utils import memory

STORAGES = ("memory", "memmap")


@dataclasses.dataclass
class DenseEstimate:
  rows: int
  num_params: int
  jacobian_bytes: int
  peak_bytes: int   # In memory: J + gelsd workspace (+ a block of per-sample Jacobians).
  disk_bytes: int   # memmap: the file.

  def describe(self) -> str:
    return (f"J is {self.rows:,} x {self.num_params:,} = {self.jacobian_bytes / 2 ** 30:.2f} GiB "
            f"in float64; peak ~{self.peak_bytes / 2 ** 30:.2f} GiB of memory"
            + (f", {self.disk_bytes / 2 ** 30:.2f} GiB on disk" if self.disk_bytes else ""))


def estimate(rows: int, num_params: int, storage: str = "memory",
             block_rows: int = 96) -> DenseEstimate:
  """Memory and disk a dense solve needs: J (in memory unless memmapped), dgelsd's workspace
  as LAPACK's own query reports it, the right-hand side, and `block_rows` rows of per-sample
  Jacobians alive while J is built (pfor's work space included)."""
  if storage not in STORAGES:
    raise ConfigError(f"dense storage {storage!r}; use one of {STORAGES}.")
  j = rows * num_params * 8
  work, iwork, _ = scipy.linalg.lapack.dgelsd_lwork(rows, num_params, 1)
  work_bytes = int(work) * 8 + int(iwork) * 4 + (max(rows, num_params) + min(rows, num_params)) * 8
  block = block_rows * num_params * 8 * 2
  peak = (0 if storage == "memmap" else j) + work_bytes + block
  return DenseEstimate(rows, num_params, j, peak, j if storage == "memmap" else 0)


def check_fits(est: DenseEstimate, memory_limit_gb: float, storage: str):
  """Refuses (before any work) a dense solve whose estimate exceeds the limit or the machine."""
  memory.check(est.peak_bytes, f"the dense least-squares solve ({est.describe()})",
               f"use the matrix-free method 'lsqr' (memory ~ a few copies of the "
               f"{est.num_params:,} parameters)"
               + (", or storage='memmap' to keep J on disk" if storage == "memory" else "")
               + ", or raise the limit on a larger machine.", limit_gb=memory_limit_gb)


def jacobian_matrix(model: keras.Model, x, *, params: Optional[Sequence] = None,
                    storage: str = "memory", path: Optional[str] = None, block_size: int = 64,
                    jit_compile: bool = False, log_every_seconds: float = 30.0) -> np.ndarray:
  """J = ∇_w f(params, x) as a float64 Fortran-ordered (n·L, P) array or np.memmap (`path`).

  The memmap file is scratch space: `lstsq` overwrites it with LAPACK's factors.
  """
  num_out = int(model.output_shape[-1])
  num_params = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
  shape = (len(x) * num_out, num_params)
  if storage == "memmap":
    if not path:
      raise ConfigError("storage='memmap' needs a file path for the Jacobian.")
    jac = np.memmap(path, dtype=np.float64, mode="w+", shape=shape, order="F")
  elif storage == "memory":
    jac = np.empty(shape, dtype=np.float64, order="F")
  else:
    raise ConfigError(f"dense storage {storage!r}; use one of {STORAGES}.")
  start = last = time.time()
  for samples, rows in engines.jacobian_rows(model, x, params=params, block_size=block_size,
                                             jit_compile=jit_compile):
    jac[samples.start * num_out:samples.stop * num_out] = rows
    if time.time() - last > log_every_seconds or samples.stop == len(x):
      done = samples.stop / len(x)
      logging.info("Jacobian rows: %d/%d samples, %.0f s, ETA %.0f s", samples.stop, len(x),
                   time.time() - start, (time.time() - start) * (1 - done) / done)
      last = time.time()
  if storage == "memmap":
    jac.flush()
  return jac


@dataclasses.dataclass
class LstsqSolution:
  u: np.ndarray          # The minimum-norm solution (P,).
  rank: int              # gelsd's numerical rank of J.
  singular_values: np.ndarray
  seconds: float


def lstsq(jac: np.ndarray, rhs: np.ndarray, rcond: Optional[float] = None) -> LstsqSolution:
  """Minimum-norm u of ‖J u − rhs‖ by LAPACK dgelsd, in place on `jac` (which it destroys).

  LAPACK is called through scipy.linalg.lapack because scipy.linalg.lstsq always copies A
  for gelsd (measured: peak 2.5x J), which would double the memory of the largest object.
  rcond: singular values below rcond·σ_max count as zero (None: machine eps, as in
  scipy.linalg.lstsq).
  """
  start = time.time()
  m, n = jac.shape
  if not (jac.dtype == np.float64 and jac.flags.f_contiguous):
    raise ConfigError("dense.lstsq needs a float64 Fortran-ordered J (from jacobian_matrix).")
  gelsd, gelsd_lwork = scipy.linalg.lapack.get_lapack_funcs(("gelsd", "gelsd_lwork"), (jac,))
  cond = np.finfo(np.float64).eps if rcond is None else float(rcond)
  b = np.zeros((max(m, n), 1), dtype=np.float64)
  b[:m, 0] = np.asarray(rhs, dtype=np.float64).ravel()
  work, iwork, info = gelsd_lwork(m, n, 1, cond)
  if info != 0:
    raise ConfigError(f"LAPACK gelsd workspace query failed (info={info}).")
  x, sv, rank, info = gelsd(jac, b, int(work), iwork, cond, overwrite_a=True, overwrite_b=True)
  if info > 0:
    raise ConfigError(f"LAPACK gelsd: the SVD did not converge (info={info}); try method "
                      "'lsqr' or 'kernel'.")
  return LstsqSolution(np.array(x[:n, 0]), int(rank), np.asarray(sv), time.time() - start)
