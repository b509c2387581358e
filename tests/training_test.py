"""SGD semantics, losses, schedules, and the paired loop (resume, determinism, divergence)."""

import json
import os

import numpy as np
import tensorflow as tf
from absl.testing import absltest

from ntk_tf import data, models
from ntk_tf.analysis import metrics
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.errors import ConfigError
from ntk_tf.training import optimizers, steps as training, stopping
from ntk_tf.training.paired import PairedTrainer, TrainConfig
from ntk_tf.utils import io
from tests import test_utils


class LossAndScheduleTest(test_utils.TestCase):

  def test_losses_by_hand(self):
    f = tf.constant([[1.0, 2.0, 0.0], [0.0, 0.5, 1.0]], tf.float64)
    y = tf.constant([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], tf.float64)
    squares = [[0, 4, 0], [0, 0.25, 0]]
    self.assertAllClose(training.mse(f, y), np.mean(squares), dtype=np.float64)
    self.assertAllClose(training.mse_sum_outputs(f, y), (4 + 0.25) / 2, dtype=np.float64)
    p = np.exp(f.numpy()) / np.exp(f.numpy()).sum(1, keepdims=True)
    self.assertAllClose(training.cross_entropy(f, y), -np.mean(np.log(p[[0, 1], [0, 2]])),
                        dtype=np.float64)

  def test_step_decay(self):
    np.testing.assert_allclose([training.step_decay(0.1, e, 30) for e in (0, 29, 30, 59, 60, 99)],
                               [0.1, 0.1, 0.01, 0.01, 0.001, 0.0001], rtol=1e-15)
    self.assertEqual(training.step_decay(0.1, 99, None), 0.1)

  def test_epoch_batches(self):
    batches = training.epoch_batches(100, 32, seed=3, epoch=2)
    self.assertEqual([len(b) for b in batches], [32, 32, 32, 4])
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(100))
    again = training.epoch_batches(100, 32, seed=3, epoch=2)
    for a, b in zip(batches, again):
      np.testing.assert_array_equal(a, b)
    self.assertFalse(np.array_equal(batches[0], training.epoch_batches(100, 32, 3, 3)[0]))

  def test_accuracy(self):
    self.assertEqual(metrics.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])),
                     0.5)
    self.assertEqual(metrics.accuracy(np.array([[0.3], [-0.2]]), np.array([1, 0])), 1.0)
    self.assertEqual(metrics.accuracy(np.array([[0.3], [0.6]]), np.array([1, 0]), 0.5), 0.0)


def _sgd(variables, momentum, weight_decay):
  """The paired trainer's optimizer, built as it builds it."""
  opt = optimizers.TorchSGD(0.0, momentum=momentum, weight_decay=weight_decay)
  opt.build(variables)
  return opt


class SGDStepTest(test_utils.TestCase):
  """Steps of TorchSGD(momentum, weight decay) as the paired trainer takes them (apply_at, the
  rate set per step) against PyTorch's update written out by hand."""

  def test_two_steps_by_hand_at_changing_rates(self):
    p = tf.Variable(np.array([1.0, -2.0]))
    opt = _sgd([p], momentum=0.9, weight_decay=0.01)
    g1, g2 = np.array([0.5, 0.25]), np.array([-1.0, 2.0])
    opt.apply_at(tf.constant(0.1, tf.float64), [tf.constant(g1)], [p])
    v1 = g1 + 0.01 * np.array([1.0, -2.0])
    p1 = np.array([1.0, -2.0]) - 0.1 * v1
    self.assertAllClose(p.numpy(), p1, dtype=np.float64)
    opt.apply_at(tf.constant(0.05, tf.float64), [tf.constant(g2)], [p])
    v2 = 0.9 * v1 + g2 + 0.01 * p1
    self.assertAllClose(p.numpy(), p1 - 0.05 * v2, dtype=np.float64)
    self.assertAllClose(opt.velocities[0].numpy(), v2, dtype=np.float64)
    self.assertEqual(float(opt.learning_rate.numpy()), 0.05)

  def _tiny(self):
    model = models.build("mlp", width=3, input_shape=(2,), num_outputs=2, seed=0, depth=2,
                         dtype="float64")
    x = tf.constant([[1.0, -1.0], [0.5, 2.0]], tf.float64)
    y = tf.constant([[1.0, 0.0], [0.0, 1.0]], tf.float64)
    return model, x, y

  def test_standard_model_step(self):
    model, x, y = self._tiny()
    w = [v.numpy() for v in model.trainable_variables]
    w1, b1, w2, b2 = w
    h = np.maximum(x.numpy() @ w1 + b1, 0)
    f = h @ w2 + b2
    dfdo = 2 * (f - y.numpy()) / f.size  # d mean((f-y)^2)
    g_w2, g_b2 = h.T @ dfdo, dfdo.sum(0)
    dh = (dfdo @ w2.T) * (h > 0)
    g_w1, g_b1 = x.numpy().T @ dh, dh.sum(0)
    params = [v.value for v in model.trainable_variables]
    opt = _sgd(params, momentum=0.9, weight_decay=1e-3)
    with tf.GradientTape() as tape:
      loss = training.mse(model(x), y)
    opt.apply_at(0.1, tape.gradient(loss, params), params)
    for p, p0, g in zip(params, w, (g_w1, g_b1, g_w2, g_b2)):
      self.assertAllClose(p.numpy(), p0 - 0.1 * (g + 1e-3 * p0), dtype=np.float64)

  def test_linearized_model_step(self):
    model, x, y = self._tiny()
    lin = LinearizedModel(model)
    jac_params = [tf.convert_to_tensor(p) for p in lin.params0]
    with tf.GradientTape() as tape:
      tape.watch(jac_params)
      out = lin.apply_model(jac_params, x)
    jac = tape.jacobian(out, jac_params)
    j = np.concatenate([t.numpy().reshape(2, 2, -1) for t in jac], -1)
    u0 = np.random.default_rng(0).standard_normal(j.shape[-1]) * 0.1
    offset = 0
    for v in lin.u:
      v.assign(u0[offset:offset + v.shape.num_elements()].reshape(v.shape))
      offset += v.shape.num_elements()
    f_lin = model(x).numpy() + j @ u0
    grad = np.einsum("nlp,nl->p", j, 2 * (f_lin - y.numpy()) / f_lin.size)
    opt = _sgd(lin.u, momentum=0.9, weight_decay=5e-4)
    _, grads = lin.loss_and_gradient(x, y, training.mse)
    opt.apply_at(1.0, grads, lin.u)
    u1 = np.concatenate([v.numpy().ravel() for v in lin.u])
    self.assertAllClose(u1, u0 - 1.0 * (grad + 5e-4 * u0), dtype=np.float64)


def small_dataset(n_train=96, n_test=40, **overrides):
  c = data.default_config()
  c.name = "mnist5k"
  c.num_train, c.num_test = n_train, n_test
  for k, v in overrides.items():
    c[k] = v
  return data.load(c, seed=0)


def lenet(dataset, seed=0, width=1, dtype="float32"):
  return models.build("lenet", width=width, input_shape=dataset.input_shape,
                      num_outputs=dataset.num_outputs, seed=seed, dtype=dtype)


class PairedTrainingTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dataset = small_dataset()

  def train(self, workdir, seed=0, **cfg):
    # Eager-graph steps here (XLA compilation costs ~7 s per trainer); the XLA path, the
    # default, is checked by test_resume_equals_uninterrupted and the quickstart test.
    defaults = dict(epochs=2, batch_size=32, trajectory_steps=4, trajectory_points=3,
                    jit_compile=False)
    defaults.update(cfg)
    return self.train_on(self.dataset, workdir, seed, **defaults)

  @staticmethod
  def train_on(dataset, workdir, seed=0, **cfg):
    trainer = PairedTrainer(lenet(dataset, seed), dataset, TrainConfig(**cfg), seed, workdir)
    return trainer, trainer.train()

  def interrupted(self, workdir, after_steps, **cfg):
    """A paired run stopped by an exception after `after_steps` steps (as if killed)."""

    class Interrupt(Exception):
      pass

    def stop(epoch, batch, steps):
      if epoch * steps + batch == after_steps:
        raise Interrupt()

    defaults = dict(trajectory_steps=4, trajectory_points=3, jit_compile=False)
    trainer = PairedTrainer(lenet(self.dataset), self.dataset, TrainConfig(**defaults, **cfg),
                            0, workdir)
    with self.assertRaises(Interrupt):
      trainer.train(on_step=stop)

  def test_same_seed_identical_results(self):
    t1, h1 = self.train(self.create_tempdir().full_path)
    t2, h2 = self.train(self.create_tempdir().full_path)
    self.assertEqual(h1, h2)
    for a, b in zip(t1.params, t2.params):
      np.testing.assert_array_equal(a.numpy(), b.numpy())
    _, h3 = self.train(self.create_tempdir().full_path, seed=1)
    self.assertNotEqual(h1, h3)

  def test_same_init_and_batches(self):
    trainer, history = self.train(self.create_tempdir().full_path, epochs=1)
    traj = trainer.trajectory
    self.assertEqual(traj["step"], [0, 1, 2, 3])
    np.testing.assert_allclose(traj["standard"][0], traj["linearized"][0], rtol=1e-6)
    self.assertEqual(history[0]["step"], 3)  # 96 examples / batch 32.

  def test_resume_equals_uninterrupted(self):
    _, full = self.train(self.create_tempdir().full_path, epochs=3, jit_compile=True)
    workdir = self.create_tempdir().full_path
    self.train(workdir, epochs=1, jit_compile=True)  # "Killed" after epoch 1 ...
    trainer, resumed = self.train(workdir, epochs=3, jit_compile=True)  # ... and restarted.
    self.assertEqual(full, resumed)
    self.assertLen(trainer.trajectory["step"], len(set(trainer.trajectory["step"])))

  def test_resume_mid_epoch(self):
    full_trainer, full = self.train(self.create_tempdir().full_path, epochs=2)
    workdir = self.create_tempdir().full_path
    self.interrupted(workdir, 4, epochs=2, checkpoint_every_steps=2)
    trainer2, resumed = self.train(workdir, epochs=2, checkpoint_every_steps=2)
    self.assertEqual(full, resumed)
    for a, b in zip(full_trainer.linearized.u, trainer2.linearized.u):
      np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(np.asarray(full_trainer.trajectory["linearized"]),
                                  np.asarray(trainer2.trajectory["linearized"]))

  def test_resume_at_the_short_last_batch_is_bit_identical(self):
    # 96 samples in batches of 40: 40, 40, 16. Killed after step 2, the resumed run meets the
    # short batch before any full one; its steps must still equal the uninterrupted run's.
    cfg = dict(epochs=2, batch_size=40, checkpoint_every_steps=2)
    full_trainer, full = self.train(self.create_tempdir().full_path, **cfg)
    workdir = self.create_tempdir().full_path
    self.interrupted(workdir, 2, **cfg)
    trainer2, resumed = self.train(workdir, **cfg)
    self.assertEqual(full, resumed)
    for a, b in zip(full_trainer.params + full_trainer.linearized.u,
                    trainer2.params + trainer2.linearized.u):
      np.testing.assert_array_equal(a.numpy(), b.numpy())

  def test_corrupted_latest_checkpoint_falls_back_to_the_previous_one(self):
    full_trainer, full = self.train(self.create_tempdir().full_path, epochs=3)
    workdir = self.create_tempdir().full_path
    self.train(workdir, epochs=2)  # Checkpoints after epochs 1 and 2.
    directory = os.path.join(workdir, "checkpoints")
    latest = tf.train.latest_checkpoint(directory)
    for name in os.listdir(directory):
      if name.startswith(os.path.basename(latest) + ".data"):
        with open(os.path.join(directory, name), "r+b") as f:
          f.truncate(10)
    with self.assertLogs(level="WARNING") as logs:
      trainer, resumed = self.train(workdir, epochs=3)
    self.assertTrue(any("trying the previous one" in m for m in logs.output))
    self.assertEqual(full, resumed)  # Epoch 2 redone from epoch 1's checkpoint, same result.
    for a, b in zip(full_trainer.params, trainer.params):
      np.testing.assert_array_equal(a.numpy(), b.numpy())

  def test_divergence_stops_and_keeps_last_good_checkpoint(self):
    workdir = self.create_tempdir().full_path
    self.train(workdir, epochs=1, learning_rate=0.01)
    with self.assertRaisesRegex(training.TrainingDivergedError,
                                r"became (nan|inf) at step \d+ .*last good checkpoint .*ckpt-3.*"
                                r"Lower config.train.learning_rate"):
      self.train(workdir, epochs=3, learning_rate=1e6)
    self.assertIn("ckpt-3", tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")))


class StoppingTest(test_utils.TestCase):
  """training.stopping by hand, and the paired loop stopping on it (train.stop_*)."""

  def test_last_quarter_gain_and_settled_by_hand(self):
    self.assertIsNone(stopping.last_quarter_gain([10.0, 20.0]))
    self.assertEqual(stopping.last_quarter_gain([10.0, 20.0, 25.0]), 15.0)  # 2 epochs back.
    curve = [50.0, 55.0, 60.0, 61.0, 61.1, 61.0, 61.2, 61.3]  # 8 epochs: 2 back, 61.0 -> 61.3;
    self.assertAlmostEqual(stopping.last_quarter_gain(curve), 0.3)  # 4 back, the line through
    self.assertAlmostEqual(stopping.last_half_gain(curve), 0.28)  # 61.0 ... 61.3 rises 0.07 x 4.
    self.assertEqual(stopping.settled(curve), "converged (+0.30 pp train accuracy over the last 2 "
                                              "epochs, +0.28 pp over the last 4)")
    self.assertIsNone(stopping.settled(curve, converged_pp=0.2))
    self.assertIsNone(stopping.settled([50.0, 55.0, 60.0] + curve[-5:], converged_pp=0.2))
    self.assertIn("fits its training set (99.00 % train)",
                  stopping.settled([10.0, 50.0, 99.0], converged_pp=None))
    self.assertIsNone(stopping.settled([10.0, 50.0, 98.9], converged_pp=None))
    both = stopping.stop_reason({"standard": [10.0, 50.0, 99.5], "linearized": curve[-3:]},
                                0.99, 0.5)
    self.assertEqual(both, "standard fits its training set (99.50 % train); linearized "
                           "converged (+0.30 pp train accuracy over the last 2 epochs, +0.30 pp "
                           "over the last 2)")
    self.assertIsNone(stopping.stop_reason({"standard": [10.0, 50.0, 99.5],
                                            "linearized": [10.0, 20.0, 30.0]}, 0.99, 0.5))

  def test_window_means_neither_stop_at_a_dip_nor_call_a_fall_converged(self):
    rising = [50.0 + 0.2 * e for e in range(100)]  # +5 pp per quarter: still learning.
    dipped = rising[:-1] + [rising[-1] - 6.0]  # One bad last epoch: the end-point gain is -1.
    self.assertLess(dipped[-1] - dipped[-26], 0)
    self.assertGreater(stopping.last_quarter_gain(dipped), 3.0)  # The line through 26 epochs.
    self.assertIsNone(stopping.settled(dipped))
    falling = [80.0 - 0.1 * e for e in range(100)]  # Losing 2.5 pp per quarter: not converged.
    self.assertAlmostEqual(stopping.last_quarter_gain(falling), -2.5)
    self.assertIsNone(stopping.settled(falling))
    noisy = [75.0 + (1.0 if e % 2 else -1.0) for e in range(100)]  # A plateau, noisy.
    self.assertIn("converged", stopping.settled(noisy))

  def test_a_pause_between_climbs_shorter_than_a_quarter_does_not_stop_a_run(self):
    # A CNN-GAP seed's shape: 110 epochs climbing 0.3 pp each, then flat for 36 (a quarter of
    # 146): the quarter's line is flat, the half's rises ~11 pp, so it trains on; flat for as
    # long again, both lines are flat.
    climb = [30.0 + 0.3 * e for e in range(110)]
    paused = climb + [climb[-1]] * 36
    self.assertAlmostEqual(stopping.last_quarter_gain(paused), 0.0)
    self.assertGreater(stopping.last_half_gain(paused), 10.0)
    self.assertIsNone(stopping.settled(paused))
    self.assertIsNone(stopping.first_stop({"standard": paused}, 0.99, 0.5, after_epochs=100))
    longer = paused + [climb[-1]] * 110
    stop = stopping.first_stop({"standard": longer}, 0.99, 0.5, after_epochs=100)
    self.assertIsNotNone(stop)
    self.assertLessEqual(abs(stopping.last_half_gain(longer[:stop])), 1.0)
    self.assertGreater(abs(stopping.last_half_gain(longer[:stop - 1])), 1.0)

  def test_first_stop_is_where_the_loop_would_have_stopped(self):
    curves = {"standard": [20.0, 60.0, 99.5, 99.6, 99.7], "linearized": [10.0, 40.0, 70.0, 99.0,
                                                                           99.2]}
    self.assertEqual(stopping.first_stop(curves, 0.99, None), 4)
    self.assertEqual(stopping.first_stop(curves, 0.99, None, after_epochs=5), 5)
    self.assertIsNone(stopping.first_stop(curves, 0.999, None))
    self.assertIsNone(stopping.first_stop(curves, None, None))  # No test: never stops.

  def test_bad_stopping_options_get_one_clear_error(self):
    for cfg, message in ((dict(stop_fit_accuracy=1.5), r"stop_fit_accuracy=1.5 must be in"),
                         (dict(stop_converged_pp=-1.0), r"stop_converged_pp=-1.0 must be >= 0"),
                         (dict(stop_after_epochs=5), r"no stopping test is"),
                         (dict(stop_fit_accuracy=0.9, stop_after_epochs=-1),
                          r"stop_after_epochs=-1 must be")):
      with self.assertRaisesRegex(ConfigError, message):
        TrainConfig(**cfg)

  def test_the_loop_stops_once_every_model_settled_and_a_resumed_run_stops_at_once(self):
    dataset = small_dataset()
    cfg = dict(epochs=12, batch_size=32, trajectory_steps=4, trajectory_points=3,
               jit_compile=False, learning_rate=0.05)
    _, full = PairedTrainingTest.train_on(dataset, self.create_tempdir().full_path, **cfg)
    curves = {m: [100 * r[m]["train_accuracy"] for r in full] for m in ("standard", "linearized")}
    # The first epoch from 3 on at which both curves have settled (converged within 2 pp).
    first = next(e for e in range(3, 13)
                 if stopping.stop_reason({m: c[:e] for m, c in curves.items()}, None, 2.0))
    self.assertLess(first, 12)
    workdir = self.create_tempdir().full_path
    stop = dict(cfg, stop_converged_pp=2.0, stop_after_epochs=3)
    trainer, stopped = PairedTrainingTest.train_on(dataset, workdir, **stop)
    self.assertEqual(stopped, full[:first])  # The same epochs as the full run, then it stops.
    self.assertIn("converged", trainer.stopped)
    again, resumed = PairedTrainingTest.train_on(dataset, workdir, **stop)
    self.assertEqual(resumed, stopped)
    self.assertEqual(again.stopped, trainer.stopped)
    # Checks start at stop_after_epochs: a finished 2-epoch run raised to 12 runs past epoch 2.
    workdir = self.create_tempdir().full_path
    PairedTrainingTest.train_on(dataset, workdir, **dict(cfg, epochs=2))
    _, continued = PairedTrainingTest.train_on(dataset, workdir, **stop)
    self.assertEqual(continued, full[:first])


class HeldScheduleTest(test_utils.TestCase):
  """train.lr_hold_until_settled: the starting rate until both models settle, then the decays."""

  def test_hold_by_hand(self):
    rising = [10.0, 30.0, 50.0, 60.0, 70.0, 80.0, 85.0, 90.0, 95.0, 97.0]
    flat = [50.0, 60.0, 70.0, 80.0, 80.1, 80.0, 80.1, 80.0, 80.1, 80.0]
    fits = [50.0, 99.5, 99.6, 99.7, 99.8, 99.8, 99.8, 99.8, 99.8, 99.8]
    # The flat curve converged after 7 epochs (its last half, 80.0-80.1, gains +0.06 pp; after
    # 6 the half still holds the climb to 80, +9.03 pp); one that fits its training set settles
    # at once, but the hold is never shorter than at_least epochs.
    self.assertIsNone(stopping.settled(flat[:6]))
    self.assertIsNotNone(stopping.settled(flat[:7]))
    self.assertEqual(stopping.hold_epochs({"standard": fits, "linearized": flat}, 3, 8), 7)
    self.assertEqual(stopping.hold_epochs({"standard": fits}, 3, 8), 3)
    # Still rising: undecided until at_most epochs, then held that long (however it goes on).
    both = {"standard": fits, "linearized": rising}
    self.assertIsNone(stopping.hold_epochs({m: c[:7] for m, c in both.items()}, 3, 8))
    self.assertEqual(stopping.hold_epochs(both, 3, 8), 8)
    self.assertEqual(stopping.hold_epochs({"standard": fits, "linearized": rising[:8] + [
        97.0] * 40}, 3, 8), 8)  # Settling after the cap does not move the hold.
    rates = [stopping.held_rate(0.1, e, 2, 0.1, 5) for e in range(9)]
    np.testing.assert_allclose(rates, [0.1] * 5 + [0.01] * 2 + [0.001] * 2)
    self.assertEqual(stopping.held_rate(0.1, 50, 2, 0.1, None), 0.1)  # Undecided: held.

  def test_starting_rate_epochs_reads_the_leading_phase(self):
    path = os.path.join(self.create_tempdir().full_path, "metrics.jsonl")
    rows = [dict(learning_rate=lr, linearized_learning_rate=lin)
            for lr, lin in ((0.1, 0.1), (0.1, 0.1), (0.1, 0.1), (0.01, 0.01), (0.1, 0.1))]
    with open(path, "w") as f:
      f.write("".join(json.dumps(r) + "\n" for r in rows))
    self.assertEqual(stopping.starting_rate_epochs(io.read_jsonl(path)), 3)
    self.assertEqual(stopping.starting_rate_epochs([]), 0)

  def test_bad_hold_gets_one_clear_error(self):
    for cfg in (dict(lr_hold_until_settled=10), dict(lr_hold_until_settled=2, lr_decay_every=3),
                dict(lr_hold_until_settled=5, lr_decay_every=3, epochs=2)):
      with self.assertRaisesRegex(ConfigError, r"lr_hold_until_settled=\d+ needs"):
        TrainConfig(**cfg)

  def test_the_loop_holds_then_decays_and_resumes_to_the_same_run(self):
    dataset = small_dataset()
    cfg = dict(epochs=4, batch_size=32, trajectory_steps=4, trajectory_points=3,
               jit_compile=False, learning_rate=0.05, lr_decay_every=2)
    # A hold of at most lr_decay_every epochs is the plain schedule, bit for bit.
    _, plain = PairedTrainingTest.train_on(dataset, self.create_tempdir().full_path, **cfg)
    _, capped = PairedTrainingTest.train_on(dataset, self.create_tempdir().full_path,
                                            **dict(cfg, lr_hold_until_settled=2))
    self.assertEqual(capped, plain)
    # A longer hold: the starting rate until hold_epochs says both models settled (or 7
    # epochs), then epochs - lr_decay_every = 2 more at the decayed rates.
    held = dict(cfg, lr_hold_until_settled=7)
    _, full = PairedTrainingTest.train_on(dataset, self.create_tempdir().full_path, **held)
    curves = {m: [100 * r[m]["train_accuracy"] for r in full] for m in ("standard", "linearized")}
    hold = stopping.hold_epochs(curves, 2, 7)
    self.assertIsNotNone(hold)
    self.assertLen(full, hold + 2)
    self.assertEqual([r["learning_rate"] for r in full],
                     [stopping.held_rate(0.05, e, 2, 0.1, hold) for e in range(len(full))])
    self.assertEqual(full[:2], plain[:2])
    # Killed in its third epoch, resumed: the same run.
    workdir = self.create_tempdir().full_path

    class Interrupt(Exception):
      pass

    def stop(epoch, batch, steps):
      if epoch * steps + batch == 8:
        raise Interrupt()

    trainer = PairedTrainer(lenet(dataset), dataset, TrainConfig(**held), 0, workdir)
    with self.assertRaises(Interrupt):
      trainer.train(on_step=stop)
    _, resumed = PairedTrainingTest.train_on(dataset, workdir, **held)
    self.assertEqual(resumed, full)


class NtkRegimeTest(test_utils.TestCase):
  """The NTK sanity check of the issue: wide + small steps stay linear; LeNet x1 does not."""

  def relative_gap(self, trainer):
    std = np.asarray(trainer.trajectory["standard"][-1])
    lin = np.asarray(trainer.trajectory["linearized"][-1])
    start = np.asarray(trainer.trajectory["standard"][0])
    return np.linalg.norm(std - lin) / np.linalg.norm(std - start)

  def test_wide_mlp_ntk_parameterization_stays_linear(self):
    d = small_dataset(64, 32, name="digits", target="parity")
    model = models.build("mlp", width=2048, input_shape=d.input_shape, num_outputs=1, seed=0,
                         depth=3, parameterization="ntk")
    trainer = PairedTrainer(model, d, TrainConfig(epochs=4, batch_size=16, learning_rate=0.05,
                                                  weight_decay=0.0, trajectory_points=16,
                                                  jit_compile=False),
                            0, self.create_tempdir().full_path)
    trainer.train()
    print("wide MLP relative gap", self.relative_gap(trainer))
    self.assertLess(self.relative_gap(trainer), 0.05)

  def test_lenet_x1_at_lr_0_1_does_not(self):
    d = small_dataset(640, 32)
    trainer = PairedTrainer(lenet(d), d, TrainConfig(epochs=2, trajectory_points=16,
                                                     jit_compile=False),
                            0, self.create_tempdir().full_path)
    trainer.train()
    print("LeNet x1 relative gap", self.relative_gap(trainer))
    self.assertGreater(self.relative_gap(trainer), 0.25)


if __name__ == "__main__":
  absltest.main()
