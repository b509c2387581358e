"""TensorFlow Datasets sources: MNIST, CIFAR-10, SVHN, Fashion-MNIST, ImageNet snakes.

These download on a machine with a network (or read a prepared `data_dir`); offline the
tool says so in one line and names the offline alternatives.
"""

from typing import Optional, Sequence

import numpy as np

from ntk_tf.data.raw import RawData
from ntk_tf.errors import DataError

OFFLINE_ALTERNATIVES = "mnist5k, fashion_mnist (local IDX files), digits, vyas_synthetic"

# TFDS name and (train, test) splits of each image-classification source.
TFDS_NAMES = {
    "mnist": ("mnist", "train", "test"),
    "cifar10": ("cifar10", "train", "test"),
    "svhn_cropped": ("svhn_cropped", "train", "test"),
    "fashion_mnist": ("fashion_mnist", "train", "test"),
}
CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "svhn_cropped": tuple(str(d) for d in range(10)),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                "ship", "truck"),
}

# ImageNet-2012 has 17 snake classes (labels 52-68). Samarin et al. use ten of them but do
# not list which; the default is the first ten (thunder snake ... boa constrictor), and
# `dataset.imagenet.classes` chooses others.
IMAGENET_SNAKES = {
    52: "thunder snake", 53: "ringneck snake", 54: "hognose snake", 55: "green snake",
    56: "king snake", 57: "garter snake", 58: "water snake", 59: "vine snake",
    60: "night snake", 61: "boa constrictor", 62: "rock python", 63: "Indian cobra",
    64: "green mamba", 65: "sea snake", 66: "horned viper", 67: "diamondback",
    68: "sidewinder",
}
DEFAULT_SNAKE_CLASSES = tuple(range(52, 62))


def _prepared_builder(tfds_name: str, data_dir: Optional[str], download: bool,
                      download_config=None):
  """A TFDS builder whose data is on disk, downloading it if allowed."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  builder = tfds.builder(tfds_name, data_dir=data_dir)
  if builder.is_prepared():
    return builder
  where = data_dir or "~/tensorflow_datasets"
  if not download:
    raise DataError(
        f"TFDS data set '{tfds_name}' is not prepared in {where} and dataset.download=False: "
        f"set dataset.data_dir to a folder holding it, allow the download on a machine with a "
        f"network, or use an offline data set ({OFFLINE_ALTERNATIVES}).")
  try:
    builder.download_and_prepare(download_config=download_config)
  except Exception as e:  # Network failures surface as many exception types.
    raise DataError(
        f"could not download TFDS data set '{tfds_name}' into {where} ({type(e).__name__}: "
        f"{str(e).splitlines()[0][:200] if str(e) else 'no details'}). Without a network, "
        f"copy a prepared copy there and set dataset.data_dir, or use an offline data set "
        f"({OFFLINE_ALTERNATIVES}).") from e
  return builder


def _to_numpy(dataset):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  xs, ys = [], []
  for x, y in tfds.as_numpy(dataset.batch(4096)):
    xs.append(x)
    ys.append(y)
  return np.concatenate(xs).astype(np.float32) / 255.0, np.concatenate(ys).astype(np.int64)


def load_tfds(name: str, data_dir: Optional[str] = None, download: bool = True) -> RawData:
  """MNIST, CIFAR-10, SVHN (cropped digits) or Fashion-MNIST through TFDS."""
  tfds_name, train_split, test_split = TFDS_NAMES[name]
  builder = _prepared_builder(tfds_name, data_dir, download)
  x_train, y_train = _to_numpy(builder.as_dataset(split=train_split, as_supervised=True))
  x_test, y_test = _to_numpy(builder.as_dataset(split=test_split, as_supervised=True))
  names = CLASS_NAMES.get(name) or tuple(builder.info.features["label"].names)
  return RawData(x_train, y_train, x_test, y_test, names, source=f"tfds:{tfds_name}")


def load_imagenet_snakes(data_dir: Optional[str] = None, manual_dir: Optional[str] = None,
                         classes: Sequence[int] = DEFAULT_SNAKE_CLASSES,
                         resize: int = 256, crop: int = 224, download: bool = True) -> RawData:
  """Ten ImageNet-2012 snake classes (Samarin et al.): ~1300 train / 50 test images each.

  The test set is ImageNet's validation split (50 per class). Images are resized so the
  shorter side is `resize` pixels, then center-cropped to `crop` x `crop` (the standard
  ImageNet evaluation transform the papers use). ImageNet needs a manual download: put
  ILSVRC2012_img_train.tar and ILSVRC2012_img_val.tar in `manual_dir` (default
  <data_dir>/downloads/manual).
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  bad = [c for c in classes if c not in IMAGENET_SNAKES]
  if bad:
    raise DataError(f"dataset.imagenet.classes contains {bad}, which are not snake classes; "
                    f"choose from the ImageNet labels 52-68.")
  download_config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
  builder = _prepared_builder("imagenet2012", data_dir, download, download_config)
  keep = tf.constant(list(classes), tf.int64)
  relabel = np.full(1000, -1, dtype=np.int64)
  relabel[list(classes)] = np.arange(len(classes))

  def preprocess(example):
    image = tf.io.decode_image(example["image"], channels=3, expand_animations=False)
    hw = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = float(resize) / tf.reduce_min(hw)
    new_hw = tf.cast(tf.round(hw * scale), tf.int32)
    image = tf.image.resize(image, new_hw, method="bilinear", antialias=True)
    image = tf.image.resize_with_crop_or_pad(image, crop, crop)
    return tf.clip_by_value(image, 0.0, 255.0), example["label"]

  def split(name):
    ds = builder.as_dataset(split=name, decoders={"image": tfds.decode.SkipDecoding()})
    ds = ds.filter(lambda ex: tf.reduce_any(tf.equal(ex["label"], keep)))
    x, y = _to_numpy(ds.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE))
    return x, relabel[y]

  x_train, y_train = split("train")
  x_test, y_test = split("validation")
  names = tuple(IMAGENET_SNAKES[c] for c in classes)
  return RawData(x_train, y_train, x_test, y_test, names, source="tfds:imagenet2012 snakes")
