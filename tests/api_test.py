"""The public API: every name resolves, `import ntk_tf` stays light, names are the real ones."""

import subprocess
import sys

import numpy as np
from absl.testing import absltest

import ntk_tf
from tests import test_utils


class PublicApiTest(test_utils.TestCase):

  def test_every_public_name_resolves(self):
    for name in ntk_tf.__all__:
      self.assertIsNotNone(getattr(ntk_tf, name), name)
    self.assertIn("empirical_ntk", dir(ntk_tf))
    with self.assertRaises(AttributeError):
      ntk_tf.no_such_name  # pylint: disable=pointless-statement

  def test_import_does_not_load_tensorflow(self):
    code = "import sys, ntk_tf; print('tensorflow' in sys.modules, ntk_tf.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    self.assertEqual(out[0], "False")
    self.assertRegex(out[1], r"^\d+\.\d+")

  def test_names_are_the_library_functions(self):
    from ntk_tf.ntk import empirical  # pylint: disable=import-outside-toplevel
    from ntk_tf.solvers import kernel  # pylint: disable=import-outside-toplevel
    self.assertIs(ntk_tf.empirical_ntk, empirical.empirical_ntk)
    self.assertIs(ntk_tf.predict, kernel.gradient_flow)
    model = ntk_tf.build_model("mlp", width=8, input_shape=(3,), num_outputs=2, depth=2,
                               dtype="float64")
    x = np.random.default_rng(0).normal(size=(4, 3))
    theta = ntk_tf.flatten_kernel(ntk_tf.empirical_ntk(model, x, dtype="float64"))
    sigma = ntk_tf.singular_values_from_kernel(theta)
    self.assertAllClose(sigma ** 2, np.sort(np.linalg.eigvalsh(theta))[::-1], rtol=1e-8,
                        atol=1e-10)
    self.assertGreater(ntk_tf.effective_rank(sigma), 1.0)


if __name__ == "__main__":
  absltest.main()
