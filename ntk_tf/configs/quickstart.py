"""Quickstart: LeNet x1 and its linearization on 5,000 real MNIST digits, offline.

Command:  python -m ntk_tf.main --config=configs/quickstart.py --workdir=workdirs/quickstart
Runtime:  ~1 min on a 2-core CPU (3 epochs of 125 steps for both models); ~20 s on a GPU.
Paper:    a small version of Samarin et al. 2020, Fig. 3 / 2022, Fig. 2 (LeNet x1 vs LinLeNet x1
          on MNIST: the linearization trails the network in train and test accuracy), with the
          logistic-regression baseline of their Sec. 3.2. Prints both models' accuracies.
"""

from ntk_tf.configs import common as cc


def get_config():
  config = cc.default_config("compare")
  config.dataset.name = "mnist5k"
  config.model.name = "lenet"
  config.model.width = 1
  config.train.epochs = 3
  config.baseline.logistic_regression = True
  return config
