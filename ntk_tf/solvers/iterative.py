"""Matrix-free least squares: SciPy's LSQR / LSMR on a LinearOperator, resumable.

The solve runs in chunks of `checkpoint_every` iterations (chunk boundaries at multiples of
it); each chunk restarts the solver from the previous iterate (x0), and the iterate is saved
after every chunk, so an interrupted solve resumes from its last chunk and reproduces an
uninterrupted one exactly. LSQR/LSMR iterates started from 0 stay in the row space of J, so
restarts keep the minimum-norm limit; the stopping tests use the original ‖b‖ (but SciPy's
estimates of ‖A‖ and cond(A) start afresh in each chunk). Each restart discards the Krylov
basis, so a larger `checkpoint_every` converges in fewer total iterations (0: one chunk, no
checkpoints).

Damping: SciPy restarted from x0 would minimize ‖Ax − b‖² + damp²‖x − x0‖², so a damped
problem is solved as the undamped stacked system [A; damp·I] x = [b; 0], whose solution is the
ridge solution whatever the restarts.
"""

import dataclasses
import os
import time
from typing import Optional

import numpy as np
import scipy.sparse.linalg
from absl import logging

from ntk_tf.errors import ConfigError
from ntk_tf.utils import io, progress

METHODS = ("lsqr", "lsmr")
ITERATION_LIMIT = 7      # istop of both solvers when iter_lim was reached.
CONVERGED = (0, 1, 2, 4, 5)  # x = 0 exact, consistent system, least-squares optimum, eps limits.


@dataclasses.dataclass
class IterativeSolution:
  x: np.ndarray
  istop: int
  iterations: int
  converged: bool
  residual_norm: float      # ‖b − A x‖.
  normal_residual_norm: float  # ‖Aᵀ(b − A x) − damp² x‖.
  seconds: float


def _load_iterate(path: str, n: int):
  """The latest readable iterate: `path`, else the previous one (`path`.prev.npz), else None.
  An unreadable file is set aside with a warning (io.load_arrays)."""
  for candidate in (path, path + ".prev.npz"):
    if os.path.exists(candidate):
      saved = io.load_arrays(candidate, keys=("x", "iterations", "istop", "seconds"),
                             shapes={"x": (n,)})
      if saved is not None:
        if candidate != path:
          logging.warning("resuming from the previous iterate %s", candidate)
        return saved
  return None


class _Progress(scipy.sparse.linalg.LinearOperator):
  """The operator, counting iterations on a progress bar (one matvec + one rmatvec per
  LSQR/LSMR iteration)."""

  def __init__(self, operator, method: str, iter_lim: int, done: int, every: float):
    super().__init__(dtype=np.float64, shape=operator.shape)
    self.operator = operator
    self.bar = progress.Progress(iter_lim, method, unit="iterations", done=done,
                                 log_every_seconds=every)

  def _matvec(self, v):
    return self.operator.matvec(v)

  def _rmatvec(self, r):
    out = self.operator.rmatvec(r)
    self.bar.update(1)
    return out


class _Stacked(scipy.sparse.linalg.LinearOperator):
  """[A; damp·I] for a damped least-squares problem."""

  def __init__(self, operator, damp: float):
    m, n = operator.shape
    super().__init__(dtype=np.float64, shape=(m + n, n))
    self.operator, self.damp, self.m = operator, damp, m

  def _matvec(self, x):
    return np.concatenate([self.operator.matvec(x), self.damp * np.ravel(x)])

  def _rmatvec(self, r):
    r = np.ravel(r)
    return self.operator.rmatvec(r[:self.m]) + self.damp * r[self.m:]


def _fingerprint(method, operator, rhs, damp, atol, btol, checkpoint_every, conlim) -> dict:
  return dict(method=method, shape=list(operator.shape), damp=damp, atol=atol, btol=btol,
              checkpoint_every=checkpoint_every, conlim=conlim,
              rhs_sha1=io.sha1_of(rhs))


def solve(operator, rhs, *, method: str = "lsqr", damp: float = 0.0, atol: float = 1e-8,
          btol: float = 1e-8, iter_lim: Optional[int] = None, checkpoint_path: Optional[str] = None,
          checkpoint_every: int = 200, conlim: float = 0.0, show: bool = False,
          log_every_seconds: float = 30.0) -> IterativeSolution:
  """argmin ‖A x − b‖² + damp² ‖x‖² by LSQR or LSMR (minimum-norm when damp = 0).

  Args:
    operator: an (m, n) LinearOperator (e.g. solvers.operator.JacobianOperator).
    rhs: b, shape (m,).
    iter_lim: total iterations over all chunks (default min(2·n, 10,000)).
    conlim: stop when SciPy's estimate of cond(A) exceeds it (istop 3); 0 (default) disables
      the test, which would otherwise end minimum-norm solves of ill-conditioned J early.
    checkpoint_path: an .npz file for the iterate; a compatible file is resumed from.
    show: SciPy's per-iteration progress lines (residual estimates) on stdout.
    log_every_seconds: interval of the progress log lines (iteration, s/iteration, time left).
  """
  if method not in METHODS:
    raise ConfigError(f"iterative method {method!r}; use one of {METHODS}.")
  rhs = np.asarray(rhs, dtype=np.float64).ravel()
  iter_lim = int(iter_lim or min(2 * operator.shape[1], 10_000))
  chunk = int(checkpoint_every) if checkpoint_every else iter_lim
  if not checkpoint_every:
    checkpoint_path = None
  original, original_rhs = operator, rhs
  if damp:
    operator, rhs = _Stacked(operator, damp), np.concatenate([rhs, np.zeros(operator.shape[1])])
  fingerprint = _fingerprint(method, original, original_rhs, damp, atol, btol, chunk, conlim)
  x, done, istop, seconds = None, 0, ITERATION_LIMIT, 0.0
  saved = _load_iterate(checkpoint_path, operator.shape[1]) if checkpoint_path else None
  if saved is not None:
    changed = io.check_manifest(checkpoint_path + ".json", fingerprint)
    if changed:
      raise ConfigError(f"{checkpoint_path} is the checkpoint of another solve "
                        f"({', '.join(changed)} "
                        "differ); delete it or use another workdir.")
    x, done, istop, seconds = (saved["x"], int(saved["iterations"]), int(saved["istop"]),
                               float(saved["seconds"]))
    logging.info("%s: resuming at iteration %d", method, done)
  elif checkpoint_path:
    io.write_json(checkpoint_path + ".json", fingerprint)
  solver = scipy.sparse.linalg.lsqr if method == "lsqr" else scipy.sparse.linalg.lsmr
  counted = _Progress(operator, method, iter_lim, done, log_every_seconds)
  while istop == ITERATION_LIMIT and done < iter_lim:
    start = time.time()
    steps = min(chunk - done % chunk, iter_lim - done)  # Boundaries at multiples of chunk.
    limit = {"iter_lim" if method == "lsqr" else "maxiter": steps}
    out = solver(counted, rhs, atol=atol, btol=btol, conlim=conlim, x0=x, show=show, **limit)
    x, istop, itn = out[0], int(out[1]), int(out[2])
    residual = float(out[3])
    done += itn
    seconds += time.time() - start
    logging.info("%s: iteration %d/%d, |r| = %.6g, %.1f s/iteration", method, done, iter_lim,
                 residual, (time.time() - start) / max(itn, 1))
    if checkpoint_path:
      if os.path.exists(checkpoint_path):  # The previous iterate stays as the fallback.
        os.replace(checkpoint_path, checkpoint_path + ".prev.npz")
      io.write_npz(checkpoint_path, x=x, iterations=done, istop=istop, seconds=seconds)
    if itn == 0:
      break
  counted.bar.close()
  if x is None:
    x = np.zeros(operator.shape[1])
  r = original_rhs - original.matvec(x)  # Recomputed: exact, and undamped as documented.
  residual = float(np.linalg.norm(r))
  normal = float(np.linalg.norm(original.rmatvec(r) - damp ** 2 * x))
  converged = istop in CONVERGED
  if not converged:
    reason = ("the iteration limit" if istop == ITERATION_LIMIT else
              "conlim (cond(A) estimate too large)" if istop in (3, 6) else f"istop={istop}")
    logging.warning("%s stopped at %s after %d iterations without converging, |r| = %.6g",
                    method, reason, done, residual)
  return IterativeSolution(x, istop, done, converged, residual, normal, seconds)
