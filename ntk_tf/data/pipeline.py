"""From a config section to train/test arrays: `load(dataset_config, seed)` -> `Dataset`."""

import dataclasses
from typing import Optional, Sequence

import ml_collections
import numpy as np

from ntk_tf.data import offline, synthetic, tfds_sources, transforms
from ntk_tf.data.raw import RawData
from ntk_tf.errors import ConfigError, DataError

TFDS_ONLY = ("mnist", "cifar10", "svhn_cropped", "imagenet_snakes")
OFFLINE = ("mnist5k", "fashion_mnist", "digits", "vyas_synthetic")
LOCAL_FILES = ("cifar5m",)        # Files the user downloads (not in TFDS).
DATASETS = TFDS_ONLY + OFFLINE + LOCAL_FILES
TARGETS = ("one_hot", "class_vs_rest", "parity")
TRANSLATE_MODES = ("fixed", "per_epoch")
# Height/width of each image source, to check transforms before any data is read.
IMAGE_SIZES = {"mnist": (28, 28), "cifar10": (32, 32), "svhn_cropped": (32, 32),
               "fashion_mnist": (28, 28), "mnist5k": (28, 28), "digits": (8, 8),
               "cifar5m": (32, 32)}


def default_config() -> ml_collections.ConfigDict:
  """The `config.dataset` section with every key the data layer reads."""
  c = ml_collections.ConfigDict()
  c.name = "mnist5k"              # One of DATASETS.
  c.seed = ml_collections.FieldReference(None, field_type=int)  # None: the top-level seed.
  c.data_dir = ml_collections.FieldReference(None, field_type=str)  # TFDS data_dir.
  c.download = True               # TFDS sources may download when not prepared.
  c.source = "auto"               # fashion_mnist: "auto" (IDX if present, else TFDS), "idx", "tfds".
  c.idx_dir = offline.DEFAULT_FASHION_MNIST_DIR
  c.classes = ml_collections.FieldReference(None, field_type=tuple)  # Subset, relabeled 0..k-1.
  c.num_train = ml_collections.FieldReference(None, field_type=int)  # Class-balanced subsample.
  c.num_test = ml_collections.FieldReference(None, field_type=int)
  c.translate = 0                 # Max shift in pixels per direction (Samarin et al.: 7).
  c.translate_mode = "fixed"      # One of TRANSLATE_MODES (see `load`).
  c.standardize = True            # Per-channel, training-set statistics.
  c.target = "one_hot"            # One of TARGETS.
  c.positive_class = 0            # class_vs_rest: the positive class (after `classes`).
  c.binary_labels = "pm1"         # Binary targets in {-1, +1} ("pm1") or {0, 1} ("01").
  c.shuffle = True                # Seeded shuffle of the training set.
  c.synthetic = ml_collections.ConfigDict(
      dict(num_train=1000, num_test=1000, dim=30, noise_std=0.5))
  c.cifar5m = ml_collections.ConfigDict(dict(   # Vyas et al.'s CIFAR-5m-bin: classes (5, 7).
      dir=ml_collections.FieldReference(None, field_type=str),  # Holds cifar5m_part{i}.npz.
      train_parts=(0,), test_part=5))
  c.imagenet = ml_collections.ConfigDict(dict(
      manual_dir=ml_collections.FieldReference(None, field_type=str),
      classes=tfds_sources.DEFAULT_SNAKE_CLASSES, resize=256, crop=224))
  return c


@dataclasses.dataclass
class EpochTranslation:
  """Training images shifted afresh every epoch (translate_mode="per_epoch").

  images: the standardized, shuffled, untranslated training images (aligned with x_train);
  fill: per channel, where a zero pixel lands after standardization, so that shifting here
  equals shifting in raw pixel space (zero fill) and standardizing afterwards, bit for bit.
  """
  images: np.ndarray
  max_shift: int
  seed: int
  fill: np.ndarray

  def shifts(self, epoch: int) -> np.ndarray:
    return transforms.epoch_shifts(len(self.images), self.max_shift, self.seed, epoch)

  def batch(self, idx, epoch: int) -> np.ndarray:
    """Training images `idx` as shifted in epoch `epoch` (0-based)."""
    idx = np.asarray(idx)
    return transforms.translate(self.images[idx], self.shifts(epoch)[idx], self.fill)

  def all(self, epoch: int) -> np.ndarray:
    return transforms.translate(self.images, self.shifts(epoch), self.fill)


@dataclasses.dataclass
class Dataset:
  """Arrays ready for training.

  x_*: float32 (N, H, W, C) images (or (N, D) vectors); labels_*: int64 task labels
  (classes, or 1/0 for binary tasks) that accuracy is measured on; targets_*: float32 (N, L)
  regression targets of the L2 loss; info: metadata (name, class names, statistics, ...).
  epoch_translation: None, or (translate_mode="per_epoch") the images that `train_batch` shifts
  afresh every epoch. x_train is then the fixed-shift draw of translate_mode="fixed" (the same
  array): what solvers, kernels, spectra and baselines see, since they cannot augment.
  """
  x_train: np.ndarray
  labels_train: np.ndarray
  targets_train: np.ndarray
  x_test: np.ndarray
  labels_test: np.ndarray
  targets_test: np.ndarray
  info: dict
  epoch_translation: Optional[EpochTranslation] = None

  def train_batch(self, idx, epoch: int) -> np.ndarray:
    """Training inputs `idx` as SGD sees them in epoch `epoch` (0-based)."""
    if self.epoch_translation is None:
      return self.x_train[idx]
    return self.epoch_translation.batch(idx, epoch)

  def train_images(self, epoch: int) -> np.ndarray:
    """All training inputs as SGD sees them in epoch `epoch` (x_train unless per_epoch)."""
    if self.epoch_translation is None:
      return self.x_train
    return self.epoch_translation.all(epoch)

  @property
  def num_outputs(self) -> int:
    return self.targets_train.shape[1]

  @property
  def input_shape(self):
    return self.x_train.shape[1:]

  @property
  def decision_threshold(self) -> float:
    """Where one output's accuracy splits the classes: 0.5 for {0, 1} targets, else 0 (±1
    targets; ignored by argmax accuracy when L > 1)."""
    return 0.0 if (self.targets_train.min() < 0 or self.num_outputs > 1) else 0.5

  def summary(self) -> str:
    """A few lines describing the arrays, for logs and the quickstart."""
    i = self.info
    lines = [
        f"dataset {i['name']} ({i['source']})",
        f"  train x {tuple(self.x_train.shape)} {self.x_train.dtype}, "
        f"test x {tuple(self.x_test.shape)} {self.x_test.dtype}",
        f"  target {i['target']} with {self.num_outputs} output(s); classes: "
        + ", ".join(i["class_names"]),
        f"  train per class {i['train_class_counts']}, test per class {i['test_class_counts']}",
        f"  translate {i['translate']} px ({i.get('translate_mode', 'fixed')}); "
        f"standardized: {i['standardize']}; "
        f"pixel mean/std after: {self.x_train.mean():.4f}/{self.x_train.std():.4f}",
    ]
    return "\n".join(lines)


CHANNELS = {"mnist": 1, "fashion_mnist": 1, "mnist5k": 1, "digits": 1, "cifar10": 3,
            "svhn_cropped": 3, "cifar5m": 3, "imagenet_snakes": 3}


def input_shape(cfg: ml_collections.ConfigDict) -> tuple:
  """The shape of one input, from the config alone (to check a model before loading data)."""
  if cfg.name == "vyas_synthetic":
    return (int(cfg.get("synthetic", {}).get("dim", 30)),)
  h, w = IMAGE_SIZES.get(cfg.name) or (cfg.get("imagenet", {}).get("crop", 224),) * 2
  return (h, w, CHANNELS[cfg.name])


def _check(condition: bool, message: str):
  if not condition:
    raise ConfigError(message)


def validate(cfg: ml_collections.ConfigDict):
  """Rejects unknown keys and out-of-range values before any data is read."""
  valid = default_config()
  unknown = sorted(set(cfg.keys()) - set(valid.keys()))
  _check(not unknown, f"unknown dataset config key(s) {unknown}; valid keys: "
         f"{', '.join(sorted(valid.keys()))}.")
  for section in ("synthetic", "imagenet", "cifar5m"):
    if section in cfg:
      extra = sorted(set(cfg[section].keys()) - set(valid[section].keys()))
      _check(not extra, f"unknown key(s) {extra} in dataset.{section}; valid keys: "
             f"{', '.join(sorted(valid[section].keys()))}.")
  _check(cfg.name in DATASETS, f"unknown dataset {cfg.name!r}; valid names: "
         f"{', '.join(DATASETS)} (offline: {', '.join(OFFLINE)}).")
  _check(cfg.get("target", "one_hot") in TARGETS,
         f"dataset.target={cfg.get('target')!r} is unknown; use one of {', '.join(TARGETS)}.")
  translate = cfg.get("translate", 0)
  _check(isinstance(translate, (int, np.integer)) and translate >= 0,
         f"dataset.translate={translate!r} must be a non-negative integer number of pixels.")
  if translate:
    _check(cfg.name != "vyas_synthetic",
           f"dataset.translate={translate} needs image data; vyas_synthetic is vector data. "
           "Set dataset.translate=0.")
    h, w = IMAGE_SIZES.get(cfg.name) or (cfg.get("imagenet", {}).get("crop", 224),) * 2
    _check(translate < min(h, w),
           f"dataset.translate={translate} is out of range for {h}x{w} images; use "
           f"0..{min(h, w) - 1} (Samarin et al. use 7 on 28x28 MNIST).")
  mode = cfg.get("translate_mode", "fixed")
  _check(mode in TRANSLATE_MODES, f"dataset.translate_mode={mode!r} is unknown; use "
         f"{' or '.join(repr(m) for m in TRANSLATE_MODES)}.")
  _check(mode == "fixed" or translate, "dataset.translate_mode='per_epoch' shifts nothing "
         "with dataset.translate=0; set dataset.translate (e.g. 7) or translate_mode='fixed'.")
  if cfg.name == "cifar5m":
    c5 = cfg.get("cifar5m", {})
    _check(c5.get("dir") is not None,
           f"dataset 'cifar5m' is read from its npz parts: download them from "
           f"{offline.CIFAR5M_URL} and set dataset.cifar5m.dir to their folder.")
    for part in tuple(c5.get("train_parts", (0,))) + (c5.get("test_part", 5),):
      try:
        offline.cifar5m_part_path(c5["dir"], part)
      except DataError as e:
        raise ConfigError(str(e)) from e
    _check(c5.get("test_part", 5) not in tuple(c5.get("train_parts", (0,))),
           "dataset.cifar5m.test_part is also a training part; choose a part not in "
           "train_parts.")
  _check(cfg.get("source", "auto") in ("auto", "idx", "tfds"),
         f"dataset.source={cfg.get('source')!r}: use 'auto', 'idx' or 'tfds'.")
  for key in ("num_train", "num_test"):
    n = cfg.get(key)
    _check(n is None or (isinstance(n, (int, np.integer)) and n > 0),
           f"dataset.{key}={n!r} must be a positive integer or None (all examples).")


def _raw(cfg, seed: int) -> RawData:
  name = cfg.name
  if name == "mnist5k":
    return offline.load_mnist5k()
  if name == "digits":
    return offline.load_digits()
  if name == "vyas_synthetic":
    s = cfg.synthetic
    return synthetic.load_vyas_synthetic(s.num_train, s.num_test, s.dim, s.noise_std, seed)
  if name == "fashion_mnist":
    use_idx = cfg.source == "idx" or (
        cfg.source == "auto" and offline.fashion_mnist_idx_available(cfg.idx_dir))
    if use_idx:
      return offline.load_fashion_mnist_idx(cfg.idx_dir)
    return tfds_sources.load_tfds("fashion_mnist", cfg.data_dir, cfg.download)
  if name == "cifar5m":
    c5 = cfg.cifar5m
    return offline.load_cifar5m(c5.dir, tuple(c5.train_parts), c5.test_part, cfg.classes)
  if name == "imagenet_snakes":
    im = cfg.imagenet
    return tfds_sources.load_imagenet_snakes(cfg.data_dir, im.manual_dir, tuple(im.classes),
                                             im.resize, im.crop, cfg.download)
  return tfds_sources.load_tfds(name, cfg.data_dir, cfg.download)


def _filled(cfg: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """`cfg` with every missing key taken from the defaults."""
  merged = default_config().to_dict()
  for key, value in (cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)).items():
    if isinstance(value, dict):
      merged[key].update(value)
    else:
      merged[key] = value
  return ml_collections.ConfigDict(merged)


def load(dataset_config: ml_collections.ConfigDict, seed: Optional[int] = 0) -> Dataset:
  """Loads and transforms a data set as `dataset_config` says; identical for the same seed.

  Order: source -> class subset -> class-balanced subsample -> translation (zero fill,
  raw pixel space) -> per-channel standardization with training statistics -> targets ->
  seeded shuffle of the training set.

  translate_mode "fixed": one random shift per example, drawn here (train and test).
  "per_epoch" (augmentation): the same x_train, x_test and statistics as "fixed", plus
  `epoch_translation`, from which `Dataset.train_batch(idx, epoch)` shifts the training images
  afresh every epoch (a function of seed, epoch and example); the test set keeps its fixed shift.
  """
  validate(dataset_config)
  cfg = _filled(dataset_config)
  seed = int(cfg.seed if cfg.seed is not None else (seed or 0))
  raw = _raw(cfg, seed)
  x_train, y_train, x_test, y_test = raw.x_train, raw.y_train, raw.x_test, raw.y_test
  class_names: Sequence[str] = tuple(raw.class_names)

  if cfg.classes is not None:
    x_train, y_train = transforms.select_classes(x_train, y_train, cfg.classes, len(class_names))
    x_test, y_test = transforms.select_classes(x_test, y_test, cfg.classes, len(class_names))
    class_names = tuple(class_names[c] for c in cfg.classes)
  num_classes = len(class_names)

  if cfg.num_train is not None:
    idx = transforms.balanced_subsample(
        y_train, cfg.num_train, num_classes,
        transforms.rng(seed, transforms.STREAM_SUBSAMPLE_TRAIN), "dataset.num_train")
    x_train, y_train = x_train[idx], y_train[idx]
  if cfg.num_test is not None:
    idx = transforms.balanced_subsample(
        y_test, cfg.num_test, num_classes,
        transforms.rng(seed, transforms.STREAM_SUBSAMPLE_TEST), "dataset.num_test")
    x_test, y_test = x_test[idx], y_test[idx]

  per_epoch = bool(cfg.translate) and cfg.translate_mode == "per_epoch"
  x_plain = x_train if per_epoch else None  # Untranslated, shifted every epoch.
  if cfg.translate:
    x_train = transforms.translate(x_train, transforms.random_shifts(
        len(x_train), cfg.translate, transforms.rng(seed, transforms.STREAM_TRANSLATE_TRAIN)))
    x_test = transforms.translate(x_test, transforms.random_shifts(
        len(x_test), cfg.translate, transforms.rng(seed, transforms.STREAM_TRANSLATE_TEST)))

  mean = std = None
  if cfg.standardize:
    mean, std = transforms.channel_statistics(x_train)
    x_train = transforms.standardize(x_train, mean, std)
    x_test = transforms.standardize(x_test, mean, std)
  if per_epoch:
    zero = np.zeros((1,) * (x_plain.ndim - 1) + x_plain.shape[-1:], x_plain.dtype)
    fill = transforms.standardize(zero, mean, std) if cfg.standardize else zero
    x_plain = transforms.standardize(x_plain, mean, std) if cfg.standardize else x_plain

  targets_train, labels_train = transforms.make_targets(
      y_train, cfg.target, num_classes, cfg.positive_class, cfg.binary_labels)
  targets_test, labels_test = transforms.make_targets(
      y_test, cfg.target, num_classes, cfg.positive_class, cfg.binary_labels)

  if cfg.shuffle:
    perm = transforms.permutation(len(x_train), transforms.rng(seed, transforms.STREAM_SHUFFLE))
    x_train, labels_train, targets_train, y_train = (
        x_train[perm], labels_train[perm], targets_train[perm], y_train[perm])
    x_plain = None if x_plain is None else x_plain[perm]

  if cfg.target == "one_hot":
    task_names = tuple(class_names)
  elif cfg.target == "class_vs_rest":
    task_names = (f"not {class_names[cfg.positive_class]}", class_names[cfg.positive_class])
  else:
    task_names = ("even", "odd")
  info = dict(
      name=cfg.name, source=raw.source, seed=seed, class_names=list(task_names),
      original_class_names=list(class_names), target=cfg.target,
      translate=int(cfg.translate), translate_mode=str(cfg.translate_mode),
      standardize=bool(cfg.standardize),
      mean=None if mean is None else mean.tolist(), std=None if std is None else std.tolist(),
      train_class_counts=np.bincount(labels_train, minlength=len(task_names)).tolist(),
      test_class_counts=np.bincount(labels_test, minlength=len(task_names)).tolist())
  epoch_translation = None
  if per_epoch:
    epoch_translation = EpochTranslation(x_plain.astype(np.float32), int(cfg.translate), seed,
                                         fill.reshape(-1).astype(np.float32))
  return Dataset(x_train.astype(np.float32), labels_train, targets_train,
                 x_test.astype(np.float32), labels_test, targets_test, info, epoch_translation)
