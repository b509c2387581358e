"""CNTK-V kernel regression on Fashion-MNIST (offline IDX files), accuracy vs n.

Command:  python -m ntk_tf.main --config=configs/cntk_fashion_mnist.py \
              --workdir=workdirs/cntk_fashion_mnist
Runtime:  ~11 min on a 2-core CPU (3,000 x 3,000 kernel of the 4-layer CNTK-V: 3 convolutions
          and the readout, as cntk_mnist5k.py); the full 70,000-image kernel is a GPU job.
Paper:    offline companion of Arora et al. 2019, Table 1 (CIFAR-10).
"""

from ntk_tf.configs import common as cc


def get_config():
  return cc.cntk_config("fashion_mnist", "cnn_v", 4,
                        train_sizes=(250, 500, 1000, 2000), num_train=2000,
                        num_test=1000)
