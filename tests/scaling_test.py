"""Scaling-law fits recover known (A, α, β) from synthetic learning curves."""

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf.analysis import scaling
from ntk_tf.errors import DataError
from tests import test_utils

N = np.unique(np.round(np.logspace(1.5, 5, 12)))


def curve(A, alpha, beta, n=N):  # pylint: disable=invalid-name
  return A * (1.0 / n + alpha) ** beta


class FitTest(test_utils.TestCase, parameterized.TestCase):

  @parameterized.parameters((2.0, 1e-3, 0.4), (0.5, 1e-5, 0.2), (3.0, 0.0, 0.3))
  def test_exact_curves_are_recovered(self, A, alpha, beta):  # pylint: disable=invalid-name
    fit = scaling.fit_scaling_law(N, curve(A, alpha, beta))
    self.assertAllClose(fit.beta, beta, rtol=1e-5)
    self.assertAllClose(fit.A, A, rtol=1e-4)
    self.assertAllClose(fit.alpha, alpha, rtol=1e-3, atol=1e-9)
    self.assertLess(fit.rms_log_residual, 1e-6)
    self.assertAllClose(fit.predict(N), curve(A, alpha, beta), rtol=1e-5)

  def test_noisy_curves_give_beta_within_a_few_hundredths(self):
    rng = np.random.default_rng(0)
    errors = curve(2.0, 1e-3, 0.4) * np.exp(0.02 * rng.standard_normal(len(N)))
    fit = scaling.fit_scaling_law(N, errors)
    self.assertLess(abs(fit.beta - 0.4), 0.05)

  def test_bootstrap_interval_covers_the_true_exponent_and_shrinks_with_noise(self):
    rng = np.random.default_rng(1)

    def seeds(noise):
      return curve(2.0, 1e-4, 0.3) * np.exp(noise * rng.standard_normal((8, len(N))))

    wide = scaling.bootstrap_beta(N, seeds(0.05), num_resamples=200)
    narrow = scaling.bootstrap_beta(N, seeds(0.005), num_resamples=200)
    for out in (wide, narrow):
      self.assertLessEqual(out["low"], out["beta"])
      self.assertLessEqual(out["beta"], out["high"])
      self.assertBetween(0.3, out["low"] - 1e-3, out["high"] + 1e-3)
    self.assertLess(narrow["high"] - narrow["low"], wide["high"] - wide["low"])

  def test_power_law_fraction_flags_flattened_curves(self):
    steep = scaling.fit_scaling_law(N, curve(2.0, 0.0, 0.4))
    self.assertAllClose(steep.power_law_fraction(N), 1.0, rtol=1e-6)
    # A curve that is already at its floor over the measured range (alpha >> 1/n_min).
    flat = scaling.fit_scaling_law(N, curve(2.0, 1.0, 0.4) + 0.1)
    self.assertLess(flat.power_law_fraction(N), 0.1)

  def test_bad_curves_are_refused(self):
    with self.assertRaisesRegex(DataError, "at least 3 sample sizes"):
      scaling.fit_scaling_law([10, 20], [0.5, 0.4])
    with self.assertRaisesRegex(DataError, "finite and > 0"):
      scaling.fit_scaling_law([10, 20, 40], [0.5, 0.0, 0.3])
    with self.assertRaisesRegex(DataError, "distinct and positive"):
      scaling.fit_scaling_law([10, 10, 40], [0.5, 0.4, 0.3])
    with self.assertRaisesRegex(DataError, "seeds >= 2"):
      scaling.bootstrap_beta([10, 20, 40], [[0.5, 0.4, 0.3]])


if __name__ == "__main__":
  absltest.main()
