"""The eNTK K^t of a depth-4 MLP during training, fitted on the training set, vs step t.

Command:  python -m ntk_tf.main --config=configs/time_dynamics_synthetic.py \
              --workdir=workdirs/time_dynamics_synthetic
Runtime:  RUNTIME
Paper:    Vyas et al. 2022, Fig. 5(a) (there Myrtle CNN on 64k CIFAR-5m-bin samples): K^t_fit
          barely changes for the first ~0.5 epoch, then improves at a roughly constant rate on
          log-log axes, with no slow-down ("phase transition").
"""

from ntk_tf.experiments import time_dynamics


def get_config():
  config = time_dynamics.default_config()
  config.seeds = (0, 1)
  config.dataset.synthetic.num_train = 2000
  config.dataset.synthetic.num_test = 2000
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.time_dynamics.train_size = 2000
  config.time_dynamics.num_kernels = 8
  return config
