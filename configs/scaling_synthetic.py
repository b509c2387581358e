"""Data-scaling exponents of a depth-4 MLP, its eNTK and its infinite NTK on the synthetic task.

Command:  python -m ntk_tf.main --config=configs/scaling_synthetic.py \
              --workdir=workdirs/scaling_synthetic
Data:     Vyas et al. appendix D: x = z + ε, z uniform on {±1}^30, ε ~ N(0, 0.25 I), y = z1·z2
          (generated offline).
Runtime:  ~6 min on a 2-core CPU (4 seeds x 5 sizes x 2 trained models, the width sweep, a
          6000 x 6000 infinite NTK). Measured: beta 0.621 [0.608, 0.632] network, 0.286 eNTK,
          0.512 infinite NTK (SGD), 0.535 (kernel regression); test error at n = 4000: 0.072,
          0.187, 0.094. Width sweep at n = 1000 (widths 16, 64, 256, 1024): network 0.078,
          0.138, 0.173, 0.188 rises towards the infinite NTK's 0.191 from below, the eNTK
          0.384, 0.359, 0.282, 0.233 falls towards it from above (their Figs. 2b/c, 8).
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
