"""CNTK-V kernel regression on the offline MNIST digits, accuracy vs n (Arora et al. 2019 §5,
offline variant).

Command:  python -m ntk_tf.main --config=configs/cntk_mnist5k.py --workdir=workdirs/cntk_mnist5k
Runtime:  ~11 min on a 2-core CPU: the exact 3,000 x 3,000 kernel of the 4-layer CNTK-V (3
          convolutions and the readout; Arora et al. count both) on 2,000 training and 1,000
          test digits at ~7,500 entries/s, then four fits. Measured
          (2026-11-23): test accuracy 85.2, 90.5, 93.2, 95.2 % at n = 250, 500, 1000, 2000.
Paper:    no MNIST figure in Arora et al.; compare with `kernel_regression_mnist.py` (the
          finite LeNet's eNTK) and `lenet_mnist.py` (the trained networks).
"""

from ntk_tf.configs import common as cc


def get_config():
  return cc.cntk_config("mnist5k", "cnn_v", 4, train_sizes=(250, 500, 1000, 2000),
                        num_train=2000, num_test=1000)
