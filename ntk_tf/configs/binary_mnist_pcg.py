"""Binary MNIST, digit 0 vs rest, solved exactly by Nyström-preconditioned CG (Samarin 2022 §4.3).

Command:  python -m ntk_tf.main --config=configs/binary_mnist_pcg.py:cpu \
              --workdir=workdirs/binary_mnist_pcg
Runtime:  `:cpu` (mnist5k, 4,000 training digits, float64) ~55 min on a loaded 2-core CPU (load
          ~5): gelsd x1 6.7 min (66 s idle), Nyström PCG x1 28 s set-up + 83 iterations at
          6.3 s, x5 2.3 min + 59 iterations at 40 s (docs/solvers.md); `:smoke` 44 s.
Paper:    the exact solve of Table 1 (Solver row: 97.8 / 99.86 / 99.89 test at x1 / x2 / x5),
          which the paper could only run up to x5 with a dense solver ("more than 1 TB" of J
          beyond); here the minimum-norm u by CG on the dual system (J Jᵀ) α = r, u = Jᵀ α,
          preconditioned by k = solver.nystrom_rank columns of the empirical NTK (Frangella,
          Tropp & Udell 2021), to a relative residual of solver.pcg_tol, at any width.
Tiers:    `:cpu` widths 1 and 5 on mnist5k beside gelsd at x1 (its u is the reference);
          `:smoke` 256 digits, x1, k = 64; the paper tier solves full MNIST (60,000 rows) at every
          paper width, float64, no SGD (configs/binary_mnist.py trains the networks).
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.binary_solver_paper(translate=0)
  config.solver.methods = ("nystrom_pcg",)
  config.solver.dtypes = ("float64",)
  config.solver.iter_lim = 1000
  if tier == "paper":
    return config
  config = cc.shrink_binary(config, tier)
  config.solver.methods = ("lstsq", "nystrom_pcg")
  config.solver.dense_widths = (1,)
  if cc.is_cpu(tier):
    config.model.widths = (1, 5)
  else:  # 256 rows against k = 64, so that CG still has iterations to do.
    config.dataset.num_train = 256
    config.solver.nystrom_rank = 64
  return config
