"""Minimum-norm least squares by Nyström-preconditioned CG on the dual system (J Jᵀ) α = r.

For J (m x P, m = n·L rows ordered (sample, output), P ≫ m) of full row rank, u = Jᵀ α with
K α = r, K = J Jᵀ (the empirical NTK), is the minimum-norm solution of J u = r: it solves the
system and lies in J's row space. CG on K needs K·p = J (Jᵀ p), one VJP and one JVP per
iteration (as LSQR), and its residual r − K α is exactly the residual r − J u of the primal
system. pᵀK p is taken as ‖Jᵀp‖², so it stays positive in floating point.

K's condition number is cond(J)² (LeNet x1 on the 4,000 mnist5k digits: 2.4e6), so plain CG
crawls. The preconditioner is the Nyström approximation of K from k of its columns,

  K̂ = C W⁺ Cᵀ = U Λ̂ Uᵀ,   C = K[:, S] = eNTK(X, X_S),   W = K[S, S],

in the form of Frangella, Tropp & Udell (2021, "Randomized Nyström preconditioning", §1.1 and
§5.1, eqs. (5.3)-(5.4) of the SIAM version):

  P = U (Λ̂ + μI) Uᵀ / (λ̂_k + μ) + (I − U Uᵀ),   P⁻¹ = (λ̂_k + μ) U (Λ̂ + μI)⁻¹ Uᵀ + (I − U Uᵀ).

The system here is unregularized; μ (`shift`) only enters the preconditioner, and 0 is the
default: on the mnist5k x1 kernel, μ = λ_min(K) or 10·λ_min changed 116 iterations to 116-118
(NumPy simulation on the exact K), and scaling the captured block to a multiple of λ̂_k only
slowed CG (3x λ̂_k: 138 iterations, 10x: 211). What is left after preconditioning is the tail:
the captured eigenvectors map to ≈ λ̂_k, the rest keep K's eigenvalues between λ_min(K) and
about ‖K − K̂‖, so CG needs ~sqrt(tail condition number) iterations. The columns come from the
empirical NTK engine (`ntk.empirical.empirical_ntk(model, X, X[S])`), which computes them far
faster than k JVP/VJP pairs would.

Pivots S are sampled uniformly: on the mnist5k x1 kernel (diagonal within [1.9, 3.9]),
randomly pivoted Cholesky and greedy pivoting needed 114 and 116 iterations at k = 500 against
uniform sampling's 116 (71/70 at k = 1000), and they would need K's diagonal first.
"""

import dataclasses
import time
from typing import Callable, Optional

import keras
import numpy as np
import scipy.linalg
from absl import logging

from ntk_tf.errors import ConfigError, require_finite
from ntk_tf.ntk import empirical
from ntk_tf.utils import progress


@dataclasses.dataclass
class NystromPreconditioner:
  """P⁻¹ of Frangella et al. (2021, eq. (5.4)) for K̂ = U diag(λ̂) Uᵀ, λ̂ descending."""
  vectors: np.ndarray   # U (m, r), orthonormal columns.
  values: np.ndarray    # λ̂ (r,), descending, > 0.
  shift: float = 0.0    # μ.

  @property
  def rank(self) -> int:
    return len(self.values)

  def _scale(self) -> np.ndarray:
    return (self.values[-1] + self.shift) / (self.values + self.shift)

  def apply(self, v: np.ndarray) -> np.ndarray:
    """P⁻¹ v = (λ̂_k + μ) U (Λ̂ + μ)⁻¹ Uᵀ v + (v − U Uᵀ v); v of shape (m,) or (m, c)."""
    coeff = self.vectors.T @ v
    scale = self._scale() if coeff.ndim == 1 else self._scale()[:, None]
    return v + self.vectors @ ((scale - 1.0) * coeff)

  def dense(self) -> np.ndarray:
    """P⁻¹ as an explicit (m, m) matrix (for tests on tiny problems)."""
    u = self.vectors
    return (u * self._scale()) @ u.T + np.eye(len(u)) - u @ u.T


def pivot_rows(samples: np.ndarray, num_outputs: int) -> np.ndarray:
  """Rows of the (sample, output)-ordered K that belong to the given samples."""
  samples = np.asarray(samples, dtype=np.int64)
  return (samples[:, None] * num_outputs + np.arange(num_outputs)).ravel()


def nystrom(columns: np.ndarray, pivots: np.ndarray, shift: float = 0.0) -> NystromPreconditioner:
  """The preconditioner from k columns C = K[:, pivots] of a PSD K.

  K̂ = C W⁺ Cᵀ with W = C[pivots]: W's eigenvalues below k·eps·λ_max(W) count as zero (a
  repeated sample gives a singular W), F = C V Λ_W^{-1/2} so K̂ = F Fᵀ, and the SVD F = U Σ Vᵀ
  gives λ̂ = σ² (numerically stable: no product Cᵀ C is formed).
  """
  columns = np.asarray(columns, dtype=np.float64)
  pivots = np.asarray(pivots, dtype=np.int64)
  w = columns[pivots]
  values, vectors = scipy.linalg.eigh((w + w.T) / 2)
  keep = values > len(pivots) * np.finfo(np.float64).eps * max(values.max(), 0.0)
  if not keep.any():
    raise ConfigError("the kernel's columns at the Nyström pivots are all zero; the network's "
                      "Jacobian vanishes there (check the weights w0).")
  factor = columns @ (vectors[:, keep] / np.sqrt(values[keep]))
  u, sigma, _ = scipy.linalg.svd(factor, full_matrices=False, overwrite_a=True)
  lam = sigma ** 2
  positive = lam > lam[0] * np.finfo(np.float64).eps * len(lam)
  return NystromPreconditioner(u[:, positive], lam[positive], float(shift))


def sample_pivots(num_samples: int, rank: int, seed: int = 0) -> np.ndarray:
  """`rank` distinct samples, uniformly at random, sorted."""
  check_rank(rank, num_samples)
  return np.sort(np.random.default_rng(seed).choice(num_samples, rank, replace=False))


DEFAULT_RANK = 1000  # mnist5k x1: 70 iterations to 1e-6 (k = 500: 116, k = 2000: ~40).


def default_rank(rank, num_samples: int) -> int:
  """`rank`, checked; None gives min(DEFAULT_RANK, num_samples)."""
  if rank is None:
    return min(DEFAULT_RANK, num_samples)
  check_rank(rank, num_samples)
  return int(rank)


def check_rank(rank, num_samples: int):
  """One ConfigError for a Nyström rank that is not an integer in [1, n]."""
  if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not \
      1 <= rank <= num_samples:
    raise ConfigError(f"nystrom_rank={rank!r}: the Nyström preconditioner samples that many "
                      f"of the {num_samples:,} training samples; use an integer from 1 to "
                      f"{num_samples:,} (e.g. {min(DEFAULT_RANK, num_samples):,}).")


def column_bytes(num_rows: int, rank: int, num_outputs: int = 1) -> int:
  """Peak bytes of the preconditioner's set-up: C, F and U, (n·L) x (k·L) float64 each."""
  return 3 * num_rows * num_outputs * rank * num_outputs * 8


def from_model(model: keras.Model, x, rank: int, *, seed: int = 0, shift: float = 0.0,
               kernel_method: str = "auto", memory_limit_gb: float = 4.0,
               jit_compile: bool = False) -> NystromPreconditioner:
  """The preconditioner of K = J Jᵀ for `model` at its weights on inputs x.

  The columns K[:, S] are the empirical NTK Θ(X, X_S) of `rank` uniformly sampled samples S
  (all L outputs of each: k·L columns).
  """
  pivots = sample_pivots(len(x), rank, seed)
  start = time.time()
  kernel = empirical.empirical_ntk(model, x, np.asarray(x)[pivots], method=kernel_method,
                                   memory_limit_gb=memory_limit_gb, jit_compile=jit_compile)
  columns = empirical.flatten(kernel)
  del kernel
  seconds = time.time() - start
  out = nystrom(columns, pivot_rows(pivots, int(model.output_shape[-1])), shift)
  logging.info("Nyström preconditioner: %d columns of the eNTK in %.1f s, rank %d, "
               "λ̂ in [%.4g, %.4g], set-up %.1f s", columns.shape[1], seconds, out.rank,
               out.values[-1], out.values[0], time.time() - start)
  return out


@dataclasses.dataclass
class PcgSolution:
  u: np.ndarray            # Jᵀ α, (P,).
  alpha: np.ndarray        # Dual coefficients, (m,).
  iterations: int
  converged: bool          # The true relative residual reached `tol`.
  residual_norm: float     # ‖r − J u‖, recomputed from u (one JVP).
  relative_residuals: list  # ‖r − K α‖/‖r‖ after each iteration (CG's recursion).
  seconds: float


def _cg_steps(operator, state: dict, precondition: Callable, tol: float, steps: int,
              bar: progress.Progress, norm_rhs: float, history: list) -> int:
  """Up to `steps` preconditioned CG iterations from the residual in `state` (updated in
  place: alpha, u, residual); returns the number run (fewer once ‖residual‖ ≤ tol·‖rhs‖)."""
  s = state["residual"]
  z = precondition(s)
  p, gamma = z, float(s @ z)
  for it in range(1, steps + 1):
    g = operator.rmatvec(p)            # Jᵀ p: one VJP.
    q = operator.matvec(g)             # K p = J Jᵀ p: one JVP.
    step = gamma / float(g @ g)        # pᵀ K p = ‖Jᵀ p‖².
    state["alpha"] += step * p
    state["u"] += step * g
    s = s - step * q                   # Not in place: z (hence p) may be s itself.
    state["residual"] = s
    relative = float(np.linalg.norm(s)) / norm_rhs
    history.append(relative)
    bar.update(1, extra=f"|r|/|r0| {relative:.3g}")
    if relative <= tol:
      return it
    z = precondition(s)
    gamma, previous = float(s @ z), gamma
    p = z + (gamma / previous) * p
  return steps


def pcg(operator, rhs, precondition: Optional[Callable] = None, *, tol: float = 1e-6,
        iter_lim: int = 300, max_restarts: int = 3, label: str = "nystrom_pcg",
        log_every_seconds: float = 30.0) -> PcgSolution:
  """Minimum-norm u of J u = rhs by preconditioned CG on (J Jᵀ) α = rhs, u = Jᵀ α.

  Args:
    operator: J as a LinearOperator with matvec (JVP) and rmatvec (VJP), e.g.
      solvers.operator.JacobianOperator.
    precondition: v ↦ P⁻¹ v (e.g. NystromPreconditioner.apply); None: plain CG.
    tol: stop when ‖rhs − J u‖ ≤ tol·‖rhs‖.
    iter_lim: total iterations (one VJP + one JVP each).
    max_restarts: when CG's recursive residual reaches tol but the recomputed one does not
      (rounding), CG restarts from the recomputed residual, at most this many times and only
      while each restart at least halves it (an inexact, e.g. float32, operator stalls).
  """
  rhs = np.asarray(rhs, dtype=np.float64).ravel()
  precondition = precondition or (lambda v: v)
  norm_rhs = max(float(np.linalg.norm(rhs)), np.finfo(np.float64).tiny)
  state = dict(alpha=np.zeros_like(rhs), u=np.zeros(operator.shape[1]), residual=rhs.copy())
  history, done, restarts, start, previous = [], 0, 0, time.time(), np.inf
  bar = progress.Progress(iter_lim, label, unit="iterations", log_every_seconds=log_every_seconds)
  while True:
    done += _cg_steps(operator, state, precondition, tol, iter_lim - done, bar, norm_rhs,
                      history)
    state["residual"] = rhs - operator.matvec(state["u"])   # The true residual, one JVP.
    relative = float(np.linalg.norm(state["residual"])) / norm_rhs
    if (relative <= tol or done >= iter_lim or restarts >= max_restarts
        or relative > previous / 2):
      break
    previous = relative
    restarts += 1
    logging.info("%s: recomputed residual %.3g > tol %.3g after %d iterations; restarting CG "
                 "from it", label, relative, tol, done)
  bar.total = done  # Closes as finished, without an ETA to the limit.
  bar.close(extra=f"(limit {iter_lim}) |r|/|r0| {relative:.3g}, tol {tol:g}")
  converged = relative <= tol
  if not converged:
    logging.warning("%s stopped after %d iterations without reaching tol %.3g: |r|/|r0| = %.3g",
                    label, done, tol, relative)
  require_finite(state["u"], f"the {label} solution u", "the system may be singular or the "
                 "operator inexact; try method 'lstsq' or 'kernel' to check.")
  return PcgSolution(state["u"], state["alpha"], done, converged, relative * norm_rhs, history,
                     time.time() - start)
