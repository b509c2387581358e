"""Kernel regression with any kernel of this project, and the NTK gradient-flow predictor.

Kernels are (n1, n2) matrices, or (n1, n2, L, L) empirical NTKs, which are flattened to
(n1·L, n2·L) with targets flattened to match (rows ordered (sample, output)).

Eigenvalues are taken in float64 by `eigh`; those below `floor` = n · eps · λ_max (the size of
eigh's own rounding error) are treated as zero, so kernels with eigenvalues near zero give the
pseudo-inverse (minimum-norm) answer instead of NaN or inf (Samarin et al. 2022 §4.2 discuss
exactly this failure; so do issues of existing NTK libraries).
"""

import dataclasses
from typing import Optional, Sequence

import numpy as np
import scipy.linalg
import sklearn.kernel_ridge

from ntk_tf.errors import ConfigError, require_finite
from ntk_tf.ntk import empirical
from ntk_tf.solvers.operator import check_finite


def as_matrix(kernel: np.ndarray) -> np.ndarray:
  """(n1, n2) as is; (n1, n2, L, L) flattened to (n1·L, n2·L)."""
  kernel = np.asarray(kernel, dtype=np.float64)
  if kernel.ndim == 4:
    return empirical.flatten(kernel)
  if kernel.ndim != 2:
    raise ConfigError(f"a kernel has shape (n1, n2) or (n1, n2, L, L), not {kernel.shape}.")
  return require_finite(kernel, "the kernel matrix given to the kernel solver",
                        "recompute it (the kernel functions refuse to return NaN/inf) or "
                        "check the file it was loaded from.")


def _targets(kernel: np.ndarray, y: np.ndarray) -> np.ndarray:
  """Targets as columns matching the kernel's rows: (n, L) stays for a 2-D kernel, is
  flattened to (n·L, 1) for an (n, n, L, L) one."""
  y = np.asarray(y, dtype=np.float64)
  y = y[:, None] if y.ndim == 1 else y
  return y.reshape(-1, 1) if np.ndim(kernel) == 4 else y


def _outputs(predictions: np.ndarray, n: int) -> np.ndarray:
  """Predictions per sample, (n, L): undoes the (n·L, 1) flattening of a 4-D kernel."""
  return predictions.reshape(n, -1)


@dataclasses.dataclass
class Eigen:
  """Θ = V diag(λ) Vᵀ with λ < floor set to exactly 0."""
  values: np.ndarray
  vectors: np.ndarray
  floor: float

  @property
  def rank(self) -> int:
    return int(np.sum(self.values > 0))


def eigen(kernel: np.ndarray, rcond: Optional[float] = None) -> Eigen:
  """Symmetrized float64 eigendecomposition with the documented floor (rcond·λ_max)."""
  k = as_matrix(kernel)
  if k.shape[0] != k.shape[1]:
    raise ConfigError(f"the training kernel must be square, got {k.shape}.")
  check_finite("kernel", k)
  values, vectors = scipy.linalg.eigh((k + k.T) / 2)
  top = max(float(values.max()), 0.0)
  rcond = len(k) * np.finfo(np.float64).eps if rcond is None else rcond
  floor = rcond * top
  values = np.where(values > floor, values, 0.0)
  return Eigen(values, vectors, floor)


def interpolate(k_train, targets, k_test_train=None, rcond: Optional[float] = None) -> dict:
  """Minimum-norm kernel interpolation: α = Θ⁺ y, train predictions Θ α, test Θ_test α."""
  eig = eigen(k_train, rcond)
  y = _targets(k_train, check_finite("targets", targets))
  inverse = np.divide(1.0, eig.values, out=np.zeros_like(eig.values), where=eig.values > 0)
  alpha = eig.vectors @ (inverse[:, None] * (eig.vectors.T @ y))
  n = len(targets)
  fitted = as_matrix(k_train) @ alpha
  out = dict(alpha=alpha, rank=eig.rank, floor=eig.floor, train=_outputs(fitted, n),
             norm=float(np.sqrt(max(np.sum(alpha * fitted), 0.0))))  # ‖u‖² = αᵀΘα, u = Jᵀα.
  if k_test_train is not None:
    out["test"] = _outputs(as_matrix(k_test_train) @ alpha,
                           np.shape(k_test_train)[0])
  return out


def kernel_ridge(k_train, targets, k_test_train=None, alpha: float = 1e-6) -> dict:
  """scikit-learn KernelRidge(kernel="precomputed") fit on Θ(X, X); alpha = 0 interpolates."""
  if alpha < 0 or not np.isfinite(alpha):
    raise ConfigError(f"kernel ridge alpha={alpha!r} must be a finite number >= 0.")
  y = _targets(k_train, check_finite("targets", targets))
  if alpha == 0:
    return interpolate(k_train, targets, k_test_train)
  k = as_matrix(k_train)
  check_finite("kernel", k)
  model = sklearn.kernel_ridge.KernelRidge(alpha=alpha, kernel="precomputed").fit(k, y)
  n = len(targets)
  out = dict(alpha=model.dual_coef_, train=_outputs(model.predict(k), n))
  if k_test_train is not None:
    out["test"] = _outputs(model.predict(as_matrix(k_test_train)),
                           np.shape(k_test_train)[0])
  return out


def select_alpha(k_train, targets, labels, alphas: Sequence[float], validation_fraction=0.1,
                 seed: int = 0, accuracy_fn=None, offsets=None) -> dict:
  """The alpha with the best validation accuracy on a seeded split of the training rows.

  offsets: (n, L) added to the predictions before scoring (f(w0, X) when the targets are
  residuals y − f(w0, X)).
  """
  n = len(targets)
  if len(alphas) == 1:
    return dict(alpha=float(alphas[0]), validation={})
  if accuracy_fn is None:
    raise ConfigError("select_alpha needs accuracy_fn(predictions, labels) to compare alphas.")
  num_val = max(1, int(round(validation_fraction * n)))
  if num_val >= n:
    raise ConfigError(f"validation_fraction={validation_fraction} leaves no training samples.")
  order = np.random.default_rng(seed).permutation(n)
  val, fit = order[:num_val], order[num_val:]
  scores = {}
  for alpha in alphas:
    sub = _sub_kernel(k_train, fit, fit)
    out = kernel_ridge(sub, np.asarray(targets)[fit], _sub_kernel(k_train, val, fit), alpha)
    predictions = out["test"] + (0 if offsets is None else np.asarray(offsets)[val])
    scores[float(alpha)] = float(accuracy_fn(predictions, np.asarray(labels)[val]))
  best = max(scores, key=lambda a: (scores[a], a))  # Ties: the larger alpha.
  return dict(alpha=best, validation=scores)


def _sub_kernel(kernel, rows, cols):
  return np.asarray(kernel)[np.ix_(rows, cols)]


def gradient_flow(k_train, residual, time: float, k_test_train=None,
                  rcond: Optional[float] = None) -> dict:
  """The linearized network's output change under gradient flow for `time` (Jacot et al.):

    f_t(X) − f_0(X) = (I − e^{−Θt}) r,   f_t(x) − f_0(x) = Θ(x, X) Θ⁻¹ (I − e^{−Θt}) r,

  r = y − f_0(X). Θ⁻¹(I − e^{−Θt}) is applied through the eigenvalues as −expm1(−λt)/λ;
  directions with eigenvalues under the floor are left out (weight 0, as in the pseudo-inverse:
  their λ is rounding noise, and its limit t would amplify that noise without bound), so
  time = inf gives kernel interpolation and large finite times approach it continuously. For full-batch gradient descent with learning rate η
  on this project's `mse` loss (mean over N samples and L outputs), time = 2 η · steps / (N·L).
  """
  eig = eigen(k_train, rcond)
  r = _targets(k_train, check_finite("residual", residual))
  coeff = eig.vectors.T @ r
  if np.isinf(time):
    weights = np.divide(1.0, eig.values, out=np.zeros_like(eig.values), where=eig.values > 0)
    decay = np.where(eig.values > 0, 1.0, 0.0)
  else:
    weights = np.where(eig.values > 0,
                       -np.expm1(-eig.values * time) / np.where(eig.values > 0, eig.values, 1),
                       0.0)
    decay = -np.expm1(-eig.values * time)
  n = len(residual)
  out = dict(train=_outputs(eig.vectors @ (decay[:, None] * coeff), n))
  if k_test_train is not None:
    alpha = eig.vectors @ (weights[:, None] * coeff)
    out["test"] = _outputs(as_matrix(k_test_train) @ alpha,
                           np.shape(k_test_train)[0])
  return out


def mse_flow_time(learning_rate: float, steps: int, num_samples: int, num_outputs: int) -> float:
  """Gradient-flow time matching full-batch GD on `training.mse` (see `gradient_flow`)."""
  return 2.0 * learning_rate * steps / (num_samples * num_outputs)
