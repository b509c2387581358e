"""LeNet and LinLeNet on MNIST translated by up to 7 pixels (Samarin et al. 2022, Fig. 3).

Command:  python -m ntk_tf.main --config=configs/lenet_mnist_translated.py \
            --workdir=workdirs/lenet_mnist_translated [--config.dataset.name=mnist5k  # offline]
Runtime:  as configs/lenet_mnist.py (~2.5 h for x1 on a 2-core CPU, ~15 min on a GPU).
Paper:    test-error gap 27.65 pp at x1 and 3.91 pp at x60 (2022, Sec. 4.1 and Fig. 3).
Each image (train and test) is shifted by one fixed random offset in [-7, 7]^2, zero filled.
"""

from ntk_tf.experiments import common, compare

WIDTHS = (1, 2, 5, 10, 25, 60)
SEEDS = (0, 1, 2, 3, 4)


def get_config():
  config = compare.default_config()
  config.dataset.name = "mnist"
  config.dataset.translate = 7
  config.model.name = "lenet"
  return config


def sweep():
  return common.width_seed_sweep(WIDTHS, SEEDS)
