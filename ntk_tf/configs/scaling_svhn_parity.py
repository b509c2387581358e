"""Data-scaling exponents of the 5-layer CNN, its eNTK and its infinite NTK on SVHN-parity.

Command:  python -m ntk_tf.main --config=configs/scaling_svhn_parity.py \
              --workdir=workdirs/scaling_svhn_parity
Data:     SVHN (TFDS svhn_cropped, downloads on first use), label = parity of the digit.
          (The paper also draws training samples from SVHN 'extra'; here 'train' only.)
Runtime:  a GPU job (4 seeds x 6 sizes x 2 trained models; the infinite cnn5 NTK over
          16k + test samples, ~2.6e8 entries at ~360 entries/s per CPU core on 28x28).
Paper:    Vyas et al. 2022, Fig. 9(a): beta 0.28 (network), 0.19 (eNTK), 0.22 (infinite NTK);
          Fig. 2(c) width sweep at n = 1000, widths 16 ... 4096 (set width_sweep.widths).
Setup:    NTK parameterization, W_std = 1, b_std = 0; SGD lr 10, momentum 0.9, batch 200.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  cc.parse_tier(arg)  # A GPU-scale experiment: every tier runs it as the paper did.
  config = cc.default_config("scaling_law")
  config.seeds = (0, 1, 2, 3)
  config.dataset.name = "svhn_cropped"
  config.dataset.target = "parity"
  config.dataset.num_train = 16000
  config.dataset.num_test = 10000
  config.model.name = "cnn5"
  config.model.width = 64
  config.model.depth = None
  config.model.w_std = 1.0
  config.train.learning_rate = 10.0
  config.train.batch_size = 200
  config.scaling.train_sizes = (500, 1000, 2000, 4000, 8000, 16000)
  config.scaling.empirical_ntk_method = "linearized"
  config.scaling.memory_limit_gb = 64.0
  config.width_sweep.widths = ()
  config.width_sweep.train_size = 1000
  config.paper.reference = "Vyas et al. 2022, Fig. 9(a) (SVHN-parity, 5-layer CNN c=64)"
  config.paper.network = 0.28
  config.paper.empirical_ntk = 0.19
  config.paper.infinite_ntk = 0.22
  return config
