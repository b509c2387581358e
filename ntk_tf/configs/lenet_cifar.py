"""LeNet and LinLeNet on CIFAR-10 (Samarin et al. 2020, Fig. 4; 2022, Fig. 4 and Table A.2).

Command:  python -m ntk_tf.main --config=configs/lenet_cifar.py --workdir=workdirs/lenet_cifar
          [--config.model.width=60]
Runtime:  LeNet x1, 100 epochs of 1,563 steps: ~2 h on a 2-core CPU, ~12 min on one GPU.
Paper:    test accuracy LeNet 62.5 / LinLeNet 42.3 at x1, 78.8 / 65.6 at x60 (2020, Fig. 4).
Tiers:    `:cpu` stands in Fashion-MNIST for CIFAR-10 (not available offline; a harder task than
          MNIST for LeNet), 4,000 train / 1,000 test images (class-balanced subsample), 12
          epochs instead of 100 with lr / 10 every 4 epochs (30 % of training, as the paper's
          30 of 100), seeds 0-2; `:smoke` on 256 images for one epoch.
Hyperparameters: lr 0.1 divided by 10 every 30 epochs, momentum 0.9, weight decay 5e-5,
batch 32, 100 epochs, L2 loss on one-hot targets. Needs TFDS CIFAR-10 (downloads once).
"""

from ntk_tf.configs import common as cc

WIDTHS = cc.PAPER_WIDTHS
SEEDS = cc.PAPER_SEEDS


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("compare")
  config.dataset.name = "cifar10"
  config.model.name = "lenet"
  config.train.lr_decay_every = 30
  config.baseline.logistic_regression = True
  return cc.shrink_compare(config, tier, dataset="fashion_mnist")


def sweep():
  return cc.width_seed_sweep(WIDTHS, SEEDS)
