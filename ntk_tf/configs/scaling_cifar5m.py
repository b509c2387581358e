"""Data-scaling exponents of the Myrtle CNN, its eNTK and its infinite NTK on CIFAR-5m-bin.

Command:  python -m ntk_tf.main --config=configs/scaling_cifar5m.py \
              --config.dataset.cifar5m.dir=/path/to/cifar5m --workdir=workdirs/scaling_cifar5m
Data:     CIFAR-5m parts cifar5m_part{0,5}.npz from https://github.com/preetum/cifar5m (not in
          TFDS); dog vs horse (CIFAR-10 classes 5 and 7), ±1 labels.
Runtime:  a GPU-cluster job: the paper's grid reaches n = 64k (4 seeds x 8 sizes x 2 trained
          models), and the infinite Myrtle NTK over 64k + test samples is a (global-average-
          pooled) CNTK of ~10^10 entries. Start with --config.scaling.train_sizes='(500,1000,
          2000,4000)' --config.scaling.kinds='("network","empirical_ntk")'.
Paper:    Vyas et al. 2022, Fig. 1(A): beta 0.307 (network), 0.185 (eNTK), 0.213 (infinite NTK);
          width sweep at n = 4000 (Fig. 2b) with --config.width_sweep.widths='(16,32,64,128,
          256,512,1024)' --config.width_sweep.train_size=4000.
Setup:    NTK parameterization with Neural Tangents' default W_std = 1, b_std = 0 (their stax
          code), SGD lr 4.0, momentum 0.9, batch 200, ½·MSE, test error logged at steps x1.1.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  cc.parse_tier(arg)  # A GPU-scale experiment: every tier runs it as the paper did.
  config = cc.default_config("scaling_law")
  config.seeds = (0, 1, 2, 3)
  cc.cifar5m_myrtle(config)
  config.train.epochs = 100.0
  config.scaling.train_sizes = (500, 1000, 2000, 4000, 8000, 16000, 32000, 64000)
  config.scaling.empirical_ntk_method = "linearized"
  config.scaling.memory_limit_gb = 64.0
  config.paper.reference = "Vyas et al. 2022, Fig. 1(A) (CIFAR-5m-bin, Myrtle CNN c=64)"
  config.paper.network = 0.307
  config.paper.empirical_ntk = 0.185
  config.paper.infinite_ntk = 0.213
  return config
