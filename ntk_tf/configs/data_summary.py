"""Load a data set and summarize it (shapes, classes, statistics); the default is offline MNIST.

Command:  python -m ntk_tf.main --config=configs/data_summary.py --workdir=workdirs/data_summary
          [--config.dataset.name=fashion_mnist --config.dataset.translate=7]
Runtime:  ~10 s on a 2-core CPU (mostly importing TensorFlow); the same on a GPU.
Paper:    none yet: checks the data layer (MNIST as in Samarin et al. 2020/2022).
"""

import ml_collections

from ntk_tf.configs import common as cc


def get_config() -> ml_collections.ConfigDict:
  config = cc.default_config("data_summary")
  config.deterministic = True
  config.dataset.name = "mnist5k"
  return config
