"""Predictions with uncertainty: closed forms against simulated dynamics of sampled
initializations (Monte Carlo), limits, and the NNGP posterior against the Gaussian
conditioning formula."""

import functools

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

import ntk_tf
from ntk_tf.errors import ConfigError
from ntk_tf.solvers import posterior
from tests import test_utils


def joint_kernels(n=6, m=3, seed=0):
  """Θ and K over n training + m test points, positive definite, from random features."""
  rng = np.random.default_rng(seed)
  phi, psi = rng.normal(size=(n + m, 12)), rng.normal(size=(n + m, 10))
  return phi @ phi.T / 12, psi @ psi.T / 10, rng.normal(size=(n, 2))


def simulate(theta, k, y, n, draws, steps, step_size, momentum, seed=1):
  """Samples f_0 ~ N(0, K) on train + test and runs the function-space recursion of heavy-ball
  gradient descent step by step (no eigendecomposition): d ← μ d − η Θ(·, X)(f(X) − Y),
  f ← f + d. Returns the outputs (draws, n + m, L)."""
  rng = np.random.default_rng(seed)
  chol = np.linalg.cholesky(k + 1e-12 * np.eye(len(k)))
  f = np.einsum("ij,djl->dil", chol, rng.normal(size=(draws, len(k), y.shape[1])))
  d = np.zeros_like(f)
  for _ in range(steps):
    residual = f[:, :n] - y
    d = momentum * d - step_size * np.einsum("ij,djl->dil", theta[:, :n], residual)
    f = f + d
  return f


class ResidualDecayTest(test_utils.TestCase):

  def test_flow_gradient_descent_and_momentum(self):
    lam = np.array([0.0, 0.3, 1.0, 2.5])
    np.testing.assert_allclose(posterior.residual_decay(lam, time=2.0),
                               [1.0, *np.exp(-2.0 * lam[1:])], rtol=1e-15)
    np.testing.assert_array_equal(posterior.residual_decay(lam), [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(posterior.residual_decay(lam, steps=7, step_size=0.5),
                               [1.0, *(1 - 0.5 * lam[1:]) ** 7], rtol=1e-14)
    e, d = np.ones(4), np.zeros(4)           # Heavy ball on each eigen-direction, step by step.
    for _ in range(9):
      d = 0.8 * d - 0.5 * lam * e
      e = e + d
    np.testing.assert_allclose(posterior.residual_decay(lam, steps=9, step_size=0.5,
                                                        momentum=0.8), e, rtol=1e-13)

  def test_bad_dynamics_are_refused(self):
    with self.assertRaisesRegex(ConfigError, r"diverges .* below 0.8"):
      posterior.residual_decay(np.array([2.5]), steps=3, step_size=1.0)
    with self.assertRaisesRegex(ConfigError, "momentum needs discrete steps"):
      posterior.residual_decay(np.array([1.0]), time=1.0, momentum=0.9)
    with self.assertRaisesRegex(ConfigError, "positive step size"):
      posterior.residual_decay(np.array([1.0]), steps=3)


class PosteriorTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.named_parameters(("gradient_descent", 40, 0.0), ("momentum", 25, 0.9))
  def test_mean_and_covariance_match_simulated_initializations(self, steps, momentum):
    n = 6
    theta, k, y = joint_kernels(n)
    step_size = 0.3 / np.linalg.eigvalsh(theta[:n, :n]).max()
    draws = 40000
    f = simulate(theta, k, y, n, draws, steps, step_size, momentum)
    out = posterior.ntk_posterior(theta[:n, :n], k[:n, :n], y, ntk_test_train=theta[n:, :n],
                                  nngp_test_train=k[n:, :n], nngp_test=k[n:, n:], steps=steps,
                                  step_size=step_size, momentum=momentum)
    for part, rows in (("train", slice(0, n)), ("test", slice(n, None))):
      samples = f[:, rows]                                    # (draws, rows, L)
      mean, cov = out[part]["mean"], out[part]["covariance"]
      sd = np.sqrt(np.diag(cov))[:, None]
      # Sample means within 5 standard errors; covariances (per output column) within 5% of
      # the scale (their relative standard error is ~sqrt(2/draws) = 0.7%).
      self.assertLess(np.abs(samples.mean(0) - mean).max() / (sd.max() / np.sqrt(draws)), 5)
      for column in range(y.shape[1]):
        empirical = np.cov(samples[:, :, column], rowvar=False)
        self.assertLess(np.abs(empirical - cov).max(), 0.05 * np.abs(cov).max())

  def test_limits(self):
    n = 6
    theta, k, y = joint_kernels(n)
    tests = dict(ntk_test_train=theta[n:, :n], nngp_test_train=k[n:, :n], nngp_test=k[n:, n:])
    start = posterior.ntk_posterior(theta[:n, :n], k[:n, :n], y, time=0.0, **tests)
    np.testing.assert_allclose(start["test"]["mean"], 0.0, atol=1e-15)   # The prior at t = 0.
    np.testing.assert_allclose(start["test"]["covariance"], k[n:, n:], atol=1e-14)
    end = posterior.ntk_posterior(theta[:n, :n], k[:n, :n], y, **tests)  # t = ∞
    np.testing.assert_allclose(end["train"]["mean"], y, atol=1e-12)    # Interpolation...
    np.testing.assert_allclose(end["train"]["covariance"], 0.0, atol=1e-12)  # ...certain.
    np.testing.assert_allclose(end["test"]["mean"],
                               theta[n:, :n] @ np.linalg.solve(theta[:n, :n], y), atol=1e-12)
    # The mean is the gradient-flow predictor from f_0 = 0.
    flow = ntk_tf.predict(theta[:n, :n], y, 1.5, theta[n:, :n])
    np.testing.assert_allclose(posterior.ntk_posterior(theta[:n, :n], k[:n, :n], y, time=1.5,
                                                       **tests)["test"]["mean"],
                               flow["test"], atol=1e-13)

  def test_nngp_posterior_is_gaussian_conditioning(self):
    n = 6
    _, k, y = joint_kernels(n)
    out = posterior.nngp_posterior(k[:n, :n], y, k[n:, :n], k[n:, n:], noise=0.1)["test"]
    noisy = k[:n, :n] + 0.1 * np.eye(n)
    np.testing.assert_allclose(out["mean"], k[n:, :n] @ np.linalg.solve(noisy, y), atol=1e-12)
    np.testing.assert_allclose(out["covariance"], k[n:, n:] - k[n:, :n] @ np.linalg.solve(
        noisy, k[:n, n:]), atol=1e-12)

  def test_ensemble_predictor_from_a_kernel_function(self):
    rng = np.random.default_rng(3)
    x, x_test, y = rng.normal(size=(8, 4)), rng.normal(size=(3, 4)), rng.normal(size=(8, 1))
    kernel_fn = functools.partial(ntk_tf.infinite_kernels, "mlp", depth=2)
    predictor = posterior.EnsemblePredictor(kernel_fn, x, y)
    train, cross = kernel_fn(x, None), kernel_fn(x_test, x)
    got = predictor.predict(x_test, time=3.0)
    want = posterior.ntk_posterior(train["ntk"], train["nngp"], y, ntk_test_train=cross["ntk"],
                                   nngp_test_train=cross["nngp"],
                                   nngp_test=kernel_fn(x_test, None)["nngp"], time=3.0)["test"]
    np.testing.assert_allclose(got["mean"], want["mean"], atol=1e-13)
    np.testing.assert_allclose(got["covariance"], want["covariance"], atol=1e-13)
    self.assertTrue(np.all(np.linalg.eigvalsh(got["covariance"]) > -1e-10))
    with self.assertRaisesRegex(ConfigError, "get='gp'"):
      predictor.predict(x_test, get="gp")

  def test_empirical_kernels_with_every_output_pair_are_refused(self):
    with self.assertRaisesRegex(ConfigError, "outputs='trace'"):
      posterior.ntk_posterior(np.zeros((2, 2, 3, 3)), np.eye(2), np.zeros((2, 3)))


class TrainedEnsembleTest(test_utils.TestCase):

  def test_an_ensemble_of_trained_linearized_networks_matches_the_ntk_gp(self):
    # 24 initializations of a width-1024 ReLU MLP (NTK parameterization), each linearized and
    # trained by 30 steps of full-batch gradient descent on ½Σ‖f − y‖² (every one of its 8
    # outputs toward the same targets: 192 draws of the output distribution), against the
    # infinite-width NTK-GP of the same net.
    rng = np.random.default_rng(5)
    x, x_test = rng.normal(size=(6, 4)), rng.normal(size=(3, 4))
    x, x_test = (a / np.linalg.norm(a, axis=1, keepdims=True) * 2 for a in (x, x_test))
    y = rng.normal(size=(6, 1))
    train = ntk_tf.infinite_kernels("mlp", x, depth=2)
    cross, test = (ntk_tf.infinite_kernels("mlp", x_test, x2, depth=2) for x2 in (x, None))
    step_size, steps = 0.5 / np.linalg.eigvalsh(train["ntk"]).max(), 30
    want = posterior.ntk_posterior(train["ntk"], train["nngp"], y, ntk_test_train=cross["ntk"],
                                   nngp_test_train=cross["nngp"], nngp_test=test["nngp"],
                                   steps=steps, step_size=step_size)["test"]
    draws = []
    for seed in range(24):
      model = ntk_tf.build_model("mlp", width=1024, input_shape=(4,), num_outputs=8, seed=seed,
                                 parameterization="ntk", dtype="float64", depth=2)
      lin = ntk_tf.LinearizedModel(model)
      xs, targets = tf.constant(x), tf.constant(np.repeat(y, 8, axis=1))

      @tf.function
      def step(lin=lin, xs=xs, targets=targets):
        _, grads = lin.loss_and_gradient(
            xs, targets, lambda out, t: 0.5 * tf.reduce_sum(tf.square(out - t)))
        for u, g in zip(lin.u, grads):
          u.assign_sub(step_size * g)
      for _ in range(steps):
        step()
      draws.append(lin.apply(tf.constant(x_test)).numpy().T)   # (8 outputs, 3 test points)
    draws = np.concatenate(draws)                              # (192, 3)
    sd = np.sqrt(np.diag(want["covariance"]))
    self.assertLess(np.abs(draws.mean(0) - want["mean"][:, 0]).max() / sd.max(),
                    4 / np.sqrt(len(draws)) + 0.05)            # 4 standard errors + width.
    empirical = np.cov(draws, rowvar=False)
    self.assertLess(np.abs(empirical - want["covariance"]).max(),
                    0.35 * np.abs(want["covariance"]).max())   # ~0.1 relative standard error.
    prior = test["nngp"]                                       # Training shrank the spread.
    self.assertLess(np.trace(want["covariance"]), 0.8 * np.trace(prior))


if __name__ == "__main__":
  absltest.main()
