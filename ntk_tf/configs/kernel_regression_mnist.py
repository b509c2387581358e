"""Kernel regression with LeNet's empirical NTK on the offline MNIST digits, accuracy vs n.

Command:  python -m ntk_tf.main --config=configs/kernel_regression_mnist.py \
              --workdir=workdirs/kernel_regression_mnist
          [--config.kernel.checkpoint_dir=<compare workdir>/seed_0/checkpoints  # after-kernel]
          [--config.kernel.subtract_initial_outputs=True  # the linearized net at convergence]
Runtime:  ~45 s on a 2-core CPU (the 5,000 x 5,000 output-averaged LeNet x1 eNTK, 6 fits);
          measured test accuracy 78.1, 88.1, 88.3, 94.2, 95.0, 96.2 % at n = 125 ... 4000.
Paper:    the eNTK-at-initialization and after-kernel fits of Vyas et al. 2022 (§3, Fig. 1);
          kernel regression as in Arora et al. 2019 (ridge chosen on a validation split).
Tiers:    `:smoke`: 60 train / 40 test digits, n = 30 and 60, two ridges; `:cpu` and paper:
          as above (it is CPU-cheap).
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("kernel_regression")
  config.dataset.name = "mnist5k"
  config.model.name = "lenet"
  config.regression.train_sizes = (125, 250, 500, 1000, 2000, 4000)
  config.regression.alphas = (0.0, 1e-3, 1e-2, 1e-1, 1.0)
  if tier == "smoke":
    config.dataset.num_train, config.dataset.num_test = 60, 40
    config.regression.train_sizes = (30, 60)
    config.regression.alphas = (0.0, 0.1)
    config.regression.validation_fraction = 0.2
  return config
