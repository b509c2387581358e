"""The eNTK K^t of a depth-4 MLP during training, fitted on the training set, vs step t.

Command:  python -m ntk_tf.main --config=configs/time_dynamics_synthetic.py \
              --workdir=workdirs/time_dynamics_synthetic
Runtime:  ~45 s on a 2-core CPU (2 seeds, 8 eNTKs of 4,000 samples each).
          Measured K^t_fit test error: 0.222 (t = 0), 0.227, 0.233, 0.231 (t = 1, 3, 10: flat),
          0.152 (32), 0.091 (100), 0.099 (316), 0.102 (1000); network best 0.105, eNTK-at-init
          model 0.222: a flat start, then a fast fall, then a plateau past early stopping.
Paper:    Vyas et al. 2022, Fig. 5(a) (there Myrtle CNN on 64k CIFAR-5m-bin samples): K^t_fit
          barely changes for the first ~0.5 epoch, then improves at a roughly constant rate on
          log-log axes, with no slow-down ("phase transition").
Tiers:    paper = cpu (as above); `:smoke`: 128 samples, width 32, 1 seed, 4 kernels over a
          200-step budget.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("time_dynamics")
  config.seeds = (0, 1)
  config.dataset.synthetic.num_train = 2000
  config.dataset.synthetic.num_test = 2000
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.time_dynamics.train_size = 2000
  config.time_dynamics.num_kernels = 8
  if tier == "smoke":
    config.seeds = (0,)
    config.dataset.synthetic.num_train = 128
    config.dataset.synthetic.num_test = 200
    config.model.width = 32
    config.train.max_steps = 200
    config.time_dynamics.train_size = 128
    config.time_dynamics.num_kernels = 4
  return config
