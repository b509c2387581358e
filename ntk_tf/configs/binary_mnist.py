"""Binary MNIST, digit 0 vs rest: least-squares solvers vs SGD (Samarin et al. 2022, Table 1).

Command:  python -m ntk_tf.main --config=configs/binary_mnist.py --workdir=workdirs/binary_mnist
          [--config.dataset.name=mnist5k  # offline: 4,000 train / 1,000 test digits]
Runtime:  offline mnist5k, widths 1,2,5 with lstsq (dense widths 1, 2) + kernel + sgd (200
          epochs): ~2 h on a 2-core CPU, dominated by SGD; full MNIST (60,000 rows): the dense
          x1 Jacobian alone is 27.6 GiB (raise solver.memory_limit_gb or use storage='memmap'),
          widths 10-60 run through LSQR (GPU recommended).
Paper:    test accuracy Solver 97.8 / Lin. 99.61 / LeNet 99.89 at x1, train 100 / 99.42 / 100;
          Solver x2, x5: 99.86, 99.89 test; Lin. reaches 99.89 at x60.
Setting:  one output, L2 loss on 1/0 targets; SGD lr 0.01, 200 epochs, batch 32, momentum 0.9,
          weight decay 5e-5; unregularized minimum-norm least squares (gelsd) for widths 1, 2, 5
          ("dense_widths"; beyond the paper, LSQR for every width).
Tiers:    `:cpu` runs offline on mnist5k (4,000 train / 1,000 test digits), the exact solve in
          its kernel form (u = Jᵀ Θ⁺ r, equal to gelsd's minimum-norm u to 1e-13) at every
          width, SGD for 20 epochs instead of 200; `:smoke` on 64 digits, one epoch.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  return cc.shrink_binary(cc.binary_solver_paper(translate=0), cc.parse_tier(arg))


def sweep():
  """One cell per width (the paper reports single runs with a fixed seed)."""
  return [{"model.widths": (w,)} for w in cc.PAPER_WIDTHS]
