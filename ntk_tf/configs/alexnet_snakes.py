"""AlexNet and LinAlexNet on ten ImageNet snake classes (Samarin et al. 2020, Fig. 6; 2022,
Fig. 5 and Table A.1), the linearization at lr 1 / wd 5e-7 (the paper's "LinAlexNet LR 1").

Command:  python -m ntk_tf.main --config=configs/alexnet_snakes.py \
            --workdir=workdirs/alexnet_snakes --config.dataset.data_dir=<TFDS dir> \
            --config.dataset.imagenet.manual_dir=<folder with the ILSVRC2012 tars>
Runtime:  AlexNet x1, 100 epochs of 407 steps at 224x224: ~6 h on one GPU; impractical on a CPU.
Paper:    test accuracy AlexNet 53.8 / LinAlexNet 35.2 at x1 and 57.0 / 39.2 at x4 (lr 1,
          wd 5e-7 for the linearization; rows "LinAlexNet LR 1" of Fig. 6).
Hyperparameters: standard lr 0.1, wd 5e-6; linearized lr 1, wd 5e-7; momentum 0.9, batch 32,
100 epochs, lr divided by 10 every 30 epochs. Widths 1-4. The linearization at AlexNet's own
lr 0.1 / wd 5e-6: configs/alexnet_snakes_lin_lr01.py.
"""

from ntk_tf.configs import common

WIDTHS = common.ALEXNET_WIDTHS
SEEDS = common.PAPER_SEEDS


def get_config(arg=None):
  """The paper's config at every tier."""
  # AlexNet needs >= 63x63 inputs, i.e. the ImageNet snakes from TFDS: there are no offline
  # data for the smoke and cpu tiers, which therefore are the paper's config for now.
  common.parse_tier(arg)
  config = common.default_config("compare")
  config.dataset.name = "imagenet_snakes"
  config.model.name = "alexnet"
  config.train.learning_rate = 0.1
  config.train.weight_decay = 5e-6
  config.train.linearized_learning_rate = 1.0
  config.train.linearized_weight_decay = 5e-7
  config.train.lr_decay_every = 30
  config.train.eval_batch_size = 100
  return config


def sweep():
  return common.width_seed_sweep(WIDTHS, SEEDS)
