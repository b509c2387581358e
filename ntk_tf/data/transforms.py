"""Pure NumPy transforms of (images, labels) arrays; each one is deterministic in its seed.

Every random transform draws from its own stream, `np.random.default_rng([seed, stream])`,
so adding or removing one transform never changes what another one draws.
"""

import functools
from typing import Sequence

import numpy as np

from ntk_tf.errors import ConfigError

# Independent random streams, one per transform and split.
STREAM_SUBSAMPLE_TRAIN = 1
STREAM_SUBSAMPLE_TEST = 2
STREAM_TRANSLATE_TRAIN = 3
STREAM_TRANSLATE_TEST = 4
STREAM_SHUFFLE = 5
STREAM_AUGMENT_TRAIN = 6  # translate_mode="per_epoch": one draw per epoch, [seed, 6, epoch].


def rng(seed: int, stream: int) -> np.random.Generator:
  return np.random.default_rng([int(seed), int(stream)])


def select_classes(x: np.ndarray, y: np.ndarray, classes: Sequence[int],
                   num_classes: int):
  """Keeps the examples of `classes` and relabels them 0..len(classes)-1 in that order."""
  classes = [int(c) for c in classes]
  bad = [c for c in classes if not 0 <= c < num_classes]
  if bad:
    raise ConfigError(
        f"dataset.classes contains {bad}, outside the data set's classes 0..{num_classes - 1}; "
        f"choose class indices in that range.")
  if len(set(classes)) != len(classes) or len(classes) < 2:
    raise ConfigError(
        f"dataset.classes={classes} must name at least two distinct classes.")
  keep = np.isin(y, classes)
  relabel = np.full(num_classes, -1, dtype=np.int64)
  relabel[classes] = np.arange(len(classes))
  return x[keep], relabel[y[keep]]


def balanced_subsample(y: np.ndarray, n: int, num_classes: int,
                       generator: np.random.Generator, what: str = "dataset.num_train"):
  """Indices (sorted) of a class-balanced random subset of size n.

  Each class gets n // C examples; the n % C remaining ones go to randomly chosen classes.
  """
  n = int(n)
  if n < num_classes:
    raise ConfigError(f"{what}={n} is smaller than the number of classes ({num_classes}); "
                      f"use at least {num_classes} so every class is represented.")
  counts = np.bincount(y, minlength=num_classes)
  if n > len(y):
    raise ConfigError(f"{what}={n} exceeds the {len(y)} examples available; "
                      f"use at most {len(y)} or None for all of them.")
  per_class = np.full(num_classes, n // num_classes)
  extra = generator.choice(num_classes, size=n % num_classes, replace=False)
  per_class[extra] += 1
  short = [c for c in range(num_classes) if per_class[c] > counts[c]]
  if short:
    c = short[0]
    raise ConfigError(
        f"{what}={n} needs {per_class[c]} examples of class {c}, which has only {counts[c]}; "
        f"use at most {num_classes * counts.min()} for an exactly balanced subset.")
  chosen = [generator.choice(np.flatnonzero(y == c), size=per_class[c], replace=False)
            for c in range(num_classes)]
  return np.sort(np.concatenate(chosen))


def random_shifts(n: int, max_shift: int, generator: np.random.Generator) -> np.ndarray:
  """(n, 2) integer shifts (dy, dx), each uniform in [-max_shift, max_shift]."""
  return generator.integers(-max_shift, max_shift + 1, size=(n, 2))


def translate(images: np.ndarray, shifts: np.ndarray, fill=0.0) -> np.ndarray:
  """Moves image i by shifts[i] = (dy, dx) pixels (down, right), filling with `fill`.

  Samarin et al. (2022, Sec. 4.1) translate MNIST digits by up to 7 pixels horizontally and
  vertically, zero filled; `fill` (a scalar or one value per channel) is where a zero pixel lands
  after standardization, for images shifted once they are standardized (per_epoch mode).
  """
  if images.ndim != 4:
    raise ConfigError("dataset.translate needs image data (N, H, W, C); this data set is "
                      f"of shape {images.shape}. Set dataset.translate=0.")
  k = int(np.abs(shifts).max()) if len(shifts) else 0
  if k == 0:
    return images.copy()
  n, h, w, c = images.shape
  padded = np.empty((n, h + 2 * k, w + 2 * k, c), images.dtype)
  padded[...] = np.asarray(fill, images.dtype)
  padded[:, k:k + h, k:k + w, :] = images
  out = np.empty_like(images)
  for dy, dx in np.unique(shifts, axis=0):
    idx = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
    out[idx] = padded[idx, k - dy:k - dy + h, k - dx:k - dx + w, :]
  return out


@functools.lru_cache(maxsize=2)
def epoch_shifts(n: int, max_shift: int, seed: int, epoch: int) -> np.ndarray:
  """The (n, 2) shifts of epoch `epoch` in per_epoch mode: example i's shift depends only on
  (seed, epoch, i), so a resumed run draws what an uninterrupted one does. Read-only (cached)."""
  shifts = random_shifts(int(n), int(max_shift), np.random.default_rng(
      [int(seed), STREAM_AUGMENT_TRAIN, int(epoch)]))
  shifts.setflags(write=False)
  return shifts


def channel_statistics(x_train: np.ndarray):
  """Per-channel (last axis) mean and standard deviation over the training set, in float64."""
  axes = tuple(range(x_train.ndim - 1))
  mean = x_train.mean(axis=axes, dtype=np.float64)
  std = x_train.std(axis=axes, dtype=np.float64)
  return mean, np.where(std > 0, std, 1.0)


def standardize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
  return ((x - mean) / std).astype(x.dtype)


def make_targets(labels: np.ndarray, kind: str, num_classes: int,
                 positive_class: int = 0, binary_labels: str = "pm1"):
  """Regression targets and the integer labels accuracy is measured against.

  Args:
    labels: int class labels.
    kind: "one_hot" (L = num_classes outputs, one-hot, the papers' L2 targets),
      "class_vs_rest" (one output; positive when label == positive_class, Samarin 2022
      Sec. 4.3 uses class 0), or "parity" (one output; positive when the label is odd,
      Vyas et al.'s SVHN-parity).
    binary_labels: "pm1" for targets in {-1, +1}, "01" for {0, 1}.

  Returns:
    (targets float32 of shape (n, L), task labels int64: class labels, or 1 = positive / 0).
  """
  if kind == "one_hot":
    return np.eye(num_classes, dtype=np.float32)[labels], labels.astype(np.int64)
  if kind == "class_vs_rest":
    if not 0 <= positive_class < num_classes:
      raise ConfigError(f"dataset.positive_class={positive_class} is outside the classes "
                        f"0..{num_classes - 1}; choose one of them.")
    positive = labels == positive_class
  elif kind == "parity":
    positive = labels % 2 == 1
  else:
    raise ConfigError(f"dataset.target={kind!r} is unknown; use one of "
                      "'one_hot', 'class_vs_rest', 'parity'.")
  if binary_labels == "pm1":
    negative_value = -1.0
  elif binary_labels == "01":
    negative_value = 0.0
  else:
    raise ConfigError(f"dataset.binary_labels={binary_labels!r} is unknown; use 'pm1' or '01'.")
  targets = np.where(positive, 1.0, negative_value).astype(np.float32)[:, None]
  return targets, positive.astype(np.int64)


def permutation(n: int, generator: np.random.Generator) -> np.ndarray:
  return generator.permutation(n)
