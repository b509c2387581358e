"""After-kernels K_m(n) and K_m^F(n) of a depth-4 MLP on the synthetic task of Vyas et al.

Command:  python -m ntk_tf.main --config=configs/after_kernel_synthetic.py \
              --workdir=workdirs/after_kernel_synthetic
Runtime:  ~80 s on a 2-core CPU (2 seeds x 3 trained networks, 8 eNTKs of up to 6,000 samples).
          Measured (test error): network 0.277 / 0.172 / 0.109 at n = 500 / 1000 / 2000;
          K_n(n) 0.230 / 0.133 / 0.091; K_n^F(n) 0.186 / 0.093 / 0.072; K_0 (eNTK at init)
          0.351 / 0.279 / 0.230; K_m(250) falls 0.396 (m = 0), 0.253, 0.167, 0.119 (m = 2000).
          The after-kernels of m >= 1000 reach their floor within n <= 2000 (beta marked flat).
Paper:    Vyas et al. 2022, Fig. 4 (there on CIFAR-5m-bin): K_n(n) and K_n^F(n) track the
          network (4a); K_m(n0) improves with m (4b); a fixed after-kernel scales worse than the
          network (4c: beta 0.103 for K_16k, 0.097 for K_64k vs 0.307).
Tiers:    paper = cpu (as above); `:smoke`: 256 samples, m = 64, 128, n = 32, 64, 128, width 32,
          1 seed, a 200-step budget.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("after_kernel")
  config.seeds = (0, 1)
  config.dataset.synthetic.num_train = 4000
  config.dataset.synthetic.num_test = 2000
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.after_kernel.train_sizes = (500, 1000, 2000)
  config.after_kernel.fit_sizes = (250, 500, 1000, 2000)
  if tier == "smoke":
    config.seeds = (0,)
    config.dataset.synthetic.num_train = 256
    config.dataset.synthetic.num_test = 200
    config.model.width = 32
    config.train.max_steps = 200
    config.after_kernel.train_sizes = (64, 128)
    config.after_kernel.fit_sizes = (32, 64, 128)
    config.after_kernel.num_resamples = 50
  return config
