"""Data-scaling exponents of a depth-4 MLP, its eNTK and its infinite NTK on the synthetic task.

Command:  python -m ntk_tf.main --config=configs/scaling_synthetic.py \
              --workdir=workdirs/scaling_synthetic
Data:     Vyas et al. appendix D: x = z + ε, z uniform on {±1}^30, ε ~ N(0, 0.25 I), y = z1·z2
          (generated offline).
Runtime:  RUNTIME
Paper:    Vyas et al. 2022, appendix D / Fig. 8 (width sweep on this task; no exponents printed):
          the same network-vs-kernel comparison as Fig. 1, on data where it runs on a laptop.
Setup:    NTK parameterization, W_std = 1, b_std = 0 (Neural Tangents' stax defaults); SGD
          lr 4.0, momentum 0.9, batch 200 (the Fig. 1 setup), ½·MSE, optimal early stopping.
"""

from ntk_tf.experiments import scaling_law


def get_config():
  config = scaling_law.default_config()
  config.seeds = (0, 1, 2, 3)
  config.dataset.name = "vyas_synthetic"
  config.dataset.synthetic.num_train = 4000
  config.dataset.synthetic.num_test = 2000
  config.model.name = "mlp"
  config.model.depth = 4
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.train.epochs = 100.0
  config.train.min_steps = 1000
  config.scaling.train_sizes = (250, 500, 1000, 2000, 4000)
  config.width_sweep.widths = (16, 64, 256, 1024)
  config.width_sweep.train_size = 1000
  return config
