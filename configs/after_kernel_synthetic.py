"""After-kernels K_m(n) and K_m^F(n) of a depth-4 MLP on the synthetic task of Vyas et al.

Command:  python -m ntk_tf.main --config=configs/after_kernel_synthetic.py \
              --workdir=workdirs/after_kernel_synthetic
Runtime:  RUNTIME
Paper:    Vyas et al. 2022, Fig. 4 (there on CIFAR-5m-bin): K_n(n) and K_n^F(n) track the
          network (4a); K_m(n0) improves with m (4b); a fixed after-kernel scales worse than the
          network (4c: beta 0.103 for K_16k, 0.097 for K_64k vs 0.307).
"""

from ntk_tf.experiments import after_kernel


def get_config():
  config = after_kernel.default_config()
  config.seeds = (0, 1)
  config.dataset.synthetic.num_train = 4000
  config.dataset.synthetic.num_test = 2000
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.after_kernel.train_sizes = (500, 1000, 2000)
  config.after_kernel.fit_sizes = (250, 500, 1000, 2000)
  return config
