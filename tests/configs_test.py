"""Every config file loads, documents itself and passes its experiment's validation."""

import glob
import inspect
import os
import subprocess
import sys
import textwrap

from unittest import mock

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf import experiments
from ntk_tf.cli import config_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "*.py"))
                 if os.path.basename(p) not in ("__init__.py", "common.py"))


def load(path):
  return config_files.load_module(path, "_config")


def takes_tier(module) -> bool:
  return bool(inspect.signature(module.get_config).parameters)


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
    for tier in ("smoke", "cpu", "paper") if takes_tier(module) else (None,):
      self.check_valid(module.get_config(tier) if tier else module.get_config())

  def check_valid(self, config):
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

  def test_a_bad_tier_is_one_error_naming_the_tiers(self):
    from ntk_tf.errors import ConfigError  # pylint: disable=import-outside-toplevel
    with self.assertRaisesRegex(ConfigError, "lenet_mnist.py:huge.*smoke, cpu, cpu-full, paper"):
      config_files.load_config(os.path.join(ROOT, "configs", "lenet_mnist.py:huge"))


class ShippedConfigsTest(absltest.TestCase):
  """Configs ship inside the package; the names the docs use find them from any folder."""

  def test_the_checkouts_configs_folder_is_the_packages(self):
    self.assertEqual(os.path.realpath(os.path.join(ROOT, "configs")),
                     os.path.realpath(config_files.PACKAGE_DIR))
    self.assertIn("quickstart.py", config_files.available())

  def test_names_resolve_to_the_shipped_file_from_elsewhere(self):
    shipped = os.path.join(config_files.PACKAGE_DIR, "lenet_mnist.py")
    with mock.patch.object(os.path, "exists",
                           lambda p, real=os.path.exists: p.startswith("/") and real(p)):
      for name in ("configs/lenet_mnist.py", "lenet_mnist.py", "lenet_mnist"):
        self.assertEqual(config_files.resolve(name + ":cpu"), shipped + ":cpu")
      self.assertEqual(config_files.resolve("elsewhere/lenet_mnist.py"),
                       "elsewhere/lenet_mnist.py")  # Another folder's file is not ours.
      self.assertEqual(config_files.resolve("configs/common.py"), "configs/common.py")

  def test_a_missing_config_lists_the_shipped_ones(self):
    from ntk_tf.errors import ConfigError  # pylint: disable=import-outside-toplevel
    with self.assertRaisesRegex(ConfigError, "does not exist.*quickstart.py.*--list"):
      config_files.load_config("configs/no_such_config.py")


class TensorFlowFreeTest(parameterized.TestCase):
  """Configs are leaves: loading every one (every tier, its sweep), --list and a config error
  never import TensorFlow (a fresh process each)."""

  def _tensorflow_loaded(self, code: str) -> str:
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('TF_LOADED', 'tensorflow' in sys.modules, "
             "'keras' in sys.modules))\n" + code)
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    self.assertIn("TF_LOADED", result.stdout, result.stderr)
    return result.stdout.split("TF_LOADED")[-1].strip()

  def test_every_config_builds_without_tensorflow(self):
    code = textwrap.dedent("""\
        import inspect
        from ntk_tf.cli import config_files
        for path in config_files.available(full_paths=True):
          module = config_files.load_module(path)
          takes = bool(inspect.signature(module.get_config).parameters)
          for tier in ("smoke", "cpu", "cpu-full", "paper") if takes else (None,):
            module.get_config(tier) if tier else module.get_config()
          if hasattr(module, "sweep"):
            module.sweep()
        """)
    self.assertEqual(self._tensorflow_loaded(code), "False False")

  @parameterized.named_parameters(
      ("list", ["--list"]),
      ("missing_file", ["--config=configs/nope.py"]),
      ("bad_tier", ["--config=configs/lenet_mnist.py:huge"]),
      ("unknown_key", ["--config=configs/lenet_mnist.py", "--config.train.nope=1"]),
      ("wrong_type", ["--config=configs/lenet_mnist.py", "--config.train.epochs=abc"]))
  def test_the_command_line_answers_without_tensorflow(self, args):
    code = f"sys.argv = ['ntk_tf.main'] + {args!r}\nfrom ntk_tf import main\nmain.run()\n"
    self.assertEqual(self._tensorflow_loaded(code), "False False")


class IncompatibleCombinationsTest(absltest.TestCase):
  """Refused by validate(), from the config alone, before any data is read."""

  def test_model_and_data_shapes(self):
    from ntk_tf import data  # pylint: disable=import-outside-toplevel
    from ntk_tf.errors import ConfigError  # pylint: disable=import-outside-toplevel
    from ntk_tf.experiments import compare, scaling_law  # pylint: disable=g-import-not-at-top
    with mock.patch.object(data, "load", side_effect=AssertionError("data was read")):
      config = compare.default_config()
      config.model.name, config.dataset.name = "alexnet", "mnist5k"
      with self.assertRaisesRegex(ConfigError, "cannot take 28x28 .*mnist5k"):
        compare.validate(config)
      config = scaling_law.default_config()
      config.model.name, config.model.depth = "myrtle", None
      with self.assertRaisesRegex(ConfigError, "needs images .*vyas_synthetic"):
        scaling_law.validate(config)


if __name__ == "__main__":
  absltest.main()
