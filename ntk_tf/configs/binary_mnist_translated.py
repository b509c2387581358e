"""Binary MNIST with digits shifted by up to 7 pixels (Samarin et al. 2022, Table 2).

Command:  python -m ntk_tf.main --config=configs/binary_mnist_translated.py \
              --workdir=workdirs/binary_mnist_translated [--config.dataset.name=mnist5k]
Runtime:  as configs/binary_mnist.py.
Paper:    test accuracy Solver 86.05 / Lin. 95.48 / LeNet 99.72 at x1 (solver train 100);
          Solver x2, x5: 98.7, 99.17; Lin. x60 99.55 vs LeNet 99.86.
Tiers:    `:cpu` runs offline on mnist5k (4,000 train / 1,000 test digits), the exact solve in
          its kernel form (u = Jᵀ Θ⁺ r, equal to gelsd's minimum-norm u to 1e-13) at every
          width, SGD for 20 epochs instead of 200; `:smoke` on 64 digits, one epoch.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  return cc.shrink_binary(cc.binary_solver_paper(translate=7), cc.parse_tier(arg))


def sweep():
  """One cell per width (the paper reports single runs with a fixed seed)."""
  return [{"model.widths": (w,)} for w in cc.PAPER_WIDTHS]
