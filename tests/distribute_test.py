"""tf.distribute: MirroredStrategy over 2 logical CPUs trains exactly like the default strategy."""

import json
import os
import subprocess
import sys
import textwrap

from absl.testing import absltest

from ntk_tf.errors import ConfigError
from ntk_tf.utils import distribute
from tests import test_utils

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# TensorFlow fixes its devices at start-up, so the 2-CPU runs happen in a fresh interpreter.
SCRIPT = textwrap.dedent('''
    import json, sys, tempfile
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from ntk_tf.utils import distribute
    from ntk_tf.experiments import compare
    out = {"replicas": distribute.get_strategy("mirrored").num_replicas_in_sync}
    for strategy in ("default", "mirrored"):
      c = compare.default_config()
      c.dataset.name = "mnist5k"
      c.dataset.num_train = 41          # Batches of 20, 20 and 1: one replica gets nothing.
      c.dataset.num_test = 20
      c.dtype = "float64"
      c.train.epochs = 2
      c.train.batch_size = 20
      c.train.jit_compile = False
      c.train.trajectory_points = 2
      c.train.trajectory_steps = 2
      c.distribute = strategy
      out[strategy] = compare.run(c, tempfile.mkdtemp())["per_seed"][0]
    print("RESULT", json.dumps(out))
''')


class DistributeTest(test_utils.TestCase):

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

  def test_unknown_strategy(self):
    with self.assertRaisesRegex(ConfigError, "use one of default, mirrored"):
      distribute.validate("horovod")
    os.environ.pop("TF_CONFIG", None)
    with self.assertRaisesRegex(ConfigError, "TF_CONFIG"):
      distribute.get_strategy("multi_worker_mirrored")


if __name__ == "__main__":
  absltest.main()
