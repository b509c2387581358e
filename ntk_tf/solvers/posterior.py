"""Predictions with uncertainty: the distribution of a linearized network's outputs over random
initializations, and the NNGP's Bayesian posterior.

A wide network at initialization is a Gaussian process, f_0 ~ GP(0, K) with K its NNGP kernel,
and trains like its linearization, whose function-space dynamics under the MSE loss are linear
in f_0 with the NTK Θ (Lee et al. 2019, 'Wide neural networks of any depth evolve as linear
models under gradient descent', §2.3-2.4). On the eigenbasis Θ(X, X) = V diag(λ) Vᵀ, the
training residual of each direction decays by a factor g(λ) and every test output follows
through Θ(x, X):

    f(X) = f_0(X) + V diag(1 − g) Vᵀ (Y − f_0(X))                           = f_0 + T (Y − f_0)
    f(x) = f_0(x) + Θ(x, X) V diag((1 − g)/λ) Vᵀ (Y − f_0(X))               = f_0(x) + T_x (Y − f_0)

with g = e^{−λt} for gradient flow for time t (g = 0 at t = ∞), (1 − ηλ)^k for k full-batch
gradient-descent steps of step size η, and, with heavy-ball momentum μ (PyTorch's: v ← μv + ∇,
f ← f − ηJv), the first entry of [[1 − ηλ, μ], [−ηλ, μ]]^k (1, 0)ᵀ. Since f_0 is Gaussian the
outputs are too: mean T_x Y, covariance K(x, x') − T_x K(X, x') − K(x, X) T_x'ᵀ + T_x K T_x'ᵀ
(Lee et al. 2019, eq. (16)); on the training set mean T Y and covariance (I − T) K (I − T)ᵀ.

Step sizes are in function space for the loss ½ Σ‖f − y‖²: for this project's `mse` (mean over
N samples and L outputs) and learning rate η_w, η = 2 η_w / (N·L) (kernel.mse_flow_time).
Kernels are (n, n) scalar kernels shared by every output column of Y (infinite-width kernels,
or an empirical NTK with outputs="trace"); directions with eigenvalues under the floor keep
g = 1 (they do not train), as in the pseudo-inverse of kernel.gradient_flow.
"""

from typing import Callable, Optional

import numpy as np

from ntk_tf.errors import ConfigError
from ntk_tf.solvers import kernel as kernel_solver


def _matrix(k, name: str) -> np.ndarray:
  k = np.asarray(k, dtype=np.float64)
  if k.ndim != 2:
    raise ConfigError(f"{name} has shape {k.shape}; the posterior takes (n1, n2) kernels shared "
                      "by every output (infinite kernels, or empirical_ntk(..., "
                      "outputs='trace')).")
  return kernel_solver.as_matrix(k)


def residual_decay(eigenvalues: np.ndarray, *, time: float = np.inf,
                   steps: Optional[int] = None, step_size: Optional[float] = None,
                   momentum: float = 0.0) -> np.ndarray:
  """g(λ): the factor a training-residual direction of NTK eigenvalue λ keeps (module docs).

  Gradient flow for `time`, or `steps` of gradient descent with `step_size` (and momentum);
  eigenvalues ≤ 0 (under the floor) keep 1.
  """
  lam = np.asarray(eigenvalues, dtype=np.float64)
  live = lam > 0
  if steps is None:
    if momentum:
      raise ConfigError("momentum needs discrete steps: give steps and step_size.")
    if np.isinf(time):
      return np.where(live, 0.0, 1.0)
    return np.where(live, np.exp(-np.where(live, lam, 0.0) * time), 1.0)
  if step_size is None or step_size <= 0 or int(steps) < 0:
    raise ConfigError(f"steps={steps}, step_size={step_size}: give steps >= 0 and a positive "
                      "step size (2·learning_rate/(N·L) for this project's mse).")
  if not 0 <= momentum < 1:
    raise ConfigError(f"momentum={momentum}; use 0 <= momentum < 1.")
  eta = step_size * np.where(live, lam, 0.0)
  limit = 2 * (1 + momentum)  # Heavy ball converges iff 0 < ηλ < 2(1 + μ).
  if np.any(eta >= limit):
    raise ConfigError(f"step_size={step_size} diverges on the largest NTK eigenvalue "
                      f"{lam.max():.4g} (η·λ_max = {eta.max():.4g} >= {limit:g}); use a step "
                      f"size below {limit / lam.max():.4g}.")
  # [e; d] ← [[1 − ηλ, μ], [−ηλ, μ]] [e; d] from (1, 0), by repeated squaring.
  m = np.zeros(lam.shape + (2, 2))
  m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1] = 1 - eta, momentum, -eta, momentum
  power = np.broadcast_to(np.eye(2), m.shape).copy()
  k = int(steps)
  while k:
    if k & 1:
      power = power @ m
    m = m @ m
    k >>= 1
  return np.where(live, power[..., 0, 0], 1.0)


def ntk_posterior(ntk_train, nngp_train, y_train, *, ntk_test_train=None,
                  nngp_test_train=None, nngp_test=None, time: float = np.inf,
                  steps: Optional[int] = None, step_size: Optional[float] = None,
                  momentum: float = 0.0, rcond: Optional[float] = None) -> dict:
  """Mean and covariance of the trained linearized network's outputs over initializations
  (the NTK-GP; Lee et al. 2019, eqs. (15)-(16)) after gradient flow for `time` or `steps` of
  gradient descent; module docstring for the formulas.

  Args:
    ntk_train, nngp_train: Θ(X, X), K(X, X), (n, n).
    y_train: (n,) or (n, L) targets.
    ntk_test_train, nngp_test_train: Θ(x, X), K(x, X), (m, n); nngp_test: K(x, x), (m, m).
  Returns:
    {"train": {"mean": (n, L), "covariance": (n, n)}, and with test kernels "test": {"mean":
    (m, L), "covariance": (m, m)}}: each output column has this covariance (they are
    independent given the kernels).
  """
  theta, k = _matrix(ntk_train, "ntk_train"), _matrix(nngp_train, "nngp_train")
  y = np.asarray(y_train, dtype=np.float64)
  y = y[:, None] if y.ndim == 1 else y
  if theta.shape != k.shape or len(y) != len(theta):
    raise ConfigError(f"ntk_train {theta.shape}, nngp_train {k.shape} and y_train {y.shape} "
                      "must cover the same training samples.")
  eig = kernel_solver.eigen(theta, rcond)
  g = residual_decay(eig.values, time=time, steps=steps, step_size=step_size,
                     momentum=momentum)
  v = eig.vectors
  trained = (v * (1 - g)) @ v.T                                     # T = V diag(1 − g) Vᵀ
  rest = np.eye(len(theta)) - trained
  out = {"train": {"mean": trained @ y, "covariance": rest @ k @ rest.T}}
  tests = (ntk_test_train, nngp_test_train, nngp_test)
  if any(t is not None for t in tests):
    if any(t is None for t in tests):
      raise ConfigError("test predictions need ntk_test_train, nngp_test_train and nngp_test.")
    theta_x = _matrix(ntk_test_train, "ntk_test_train")
    k_x, k_xx = _matrix(nngp_test_train, "nngp_test_train"), _matrix(nngp_test, "nngp_test")
    if theta_x.shape != k_x.shape or theta_x.shape[1] != len(theta) or \
        k_xx.shape != (len(theta_x),) * 2:
      raise ConfigError(f"test kernels {theta_x.shape}, {k_x.shape}, {k_xx.shape} do not match "
                        f"{len(theta)} training samples.")
    weights = np.divide(1 - g, eig.values, out=np.zeros_like(g), where=eig.values > 0)
    t_x = theta_x @ ((v * weights) @ v.T)                           # T_x = Θ_x V diag((1−g)/λ) Vᵀ
    cross = t_x @ k_x.T
    out["test"] = {"mean": t_x @ y,
                   "covariance": k_xx - cross - cross.T + t_x @ k @ t_x.T}
  return out


def nngp_posterior(nngp_train, y_train, nngp_test_train, nngp_test, noise: float = 0.0,
                   rcond: Optional[float] = None) -> dict:
  """The exact Bayesian posterior of the NNGP prior GP(0, K) given Y (+ N(0, noise) per
  target): mean K(x, X) K̃⁻¹ Y, covariance K(x, x) − K(x, X) K̃⁻¹ K(X, x), K̃ = K + noise·I
  (the pseudo-inverse through the eigenvalue floor when noise = 0)."""
  k = _matrix(nngp_train, "nngp_train") + float(noise) * np.eye(np.shape(nngp_train)[0])
  k_x, k_xx = _matrix(nngp_test_train, "nngp_test_train"), _matrix(nngp_test, "nngp_test")
  y = np.asarray(y_train, dtype=np.float64)
  y = y[:, None] if y.ndim == 1 else y
  eig = kernel_solver.eigen(k, rcond)
  inverse = np.divide(1.0, eig.values, out=np.zeros_like(eig.values), where=eig.values > 0)
  solve = (eig.vectors * inverse) @ eig.vectors.T
  return {"test": {"mean": k_x @ solve @ y, "covariance": k_xx - k_x @ solve @ k_x.T}}


class EnsemblePredictor:
  """The trained ensemble's (or the NNGP's) predictive distribution from a kernel function
  (cf. Neural Tangents' gradient_descent_mse_ensemble): the training kernels are computed
  once; predict() adds the test kernels.

  kernel_fn(x1, x2) -> {"nngp": (n1, n2), "ntk": (n1, n2)}, x2 None for the symmetric kernel;
  e.g. functools.partial(ntk_tf.infinite_kernels, "mlp", depth=3).
  """

  def __init__(self, kernel_fn: Callable, x_train, y_train):
    self.kernel_fn, self.x_train = kernel_fn, np.asarray(x_train)
    self.y_train = np.asarray(y_train, dtype=np.float64)
    self.train = kernel_fn(self.x_train, None)

  def predict(self, x_test, get: str = "ntk", **dynamics) -> dict:
    """{"mean": (m, L), "covariance": (m, m)} at x_test. get="ntk": the trained ensemble
    (ntk_posterior; dynamics: time, or steps/step_size/momentum); "nngp": the Bayesian
    posterior (dynamics: noise)."""
    if get not in ("ntk", "nngp"):
      raise ConfigError(f"get={get!r}; use 'ntk' (trained ensemble) or 'nngp' (Bayesian).")
    x_test = np.asarray(x_test)
    cross, test = self.kernel_fn(x_test, self.x_train), self.kernel_fn(x_test, None)
    if get == "nngp":
      return nngp_posterior(self.train["nngp"], self.y_train, cross["nngp"], test["nngp"],
                            **dynamics)["test"]
    return ntk_posterior(self.train["ntk"], self.train["nngp"], self.y_train,
                         ntk_test_train=cross["ntk"], nngp_test_train=cross["nngp"],
                         nngp_test=test["nngp"], **dynamics)["test"]
