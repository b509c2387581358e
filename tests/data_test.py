"""Offline data sources and transforms, on the real files."""

import gzip
import os
import shutil

import numpy as np
from absl.testing import absltest, parameterized

from ntk_tf import data
from ntk_tf.data import offline, transforms
from ntk_tf.errors import ConfigError, DataError
from tests import test_utils

HAVE_FASHION = offline.fashion_mnist_idx_available()
NO_FASHION = ("Fashion-MNIST IDX files not in /usr/share/datasets/fashion-mnist "
              "(apt-get install dataset-fashion-mnist)")


def config(**overrides):
  c = data.default_config()
  for key, value in overrides.items():
    c[key] = value
  return c


def naive_translate(image, dy, dx):
  """Reference: shift by (dy, dx) with zero fill, pixel by pixel."""
  h, w, _ = image.shape
  out = np.zeros_like(image)
  for i in range(h):
    for j in range(w):
      if 0 <= i - dy < h and 0 <= j - dx < w:
        out[i, j] = image[i - dy, j - dx]
  return out


class Mnist5kTest(test_utils.TestCase):

  def test_shapes_dtypes_labels_balance(self):
    d = data.load(config(name="mnist5k"), seed=0)
    self.assertEqual(d.x_train.shape, (4000, 28, 28, 1))
    self.assertEqual(d.x_test.shape, (1000, 28, 28, 1))
    self.assertEqual(d.x_train.dtype, np.float32)
    self.assertEqual(d.labels_train.dtype, np.int64)
    self.assertEqual(d.targets_train.shape, (4000, 10))
    np.testing.assert_array_equal(np.bincount(d.labels_train), [400] * 10)
    np.testing.assert_array_equal(np.bincount(d.labels_test), [100] * 10)
    np.testing.assert_array_equal(d.targets_train.argmax(1), d.labels_train)
    np.testing.assert_array_equal(d.targets_train.sum(1), np.ones(4000))

  def test_split_is_fixed_and_disjoint(self):
    d = data.load(config(name="mnist5k", standardize=False, shuffle=False), seed=0)
    train = {x.tobytes() for x in d.x_train}
    self.assertEmpty([x for x in d.x_test if x.tobytes() in train])
    self.assertBetween(float(d.x_train.max()), 0.99, 1.0)
    self.assertEqual(float(d.x_train.min()), 0.0)

  def test_standardization_uses_training_statistics(self):
    raw = data.load(config(name="mnist5k", standardize=False, shuffle=False), seed=0)
    d = data.load(config(name="mnist5k", shuffle=False), seed=0)
    mean, std = raw.x_train.mean(dtype=np.float64), raw.x_train.std(dtype=np.float64)
    self.assertAllClose(d.x_train, (raw.x_train - mean) / std, dtype=np.float32)
    self.assertAllClose(d.x_test, (raw.x_test - mean) / std, dtype=np.float32)
    self.assertAllClose(d.info["mean"], [mean], dtype=np.float64)
    self.assertAlmostEqual(float(d.x_train.mean()), 0.0, places=4)
    self.assertAlmostEqual(float(d.x_train.std()), 1.0, places=4)

  def test_same_seed_identical_other_seed_differs(self):
    c = config(name="mnist5k", translate=3, num_train=500)
    a, b, other = data.load(c, seed=7), data.load(c, seed=7), data.load(c, seed=8)
    for field in ("x_train", "labels_train", "targets_train", "x_test", "labels_test"):
      np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    self.assertFalse(np.array_equal(a.x_train, other.x_train))

  def test_dataset_seed_overrides_top_level_seed(self):
    a = data.load(config(name="mnist5k", seed=3), seed=0)
    b = data.load(config(name="mnist5k"), seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)

  def test_translation_of_the_real_digits(self):
    plain = data.load(config(name="mnist5k", standardize=False, shuffle=False), seed=0)
    moved = data.load(config(name="mnist5k", standardize=False, shuffle=False, translate=7),
                      seed=0)
    shifts = transforms.random_shifts(len(plain.x_train), 7,
                                      transforms.rng(0, transforms.STREAM_TRANSLATE_TRAIN))
    self.assertLessEqual(np.abs(shifts).max(), 7)
    self.assertEqual(np.abs(shifts).max(), 7)  # 4000 draws reach the bound.
    for i in range(0, 4000, 397):
      np.testing.assert_array_equal(moved.x_train[i],
                                    naive_translate(plain.x_train[i], *shifts[i]))
    # Translation moves ink, never creates it.
    self.assertTrue(np.all(moved.x_train.sum((1, 2, 3)) <= plain.x_train.sum((1, 2, 3)) + 1e-4))
    self.assertFalse(np.array_equal(moved.x_test, plain.x_test))

  def test_balanced_subsample_and_classes(self):
    d = data.load(config(name="mnist5k", classes=(3, 8, 1), num_train=31, num_test=12), seed=0)
    self.assertEqual(d.info["class_names"], ["3", "8", "1"])
    counts = np.bincount(d.labels_train, minlength=3)
    self.assertEqual(counts.sum(), 31)
    self.assertLessEqual(counts.max() - counts.min(), 1)
    np.testing.assert_array_equal(np.bincount(d.labels_test), [4, 4, 4])


class TargetsTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters(("pm1", -1.0), ("01", 0.0))
  def test_class_vs_rest(self, binary_labels, negative):
    d = data.load(config(name="mnist5k", target="class_vs_rest", positive_class=0,
                         binary_labels=binary_labels, shuffle=False), seed=0)
    self.assertEqual(d.targets_train.shape, (4000, 1))
    self.assertEqual(d.num_outputs, 1)
    np.testing.assert_array_equal(np.bincount(d.labels_train), [3600, 400])
    np.testing.assert_array_equal(np.unique(d.targets_train), [negative, 1.0])
    np.testing.assert_array_equal(d.targets_train[:, 0] == 1.0, d.labels_train == 1)

  def test_parity(self):
    labels = np.arange(10)
    targets, task = transforms.make_targets(labels, "parity", 10)
    np.testing.assert_array_equal(targets[:, 0], [-1, 1] * 5)
    np.testing.assert_array_equal(task, [0, 1] * 5)

  def test_positive_class_after_class_subset(self):
    d = data.load(config(name="digits", classes=(4, 9), target="class_vs_rest",
                         positive_class=1), seed=0)
    self.assertEqual(d.info["class_names"], ["not 9", "9"])


class DigitsAndSyntheticTest(test_utils.TestCase):

  def test_digits(self):
    d = data.load(config(name="digits"), seed=0)
    self.assertEqual(d.x_train.shape[1:], (8, 8, 1))
    self.assertEqual(len(d.x_train) + len(d.x_test), 1797)
    self.assertEqual(sorted(np.unique(d.labels_test)), list(range(10)))

  def test_synthetic_task_definition(self):
    c = config(name="vyas_synthetic", standardize=False, shuffle=False,
               target="class_vs_rest", positive_class=1)
    c.synthetic.noise_std = 0.0
    c.synthetic.num_train = 500
    d = data.load(c, seed=0)
    self.assertEqual(d.x_train.shape, (500, 30))
    np.testing.assert_array_equal(np.unique(d.x_train), [-1.0, 1.0])
    np.testing.assert_array_equal(d.targets_train[:, 0], d.x_train[:, 0] * d.x_train[:, 1])

  def test_synthetic_noise(self):
    c = config(name="vyas_synthetic", standardize=False, target="class_vs_rest",
               positive_class=1)
    c.synthetic.num_train = 20000
    d = data.load(c, seed=1)
    noise = d.x_train - np.sign(d.x_train)  # Exact where |eps| < 1, i.e. almost always.
    self.assertAlmostEqual(float(np.median(np.abs(noise))), 0.5 * 0.6745, delta=0.01)
    self.assertAlmostEqual(float(d.targets_train.mean()), 0.0, delta=0.03)


@absltest.skipUnless(HAVE_FASHION, NO_FASHION)
class FashionMnistIdxTest(test_utils.TestCase):

  def test_full_dataset(self):
    d = data.load(config(name="fashion_mnist", shuffle=False, standardize=False), seed=0)
    self.assertEqual(d.x_train.shape, (60000, 28, 28, 1))
    self.assertEqual(d.x_test.shape, (10000, 28, 28, 1))
    np.testing.assert_array_equal(np.bincount(d.labels_train), [6000] * 10)
    self.assertEqual(d.info["class_names"][9], "ankle boot")
    self.assertStartsWith(d.info["source"], "IDX files")

  def test_truncated_file(self):
    tmp = self.create_tempdir().full_path
    for f in offline.FASHION_MNIST_FILES.values():
      shutil.copy(os.path.join(offline.DEFAULT_FASHION_MNIST_DIR, f + ".gz"), tmp)
    path = os.path.join(tmp, offline.FASHION_MNIST_FILES["test_images"])
    with gzip.open(path + ".gz") as f:
      payload = f.read()
    with gzip.open(path + ".gz", "wb") as f:
      f.write(payload[:-100])
    with self.assertRaisesRegex(DataError, "truncated.*apt-get install dataset-fashion-mnist"):
      data.load(config(name="fashion_mnist", source="idx", idx_dir=tmp))

  def test_broken_gzip(self):
    tmp = self.create_tempdir().full_path
    for f in offline.FASHION_MNIST_FILES.values():
      shutil.copy(os.path.join(offline.DEFAULT_FASHION_MNIST_DIR, f + ".gz"), tmp)
    path = os.path.join(tmp, offline.FASHION_MNIST_FILES["train_labels"] + ".gz")
    with open(path, "rb") as f:
      payload = f.read()
    with open(path, "wb") as f:
      f.write(payload[: len(payload) // 2])
    with self.assertRaisesRegex(DataError, "damaged"):
      data.load(config(name="fashion_mnist", source="idx", idx_dir=tmp))


class IdxReaderTest(test_utils.TestCase):
  """The IDX reader on files written here (runs with or without the Debian package)."""

  def write_idx(self, path, array, truncate=0):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    with open(path, "wb") as f:
      f.write(payload[: len(payload) - truncate])

  def test_roundtrip_and_truncation(self):
    tmp = self.create_tempdir().full_path
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    self.write_idx(os.path.join(tmp, "a"), array)
    np.testing.assert_array_equal(offline.read_idx(os.path.join(tmp, "a")), array)
    self.write_idx(os.path.join(tmp, "b"), array, truncate=5)
    with self.assertRaisesRegex(DataError, "truncated"):
      offline.read_idx(os.path.join(tmp, "b"))

  def test_missing_folder_names_the_package(self):
    with self.assertRaisesRegex(DataError, "apt-get install dataset-fashion-mnist"):
      data.load(config(name="fashion_mnist", source="idx", idx_dir="/nonexistent/fmnist"))


class Cifar5mTest(test_utils.TestCase):
  """CIFAR-5m from npz parts in its distributed layout (X uint8 N x 32 x 32 x 3, Y labels)."""

  def write_part(self, directory, part, n, name="cifar5m_part{}.npz", seed=0):
    rng = np.random.default_rng(seed + part)
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    y = np.arange(n) % 10
    np.savez(os.path.join(directory, name.format(part)), X=x, Y=y)
    return x, y

  def test_cifar5m_bin_dog_vs_horse(self):
    tmp = self.create_tempdir().full_path
    x0, y0 = self.write_part(tmp, 0, 40)
    x1, y1 = self.write_part(tmp, 1, 30, name="part{}.npz")
    xt, yt = self.write_part(tmp, 5, 20)
    c = config(name="cifar5m", classes=(5, 7), target="class_vs_rest", positive_class=0,
               standardize=False, shuffle=False)
    c.cifar5m.dir, c.cifar5m.train_parts = tmp, (0, 1)
    d = data.load(c)
    keep = np.concatenate([y0, y1])
    keep_x = np.concatenate([x0, x1])[np.isin(keep, (5, 7))]
    self.assertEqual(d.x_train.shape, (8 + 6, 32, 32, 3))
    np.testing.assert_array_equal(d.x_train, keep_x.astype(np.float32) / 255)
    np.testing.assert_array_equal(d.labels_train, (keep[np.isin(keep, (5, 7))] == 5))
    self.assertEqual(d.info["class_names"], ["not dog", "dog"])
    self.assertEqual(len(d.x_test), 4)
    self.assertEqual(set(d.targets_train[:, 0].tolist()), {-1.0, 1.0})

  def test_missing_parts_and_bad_files_are_one_clear_error(self):
    tmp = self.create_tempdir().full_path
    self.write_part(tmp, 0, 10)
    with self.assertRaisesRegex(ConfigError, "set dataset.cifar5m.dir"):
      data.load(config(name="cifar5m"))
    c = config(name="cifar5m")
    c.cifar5m.dir = tmp
    with self.assertRaisesRegex(ConfigError, "part 5 not found .*preetum/cifar5m"):
      data.load(c)
    np.savez(os.path.join(tmp, "cifar5m_part5.npz"), images=np.zeros((2, 32, 32, 3)))
    with self.assertRaisesRegex(DataError, "has 'X'"):
      data.load(c)
    c.cifar5m.train_parts = (5,)
    with self.assertRaisesRegex(ConfigError, "also a training part"):
      data.load(c)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ("unknown_dataset", dict(name="imagenet"), "unknown dataset 'imagenet'; valid names"),
      ("translation_too_large", dict(name="mnist5k", translate=28), "out of range for 28x28"),
      ("negative_translation", dict(name="mnist5k", translate=-1), "non-negative integer"),
      ("translate_vectors", dict(name="vyas_synthetic", translate=2), "needs image data"),
      ("class_index", dict(name="mnist5k", classes=(0, 10)), r"\[10\], outside"),
      ("subset_too_large", dict(name="mnist5k", num_train=4001), "exceeds the 4000"),
      ("subset_unbalanced", dict(name="digits", classes=(0, 1), num_train=288),
       "needs 144 examples of class 0, which has only 143"),
      ("subset_too_small", dict(name="mnist5k", num_train=5), "smaller than the number"),
      ("unknown_target", dict(name="mnist5k", target="onehot"), "use one of"),
      ("positive_class", dict(name="mnist5k", target="class_vs_rest", positive_class=12),
       "positive_class=12"),
  )
  def test_one_clear_error(self, overrides, pattern):
    with self.assertRaisesRegex(ConfigError, pattern):
      data.load(config(**overrides), seed=0)

  def test_unknown_key_lists_valid_keys(self):
    c = data.default_config()
    c.unlock()
    c.translation = 7
    with self.assertRaisesRegex(ConfigError, r"unknown dataset config key\(s\) \['translation'\]"
                                r"; valid keys: .*translate"):
      data.load(c)


class TranslateTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters((0, 0), (3, -2), (-5, 5), (7, 7), (-7, -7))
  def test_against_naive_shift(self, dy, dx):
    image = np.random.default_rng(0).random((1, 12, 10, 2)).astype(np.float32)
    out = transforms.translate(image, np.array([[dy, dx]]))
    np.testing.assert_array_equal(out[0], naive_translate(image[0], dy, dx))


if __name__ == "__main__":
  absltest.main()
