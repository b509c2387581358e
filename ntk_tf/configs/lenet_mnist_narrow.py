"""LeNet x0.25 and its linearization on MNIST: the paper's x1 rows per parameter on offline data.

Command:  python -m ntk_tf.main --config=configs/lenet_mnist_narrow.py:cpu \
              --workdir=workdirs/lenet_mnist_narrow  [--config.model.width=0.5]
Runtime:  ~1 min on a 2-core CPU at `:cpu` (12 epochs, 3 seeds), ~6 min at `:cpu-full`.
Paper:    Samarin et al. 2020, §1.1 and Fig. 3: LinLeNet x1 under-fits MNIST (train 92.9 %) with
          600,000 training rows (samples x outputs) against 61,706 parameters, 9.7 rows per
          parameter. On the 4,000 mnist5k digits LeNet x1 has fewer rows than parameters and its
          linearization can interpolate; x0.25 (4,157 parameters, 9.6 rows per parameter) puts
          the offline run in the paper's regime (samarin2020.3 in
          ntk_tf/reproduction/claims/samarin2020.py).
Setting:  configs/lenet_mnist.py at its tier, with a fractional width factor (model.width is a
          float here: lenet rounds each layer's channels).
"""

from ntk_tf.configs import lenet_mnist


def get_config(arg=None):
  config = lenet_mnist.get_config(arg)
  del config.model["width"]  # An int field there; a fractional factor needs a float field.
  config.model.width = 0.25
  return config
