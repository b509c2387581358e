"""Data-scaling laws L(n) = A (1/n + α)^β fitted to learning curves (Vyas et al. 2022, App. A.2).

The fit is least squares between log L(n) and the log of the measured test errors. For a fixed
α the model log L = log A + β log(1/n + α) is linear in (log A, β), so those two are solved in
closed form and only α ≥ 0 is searched (a log grid, then a bounded 1-D refinement). β > 0 is the
rate at which the error falls with n (the paper's exponents: 0.185 empirical NTK, 0.213 infinite
NTK, 0.307 network on CIFAR-5m-bin); α is the error floor's offset (L → A α^β as n → ∞).
Confidence intervals for β come from a bootstrap over seeds (learning curves resampled with
replacement, the mean curve refitted).
"""

import dataclasses
from typing import Sequence

import numpy as np
import scipy.optimize

from ntk_tf.errors import DataError


@dataclasses.dataclass
class ScalingFit:
  A: float  # pylint: disable=invalid-name
  alpha: float
  beta: float
  rms_log_residual: float

  def predict(self, n) -> np.ndarray:
    return self.A * (1.0 / np.asarray(n, np.float64) + self.alpha) ** self.beta

  def power_law_fraction(self, n) -> float:
    """How much of the n range the law spends as a power law: the change of log(1/n + α)
    over the range divided by that of log(1/n). Near 1 (α ≪ 1/n_max) β is the power-law
    exponent; near 0 the measured curve sits in its floor (α ≫ 1/n_min) and β only shapes the
    approach to it: a large β from a flattened curve is not a data-scaling exponent."""
    n = np.asarray(n, np.float64)
    lo, hi = n.min(), n.max()
    if hi == lo:
      return float("nan")
    return float(np.log((1 / lo + self.alpha) / (1 / hi + self.alpha)) / np.log(hi / lo))


def _check(n, errors):
  n = np.asarray(n, dtype=np.float64)
  errors = np.asarray(errors, dtype=np.float64)
  if n.ndim != 1 or errors.shape[-1] != len(n):
    raise DataError(f"learning curve: {len(n)} sample sizes but errors of shape {errors.shape}.")
  if len(n) < 3:
    raise DataError(f"a scaling law has 3 parameters: give at least 3 sample sizes, not {len(n)}.")
  if np.any(n <= 0) or len(np.unique(n)) != len(n):
    raise DataError(f"sample sizes must be distinct and positive, got {n.tolist()}.")
  if not np.all(np.isfinite(errors)) or np.any(errors <= 0):
    raise DataError("test errors must be finite and > 0 for a log-log fit (an error of 0 at "
                    "some n: drop that n or use more test samples).")
  return n, errors


def _linear_fit(n, log_err, alpha):
  """(log A, β, sum of squared residuals) for a fixed α."""
  design = np.stack([np.ones_like(n), np.log(1.0 / n + alpha)], axis=1)
  coef, _, _, _ = np.linalg.lstsq(design, log_err, rcond=None)
  residual = log_err - design @ coef
  return coef[0], coef[1], float(residual @ residual)


def fit_scaling_law(n: Sequence[float], errors: Sequence[float]) -> ScalingFit:
  """Least-squares fit of log L(n) = log A + β log(1/n + α) to log test errors, α ≥ 0."""
  n, errors = _check(n, errors)
  log_err = np.log(errors)
  scale = 1.0 / n.max()
  grid = np.concatenate([[0.0], scale * np.logspace(-6, 4, 81)])
  losses = [_linear_fit(n, log_err, a)[2] for a in grid]
  best = int(np.argmin(losses))
  alpha = grid[best]
  if 0 < best < len(grid) - 1:  # Refine between the neighbours, in log α.
    lo, hi = np.log(grid[max(best - 1, 1)]), np.log(grid[best + 1])
    result = scipy.optimize.minimize_scalar(
        lambda t: _linear_fit(n, log_err, np.exp(t))[2], bounds=(lo, hi), method="bounded",
        options=dict(xatol=1e-10))
    if result.fun <= losses[best]:
      alpha = float(np.exp(result.x))
  log_a, beta, sse = _linear_fit(n, log_err, alpha)
  return ScalingFit(float(np.exp(log_a)), float(alpha), float(beta),
                    float(np.sqrt(sse / len(n))))


def bootstrap_beta(n: Sequence[float], errors_by_seed, num_resamples: int = 1000,
                   confidence: float = 0.95, seed: int = 0) -> dict:
  """β of the mean learning curve and its bootstrap interval over seeds.

  Args:
    errors_by_seed: (S, len(n)) test errors, one learning curve per seed (S ≥ 2).
  Returns:
    {"beta", "low", "high", "fit": ScalingFit of the mean curve, "samples": the resampled β}.
  """
  n, errors = _check(n, errors_by_seed)
  if errors.ndim != 2 or len(errors) < 2:
    raise DataError("a bootstrap over seeds needs errors of shape (seeds >= 2, len(n)).")
  rng = np.random.default_rng(seed)
  fit = fit_scaling_law(n, errors.mean(axis=0))
  samples = np.array([
      fit_scaling_law(n, errors[rng.integers(0, len(errors), len(errors))].mean(axis=0)).beta
      for _ in range(num_resamples)])
  tail = (1 - confidence) / 2
  return dict(beta=fit.beta, low=float(np.quantile(samples, tail)),
              high=float(np.quantile(samples, 1 - tail)), fit=fit, samples=samples)


# Below this share of the n range spent as a power law (ScalingFit.power_law_fraction) the
# curve has flattened and β is reported but marked as not an exponent.
POWER_LAW_FRACTION = 0.5


def fit_mean_curve(sizes, by_seed, num_resamples, confidence, seed) -> dict:
  """Mean/std curve over seeds and the fitted law; a failed fit is reported, not raised."""
  errors = np.asarray(by_seed, dtype=np.float64)
  out = dict(n=list(sizes), test_error_mean=errors.mean(axis=0).tolist(),
             test_error_std=errors.std(axis=0).tolist(), test_error_by_seed=errors.tolist(),
             beta=None, beta_interval=None, fit=None, fit_error=None, beta_is_exponent=None)
  try:
    fit = fit_scaling_law(sizes, errors.mean(axis=0))
    fraction = fit.power_law_fraction(sizes)
    out.update(beta=fit.beta, fit=dict(A=fit.A, alpha=fit.alpha, beta=fit.beta,
                                       rms_log_residual=fit.rms_log_residual,
                                       power_law_fraction=fraction),
               beta_is_exponent=bool(fraction >= POWER_LAW_FRACTION))
    if len(errors) >= 2:
      boot = bootstrap_beta(sizes, errors, num_resamples, confidence, seed)
      out["beta_interval"] = [boot["low"], boot["high"]]
  except DataError as e:
    out["fit_error"] = str(e)
  return out
