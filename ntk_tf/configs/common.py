"""Config blocks shared between config files, and the tier argument every paper config takes.

`--config=configs/lenet_mnist.py:cpu` calls `get_config("cpu")` (big_vision's `get_config(arg)`):
  paper  (or no argument): the paper's full scale (TFDS data, all widths, 100 epochs, 5 seeds);
  cpu:   offline real data at a scale that runs on a 2-core CPU (the `cpu` reproduction tier);
  cpu-full: the same offline data at the papers' epochs (100; binary SGD 200): the `cpu-full`
         reproduction tier, which adds widths x25 and x60 through its run overrides;
  smoke: a few hundred samples and one epoch, to exercise the pipeline end to end in seconds.
"""

import ml_collections

from ntk_tf.errors import ConfigError
from ntk_tf.experiments import defaults

# The experiments' defaults (TensorFlow-free), for config files to start from.
default_config = defaults.default_config           # default_config("compare"), ...

# The papers' protocols (Samarin et al. 2020, 2022): widths and reruns.
PAPER_WIDTHS = (1, 2, 5, 10, 25, 60)   # LeNet, also the binary solver's Tables 1-2.
ALEXNET_WIDTHS = (1, 2, 3, 4)
PAPER_SEEDS = (0, 1, 2, 3, 4)          # Five reruns (2022).

TIERS = ("smoke", "cpu", "cpu-full", "paper")

# The cpu tier's cuts, printed on the reproduction page (ntk_tf.reproduce) beside the results.
CPU_EPOCHS = 12            # The papers train 100 epochs (Samarin et al.) or 200 (binary MNIST).
CPU_BINARY_EPOCHS = 20
PAPER_BINARY_EPOCHS = 200       # cpu-full's binary SGD (its compare runs keep the configs' 100).
CPU_SEEDS = (0, 1, 2)      # The papers: 5 reruns (2022) or single runs (2020).
CPU_WIDTHS = (1, 2, 5, 10)
SMOKE_WIDTHS = (1, 2)
FASHION_TRAIN, FASHION_TEST = 4000, 1000  # Fashion-MNIST stand-in, as large as mnist5k.
BINARY_TRAIN = 3900  # mnist5k digits for 0-vs-rest: LeNet x0.3's J interpolates them (rank 3,900).


def parse_tier(arg) -> str:
  """The tier a config argument names: None or "" is the paper's scale."""
  tier = (arg or "paper").strip()
  if tier not in TIERS:
    raise ValueError(f"config argument {arg!r}: use one of {', '.join(TIERS)} "
                     "(e.g. --config=configs/lenet_mnist.py:cpu).")
  return tier


def shrink_compare(config, tier: str, dataset: str = "mnist5k", epochs: int = CPU_EPOCHS,
                   seeds=CPU_SEEDS):
  """A `compare` config cut to the smoke or cpu tier (offline `dataset`); paper: unchanged."""
  if tier == "paper":
    return config
  config.dataset.name = dataset
  if dataset == "fashion_mnist":
    config.dataset.num_train, config.dataset.num_test = FASHION_TRAIN, FASHION_TEST
  decay = config.train.lr_decay_every
  if tier == "cpu-full":
    config.seeds = tuple(seeds)
  elif tier == "cpu":
    config.train.epochs = epochs
    config.seeds = tuple(seeds)
    if decay:  # Keep the schedule's shape: the papers divide by 10 after 30 % of training.
      config.train.lr_decay_every = max(1, round(epochs * decay / 100))
  else:
    config.dataset.num_train, config.dataset.num_test = 256, 128
    config.train.epochs = 1
    config.train.eval_batch_size = 128
    config.train.trajectory_steps = 8
    config.seeds = (0, 1)
    if decay:
      config.train.lr_decay_every = 1
  return config


def shrink_binary(config, tier: str):
  """A `binary_solver` config cut to the smoke or cpu tier (offline mnist5k); paper: unchanged."""
  if tier == "paper":
    return config
  config.dataset.name = "mnist5k"
  if is_cpu(tier):  # 3,900 rows: the interpolation threshold at x0.3 (reproduction/claims/runs).
    config.dataset.num_train = BINARY_TRAIN
  # The paper's solver (gelsd on J in single precision) beside the float64 solves.
  config.solver.methods = ("lstsq", "kernel", "sgd")
  config.solver.dtypes = ("float64", "float32")
  config.solver.dense_widths = None
  config.solver.memory_limit_gb = 8.0
  config.model.widths = (1,)
  if tier == "cpu-full":
    config.train.epochs = PAPER_BINARY_EPOCHS
  elif tier == "cpu":
    config.train.epochs = CPU_BINARY_EPOCHS
  else:  # 64 rows: SciPy's gelsd on a 256 x 242,841 J (x2) alone took 17 s per dtype.
    config.dataset.num_train, config.dataset.num_test = 64, 128
    config.train.epochs = 1
    config.train.eval_batch_size = 128
    config.train.trajectory_steps = 8
  return config


def cifar5m_myrtle(config, num_train: int = 64000):
  """Vyas et al.'s CIFAR-5m-bin task and network (their Fig. 1, App. A): dog vs horse from
  CIFAR-5m (user files), ±1 labels, 10,000 test images; Myrtle CNN c = 64, W_std = 1; SGD lr 4,
  batch 200. Shared by the scaling, after-kernel and time-dynamics configs."""
  config.dataset.name = "cifar5m"
  config.dataset.classes = (5, 7)          # dog, horse
  config.dataset.target = "class_vs_rest"
  config.dataset.positive_class = 0
  config.dataset.num_train = num_train
  config.dataset.num_test = 10000
  config.model.name = "myrtle"
  config.model.width = 64
  config.model.depth = None
  config.model.w_std = 1.0
  config.train.learning_rate = 4.0
  config.train.batch_size = 200
  return config


def binary_solver_paper(translate: int = 0) -> ml_collections.ConfigDict:
  """Samarin et al. 2022 §4.3 (Tables 1 and 2): LeNet on MNIST 0 vs rest, widths 1-60, gelsd at
  widths 1, 2, 5 as in the paper, LSQR at every width, SGD lr 0.01 for 200 epochs."""
  config = default_config("binary_solver")
  config.dataset.name = "mnist"
  config.dataset.translate = translate
  config.model.name = "lenet"
  config.model.widths = PAPER_WIDTHS
  config.solver.methods = ("lstsq", "lsqr", "sgd")
  config.solver.dense_widths = (1, 2, 5)
  config.solver.memory_limit_gb = 64.0   # Full MNIST x1: 27.6 GiB for J (a large CPU node).
  config.solver.iter_lim = 5000
  config.solver.dtypes = ("float64", "float32")  # The paper solved in single precision.
  return config


def cntk_config(dataset: str, arch: str = "cnn_v", depth: int = 3,
                train_sizes=(2000,), num_train=None, num_test=None,
                trained_layers: str = "all") -> ml_collections.ConfigDict:
  """Kernel regression with Arora et al.'s exact CNTK (NTK parameterization, W_std = √2,
  b_std = 0, one-hot targets, no ridge: the minimum-norm interpolant).

  `depth` counts layers as Arora et al.'s Table 1 does: convolutions plus the dense readout,
  so model.depth (the number of convolutions) is depth − 1. `trained_layers="middle"` fixes the
  first and readout layers (their Table 1 CNTK-GAP column; ntk.infinite).
  """
  if depth < 2:
    raise ConfigError(f"CNTK depth={depth} counts the dense layer too; use at least 2.")
  config = default_config("kernel_regression")
  config.dataset.name = dataset
  config.dataset.num_train = num_train
  config.dataset.num_test = num_test
  config.model.name = arch
  config.model.depth = depth - 1
  config.model.parameterization = "ntk"
  config.kernel.name = "infinite"
  config.kernel.trained_layers = trained_layers
  config.regression.train_sizes = tuple(train_sizes)
  config.regression.alphas = (0.0,)
  return config


def width_seed_sweep(widths, seeds) -> list:
  """Sweep cells (config overrides) for every width x seed, as the paper configs declare."""
  return [{"model.width": w, "seed": s} for w in widths for s in seeds]


def is_cpu(tier: str) -> bool:
  """The offline tiers that run the cpu scale of data (cpu, cpu-full)."""
  return tier in ("cpu", "cpu-full")
