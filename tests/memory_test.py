"""Peak-memory estimates: layer-shape footprints equal the built models', budgets take the
smaller of the limit and the machine, and heavy steps refuse before any work."""

import os
from unittest import mock

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import compare, scaling_law
from ntk_tf.ntk import empirical
from ntk_tf.utils import memory
from tests import test_utils

GiB = 2 ** 30


def machine_with(host_bytes, gpu_bytes=None):
  """Patches what the machine reports (host available now, GPU total)."""
  return mock.patch.multiple(memory, host_available_bytes=mock.Mock(return_value=host_bytes),
                             gpu_total_bytes=mock.Mock(return_value=gpu_bytes))


class FootprintTest(parameterized.TestCase):

  @parameterized.parameters(
      ("lenet", 1, (28, 28, 1), {}), ("lenet", 3, (32, 32, 3), {}),
      ("alexnet", 1, (64, 64, 3), {}), ("mlp", 16, (8,), {"depth": 3}),
      ("myrtle", 4, (32, 32, 3), {}), ("cnn5", 4, (32, 32, 3), {}),
      ("cnn_v", 4, (8, 8, 3), {"depth": 3}), ("cnn_gap", 4, (8, 8, 3), {"depth": 3}))
  def test_parameters_counted_from_shapes_equal_the_built_model(self, name, width, shape, kw):
    fp = models.footprint(name, width, shape, 10, **kw)
    built = models.build(name, width=width, input_shape=shape, num_outputs=10, **kw)
    self.assertEqual(fp.num_params, models.num_params(built))

  def test_activations_are_the_layer_outputs(self):
    # MLP depth 3, width 16 on 8 inputs: flatten 8, dense 16, relu 16, dense 16, relu 16,
    # dense 3.
    fp = models.footprint("mlp", 16, (8,), 3, depth=3)
    self.assertEqual(fp.activations_per_sample, 8 + 4 * 16 + 3)
    self.assertEqual(fp.num_params, 9 * 16 + 17 * 16 + 17 * 3)

  def test_lenet_x60_is_counted_without_building_it(self):
    fp = models.footprint("lenet", 60, (32, 32, 3), 10)
    self.assertEqual(fp.num_params, 217_818_970)   # Samarin et al.'s largest LeNet.


class BudgetTest(absltest.TestCase):

  def test_the_smaller_of_limit_and_machine(self):
    with machine_with(4 * GiB):
      self.assertEqual(memory.budget(2.0), (2 * GiB, "memory_limit_gb=2"))
      room, source = memory.budget(8.0)
      self.assertEqual(room, 4 * GiB)
      self.assertIn("this machine's 4.0 GiB available now", source)
      self.assertEqual(memory.budget()[0], 4 * GiB)

  def test_training_on_a_gpu_is_checked_against_the_gpu(self):
    with machine_with(1 * GiB, gpu_bytes=16 * GiB):
      self.assertEqual(memory.budget(device="accelerator")[0], int(0.9 * 16 * GiB))
      self.assertEqual(memory.budget(device="host")[0], GiB)

  def test_check_names_the_step_the_numbers_and_the_fix(self):
    with machine_with(GiB):
      memory.check(GiB // 2, "a step", "do less.")
      with self.assertRaisesRegex(ConfigError, r"^a step needs ~3\.00 GiB at its peak but this "
                                  r"machine's 1\.0 GiB available now allows 1\.00 GiB; do less\.$"):
        memory.check(3 * GiB, "a step", "do less.")

  def test_unknown_machine_memory_checks_the_limit_only(self):
    with machine_with(None):
      memory.check(100 * GiB, "a step", "do less.")
      with self.assertRaisesRegex(ConfigError, "memory_limit_gb=1 allows"):
        memory.check(2 * GiB, "a step", "do less.", limit_gb=1.0)

  def test_this_machine_reports_its_memory(self):
    available = memory.host_available_bytes()
    self.assertIsNotNone(available)
    self.assertGreater(available, 0)

  def test_paired_training_estimate_grows_with_parameters_and_batch(self):
    small = memory.training_bytes(1000, 100, 32, 32, 4)
    self.assertEqual(memory.training_bytes(2000, 100, 32, 32, 4) - small,
                     1000 * 4 * memory.PAIRED_STATE_COPIES[True])
    self.assertGreater(memory.training_bytes(1000, 100, 64, 32, 4), small)
    self.assertGreater(small, memory.training_bytes(1000, 100, 32, 32, 4, paired=False))


class RefusedBeforeWorkTest(test_utils.TestCase):

  def test_compare_refuses_a_model_too_large_for_the_machine(self):
    config = compare.default_config()
    config.dataset.name = "mnist5k"
    config.dataset.num_train, config.dataset.num_test = 100, 50
    config.model.width = 60
    workdir = self.create_tempdir().full_path
    with machine_with(2 * GiB):
      with self.assertRaisesRegex(ConfigError, r"paired training of lenet x60 needs ~.* GiB .* "
                                  r"2\.0 GiB available now .* lower train.batch_size"):
        compare.run(config, workdir)
    self.assertFalse(os.path.exists(os.path.join(workdir, "seed_0")))

  def test_scaling_law_checks_every_sweep_width_before_training(self):
    from tests.scaling_law_test import tiny_config
    config = tiny_config()
    config.width_sweep.widths = (8, 100_000)
    config.width_sweep.train_size = 32
    workdir = self.create_tempdir().full_path
    with machine_with(4 * GiB):
      with self.assertRaisesRegex(ConfigError, r"SGD training of mlp x100000 needs"):
        scaling_law.run(config, workdir)
    self.assertFalse(os.path.exists(os.path.join(workdir, "cells")))

  def test_empirical_ntk_plan_larger_than_the_machine_is_refused(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10)
    x = np.zeros((200, 28, 28, 1), np.float32)
    with machine_with(GiB // 64):
      with self.assertRaisesRegex(ConfigError, r"200x200 empirical NTK .* lower memory_limit_gb"):
        empirical.empirical_ntk(model, x, memory_limit_gb=4.0)


if __name__ == "__main__":
  absltest.main()
