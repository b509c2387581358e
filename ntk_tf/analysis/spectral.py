"""Spectra of feature matrices: singular values, effective rank, condition number, rank.

The feature matrix of the linearized model is Φ = ∇_w f(w0, X) with n·L rows (Samarin et al.
2022, eq. (4)); its singular values are the square roots of the eigenvalues of the empirical
NTK Θ = Φ Φᵀ, which is how they are computed here (in float64).
"""

import numpy as np

from ntk_tf.errors import require_finite

# Singular values below RELATIVE_FLOOR * σ_max count as zero (numerical rank, condition
# number). Θ's eigenvalues are computed to ~n·eps·λ_max, i.e. σ to ~sqrt(n·eps)·σ_max; with
# n ≤ 1e5 rows in float64 that is ~1e-5.5, so 1e-6 · σ_max is just below what is resolvable
# from Θ, and far above it for a directly computed SVD.
RELATIVE_FLOOR = 1e-6


def as_matrix(kernel: np.ndarray) -> np.ndarray:
  """(N, N) float64 from an (N, N) or (n, n, L, L) kernel (rows (i, a), columns (j, b))."""
  k = np.asarray(kernel, dtype=np.float64)
  if k.ndim == 4:
    n, m, l1, l2 = k.shape
    k = k.transpose(0, 2, 1, 3).reshape(n * l1, m * l2)
  return k


def singular_values_from_kernel(kernel: np.ndarray) -> np.ndarray:
  """σ(Φ), descending, from Θ = Φ Φᵀ given as an (N, N) or (n, n, L, L) array."""
  k = as_matrix(kernel)
  if k.shape[0] != k.shape[1]:
    raise ValueError(f"the kernel must be square; got shape {k.shape}")
  require_finite(k, "the kernel whose singular values are asked for",
                 "recompute it in float64 (the kernel functions refuse to return NaN/inf).")
  eigenvalues = np.linalg.eigvalsh(0.5 * (k + k.T))
  return np.sqrt(np.clip(eigenvalues, 0.0, None))[::-1]


def effective_rank(singular_values: np.ndarray) -> float:
  """Roy & Vetterli (2007): exp of the Shannon entropy of σ / Σσ (zeros contribute nothing).

  A flat spectrum of size n has effective rank n; a rank-one matrix has 1.
  """
  s = np.asarray(singular_values, dtype=np.float64)
  s = s[s > 0]
  if s.size == 0:
    return 0.0
  p = s / s.sum()
  return float(np.exp(-np.sum(p * np.log(p))))


def numerical_rank(singular_values: np.ndarray, relative_floor: float = RELATIVE_FLOOR) -> int:
  s = np.asarray(singular_values, dtype=np.float64)
  if s.size == 0 or s.max() == 0:
    return 0
  return int(np.sum(s > relative_floor * s.max()))


def condition_number(singular_values: np.ndarray,
                     relative_floor: float = RELATIVE_FLOOR) -> float:
  """σ_max / σ_min over the singular values above relative_floor · σ_max."""
  s = np.asarray(singular_values, dtype=np.float64)
  kept = s[s > relative_floor * s.max()] if s.size and s.max() > 0 else s[:0]
  if kept.size == 0:
    return float("inf")
  return float(kept.max() / kept.min())


def kernel_distance(kernel: np.ndarray, reference: np.ndarray) -> float:
  """1 − ⟨K, K₀⟩_F / (‖K‖_F ‖K₀‖_F) (Fort et al. 2020, 'Deep learning versus kernel learning'):
  0 for proportional kernels, 1 for orthogonal ones; (N, N) or (n, n, L, L)."""
  k, k0 = as_matrix(kernel), as_matrix(reference)
  return max(0.0, float(1.0 - np.sum(k * k0) / (np.linalg.norm(k) * np.linalg.norm(k0))))


def label_alignment(kernel: np.ndarray, targets: np.ndarray) -> float:
  """⟨K, Y Yᵀ⟩_F / (‖K‖_F ‖Y Yᵀ‖_F) (Cristianini et al. 2002, kernel-target alignment).

  kernel: (n, n) with targets (n,) or (n, L) (Y Yᵀ summed over outputs), or an (n·L, n·L) /
  (n, n, L, L) kernel with targets (n, L) (Y flattened to n·L entries).
  """
  k, y = as_matrix(kernel), np.asarray(targets, dtype=np.float64)
  y = y[:, None] if y.ndim == 1 else y
  if k.shape[0] == y.shape[0]:
    yy = y @ y.T
  elif k.shape[0] == y.size:
    yy = np.outer(y.reshape(-1), y.reshape(-1))
  else:
    raise ValueError(f"targets of shape {y.shape} for a kernel of {k.shape[0]} rows.")
  return float(np.sum(k * yy) / (np.linalg.norm(k) * np.linalg.norm(yy)))


def summary(singular_values: np.ndarray) -> dict:
  s = np.asarray(singular_values, dtype=np.float64)
  return dict(num_rows=int(s.size), effective_rank=effective_rank(s),
              kernel_effective_rank=effective_rank(s ** 2),
              condition_number=condition_number(s), numerical_rank=numerical_rank(s),
              sigma_max=float(s.max()) if s.size else 0.0, relative_floor=RELATIVE_FLOOR)
