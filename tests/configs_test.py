"""Every config file loads, documents itself and passes its experiment's validation."""

import glob
import importlib.util
import os

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf import experiments

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "*.py")))


def load(path):
  spec = importlib.util.spec_from_file_location("_config", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


class ConfigsTest(parameterized.TestCase):

  def test_there_are_configs(self):
    self.assertGreater(len(CONFIGS), 10)

  @parameterized.named_parameters((os.path.basename(p)[:-3], p) for p in CONFIGS)
  def test_config_is_documented_and_valid(self, path):
    module = load(path)
    doc = module.__doc__ or ""
    for field in ("Command:", "Runtime:", "Paper:"):
      self.assertIn(field, doc, f"{path}: docstring lacks {field}")
    self.assertNotIn("RUNTIME", doc, f"{path}: runtime placeholder not filled in")
    config = module.get_config()
    experiment = experiments.get(config.experiment)
    if config.get("dataset", {}).get("name") == "cifar5m":  # User files: fake parts here.
      tmp = self.create_tempdir().full_path
      c5 = config.dataset.cifar5m
      for part in tuple(c5.train_parts) + (c5.test_part,):
        np.savez(os.path.join(tmp, f"cifar5m_part{part}.npz"), X=np.zeros((1, 32, 32, 3)),
                 Y=np.zeros(1))
      config.dataset.cifar5m.dir = tmp
    if hasattr(experiment, "validate"):
      experiment.validate(config)


if __name__ == "__main__":
  absltest.main()
