"""Many SGD steps per compiled call (train.steps_per_call): the same bits as one step per call."""

from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import optimizers, paired as paired_training, steps as training
from ntk_tf.training.paired import PairedTrainer, TrainConfig
from tests import test_utils
from tests.training_test import lenet, small_dataset


class ChunkEndTest(test_utils.TestCase):

  def test_chunks_end_at_every_step_the_loop_records(self):
    # 10 steps per epoch, trajectories after each of the first 3 steps, a checkpoint every 4
    # steps, chunks of at most 3 steps.
    ends, step = [], 0
    while step < 20:
      step = paired_training.chunk_end(step, (step // 10 + 1) * 10, 3, 3, 4)
      ends.append(step)
    self.assertEqual(ends, [1, 2, 3, 4, 7, 8, 10, 12, 15, 16, 19, 20])

  def test_one_step_per_call(self):
    self.assertEqual(paired_training.chunk_end(5, 10, 1, 0, None), 6)

  def test_steps_per_call_must_be_positive(self):
    with self.assertRaisesRegex(ConfigError, r"train.steps_per_call=0 must be a positive"):
      TrainConfig(steps_per_call=0)


def _state(variables):
  return [v.numpy() for v in variables]


class CompiledStepTest(test_utils.TestCase, parameterized.TestCase):
  """Steps one per call and in chunks (a chunk longer than its steps, a step left over) from the
  same start: identical weights, velocities and losses, for LeNet and its linearization; with
  XLA also identical to a plain jit-compiled tf.function per step."""

  @parameterized.parameters(True, False)
  def test_chunks_equal_single_steps(self, jit_compile):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    params = [v.value for v in model.trainable_variables]
    std_opt = optimizers.TorchSGD(0.0, momentum=0.9, weight_decay=5e-5)
    std_opt.build(params)
    lin = LinearizedModel(model)
    lin_opt = optimizers.TorchSGD(0.0, momentum=0.9, weight_decay=5e-5)
    lin_opt.build(lin.u)

    def standard(x, y, lr):
      with tf.GradientTape() as tape:
        loss = training.mse(model(x, training=True), y)
      std_opt.apply_at(lr, tape.gradient(loss, params), params)
      return loss

    def linearized(x, y, lr):
      loss, grads = lin.loss_and_gradient(x, y, training.mse)
      lin_opt.apply_at(lr, grads, lin.u)
      return loss

    rng = np.random.default_rng(0)
    xs = tf.constant(rng.standard_normal((5, 8, 28, 28, 1)), tf.float32)
    ys = tf.constant(np.eye(10)[rng.integers(0, 10, (5, 8))], tf.float32)
    lr = tf.constant(0.1)
    for body, variables in ((standard, params + std_opt.velocities),
                            (linearized, lin.u + lin_opt.velocities)):
      compiled = training.CompiledStep(body, jit_compile)
      start = _state(variables)
      single = [float(compiled.step(xs[i], ys[i], lr)) for i in range(5)]
      after_single = _state(variables)
      for v, value in zip(variables, start):
        v.assign(value)
      chunked = np.concatenate([compiled.steps(xs, ys, tf.constant(3), lr).numpy(),
                                compiled.steps(xs[3:], ys[3:], tf.constant(2), lr).numpy()])
      np.testing.assert_array_equal(chunked, single)
      for a, b in zip(_state(variables), after_single):
        np.testing.assert_array_equal(a, b)
      if jit_compile:  # One step per plain XLA call, as paired training ran before chunks.
        for v, value in zip(variables, start):
          v.assign(value)
        plain = tf.function(body, jit_compile=True)
        np.testing.assert_array_equal([float(plain(xs[i], ys[i], lr)) for i in range(5)],
                                      single)
        for a, b in zip(_state(variables), after_single):
          np.testing.assert_array_equal(a, b)


class ChunkedPairedTrainingTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dataset = small_dataset()

  def trainer(self, workdir, **cfg):
    defaults = dict(epochs=2, batch_size=40, trajectory_steps=1, trajectory_points=3,
                    jit_compile=False)
    defaults.update(cfg)
    return PairedTrainer(lenet(self.dataset), self.dataset, TrainConfig(**defaults), 0, workdir)

  def assertSameRun(self, a, history_a, b, history_b):
    self.assertEqual(history_a, history_b)
    state = lambda t: (t.params + t.std_opt.velocities + t.linearized.u  # noqa: E731
                       + t.lin_opt.velocities)
    for x, y in zip(state(a), state(b)):
      np.testing.assert_array_equal(x.numpy(), y.numpy())
    for key in ("step", "standard", "linearized"):
      np.testing.assert_array_equal(np.asarray(a.trajectory[key]), np.asarray(b.trajectory[key]))

  def test_chunked_equals_one_step_per_call(self):
    # 96 samples in batches of 16: 6 steps per epoch, in chunks of 4 after the first step (a
    # trajectory step): 1, 4, 1 | 4, 2.
    per_step = self.trainer(self.create_tempdir().full_path, batch_size=16, steps_per_call=1)
    chunked = self.trainer(self.create_tempdir().full_path, batch_size=16, steps_per_call=4)
    self.assertSameRun(per_step, per_step.train(), chunked, chunked.train())

  def test_short_last_batch_is_a_call_of_its_own(self):
    # 96 samples in batches of 40: 40, 40, 16, in chunks 1, 1, 1 | 2, 1.
    per_step = self.trainer(self.create_tempdir().full_path, steps_per_call=1)
    chunked = self.trainer(self.create_tempdir().full_path, steps_per_call=3)
    self.assertSameRun(per_step, per_step.train(), chunked, chunked.train())

  def test_resume_with_chunks_equals_uninterrupted(self):
    cfg = dict(epochs=2, batch_size=16, steps_per_call=4, checkpoint_every_steps=3)
    full = self.trainer(self.create_tempdir().full_path, **cfg)
    full_history = full.train()
    workdir = self.create_tempdir().full_path

    class Interrupt(Exception):
      pass

    def stop(epoch, batch, steps):
      if epoch * steps + batch == 11:  # In the chunk of steps 10-12; the last checkpoint: 9.
        raise Interrupt()

    with self.assertRaises(Interrupt):
      self.trainer(workdir, **cfg).train(on_step=stop)
    resumed = self.trainer(workdir, **cfg)
    self.assertSameRun(full, full_history, resumed, resumed.train())

  def test_a_chunk_holds_at_most_chunk_bytes_of_inputs(self):
    trainer = self.trainer(self.create_tempdir().full_path, batch_size=16, steps_per_call=16)
    batch_bytes = 16 * int(np.prod(self.dataset.input_shape)) * 4
    with mock.patch.object(paired_training, "CHUNK_BYTES", 3 * batch_bytes + 1):
      self.assertEqual(trainer._steps_per_call(), 3)  # pylint: disable=protected-access
    self.assertEqual(trainer._steps_per_call(), 16)  # pylint: disable=protected-access

  def test_divergence_names_the_same_step(self):
    messages = []
    for steps_per_call in (1, 3):  # The loss becomes inf at step 2, inside the first chunk.
      with self.assertRaises(training.TrainingDivergedError) as e:
        self.trainer(self.create_tempdir().full_path, batch_size=16, learning_rate=1e6,
                     trajectory_steps=0, steps_per_call=steps_per_call).train()
      messages.append(str(e.exception).split("; ")[0])
    self.assertEqual(messages[0], messages[1])
    self.assertIn("at step 2 ", messages[1])


if __name__ == "__main__":
  absltest.main()
