"""The 'spectrum' experiment end to end, at initialization and from a compare checkpoint."""

import json
import os

import numpy as np
from absl.testing import absltest

from ntk_tf import data, models
from ntk_tf.analysis import spectral
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import compare, spectrum
from ntk_tf.ntk import empirical_ntk
from ntk_tf.training import checkpoints
from tests import test_utils


def tiny_config():
  """configs/spectrum_lenet_mnist.py:smoke with shifts of 0 and 3 pixels."""
  return test_utils.smoke_config("spectrum_lenet_mnist", {"spectrum.translations": (0, 3)})


class SpectrumTest(test_utils.TestCase):

  def test_end_to_end(self):
    workdir = self.create_tempdir().full_path
    results = spectrum.run(tiny_config(), workdir)
    with open(os.path.join(workdir, "results.json")) as f:
      on_disk = json.load(f)
    self.assertEqual(on_disk["experiment"], "spectrum")
    for width, params in (("1", 61706), ("2", 244362)):
      entry = on_disk["widths"][width]
      self.assertEqual(entry["num_rows"], 200)
      self.assertEqual(entry["num_params"], params)
      for key in ("effective_rank", "condition_number", "numerical_rank"):
        self.assertIn(key, entry)
      self.assertBetween(entry["effective_rank"], 1.0, 200.0)
      sigma = np.load(os.path.join(workdir, "singular_values", f"t0_w{width}.npy"))
      self.assertAlmostEqual(entry["effective_rank"], spectral.effective_rank(sigma))
    self.assertIn("3", on_disk["translations"])
    self.assertEqual(results["widths"], on_disk["widths"])
    for figure in ("effective_rank.png", "singular_values.png"):
      self.assertGreater(os.path.getsize(os.path.join(workdir, figure)), 1000)

  def test_kernel_matches_direct_computation(self):
    workdir = self.create_tempdir().full_path
    config = tiny_config()
    config.model.widths = (1,)
    config.spectrum.translations = (0,)
    spectrum.run(config, workdir)
    dataset_cfg = config.dataset.copy_and_resolve_references()
    dataset_cfg.num_train = 20
    d = data.load(dataset_cfg, seed=0)
    model = models.build("lenet", width=1, input_shape=d.input_shape, num_outputs=10, seed=0)
    direct = spectral.singular_values_from_kernel(empirical_ntk(model, d.x_train,
                                                                method="jacobian"))
    saved = np.load(os.path.join(workdir, "singular_values", "t0_w1.npy"))
    self.assertAllClose(saved, direct, rtol=1e-4, atol=1e-4 * direct[0])

  def test_after_kernel_from_compare_checkpoint(self):
    run_dir = self.create_tempdir().full_path
    c = compare.default_config()
    c.dataset.name = "mnist5k"
    c.dataset.num_train, c.dataset.num_test = 64, 20
    c.train.epochs, c.train.jit_compile = 1, False
    compare.run(c, run_dir)
    ckpt_dir = os.path.join(run_dir, "seed_0", "checkpoints")
    config = tiny_config()
    config.model.widths, config.spectrum.translations = (1,), (0,)
    at_init = spectrum.run(config, self.create_tempdir().full_path)
    config.spectrum.checkpoint_dir = ckpt_dir
    after = spectrum.run(config, self.create_tempdir().full_path)
    self.assertEqual(after["widths"]["1"]["weights"],
                     checkpoints.checkpoint_path(ckpt_dir))
    self.assertNotAlmostEqual(after["widths"]["1"]["effective_rank"],
                              at_init["widths"]["1"]["effective_rank"], places=3)
    config.model.widths = (2,)  # A checkpoint of another width is refused.
    with self.assertRaisesRegex(ConfigError, "does not match model lenet_x2"):
      spectrum.run(config, self.create_tempdir().full_path)
    config.model.widths, config.spectrum.checkpoint_step = (1,), 12345
    with self.assertRaisesRegex(ConfigError, "no checkpoint at step 12345.*available steps"):
      spectrum.run(config, self.create_tempdir().full_path)

  def test_bad_config(self):
    config = tiny_config()
    config.model.widths = (1, 0)
    with self.assertRaisesRegex(ConfigError, "model.width=0"):
      spectrum.validate(config)
    config = tiny_config()
    config.spectrum.translations = (0, 28)
    with self.assertRaisesRegex(ConfigError, "out of range for 28x28"):
      spectrum.validate(config)


if __name__ == "__main__":
  absltest.main()
