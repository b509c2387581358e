"""translate_mode="per_epoch": training images shifted afresh every epoch, resumably."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
from absl.testing import absltest

from ntk_tf import data, models
from ntk_tf.data import transforms
from ntk_tf.errors import ConfigError
from ntk_tf.training import steps as training
from ntk_tf.training.paired import PairedTrainer, TrainConfig
from tests import test_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def config(**overrides):
  c = data.default_config()
  c.name, c.num_train, c.num_test = "mnist5k", 96, 40
  for key, value in overrides.items():
    c[key] = value
  return c


def hand_shifts(n, max_shift, seed, epoch):
  """Reference: the draw of stream 6 for (seed, epoch), written out."""
  return np.random.default_rng([seed, 6, epoch]).integers(-max_shift, max_shift + 1, (n, 2))


def naive_translate(image, dy, dx, fill):
  """Reference: shift by (dy, dx) pixel by pixel, `fill` (per channel) where nothing lands."""
  h, w, c = image.shape
  out = np.empty_like(image)
  out[...] = fill
  for i in range(h):
    for j in range(w):
      if 0 <= i - dy < h and 0 <= j - dx < w:
        out[i, j] = image[i - dy, j - dx]
  return out


class EpochShiftsTest(test_utils.TestCase):

  def test_hand_draw_seed_and_epoch(self):
    a = transforms.epoch_shifts(50, 7, 3, 2)
    np.testing.assert_array_equal(a, hand_shifts(50, 7, 3, 2))
    np.testing.assert_array_equal(a, transforms.epoch_shifts(50, 7, 3, 2))
    self.assertGreater(np.abs(a - transforms.epoch_shifts(50, 7, 3, 3)).sum(), 0)
    self.assertGreater(np.abs(a - transforms.epoch_shifts(50, 7, 4, 2)).sum(), 0)
    self.assertLessEqual(np.abs(a).max(), 7)
    self.assertFalse(a.flags.writeable)  # Cached: nobody may change it.

  def test_translate_with_fill_against_naive_shift(self):
    images = np.random.default_rng(0).random((4, 9, 8, 2)).astype(np.float32)
    shifts = np.array([[0, 0], [3, -2], [-5, 5], [2, 7]])
    fill = np.array([-0.5, 1.25], np.float32)
    out = transforms.translate(images, shifts, fill)
    for i, (dy, dx) in enumerate(shifts):
      np.testing.assert_array_equal(out[i], naive_translate(images[i], dy, dx, fill))


class PerEpochDatasetTest(test_utils.TestCase):

  def test_train_batch_is_the_hand_shifted_digit(self):
    plain = data.load(config(standardize=False, shuffle=False), seed=0)
    aug = data.load(config(standardize=False, shuffle=False, translate=7,
                           translate_mode="per_epoch"), seed=0)
    idx = np.array([5, 0, 17, 95])
    for epoch in (0, 1):
      shifts = hand_shifts(96, 7, 0, epoch)
      batch = aug.train_batch(idx, epoch)
      for row, i in enumerate(idx):
        np.testing.assert_array_equal(
            batch[row], naive_translate(plain.x_train[i], *shifts[i], 0.0))
    self.assertFalse(np.array_equal(aug.train_images(0), aug.train_images(1)))

  def test_same_arrays_as_fixed_mode(self):
    fixed = data.load(config(translate=5), seed=1)
    aug = data.load(config(translate=5, translate_mode="per_epoch"), seed=1)
    for name in ("x_train", "x_test", "targets_train", "labels_train", "labels_test"):
      np.testing.assert_array_equal(getattr(aug, name), getattr(fixed, name), err_msg=name)
    self.assertEqual(aug.info["mean"], fixed.info["mean"])
    self.assertIsNone(fixed.epoch_translation)
    np.testing.assert_array_equal(fixed.train_batch(np.array([3, 1]), 4), fixed.x_train[[3, 1]])
    self.assertIs(fixed.train_images(4), fixed.x_train)
    self.assertEqual(aug.info["translate_mode"], "per_epoch")

  def test_shift_after_standardizing_equals_standardizing_after_shift(self):
    raw = data.load(config(translate=4, translate_mode="per_epoch", standardize=False), seed=2)
    aug = data.load(config(translate=4, translate_mode="per_epoch"), seed=2)
    mean, std = np.array(aug.info["mean"]), np.array(aug.info["std"])
    for epoch in (0, 3):
      shifted = transforms.translate(raw.epoch_translation.images,
                                     hand_shifts(96, 4, 2, epoch))
      np.testing.assert_array_equal(aug.train_images(epoch),
                                    transforms.standardize(shifted, mean, std))
      idx = np.array([7, 2, 60])
      np.testing.assert_array_equal(aug.train_batch(idx, epoch), aug.train_images(epoch)[idx])

  def test_bad_modes_are_one_clear_error(self):
    with self.assertRaisesRegex(ConfigError, "translate_mode='each'.*'fixed' or 'per_epoch'"):
      data.load(config(translate=3, translate_mode="each"))
    with self.assertRaisesRegex(ConfigError, "per_epoch.*translate=0; set dataset.translate"):
      data.load(config(translate_mode="per_epoch"))


def lenet(dataset):
  return models.build("lenet", width=1, input_shape=dataset.input_shape,
                      num_outputs=dataset.num_outputs, seed=0)


class Interrupt(Exception):
  pass


class PerEpochTrainingTest(test_utils.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.dataset = data.load(config(translate=7, translate_mode="per_epoch"), seed=0)

  def trainer(self, workdir, dataset=None, **cfg):
    defaults = dict(epochs=2, batch_size=32, trajectory_steps=4, trajectory_points=3,
                    jit_compile=False, checkpoint_every_steps=2)
    defaults.update(cfg)
    dataset = dataset or self.dataset
    return PairedTrainer(lenet(dataset), dataset, TrainConfig(**defaults), 0, workdir)

  def test_resume_mid_epoch_is_bit_identical(self):
    full_trainer = self.trainer(self.create_tempdir().full_path)
    full = full_trainer.train()
    workdir = self.create_tempdir().full_path

    def stop(epoch, batch, steps):
      if epoch * steps + batch == 4:  # Mid epoch 2 (3 steps per epoch).
        raise Interrupt()

    with self.assertRaises(Interrupt):
      self.trainer(workdir).train(on_step=stop)
    resumed_trainer = self.trainer(workdir)
    self.assertEqual(full, resumed_trainer.train())
    for a, b in zip(full_trainer.params + full_trainer.linearized.u,
                    resumed_trainer.params + resumed_trainer.linearized.u):
      np.testing.assert_array_equal(a.numpy(), b.numpy())

  def test_train_metrics_are_on_the_epochs_shifted_images(self):
    trainer = self.trainer(self.create_tempdir().full_path)
    history = trainer.train()
    d = self.dataset
    seen = training.evaluate(trainer.standard_fn, d.train_images(1), d.targets_train,
                             d.labels_train, trainer.std_loss, 1000, trainer.dtype)
    self.assertEqual(history[-1]["standard"]["train_loss"], seen.loss)
    self.assertEqual(history[-1]["standard"]["train_accuracy"], seen.accuracy)
    fixed = data.load(config(translate=7), seed=0)
    self.assertNotEqual(history, self.trainer(self.create_tempdir().full_path, fixed).train())

  def test_batches_carry_the_epochs_shifts(self):
    trainer = self.trainer(self.create_tempdir().full_path)
    idx = np.array([4, 9, 1])
    for epoch in (0, 1):
      x, _, _ = trainer._batch(idx, epoch)  # pylint: disable=protected-access
      np.testing.assert_array_equal(x.numpy(), self.dataset.train_images(epoch)[idx])


# TensorFlow fixes its devices at start-up, so the 2-CPU runs happen in a fresh interpreter.
SCRIPT = textwrap.dedent('''
    import json, tempfile
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from ntk_tf.utils import distribute
    from ntk_tf.experiments import compare
    out = {"replicas": distribute.get_strategy("mirrored").num_replicas_in_sync}
    for strategy in ("default", "mirrored"):
      c = compare.default_config()
      c.dataset.name, c.dataset.num_train, c.dataset.num_test = "mnist5k", 41, 20
      c.dataset.translate, c.dataset.translate_mode = 5, "per_epoch"
      c.dtype, c.train.epochs, c.train.batch_size = "float64", 2, 20
      c.train.jit_compile, c.train.trajectory_points, c.train.trajectory_steps = False, 2, 2
      c.distribute = strategy
      out[strategy] = compare.run(c, tempfile.mkdtemp())["per_seed"][0]
    print("RESULT", json.dumps(out))
''')


class PerEpochDistributedTest(test_utils.TestCase):

  def test_mirrored_on_two_cpus_equals_default(self):
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, check=False)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    self.assertTrue(lines, proc.stdout[-2000:] + proc.stderr[-4000:])
    out = json.loads(lines[0][len("RESULT "):])
    self.assertEqual(out["replicas"], 2)
    for model in ("standard", "linearized"):
      for key, value in out["default"][model].items():
        self.assertAllClose(out["mirrored"][model][key], value, rtol=1e-10, atol=1e-12,
                            msg=f"{model} {key}")


if __name__ == "__main__":
  absltest.main()
