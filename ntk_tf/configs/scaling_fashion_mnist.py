"""Data-scaling exponents on real offline images: T-shirt vs shirt from Fashion-MNIST, depth-4 MLP.

Command:  python -m ntk_tf.main --config=configs/scaling_fashion_mnist.py \
              --workdir=workdirs/scaling_fashion_mnist
Data:     Fashion-MNIST IDX files (apt-get install dataset-fashion-mnist), classes 0 (T-shirt/top)
          and 6 (shirt), ±1 labels; 4,000 training and 2,000 test images.
Runtime:  ~4.5 min on a 2-core CPU. Measured: beta 0.082 [0.079, 0.087] network, 0.072
          eNTK, 0.106 [0.090, 0.155] infinite NTK; test error at n = 4000: 0.148, 0.155, 0.136.
          Here the infinite NTK beats the MLP at every n: Vyas et al.'s claim is that *some*
          natural settings (their CNNs) favour the network, and this one does not.
Paper:    the Fig. 1 comparison of Vyas et al. 2022 (network vs eNTK vs infinite NTK exponents)
          on a real two-class image task that runs offline; an MLP because the infinite NTK of a
          CNN on 28x28 images is a GPU job (cnn5 ~360 entries/s per CPU core).
Setup:    NTK parameterization, W_std = 1, b_std = 0; SGD lr 4.0, momentum 0.9, batch 200.
"""

from ntk_tf.configs import common as cc


def get_config():
  config = cc.default_config("scaling_law")
  config.seeds = (0, 1, 2, 3)
  config.dataset.name = "fashion_mnist"
  config.dataset.classes = (0, 6)
  config.dataset.target = "class_vs_rest"
  config.dataset.positive_class = 1
  config.dataset.num_train = 4000
  config.dataset.num_test = 2000
  config.model.name = "mlp"
  config.model.depth = 4
  config.model.width = 256
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  config.scaling.train_sizes = (250, 500, 1000, 2000, 4000)
  return config
