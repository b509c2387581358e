"""LeNet and LinLeNet on MNIST translated by up to 7 pixels (Samarin et al. 2022, Fig. 3).

Command:  python -m ntk_tf.main --config=configs/lenet_mnist_translated.py \
            --workdir=workdirs/lenet_mnist_translated [--config.dataset.name=mnist5k  # offline]
Runtime:  as configs/lenet_mnist.py (~2.5 h for x1 on a 2-core CPU, ~15 min on a GPU).
Paper:    test-error gap 27.65 pp at x1 and 3.91 pp at x60 (2022, Sec. 4.1 and Fig. 3).
Tiers:    `:cpu` runs offline on the 5,000 mnist5k digits (4,000 train / 1,000 test), 12
          epochs instead of 100, seeds 0-2 (python -m ntk_tf.reproduce --tier=cpu); `:smoke` on
          256 digits for one epoch.
Each image (train and test) is shifted by one fixed random offset in [-7, 7]^2, zero filled.
"""

from ntk_tf.configs import common as cc

WIDTHS = cc.PAPER_WIDTHS
SEEDS = cc.PAPER_SEEDS


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("compare")
  config.dataset.name = "mnist"
  config.dataset.translate = 7
  config.model.name = "lenet"
  config.baseline.logistic_regression = True
  return cc.shrink_compare(config, tier)


def sweep():
  return cc.width_seed_sweep(WIDTHS, SEEDS)
