"""SGD with optimal early stopping or the final error: schedule, nested subsets, the three
model kinds."""

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.data import synthetic
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import empirical
from ntk_tf.training import learning_curves as lc
from ntk_tf.training.steps import TrainingDivergedError
from tests import test_utils


def _task(n_train=24, n_test=10, dim=6, seed=0):
  x, y = synthetic.sample(n_train + n_test, dim, 0.5, np.random.default_rng(seed))
  targets = np.where(y == 1, 1.0, -1.0)[:, None]
  return x[:n_train], targets[:n_train], x[n_train:], y[n_train:]


def _mlp(dim, dtype="float64", seed=0, width=16):
  return models.build("mlp", width=width, input_shape=(dim,), num_outputs=1, seed=seed,
                      parameterization="ntk", dtype=dtype, depth=3)


class ScheduleTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters(1, 7, 100, 12345)
  def test_log_steps_grow_by_the_factor_and_end_at_max_steps(self, max_steps):
    steps = lc.log_steps(max_steps, 1.1)
    self.assertEqual(steps[0], 0)
    self.assertEqual(steps[-1], max_steps)
    self.assertTrue(np.all(np.diff(steps) > 0))
    inner = steps[1:-1]
    if len(inner) > 1:  # s_{k+1} = max(s_k + 1, ceil(1.1 s_k)).
      expected = np.maximum(inner[:-1] + 1, np.ceil(1.1 * inner[:-1]))
      np.testing.assert_array_equal(inner[1:], expected)
    if max_steps == 12345:  # log(12345)/log(1.1) ≈ 99, fewer with the ceilings.
      self.assertBetween(len(steps), 70, 110)

  def test_log_factor_must_exceed_one(self):
    with self.assertRaisesRegex(ConfigError, "must be > 1"):
      lc.log_steps(10, 1.0)

  def test_nested_order_prefixes_are_balanced_and_seeded(self):
    labels = np.array([0] * 30 + [1] * 50 + [2] * 40)
    order = lc.nested_balanced_order(labels, seed=3)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(labels)))
    for n in range(3, 91):  # Until class 0 (30 samples) runs out.
      counts = np.bincount(labels[order[:n]], minlength=3)
      self.assertLessEqual(counts.max() - counts.min(), 1, msg=f"n={n}")
    np.testing.assert_array_equal(order, lc.nested_balanced_order(labels, seed=3))
    self.assertFalse(np.array_equal(order, lc.nested_balanced_order(labels, seed=4)))

  def test_train_sizes_are_checked_against_the_pool(self):
    labels = np.array([0, 1] * 10)
    self.assertEqual(lc.check_train_sizes((8, 4), labels, "x"), [4, 8])
    with self.assertRaisesRegex(ConfigError, "only 20 training samples"):
      lc.check_train_sizes((4, 40), labels, "x")
    with self.assertRaisesRegex(ConfigError, "fewer than the 2 classes"):
      lc.check_train_sizes((1, 4), labels, "x")


class ModelsTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters("half_mse", "mse")
  def test_kernel_sgd_on_the_entk_equals_sgd_on_the_centered_linearized_model(self, loss):
    x, y, xt, lt = _task()
    model = _mlp(x.shape[1])
    lin = lc.LinearizedModelSGD(model, x, y, xt, lt, loss=loss, momentum=0.9, threshold=0.0)
    k = empirical.empirical_ntk(model, np.concatenate([x, xt]), outputs="trace")
    ker = lc.KernelSGD(k[:24, :24], k[24:, :24], y, lt, loss=loss, momentum=0.9, threshold=0.0)
    for epoch in range(3):  # Batches of 10, 10, 4: the last one smaller.
      for idx in lc.training.epoch_batches(24, 10, seed=1, epoch=epoch):
        self.assertAllClose(lin.step(idx, 0.5), ker.step(idx, 0.5))
    self.assertAllClose(lin.test_outputs(), ker.test_outputs())
    self.assertGreater(np.abs(ker.test_outputs()).max(), 1e-2)  # It moved.

  def test_kernel_sgd_steps_by_hand(self):
    k = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 1.0]])
    y = np.array([[1.0], [-1.0], [1.0]])
    ker = lc.KernelSGD(k, k[:1], y, np.array([1]), loss="half_mse", momentum=0.5, threshold=0.)
    ker.step(np.array([0, 1]), 0.1)  # out = 0, g = (0 - y_B)/2, b = g, a = -0.1 b.
    self.assertAllClose(ker.coef[:, 0], [0.05, -0.05, 0.0])
    ker.step(np.array([2]), 0.1)  # out_2 = K[2] a = -0.05, g = -1.05, b = 0.5 b + e_2 g.
    self.assertAllClose(ker.velocity[:, 0], [-0.25, 0.25, -1.05])
    self.assertAllClose(ker.coef[:, 0], [0.075, -0.075, 0.105])

  def test_subtracted_initial_outputs_start_at_zero(self):
    x, y, xt, lt = _task()
    net = lc.NetworkModel(_mlp(x.shape[1]), x, y, xt, lt, loss="half_mse", momentum=0.9,
                          threshold=0.0, subtract_initial_outputs=True)
    self.assertAllClose(net.test_outputs(), np.zeros((len(xt), 1)))
    net.step(np.arange(8), 0.5)
    self.assertGreater(np.abs(net.test_outputs()).max(), 1e-3)

  def test_train_error_is_logged_beside_the_test_error(self):
    # The swapped roles: a model whose "test" set is its training set must report the same
    # error at every logged step (the train error is the test error's computation on x_train).
    x, y, _, _ = _task(n_train=40, n_test=0)
    labels = (y[:, 0] > 0).astype(int)
    net = lc.NetworkModel(_mlp(x.shape[1], width=32), x, y, x, labels, loss="half_mse",
                          momentum=0.9, threshold=0.0, labels_train=labels)
    run = lc.train_with_early_stopping(net, 40, batch_size=10, learning_rate=0.5, max_steps=40,
                                       seed=0, record_train_error=True)
    self.assertEqual(run["train_error"], run["test_error"])
    self.assertLess(run["train_error"][-1], run["train_error"][0])
    plain = lc.NetworkModel(_mlp(x.shape[1]), x, y, x, labels, loss="half_mse", momentum=0.9,
                            threshold=0.0)
    self.assertNotIn("train_error", lc.train_with_early_stopping(
        plain, 40, batch_size=10, learning_rate=0.5, max_steps=3, seed=0))
    with self.assertRaisesRegex(ValueError, "labels_train"):
      plain.train_error()

  def test_early_stopping_keeps_the_best_logged_point_and_snapshots(self):
    x, y, xt, lt = _task(n_train=40, n_test=200)
    net = lc.NetworkModel(_mlp(x.shape[1], "float32", width=64), x, y, xt, lt, loss="half_mse",
                          momentum=0.9, threshold=0.0)
    w0 = net.state()
    run = lc.train_with_early_stopping(net, 40, batch_size=10, learning_rate=0.5, max_steps=60,
                                       seed=0, snapshot_steps=(0, 13), keep_best=True)
    self.assertEqual(run["steps"], lc.log_steps(60).tolist() + [])
    self.assertEqual(run["num_steps"], 60)
    i = int(np.argmin(run["test_error"]))
    self.assertEqual(run["best_step"], run["steps"][i])
    self.assertEqual(run["best_test_error"], min(run["test_error"]))
    for a, b in zip(run["snapshots"][0], w0):
      np.testing.assert_array_equal(a, b)
    self.assertIn(13, run["snapshots"])
    for v, value in zip(net.model.trainable_variables, run["best_state"]):
      v.assign(value)
    self.assertAllClose(net.test_error(), run["best_test_error"])

  def test_train_loss_tolerance_stops_training(self):
    k = np.eye(6) * 2.0
    y = np.ones((6, 1))
    ker = lc.KernelSGD(k, k[:2], y, np.array([1, 1]), loss="half_mse", momentum=0.0,
                       threshold=0.0)
    run = lc.train_with_early_stopping(ker, 6, batch_size=6, learning_rate=2.0, max_steps=1000,
                                       seed=0, train_loss_tol=1e-6)
    self.assertEqual(run["stopped"], "train_loss_tol")
    self.assertLess(run["num_steps"], 100)

  def test_final_error_is_the_error_after_the_last_step(self):
    x, y, xt, lt = _task(n_train=40, n_test=200)
    net = lc.NetworkModel(_mlp(x.shape[1], "float32", width=64), x, y, xt, lt, loss="half_mse",
                          momentum=0.0, threshold=0.0)
    run = lc.train_with_early_stopping(net, 40, batch_size=10, learning_rate=0.5, max_steps=50,
                                       seed=0)
    self.assertEqual(run["steps"][-1], run["num_steps"])
    self.assertEqual(run["final_test_error"], run["test_error"][-1])
    self.assertEqual(run["final_train_loss"], run["train_loss"][-1])
    self.assertAllClose(run["final_test_error"], net.test_error())  # The weights at the end.
    self.assertLessEqual(run["best_test_error"], run["final_test_error"])
    self.assertFalse(run["converged"])  # Stopped by the budget.
    self.assertEqual(lc.reported_error(run, "optimal"), run["best_test_error"])
    self.assertEqual(lc.reported_error(run, "final"), run["final_test_error"])

  def test_converged_kernel_sgd_ends_at_the_interpolant(self):
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((30, 40))
    k = phi @ phi.T / 40  # Positive definite over the 12 training rows.
    y = np.where(rng.random((12, 1)) < 0.5, 1.0, -1.0)
    lt = (rng.random(18) < 0.5).astype(np.int64)
    ker = lc.KernelSGD(k[:12, :12], k[12:, :12], y, lt, loss="half_mse", momentum=0.0,
                       threshold=0.0)
    run = lc.train_with_early_stopping(ker, 12, batch_size=12, learning_rate=4.0,
                                       max_steps=200000, seed=0, train_loss_tol=1e-14)
    self.assertTrue(run["converged"])
    self.assertLess(run["num_steps"], 200000)
    interpolant = k[12:, :12] @ np.linalg.solve(k[:12, :12], y)
    self.assertAllClose(ker.test_outputs(), interpolant, atol=1e-5)
    self.assertEqual(run["final_test_error"], lc.test_error(interpolant, lt, 0.0))
    self.assertLessEqual(run["best_test_error"], run["final_test_error"])

  def test_reported_error_of_cells_without_a_final_error(self):
    old_cell = dict(best_test_error=0.1, test_error=[0.5, 0.1, 0.2])  # Written before it.
    self.assertEqual(lc.reported_error(old_cell, "final"), 0.2)
    self.assertEqual(lc.reported_error(old_cell, "optimal"), 0.1)
    self.assertEqual(lc.reported_error(dict(best_test_error=0.3), "final"), 0.3)  # Regression.
    with self.assertRaisesRegex(ConfigError, "'optimal'.*'final'"):
      lc.reported_error(old_cell, "last")

  def test_divergence_names_the_learning_rate(self):
    k = np.eye(4) * 100.0
    ker = lc.KernelSGD(k, k[:1], np.ones((4, 1)), np.array([1]), loss="half_mse",
                       momentum=0.9, threshold=0.0)
    with self.assertRaisesRegex(TrainingDivergedError, "lower train.learning_rate"):
      lc.train_with_early_stopping(ker, 4, batch_size=4, learning_rate=100.0, max_steps=2000,
                                   seed=0, label="infinite_ntk")

  def test_kernel_sgd_refuses_cross_entropy(self):
    with self.assertRaisesRegex(ConfigError, "half_mse"):
      lc.KernelSGD(np.eye(2), np.eye(2), np.ones((2, 1)), np.ones(2), loss="cross_entropy",
                   momentum=0.9, threshold=0.0)


if __name__ == "__main__":
  tf.config.experimental.enable_op_determinism()
  absltest.main()
