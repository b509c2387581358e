"""LeNet and LinLeNet on MNIST translated by up to 7 pixels, the training shifts re-drawn every
epoch (data augmentation; a variant of Samarin et al. 2022, Fig. 3).

Command:  python -m ntk_tf.main --config=configs/lenet_mnist_translated_augmented.py \
            --workdir=workdirs/lenet_mnist_translated_augmented \
            [--config.dataset.name=mnist5k  # offline]
Runtime:  as configs/lenet_mnist_translated.py, plus ~3.5 s per epoch of shifting on a CPU.
Paper:    none for this variant: the paper (Sec. 4.1) says only "random translations"; its
          test-error gap 27.65 pp at x1 and 3.91 pp at x60 is the fixed-shift reading
          (configs/lenet_mnist_translated.py).
Every epoch each training image gets a fresh random offset in [-7, 7]^2 (zero filled), drawn from
(seed, epoch, example), so a resumed run is bit-identical; the test set keeps one fixed offset per
image. Train loss/accuracy are measured on the epoch's shifted images.
"""

import inspect

from ntk_tf.configs import common, lenet_mnist_translated

sweep = lenet_mnist_translated.sweep


def _base(arg):
  """lenet_mnist_translated.get_config at tier `arg` (the argument is new there)."""
  if inspect.signature(lenet_mnist_translated.get_config).parameters:
    return lenet_mnist_translated.get_config(arg)
  common.parse_tier(arg)  # Until then: the paper's scale, but a bad argument is still refused.
  return lenet_mnist_translated.get_config()


def get_config(arg=None):
  """configs/lenet_mnist_translated.py with the training shifts re-drawn every epoch."""
  config = _base(arg)
  config.dataset.translate_mode = "per_epoch"
  return config
