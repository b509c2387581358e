"""Effective rank and friends on spectra with known answers."""

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf.analysis import spectral
from tests import test_utils


class SpectralTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters(1, 7, 600)
  def test_flat_spectrum(self, n):
    self.assertAlmostEqual(spectral.effective_rank(np.full(n, 3.5)), n, places=9)

  def test_rank_one(self):
    self.assertAlmostEqual(spectral.effective_rank(np.array([2.0, 0, 0, 0])), 1.0)

  def test_two_level_spectrum_by_hand(self):
    s = np.array([3.0, 1.0])
    p = s / 4
    self.assertAlmostEqual(spectral.effective_rank(s), np.exp(-(p * np.log(p)).sum()))

  def test_singular_values_from_kernel_match_svd(self):
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((12, 40)) @ np.diag(np.logspace(0, -2, 40))
    kernel = phi @ phi.T
    self.assertAllClose(spectral.singular_values_from_kernel(kernel),
                        np.linalg.svd(phi, compute_uv=False), rtol=1e-8, atol=1e-12)
    n, l = 4, 3  # The (n, n, L, L) layout with rows ordered (sample, output).
    blocks = kernel.reshape(n, l, n, l).transpose(0, 2, 1, 3)
    self.assertAllClose(spectral.singular_values_from_kernel(blocks),
                        np.linalg.svd(phi, compute_uv=False), rtol=1e-8, atol=1e-12)

  def test_rank_and_condition_of_deficient_matrix(self):
    rng = np.random.default_rng(1)
    phi = rng.standard_normal((10, 4)) @ rng.standard_normal((4, 30))  # Rank 4.
    s = spectral.singular_values_from_kernel(phi @ phi.T)
    self.assertEqual(spectral.numerical_rank(s), 4)
    exact = np.linalg.svd(phi, compute_uv=False)
    self.assertAlmostEqual(spectral.condition_number(s), exact[0] / exact[3], places=6)
    info = spectral.summary(s)
    self.assertEqual(info["num_rows"], 10)
    self.assertBetween(info["effective_rank"], 1.0, 4.0)


if __name__ == "__main__":
  absltest.main()
