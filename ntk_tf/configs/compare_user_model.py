"""Your own Keras model in `compare`: a small residual CNN and its linearization on MNIST digits.

Command:  python -m ntk_tf.main --config=configs/compare_user_model.py \
              --workdir=workdirs/compare_user_model      # from the repository root (see below)
          python -m ntk_tf.main --config=configs/compare_user_model.py:smoke  # seconds
          Any other model: --config.model.name=path/to/file.py:function (or module:function).
Runtime:  ~3 min on a 2-core CPU (10 epochs of 125 steps for both models, and the baseline;
          2 min 40 s to 3 min 35 s measured on a shared machine); `:smoke` ~40 s. Not measured
          on a GPU.
Paper:    none: it shows that any Keras model runs through the papers' protocol (Samarin et al.
          2020, Fig. 3; 2022, Fig. 2): `model.name = "examples/my_keras_model.py:small_cnn"`
          (a file path, read from the current directory, and the function in it) trains
          examples/my_keras_model.py's small_cnn (108,186 parameters: convolutions, a skip
          connection by Add, max- and average pooling, dense) and its linearization
          f(w0, x) + J(w0, x) u side by side from the same w0 on the same minibatches, and
          writes the same files as for LeNet: results.json (train/test accuracy of both),
          seed_<s>/metrics.jsonl, accuracy.png, trajectories.png. Prints both accuracies:
          measured, seed 0, test accuracy small_cnn 97.2 %, its linearization 93.0 %, logistic
          regression 88.1 %: the linearization trails the network, as LinLeNet trails LeNet.
Hyperparameters: Samarin et al.'s (SGD, momentum 0.9, weight decay 5e-5, batch 32, L2 loss on
one-hot targets) but lr 0.05 for both models: at their 0.1 this linearization's test accuracy
swings between 66 and 93 % from epoch to epoch (the network's does not).
Tiers:    no argument or `:cpu`: the offline mnist5k digits (4,000 train / 1,000 test), 10
          epochs, one seed; `:smoke`: 256 digits for one epoch, seeds 0 and 1.
A user model has no width factor: model.width stays 1 and width sweeps are refused; it is
initialized by its function (model.parameterization stays "standard").
"""

from ntk_tf.configs import common as cc

EPOCHS = 10


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("compare")
  config.dataset.name = "mnist5k"
  config.model.name = "examples/my_keras_model.py:small_cnn"
  config.train.epochs = EPOCHS
  config.train.learning_rate = 0.05
  config.baseline.logistic_regression = True
  return cc.shrink_compare(config, "smoke" if tier == "smoke" else "cpu", epochs=EPOCHS,
                           seeds=(0,))
