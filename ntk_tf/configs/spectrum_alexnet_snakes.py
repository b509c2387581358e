"""Effective rank of LinAlexNet's feature matrix on the ImageNet snakes subset, widths 1-4
(Samarin et al. 2020 Fig. 5 right; 2022 Fig. 6 right).

Command:  python -m ntk_tf.main --config=configs/spectrum_alexnet_snakes.py \
            --workdir=workdirs/spectrum_alexnet_snakes --config.dataset.data_dir=<TFDS dir> \
            --config.dataset.imagenet.manual_dir=<folder with the ILSVRC2012 tars>
Runtime:  600 images x 10 outputs at 224x224; AlexNet x1 (57M weights) ~10 min on a 2-core CPU
          with the structured method; x4 (~910M weights) needs a large-memory node or a GPU.
Paper:    effective rank well below 6000 at all widths, increasing marginally with width.
"""

from ntk_tf.configs import common as cc


def get_config():
  config = cc.default_config("spectrum")
  config.dataset.name = "imagenet_snakes"
  config.model.name = "alexnet"
  config.model.widths = cc.ALEXNET_WIDTHS
  config.spectrum.num_samples = 600
  config.spectrum.memory_limit_gb = 64.0
  return config
