"""Solvers: dense lstsq, LSQR/LSMR, the kernel form and kernel regression agree (float64)."""

import os
from unittest import mock

import numpy as np
import scipy.linalg
import sklearn.metrics.pairwise
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.analysis import metrics
from ntk_tf.errors import ConfigError, DataError
from ntk_tf.ntk import empirical
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.solvers import dense, iterative, kernel, linearized
from ntk_tf.solvers.operator import JacobianOperator, flatten_params, unflatten_params
from ntk_tf.training import steps as training
from ntk_tf.utils import memory
from tests import test_utils


def small_lenet(num_outputs=1, seed=0):
  return models.build("lenet", width=1, input_shape=(12, 12, 1), num_outputs=num_outputs,
                      seed=seed, dtype="float64")


def problem(n=30, n_test=12, num_outputs=1, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((n, 12, 12, 1))
  x_test = rng.standard_normal((n_test, 12, 12, 1))
  labels = rng.integers(0, 2, n) if num_outputs == 1 else rng.integers(0, num_outputs, n)
  labels_test = rng.integers(0, 2, n_test) if num_outputs == 1 else \
      rng.integers(0, num_outputs, n_test)
  y = (np.where(labels == 1, 1.0, -1.0)[:, None] if num_outputs == 1
       else np.eye(num_outputs)[labels])
  return x, y, labels, x_test, labels_test


class JacobianOperatorTest(test_utils.TestCase):

  def test_matvec_and_rmatvec_equal_the_dense_jacobian_and_finite_differences(self):
    model = small_lenet(num_outputs=3)
    x = problem(n=7)[0]
    op = JacobianOperator(model, x, batch_size=3)  # Batches need not divide n.
    jac = dense.jacobian_matrix(model, x, block_size=4)
    rng = np.random.default_rng(1)
    v, r = rng.standard_normal(op.shape[1]), rng.standard_normal(op.shape[0])
    self.assertAllClose(op.matvec(v), jac @ v)
    self.assertAllClose(op.rmatvec(r), jac.T @ r)
    # Central differences of f along v: rows (sample, output) of J·v.
    w0 = flatten_params(model.trainable_weights)
    shapes = [tuple(w.shape) for w in model.trainable_weights]
    eps = 1e-6

    def f(w):
      out, _ = model.stateless_call(
          [tf.constant(p) for p in unflatten_params(w, shapes)],
          [v.value for v in model.non_trainable_variables], tf.constant(x))
      return np.asarray(out).ravel()

    self.assertAllClose(jac @ v, (f(w0 + eps * v) - f(w0 - eps * v)) / (2 * eps),
                        rtol=1e-6, atol=1e-7)

  def test_flatten_round_trip(self):
    params = [np.arange(6.0).reshape(2, 3), np.arange(4.0)]
    back = unflatten_params(flatten_params(params), [(2, 3), (4,)])
    for a, b in zip(back, params):
      np.testing.assert_array_equal(a, b)


class MinimumNormTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters(1, 3)
  def test_lstsq_lsqr_and_kernel_form_give_the_same_minimum_norm_solution(self, num_outputs):
    model = small_lenet(num_outputs)
    x, y, _, _, _ = problem(num_outputs=num_outputs)
    op = JacobianOperator(model, x)
    r = (y - op.initial_outputs()).ravel()
    u_dense = dense.lstsq(dense.jacobian_matrix(model, x), r).u
    u_lsqr = iterative.solve(op, r, method="lsqr", atol=1e-14, btol=1e-14, iter_lim=500).x
    k = empirical.empirical_ntk(model, x, method="jacobian")
    alpha = kernel.interpolate(k, r.reshape(len(x), -1))["alpha"].ravel()
    u_kernel = op.rmatvec(alpha)  # u = Jᵀ (J Jᵀ)⁻¹ r.
    scale = np.linalg.norm(u_dense)
    self.assertAllClose(u_kernel / scale, u_dense / scale, rtol=0, atol=1e-9)
    self.assertAllClose(u_lsqr / scale, u_dense / scale, rtol=0, atol=1e-8)

  def test_underdetermined_system_is_interpolated_by_every_method(self):
    model = small_lenet()
    x, y, labels, x_test, labels_test = problem()
    reports = {m: linearized.solve(model, x, y, labels, x_test, labels_test, method=m,
                                   atol=1e-12, btol=1e-12)
               for m in linearized.METHODS}
    for method, report in reports.items():
      self.assertEqual(report["train_accuracy"], 1.0, method)
      self.assertLess(report["relative_residual"], 1e-6, method)
      self.assertTrue(report["converged"], method)
      self.assertAllClose(report["u_norm"], reports["lstsq"]["u_norm"], rtol=1e-7)
      self.assertEqual(report["test_accuracy"], reports["lstsq"]["test_accuracy"], method)
    self.assertEqual(reports["lstsq"]["rank"], len(x))
    self.assertEqual(reports["kernel"]["rank"], len(x))

  def test_rank_deficient_system_reports_rank_and_minimum_norm(self):
    model = small_lenet()
    x, y, labels, x_test, labels_test = problem(n=12)
    x, y, labels = (np.concatenate([a, a[:4]]) for a in (x, y, labels))  # 4 duplicated rows.
    y[-1] = -y[-1]  # ... one of them with the opposite target: no exact solution.
    lstsq = linearized.solve(model, x, y, labels, x_test, labels_test, method="lstsq")
    by_kernel = linearized.solve(model, x, y, labels, x_test, labels_test, method="kernel")
    self.assertEqual(lstsq["rank"], 12)
    self.assertEqual(by_kernel["rank"], 12)
    self.assertAllClose(by_kernel["u_norm"], lstsq["u_norm"], rtol=1e-7)
    self.assertAllClose(by_kernel["residual_norm"], lstsq["residual_norm"], rtol=1e-7)
    self.assertAllClose(lstsq["residual_norm"], np.sqrt(2.0), rtol=1e-8)  # Averages ±1.

  def test_lstsq_works_in_place_and_matches_scipy(self):
    model = small_lenet()
    x, y = problem(n=10)[:2]
    jac = dense.jacobian_matrix(model, x)
    copy = np.array(jac)
    sol = dense.lstsq(jac, y.ravel())
    self.assertFalse(np.array_equal(jac, copy))  # LAPACK overwrote J: no second copy of J.
    u, _, rank, sv = scipy.linalg.lstsq(copy, y.ravel(), lapack_driver="gelsd")
    self.assertAllClose(sol.u, u)
    self.assertEqual(sol.rank, rank)
    self.assertAllClose(sol.singular_values, sv)

  def test_memmap_jacobian_equals_in_memory(self):
    model = small_lenet(num_outputs=2)
    x = problem(n=9)[0]
    path = os.path.join(self.create_tempdir().full_path, "jac.f64")
    on_disk = dense.jacobian_matrix(model, x, storage="memmap", path=path, block_size=4)
    self.assertIsInstance(on_disk, np.memmap)
    self.assertTrue(on_disk.flags.f_contiguous)
    np.testing.assert_array_equal(np.asarray(on_disk), dense.jacobian_matrix(model, x))

  def test_memmap_solve_equals_in_memory_solve(self):
    model = small_lenet()
    x, y, labels, x_test, labels_test = problem()
    workdir = self.create_tempdir().full_path
    memory = linearized.solve(model, x, y, labels, x_test, labels_test, method="lstsq")
    disk = linearized.solve(model, x, y, labels, x_test, labels_test, method="lstsq",
                            storage="memmap", workdir=workdir)
    for key in ("u_norm", "residual_norm", "rank", "train_accuracy", "test_accuracy"):
      self.assertAllClose(disk[key], memory[key], rtol=1e-12)
    self.assertEqual(os.listdir(workdir), [])  # gelsd consumed the file; it is removed.


class IterativeTest(test_utils.TestCase, parameterized.TestCase):

  def setUp(self):
    super().setUp()
    self.model = small_lenet()
    x, y = problem(n=25)[:2]
    self.op = JacobianOperator(self.model, x)
    self.rhs = (y - self.op.initial_outputs()).ravel()

  @parameterized.parameters("lsqr", "lsmr")
  def test_resumed_solve_equals_uninterrupted(self, method):
    kwargs = dict(method=method, atol=1e-14, btol=1e-14, checkpoint_every=4)
    whole = iterative.solve(self.op, self.rhs, iter_lim=14, **kwargs)
    path = os.path.join(self.create_tempdir().full_path, "iterate.npz")
    first = iterative.solve(self.op, self.rhs, iter_lim=8, checkpoint_path=path, **kwargs)
    self.assertEqual(first.iterations, 8)
    calls = self.op.matvecs
    resumed = iterative.solve(self.op, self.rhs, iter_lim=14, checkpoint_path=path, **kwargs)
    self.assertLess(self.op.matvecs - calls, 10)  # Only iterations 9-14 (+ final residual) ran.
    self.assertEqual(resumed.iterations, whole.iterations)
    self.assertAllClose(resumed.x, whole.x, rtol=1e-13, atol=1e-15)
    self.assertAllClose(resumed.residual_norm, whole.residual_norm, rtol=1e-10)

  def test_corrupted_iterate_falls_back_to_the_previous_one(self):
    kwargs = dict(method="lsqr", atol=1e-14, btol=1e-14, checkpoint_every=4)
    whole = iterative.solve(self.op, self.rhs, iter_lim=14, **kwargs)
    path = os.path.join(self.create_tempdir().full_path, "iterate.npz")
    iterative.solve(self.op, self.rhs, iter_lim=8, checkpoint_path=path, **kwargs)
    self.assertEqual(int(np.load(path + ".prev.npz")["iterations"]), 4)
    with open(path, "wb") as f:
      f.write(b"PK\x03\x04 not a zip")
    with self.assertLogs(level="WARNING") as logs:
      resumed = iterative.solve(self.op, self.rhs, iter_lim=14, checkpoint_path=path, **kwargs)
    self.assertTrue(any("previous iterate" in m for m in logs.output))
    self.assertTrue(os.path.exists(path + ".corrupt"))
    self.assertAllClose(resumed.x, whole.x, rtol=1e-13, atol=1e-15)

  def test_checkpoint_of_another_solve_is_refused(self):
    path = os.path.join(self.create_tempdir().full_path, "iterate.npz")
    iterative.solve(self.op, self.rhs, iter_lim=3, checkpoint_path=path)
    with self.assertRaisesRegex(ConfigError, "another solve .*damp.*differ"):
      iterative.solve(self.op, self.rhs, iter_lim=3, damp=0.1, checkpoint_path=path)

  def test_iteration_limit_is_reported_not_hidden(self):
    out = iterative.solve(self.op, self.rhs, method="lsqr", iter_lim=3, atol=1e-14, btol=1e-14)
    self.assertFalse(out.converged)
    self.assertEqual(out.istop, iterative.ITERATION_LIMIT)
    self.assertEqual(out.iterations, 3)
    self.assertAllClose(out.residual_norm, np.linalg.norm(self.rhs - self.op.matvec(out.x)),
                        rtol=1e-8)

  @parameterized.parameters(("lsmr", 200), ("lsqr", 4), ("lsmr", 4))
  def test_damping_equals_ridge_normal_equations(self, method, checkpoint_every):
    # With restarts every 4 iterations SciPy's own damping would pull towards each chunk's
    # starting point; the stacked system must still give the ridge solution.
    damp = 0.5
    out = iterative.solve(self.op, self.rhs, method=method, damp=damp, atol=1e-14, btol=1e-14,
                          iter_lim=500, checkpoint_every=checkpoint_every)
    jac = dense.jacobian_matrix(self.model, self.op.x)
    # Ridge solution u = Jᵀ (J Jᵀ + damp² I)⁻¹ b.
    u = jac.T @ np.linalg.solve(jac @ jac.T + damp ** 2 * np.eye(len(jac)), self.rhs)
    self.assertAllClose(out.x, u, rtol=1e-7, atol=1e-9)
    self.assertAllClose(out.residual_norm, np.linalg.norm(self.rhs - jac @ u), rtol=1e-7)


class BadInputTest(test_utils.TestCase):

  def test_nan_targets_and_inputs_are_refused(self):
    model = small_lenet()
    x, y, labels, x_test, labels_test = problem(n=6)
    y[2, 0] = np.nan
    with self.assertRaisesRegex(DataError, r"training targets has 1 NaN/inf .*index \(2, 0\)"):
      linearized.solve(model, x, y, labels, x_test, labels_test, method="lsqr")
    y[2, 0] = 1.0
    x[1, 3, 3, 0] = np.inf
    with self.assertRaisesRegex(DataError, "inputs has 1 NaN/inf"):
      linearized.solve(model, x, y, labels, x_test, labels_test, method="lsqr")

  def test_dense_solve_that_cannot_fit_is_refused_with_the_estimate(self):
    with self.assertRaisesRegex(ConfigError, r"40,000 x 217,800,970 = 64909\.75 GiB.*'lsqr'.*"
                                             r"memmap"):
      linearized.check_feasible("lstsq", 40_000, 217_800_970, linearized.options())
    with mock.patch.object(memory, "host_available_bytes", return_value=64 * memory.GiB):
      # LSQR's ~13 GiB of vectors fit a machine with 64 GiB free (not the budget of this one).
      self.assertIsNone(linearized.check_feasible("lsqr", 40_000, 217_800_970,
                                                  linearized.options()))

  def test_unknown_option_and_method(self):
    with self.assertRaisesRegex(ConfigError, "unknown solver option.*'tol'"):
      linearized.options(tol=1)
    with self.assertRaisesRegex(ConfigError, "solver method 'svd'"):
      linearized.check_feasible("svd", 1, 1, linearized.options())


class KernelRegressionTest(test_utils.TestCase):

  def setUp(self):
    super().setUp()
    rng = np.random.default_rng(0)
    self.x, self.x_test = rng.standard_normal((40, 5)), rng.standard_normal((15, 5))
    self.k = sklearn.metrics.pairwise.rbf_kernel(self.x, gamma=0.3)
    self.k_test = sklearn.metrics.pairwise.rbf_kernel(self.x_test, self.x, gamma=0.3)
    self.y = rng.standard_normal((40, 2))

  def test_kernel_ridge_with_vanishing_alpha_equals_the_interpolant(self):
    ridge = kernel.kernel_ridge(self.k, self.y, self.k_test, alpha=1e-11)
    exact = self.k_test @ np.linalg.solve(self.k, self.y)
    self.assertAllClose(kernel.interpolate(self.k, self.y, self.k_test)["test"], exact,
                        rtol=1e-8, atol=1e-8)
    self.assertAllClose(ridge["test"], exact, rtol=1e-4, atol=1e-5)
    ridge = kernel.kernel_ridge(self.k, self.y, self.k_test, alpha=0.3)
    self.assertAllClose(ridge["test"],
                        self.k_test @ np.linalg.solve(self.k + 0.3 * np.eye(40), self.y))

  def test_gradient_flow_at_large_time_is_kernel_regression(self):
    flow = kernel.gradient_flow(self.k, self.y, np.inf, self.k_test)
    late = kernel.gradient_flow(self.k, self.y, 1e12, self.k_test)
    exact = kernel.interpolate(self.k, self.y, self.k_test)
    self.assertAllClose(flow["test"], exact["test"], rtol=1e-9, atol=1e-9)
    self.assertAllClose(flow["train"], self.y, rtol=1e-8, atol=1e-8)
    self.assertAllClose(late["test"], exact["test"], rtol=1e-6, atol=1e-6)

  def test_gradient_flow_matches_small_step_gradient_descent_of_the_linearized_model(self):
    model = small_lenet(num_outputs=2)
    x, y, _, x_test, _ = problem(n=10, n_test=5, num_outputs=2)
    y = y - 0.5
    lin = LinearizedModel(model)
    xt, yt = tf.constant(x), tf.constant(y)
    f0 = lin.apply(xt).numpy()
    f0_test = lin.apply(tf.constant(x_test)).numpy()
    k = empirical.empirical_ntk(model, x)
    lam = np.linalg.eigvalsh(empirical.flatten(k)).max()
    lr, steps = 0.01 * 10 * 2 / lam, 300  # η · 2λ_max/(N·L) = 0.01: a small step.
    for _ in range(steps):
      _, grads = lin.loss_and_gradient(xt, yt, training.mse)
      for var, g in zip(lin.u, grads):
        var.assign_sub(lr * g)
    time = kernel.mse_flow_time(lr, steps, num_samples=10, num_outputs=2)
    flow = kernel.gradient_flow(k, y - f0, time, empirical.empirical_ntk(model, x_test, x))
    moved = lin.apply(tf.constant(x_test)).numpy() - f0_test
    self.assertGreater(np.abs(moved).max(), 0.05)  # Training did change the outputs...
    # ... by what the flow predicts, up to the O(η) discretization error.
    self.assertAllClose(flow["test"], moved, rtol=0, atol=0.01 * np.abs(moved).max())
    self.assertAllClose(flow["train"], lin.apply(xt).numpy() - f0, rtol=0,
                        atol=0.01 * np.abs(moved).max())

  def test_near_singular_kernels_give_finite_minimum_norm_answers(self):
    features = np.random.default_rng(1).standard_normal((30, 60))
    features = np.concatenate([features, features[:10] * (1 + 1e-13)])  # rank 30, tiny λ.
    k = features @ features.T
    y = np.random.default_rng(2).standard_normal((40, 1))
    out = kernel.interpolate(k, y, k[:7])
    flow = kernel.gradient_flow(k, y, 1e30, k[:7])
    self.assertTrue(np.isfinite(out["test"]).all() and np.isfinite(flow["test"]).all())
    # Sub-floor directions are left out at every time: late flow approaches interpolation.
    self.assertAllClose(flow["test"], out["test"], rtol=1e-6, atol=1e-6)
    self.assertLessEqual(out["rank"], 30)
    # Predictions equal those of the minimum-norm least-squares fit in feature space.
    w = np.linalg.pinv(features, rcond=1e-10) @ y
    self.assertAllClose(out["test"], features[:7] @ w, rtol=1e-6, atol=1e-6)

  def test_alpha_selected_on_a_validation_split(self):
    labels = (self.y[:, 0] > 0).astype(int)
    chosen = kernel.select_alpha(self.k, self.y[:, :1], labels, (1e-8, 1.0, 100.0),
                                 validation_fraction=0.25,
                                 accuracy_fn=metrics.accuracy)
    self.assertIn(chosen["alpha"], (1e-8, 1.0, 100.0))
    self.assertLen(chosen["validation"], 3)
    self.assertEqual(chosen["validation"][chosen["alpha"]], max(chosen["validation"].values()))


if __name__ == "__main__":
  absltest.main()
