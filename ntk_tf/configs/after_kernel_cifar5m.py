"""After-kernels of the Myrtle CNN on CIFAR-5m-bin (Vyas et al. 2022, Fig. 4).

Command:  python -m ntk_tf.main --config=configs/after_kernel_cifar5m.py \
              --config.dataset.cifar5m.dir=/path/to/cifar5m --workdir=workdirs/after_kernel_cifar5m
Runtime:  a GPU/high-memory job: each K_m is an eNTK over up to 2 x 16k + 10k samples
          (a 42k x 42k float64 matrix, 14 GiB) of a width-64 Myrtle CNN.
Paper:    Fig. 4(c): beta 0.103 (K_16k) and 0.097 (K_64k) vs 0.307 for the network; K_64k below
          K_16k in error. (Their m reaches 1024k; here 16k and 64k with n up to 16k.)
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  cc.parse_tier(arg)  # A GPU-scale experiment: every tier runs it as the paper did.
  config = cc.default_config("after_kernel")
  config.seeds = (0,)
  cc.cifar5m_myrtle(config, num_train=80000)
  config.after_kernel.train_sizes = (16000, 64000)
  config.after_kernel.fit_sizes = (500, 1000, 2000, 4000, 8000, 16000)
  config.after_kernel.memory_limit_gb = 64.0
  return config
