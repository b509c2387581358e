"""Binary MNIST with digits shifted by up to 7 pixels (Samarin et al. 2022, Table 2).

Command:  python -m ntk_tf.main --config=configs/binary_mnist_translated.py \
              --workdir=workdirs/binary_mnist_translated [--config.dataset.name=mnist5k]
Runtime:  as configs/binary_mnist.py.
Paper:    test accuracy Solver 86.05 / Lin. 95.48 / LeNet 99.72 at x1 (solver train 100);
          Solver x2, x5: 98.7, 99.17; Lin. x60 99.55 vs LeNet 99.86.
"""

from ntk_tf.experiments import binary_solver


def get_config():
  return binary_solver.paper_config(translate=7)


def sweep():
  """One cell per width (the paper reports single runs with a fixed seed)."""
  return [{"model.widths": (w,)} for w in binary_solver.PAPER_WIDTHS]
