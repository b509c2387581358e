"""Nyström-preconditioned CG on the dual system: gelsd's minimum-norm u, the preconditioner's
explicit form (Frangella et al. 2021), and its iteration savings (float64, small LeNet)."""

import numpy as np
import scipy.sparse.linalg
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.solvers import dense, iterative, linearized, nystrom_pcg
from ntk_tf.solvers.operator import JacobianOperator
from tests import test_utils


def small_lenet(num_outputs=1):
  return models.build("lenet", width=1, input_shape=(12, 12, 1), num_outputs=num_outputs,
                      seed=0, dtype="float64")


def near_duplicates(n, noise=0.02, seed=0):
  """n inputs scattered closely around one image: cond(J Jᵀ) ~ 6e6 at n = 48."""
  rng = np.random.default_rng(seed)
  base = rng.standard_normal((1, 12, 12, 1))
  return base + noise * rng.standard_normal((n, 12, 12, 1)), rng.choice([-1.0, 1.0], n)


def relative(a, b):
  return np.linalg.norm(a - b) / np.linalg.norm(b)


class MinimumNormTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters(1, 3)
  def test_u_equals_gelsd_minimum_norm_solution(self, num_outputs):
    model = small_lenet(num_outputs)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 12, 12, 1)), rng.standard_normal((30, num_outputs))
    op = JacobianOperator(model, x, batch_size=16)
    r = (y - op.initial_outputs()).ravel()
    u_gelsd = dense.lstsq(dense.jacobian_matrix(model, x), r).u
    pre = nystrom_pcg.from_model(model, x, 10)
    self.assertEqual(pre.rank, 10 * num_outputs)  # All L outputs of each pivot sample.
    sol = nystrom_pcg.pcg(op, r, pre.apply, tol=1e-12, iter_lim=200)
    self.assertTrue(sol.converged)
    self.assertLess(relative(sol.u, u_gelsd), 1e-8)
    self.assertLessEqual(sol.residual_norm, 1e-12 * np.linalg.norm(r))
    self.assertAllClose(sol.residual_norm, np.linalg.norm(r - op.matvec(sol.u)), rtol=1e-6)
    self.assertAllClose(op.rmatvec(sol.alpha), sol.u, rtol=1e-9, atol=1e-12)  # u = Jᵀ α.
    self.assertLen(sol.relative_residuals, sol.iterations)

  def test_linearized_solve_reports_like_the_other_methods(self):
    model = small_lenet()
    rng = np.random.default_rng(2)
    x, x_test = rng.standard_normal((24, 12, 12, 1)), rng.standard_normal((10, 12, 12, 1))
    labels, labels_test = rng.integers(0, 2, 24), rng.integers(0, 2, 10)
    y = np.where(labels == 1, 1.0, -1.0)[:, None]
    reports = {m: linearized.solve(model, x, y, labels, x_test, labels_test, method=m,
                                   nystrom_rank=8, pcg_tol=1e-10)
               for m in ("lstsq", "nystrom_pcg")}
    pcg = reports["nystrom_pcg"]
    self.assertTrue(pcg["converged"])
    self.assertLess(pcg["relative_residual"], 1e-9)
    self.assertAllClose(pcg["u_norm"], reports["lstsq"]["u_norm"], rtol=1e-8)
    self.assertEqual(pcg["test_accuracy"], reports["lstsq"]["test_accuracy"])
    self.assertEqual(pcg["train_accuracy"], 1.0)
    self.assertEqual((pcg["nystrom_samples"], pcg["preconditioner_rank"]), (8, 8))
    self.assertBetween(pcg["iterations"], 1, 24)


class PreconditionerTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.model = small_lenet()
    cls.x = np.random.default_rng(3).standard_normal((12, 12, 12, 1))
    jac = dense.jacobian_matrix(cls.model, cls.x)
    cls.kernel = jac @ jac.T

  def test_nystrom_approximation_and_explicit_form(self):
    pivots = np.array([1, 4, 5, 9])
    shift = 0.3
    pre = nystrom_pcg.nystrom(self.kernel[:, pivots], pivots, shift)
    # K̂ = C W⁺ Cᵀ (Nyström), from the definition.
    c = self.kernel[:, pivots]
    k_hat = c @ np.linalg.pinv(c[pivots]) @ c.T
    u, lam = pre.vectors, pre.values
    self.assertAllClose(u.T @ u, np.eye(4), atol=1e-12)
    self.assertAllClose((u * lam) @ u.T, k_hat, rtol=1e-8, atol=1e-8 * np.abs(k_hat).max())
    # Frangella et al. eq. (5.3): P; eq. (5.4): P⁻¹.
    proj = np.eye(12) - u @ u.T
    p = (u * (lam + shift)) @ u.T / (lam[-1] + shift) + proj
    p_inv = (lam[-1] + shift) * (u / (lam + shift)) @ u.T + proj
    self.assertAllClose(pre.dense(), p_inv)
    self.assertAllClose(p @ pre.dense(), np.eye(12), atol=1e-10)
    v = np.random.default_rng(0).standard_normal((12, 3))
    self.assertAllClose(pre.apply(v), p_inv @ v)
    self.assertAllClose(pre.apply(v[:, 0]), p_inv @ v[:, 0])
    # The preconditioned operator P^{-1/2} K P^{-1/2} (applied through `apply`) against the
    # dense one: the same spectrum.
    applied = np.stack([pre.apply(col) for col in self.kernel.T], axis=1)
    self.assertAllClose(np.sort(np.linalg.eigvals(applied).real),
                        np.sort(np.linalg.eigvals(p_inv @ self.kernel).real), rtol=1e-8)

  def test_columns_from_the_model_are_the_kernel_and_all_columns_make_cg_exact(self):
    pre = nystrom_pcg.from_model(self.model, self.x, 12)  # k = n: K̂ = K.
    self.assertAllClose((pre.vectors * pre.values) @ pre.vectors.T, self.kernel, rtol=1e-8,
                        atol=1e-9 * np.abs(self.kernel).max())
    # P⁻¹ K = λ̂_min I: one CG iteration solves the system.
    self.assertAllClose(pre.dense() @ self.kernel, pre.values[-1] * np.eye(12), rtol=0,
                        atol=1e-7 * pre.values[-1])
    op = JacobianOperator(self.model, self.x)
    rhs = np.random.default_rng(4).standard_normal(12)
    sol = nystrom_pcg.pcg(op, rhs, pre.apply, tol=1e-8, iter_lim=5)
    self.assertEqual(sol.iterations, 1)
    self.assertTrue(sol.converged)

  def test_repeated_samples_give_a_singular_block_and_still_a_preconditioner(self):
    repeated = np.concatenate([np.arange(12), [0, 1, 2]])  # Samples 12-14 repeat 0-2.
    kernel = self.kernel[np.ix_(repeated, repeated)]
    pivots = np.array([0, 1, 12, 13])  # W has rank 2.
    pre = nystrom_pcg.nystrom(kernel[:, pivots], pivots)
    self.assertEqual(pre.rank, 2)
    self.assertTrue(np.isfinite(pre.dense()).all())

  def test_bad_rank_is_one_error_before_any_work(self):
    for rank in (0, 13, 2.5, True):
      with self.assertRaisesRegex(ConfigError, "nystrom_rank=.*use an integer from 1 to 12"):
        nystrom_pcg.sample_pivots(12, rank)
    with self.assertRaisesRegex(ConfigError, "nystrom_rank=5000: .* of the 4,000 training"):
      linearized.check_feasible("nystrom_pcg", 4000, 60941,
                                linearized.options(nystrom_rank=5000))
    with self.assertRaisesRegex(ConfigError, "pcg_tol=0"):
      linearized.check_feasible("nystrom_pcg", 40, 100, linearized.options(pcg_tol=0.0))
    with self.assertRaisesRegex(ConfigError, "nystrom_shift=-1"):
      linearized.check_feasible("nystrom_pcg", 40, 100,
                                linearized.options(nystrom_rank=10, nystrom_shift=-1.0))


class ConvergenceTest(test_utils.TestCase):

  def test_far_fewer_iterations_than_cg_and_lsqr_on_an_ill_conditioned_system(self):
    model = small_lenet()
    x, y = near_duplicates(48)
    op = JacobianOperator(model, x)
    r = y - op.initial_outputs().ravel()
    jac = dense.jacobian_matrix(model, x)
    eigenvalues = np.linalg.eigvalsh(jac @ jac.T)
    self.assertGreater(eigenvalues[-1] / eigenvalues[0], 1e6)  # Ill-conditioned.
    tol = 1e-10
    plain = nystrom_pcg.pcg(op, r, None, tol=tol, iter_lim=1000)
    pre = nystrom_pcg.pcg(op, r, nystrom_pcg.from_model(model, x, 24).apply, tol=tol,
                          iter_lim=1000)
    lsqr = iterative.solve(op, r, atol=tol, btol=tol, iter_lim=1000, checkpoint_every=0)
    self.assertTrue(plain.converged and pre.converged)
    self.assertLess(2.5 * pre.iterations, plain.iterations)   # Measured 31 vs 97.
    self.assertLess(2 * pre.iterations, lsqr.iterations)      # ... vs 68 (LSQR).
    u = dense.lstsq(jac, r).u
    self.assertLess(relative(pre.u, u), 1e-8)

  def test_inexact_operator_stops_instead_of_restarting_forever(self):
    rng = np.random.default_rng(5)
    jac = rng.standard_normal((20, 60))

    def rounded(v):  # J v with relative noise 1e-8, different in every call (as rounding).
      out = jac @ v
      return out + 1e-8 * np.linalg.norm(out) * rng.standard_normal(20) / np.sqrt(20)

    noisy = scipy.sparse.linalg.LinearOperator((20, 60), matvec=rounded,
                                               rmatvec=lambda r: jac.T @ r, dtype=np.float64)
    sol = nystrom_pcg.pcg(noisy, np.ones(20), tol=1e-13, iter_lim=500)
    self.assertFalse(sol.converged)
    self.assertLess(sol.iterations, 500)
    self.assertLess(sol.residual_norm, 1e-6 * np.sqrt(20))


if __name__ == "__main__":
  absltest.main()
