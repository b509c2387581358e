"""TFDS sources under tfds.testing.mock_data, and what happens with no network."""

from unittest import mock

import numpy as np
import tensorflow_datasets as tfds
from absl.testing import absltest, parameterized

from ntk_tf import data
from ntk_tf.errors import DataError
from tests import test_utils


def config(**overrides):
  c = data.default_config()
  for key, value in overrides.items():
    c[key] = value
  return c


class TfdsSourcesTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters(("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)),
                            ("svhn_cropped", (32, 32, 3)), ("fashion_mnist", (28, 28, 1)))
  def test_mock_data(self, name, shape):
    tmp = self.create_tempdir().full_path
    with tfds.testing.mock_data(num_examples=40):
      d = data.load(config(name=name, source="tfds", data_dir=tmp, translate=2), seed=0)
    self.assertEqual(d.x_train.shape, (40,) + shape)
    self.assertEqual(d.x_test.shape, (40,) + shape)
    self.assertEqual(d.x_train.dtype, np.float32)
    self.assertEqual(d.targets_train.shape, (40, 10))
    self.assertTrue(np.all((d.labels_train >= 0) & (d.labels_train < 10)))
    self.assertAlmostEqual(float(d.x_train.mean()), 0.0, places=4)
    self.assertStartsWith(d.info["source"], "tfds:")

  def test_cifar10_class_names(self):
    with tfds.testing.mock_data(num_examples=10):
      d = data.load(config(name="cifar10", data_dir=self.create_tempdir().full_path))
    self.assertEqual(d.info["class_names"][:2], ["airplane", "automobile"])

  def test_imagenet_snakes(self):
    # Mock labels are uniform over 1000 classes: 4000 examples give ~40 snakes.
    with tfds.testing.mock_data(num_examples=4000):
      d = data.load(config(name="imagenet_snakes", data_dir=self.create_tempdir().full_path,
                           shuffle=False), seed=0)
    self.assertEqual(d.x_train.shape[1:], (224, 224, 3))
    self.assertGreater(len(d.x_train), 20)
    self.assertTrue(np.all(d.labels_train < 10))
    self.assertEqual(d.info["class_names"][0], "thunder snake")
    self.assertEqual(d.targets_train.shape[1], 10)


class NoNetworkTest(test_utils.TestCase):

  def test_download_failure_is_one_clear_error(self):
    builder = mock.MagicMock()
    builder.is_prepared.return_value = False
    builder.download_and_prepare.side_effect = ConnectionError(
        "Failed to establish a new connection: [Errno -3] Temporary failure in name resolution")
    with mock.patch.object(tfds, "builder", return_value=builder):
      with self.assertRaisesRegex(
          DataError, r"could not download TFDS data set 'cifar10'.*dataset.data_dir.*mnist5k"):
        data.load(config(name="cifar10", data_dir="/tmp/nowhere"))

  def test_download_disallowed(self):
    with self.assertRaisesRegex(DataError, r"not prepared in .* dataset.download=False.*mnist5k"):
      data.load(config(name="svhn_cropped", data_dir=self.create_tempdir().full_path,
                       download=False))


if __name__ == "__main__":
  absltest.main()
