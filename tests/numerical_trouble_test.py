"""NaN/inf in kernels, solvers and spectra stop with one NumericalError that says where and what
to try (training divergence: tests/training_test.py, tests/learning_curves_test.py)."""

import numpy as np
from absl.testing import absltest

from ntk_tf import models
from ntk_tf.analysis import spectral
from ntk_tf.errors import NtkTfError, NumericalError, require_finite
from ntk_tf.ntk import empirical, infinite
from ntk_tf.solvers import kernel as kernel_solver
from ntk_tf.solvers import linearized
from tests import test_utils


def mlp(dtype="float32"):
  return models.build("mlp", width=8, input_shape=(4,), num_outputs=2, depth=2, dtype=dtype)


class NumericalTroubleTest(test_utils.TestCase):

  def test_require_finite_names_where_and_the_first_bad_entry(self):
    a = np.ones((3, 4))
    a[1, 2], a[2, 0] = np.nan, np.inf
    with self.assertRaisesRegex(NumericalError,
                                r"^the thing holds 2 NaN/inf entries \(first at \(1, 2\)\); fix it"):
      require_finite(a, "the thing", "fix it")
    self.assertIs(require_finite(np.ones(2), "x", "y").dtype, np.dtype(np.float64))
    self.assertTrue(issubclass(NumericalError, NtkTfError))  # main prints it as one line.

  def test_entk_at_nan_weights_names_the_weight(self):
    model = mlp()
    params = [v.numpy() for v in model.trainable_weights]
    params[2][0, 0] = np.nan
    with self.assertRaisesRegex(NumericalError, r"the weight .*fc2/kernel the empirical NTK is "
                                r"taken at .*last good checkpoint"):
      empirical.empirical_ntk(model, np.ones((3, 4), np.float32), params=params)

  def test_entk_overflow_names_the_block_and_suggests_float64(self):
    x = np.full((6, 4), 1e20, np.float32)   # Finite inputs; Θ ~ 1e40 overflows float32.
    with self.assertRaisesRegex(NumericalError, r"empirical NTK block of samples 0:3 x 0:3 .*"
                                r"float64"):
      empirical.empirical_ntk(mlp(), x, block_size=3, method="jacobian")
    k64 = empirical.empirical_ntk(mlp("float64"), x.astype(np.float64), block_size=3,
                                  method="jacobian")   # The suggested fix works.
    self.assertTrue(np.isfinite(k64).all())

  def test_nan_inputs_are_refused_as_bad_input(self):
    x = np.ones((3, 4), np.float32)
    x[1, 1] = np.nan
    with self.assertRaisesRegex(NtkTfError, "x1 contains NaN or inf; clean the inputs"):
      empirical.empirical_ntk(mlp(), x)

  def test_infinite_kernel_overflow_names_the_block(self):
    x = np.full((4, 5), 1e160)   # x·x' = 5e320 overflows float64.
    with self.assertRaisesRegex(NumericalError, r"the mlp kernel block of samples 0:4 x 0:4 "
                                r"\(NNGP\) .*standardize the inputs"):
      infinite.kernels("mlp", x, depth=2)

  def test_kernel_solver_and_spectrum_refuse_nan_kernels(self):
    k = np.eye(4)
    k[0, 3] = np.nan
    with self.assertRaisesRegex(NumericalError, "kernel matrix given to the kernel solver"):
      kernel_solver.interpolate(k, np.ones((4, 1)))
    with self.assertRaisesRegex(NumericalError, "singular values"):
      spectral.singular_values_from_kernel(k)

  def test_solver_with_nan_initial_outputs_names_f0(self):
    model = mlp()
    model.trainable_weights[0].assign(np.full((4, 8), np.nan, np.float32))
    x, y = np.ones((5, 4), np.float32), np.zeros((5, 2), np.float32)
    labels = np.zeros(5, np.int64)
    with self.assertRaisesRegex(NumericalError, r"weight mlp_x8/fc1/kernel .*outputs "
                                r"f\(w0, x\) .*diverged checkpoint"):
      linearized.solve(model, x, y, labels, x, labels, method="lsqr")


if __name__ == "__main__":
  absltest.main()
