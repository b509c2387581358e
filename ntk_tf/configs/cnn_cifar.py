"""Finite CNN-V and CNN-GAP trained by SGD on CIFAR-10 (Arora et al. 2019, Table 1, CNN rows).

Command:  python -m ntk_tf.main --config=configs/cnn_cifar.py --workdir=workdirs/cnn_gap11
          [--config.model.name=cnn_v] [--config.model.depth=20]  # convolutions: depth - 1
Runtime:  CIFAR-10, 100 epochs: ~1 h (depth 3) to ~10 h (depth 21) on one GPU; the cpu tier's
          digits runs take ~1 min each on a 2-core CPU.
Paper:    Table 1, CNN test accuracy (%) by depth 3 / 4 / 6 / 11 / 21: CNN-V 59.97 / 60.20 /
          64.11 / 69.48 / 75.57; CNN-GAP 63.81 / 80.93 / 83.75 / 82.92 / 83.30.
Setting:  the architectures of the CNTK (3x3 SAME convolutions with ReLU, then a dense readout
          (V) or global average pooling and the readout (GAP)), 128 channels, NTK
          parameterization with W_std = √2 like the kernel; SGD lr 0.5, momentum 0.9, batch 32,
          L2 loss on one-hot targets; only the network is trained (train.train_linearized=False).
          Arora et al.'s CNN hyperparameters (their appendix A) are not in the text we have:
          these are ours, and the page says so.
Tiers:    `:cpu`: scikit-learn's 8x8 digits (300 train / 200 test, as configs/cntk_cifar.py:cpu),
          64 channels, 50 epochs, seeds 0-2; `:cpu-full`: Fashion-MNIST 28x28 (1,000 train /
          1,000 test, as configs/cntk_cifar.py:cpu-full), 64 channels, 100 epochs, seeds 0-2,
          each rate of ntk_tf.reproduction.claims.runs.ARORA_CNN_LEARNING_RATES run (the
          reproduction picks, per net, the one that fits the training set best; at the top rate
          the reproduction trains on until every seed fits or converged, train.stop_*): ~1 min
          (depth 3) to ~10 min (depth 11) per seed and 100 epochs on a 2-core CPU; `:smoke`:
          30 / 20 digits, one epoch.
"""

import math

from ntk_tf.configs import common as cc
from ntk_tf.configs import cntk_cifar


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("compare")
  config.dataset.name = "cifar10"
  config.model.name = "cnn_gap"
  config.model.depth = 10
  config.model.width = 128
  config.model.parameterization = "ntk"
  config.model.w_std = math.sqrt(2.0)
  config.train.learning_rate = 0.5
  config.train.loss = config.train.linearized_loss = "mse"  # Mean over outputs, at lr 0.5.
  config.train.weight_decay = 0.0
  config.train.train_linearized = False
  if tier == "cpu-full":
    config.dataset.name = "fashion_mnist"
    config.model.width = 64
    config.dataset.num_train = cntk_cifar.STAND_IN_TRAIN
    config.dataset.num_test = cntk_cifar.STAND_IN_TEST
    config.train.learning_rate = 0.1
    config.train.eval_batch_size = 500
    config.train.trajectory_steps = 8
    config.seeds = cc.CPU_SEEDS
  elif tier != "paper":
    config.dataset.name = "digits"
    config.model.width = 64
    cpu = tier == "cpu"
    config.dataset.num_train, config.dataset.num_test = (300, 200) if cpu else (30, 20)
    config.train.epochs = 50 if cpu else 1
    config.train.eval_batch_size = 200
    config.train.trajectory_steps = 8
    config.seeds = cc.CPU_SEEDS if cpu else (0,)
  return config
