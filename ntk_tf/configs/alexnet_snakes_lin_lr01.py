"""AlexNet and LinAlexNet on ten ImageNet snake classes (Samarin et al. 2020, Fig. 6), the
linearization trained with AlexNet's own hyperparameters, lr 0.1 / wd 5e-6 ("LinAlexNet LR 0.1").

Command:  python -m ntk_tf.main --config=configs/alexnet_snakes_lin_lr01.py \
            --workdir=workdirs/alexnet_snakes_lin_lr01 --config.dataset.data_dir=<TFDS dir> \
            --config.dataset.imagenet.manual_dir=<folder with the ILSVRC2012 tars>
Runtime:  as configs/alexnet_snakes.py: AlexNet x1, 100 epochs of 407 steps at 224x224: ~6 h on
          one GPU; impractical on a CPU.
Paper:    test accuracy AlexNet 53.8 / LinAlexNet 29.2 at x1 and 57.0 / 36.4 at x4 (gap ~25 pp
          and ~21 pp); LinAlexNet train 37.5 (x1) to 51.5 (x4).
Hyperparameters: those of configs/alexnet_snakes.py except the linearization's lr 0.1 and wd
5e-6 (the paper: "the same hyperparameters as their non-linearized counterparts"; the wd is
inferred from that sentence).
"""

from ntk_tf.configs import alexnet_snakes

sweep = alexnet_snakes.sweep


def get_config(arg=None):
  """configs/alexnet_snakes.py with the linearization at AlexNet's lr 0.1 and wd 5e-6."""
  config = alexnet_snakes.get_config(arg)  # Every tier is the paper's config (see there).
  config.train.linearized_learning_rate = 0.1
  config.train.linearized_weight_decay = 5e-6
  return config
