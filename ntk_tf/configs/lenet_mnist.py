"""LeNet and LinLeNet on MNIST (Samarin et al. 2020, Fig. 3; 2022, Fig. 2 and Table A.2).

Command:  python -m ntk_tf.main --config=configs/lenet_mnist.py --workdir=workdirs/lenet_mnist
          [--config.model.width=60] [--config.dataset.name=mnist5k  # offline]
          python -m ntk_tf.main --config=configs/lenet_mnist.py:cpu  # offline, 12 epochs
Runtime:  LeNet x1, 100 epochs of 1,875 steps: ~2.5 h on a 2-core CPU, ~15 min on one GPU;
          x60: GPU only (days on a CPU).
Paper:    test accuracy LeNet 99.2 / LinLeNet 93.2 at x1, 99.4 / 98.9 at x60 (2020, Fig. 3).
Tiers:    `:cpu` runs offline on the 5,000 mnist5k digits (4,000 train / 1,000 test), 12
          epochs instead of 100, seeds 0-2 (python -m ntk_tf.reproduce --tier=cpu); `:smoke` on
          256 digits for one epoch.
Hyperparameters: SGD lr 0.1, momentum 0.9, weight decay 5e-5, batch 32, 100 epochs, L2 loss on
one-hot targets, PyTorch default initialization. Widths swept: 1, 2, 5, 10, 25, 60.
"""

from ntk_tf.configs import common as cc

WIDTHS = cc.PAPER_WIDTHS
SEEDS = cc.PAPER_SEEDS


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("compare")
  config.dataset.name = "mnist"
  config.model.name = "lenet"
  config.baseline.logistic_regression = True
  return cc.shrink_compare(config, tier)


def sweep():
  """The cells of the paper's table: widths x seeds (five reruns in Samarin et al. 2022)."""
  return cc.width_seed_sweep(WIDTHS, SEEDS)
