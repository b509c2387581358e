"""K^t of the Myrtle CNN during training on 64k CIFAR-5m-bin samples (Vyas et al. 2022, Fig. 5a).

Command:  python -m ntk_tf.main --config=configs/time_dynamics_cifar5m.py \
              --config.dataset.cifar5m.dir=/path/to/cifar5m --workdir=workdirs/time_dynamics_cifar5m
Runtime:  a GPU/high-memory job: 10 eNTKs over 64k + 10k samples (41 GiB each in float64);
          lower time_dynamics.train_size for a first look.
Paper:    Fig. 5(a): K^t_fit nearly constant for ~140 batches (0.5 epoch), then improving at a
          constant log-log slope until train error < 5 % (32 epochs, 11,861 batches); Fig. 5(b)
          uses t = 0, 3308, 11861 (time_dynamics.steps).
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  cc.parse_tier(arg)  # A GPU-scale experiment: every tier runs it as the paper did.
  config = cc.default_config("time_dynamics")
  config.seeds = (0,)
  cc.cifar5m_myrtle(config)
  config.train.max_steps = 11861
  config.time_dynamics.train_size = 64000
  config.time_dynamics.num_kernels = 10
  config.time_dynamics.memory_limit_gb = 128.0
  return config
