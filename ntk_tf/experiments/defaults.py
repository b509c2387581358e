"""Every experiment's default config, and the config sections they share (TensorFlow-free).

Config files (ntk_tf/configs) start from these and change what their paper figure needs;
`experiments.<name>.validate` checks a config against its experiment's defaults here. Nothing in
this module imports TensorFlow, so listing configs and reporting their errors stays fast.
"""

import dataclasses
import math

import ml_collections

from ntk_tf import data
from ntk_tf.errors import ConfigError
from ntk_tf.solvers import options as solver_options
from ntk_tf.training.config import TrainConfig

SCALING_KINDS = ("network", "empirical_ntk", "infinite_ntk")


def model_config() -> ml_collections.ConfigDict:
  """The `config.model` section."""
  c = ml_collections.ConfigDict()
  c.name = "lenet"
  c.width = 1
  c.parameterization = "standard"   # "standard" (PyTorch init) or "ntk".
  c.w_std = math.sqrt(2.0)          # NTK parameterization only.
  c.b_std = 0.0
  c.depth = ml_collections.FieldReference(None, field_type=int)  # mlp, cnn_v, cnn_gap.
  return c


def train_config() -> ml_collections.ConfigDict:
  """The `config.train` section: every field of paired_training.TrainConfig."""
  c = ml_collections.ConfigDict()
  for field in dataclasses.fields(TrainConfig):
    value = field.default
    if value is None:
      kind = int if field.name in ("lr_decay_every", "checkpoint_every_steps",
                                   "stop_after_epochs", "lr_hold_until_settled") else float
      value = ml_collections.FieldReference(None, field_type=kind)
    c[field.name] = value
  return c


def early_stopping_train_config() -> ml_collections.ConfigDict:
  """`config.train` of the early-stopped SGD shared by every model kind (Vyas et al. App. A.4)."""
  return ml_collections.ConfigDict(dict(
      learning_rate=4.0,             # Fig. 1 (CIFAR-5m-bin); 10 for SVHN-parity and synthetic.
      momentum=0.9,
      batch_size=200,
      loss="half_mse",               # ½ mean (f − y)², Neural Tangents' convention.
      epochs=100.0,                  # Step budget ⌈epochs · ⌈n / batch⌉⌉ ...
      min_steps=1000,                # ... but at least this many steps (small n).
      max_steps=ml_collections.FieldReference(None, field_type=int),  # Fixed budget instead.
      log_factor=1.1,                # Test error logged at steps growing by this factor.
      train_loss_tol=ml_collections.FieldReference(None, field_type=float),  # Stop when fitted.
      stopping="optimal",            # Reported error: "optimal" early stopping or "final" (at
                                     # convergence: train_loss_tol, else the budget's end).
      subtract_initial_outputs=False,  # Network: f(w) − f(w0) (App. A.4 Table 1).
      eval_batch_size=1000,
      jit_compile=False,
  ))


def vyas_config(experiment: str) -> ml_collections.ConfigDict:
  """The sections shared by scaling_law, after_kernel and time_dynamics (Vyas et al. 2022)."""
  config = ml_collections.ConfigDict()
  config.experiment = experiment
  config.seed = 0                    # Data seed (synthetic draw, test subsample).
  config.seeds = (0, 1)              # Learning-curve seeds: initialization, subsets, batches.
  config.deterministic = False
  config.dtype = "float32"           # Network and eNTK model (kernels are float64).
  config.dataset = data.default_config()
  config.dataset.name = "vyas_synthetic"
  config.dataset.target = "class_vs_rest"
  config.dataset.positive_class = 1
  config.model = model_config()
  config.model.name = "mlp"
  config.model.width = 64
  config.model.depth = 4
  config.model.parameterization = "ntk"
  config.train = early_stopping_train_config()
  return config


def compare() -> ml_collections.ConfigDict:
  """Every key of a 'compare' config, with Samarin et al.'s LeNet/MNIST hyperparameters."""
  config = ml_collections.ConfigDict()
  config.experiment = "compare"
  config.seed = 0
  config.seeds = ml_collections.FieldReference(None, field_type=tuple)  # Several seeds.
  # tf.config.experimental.enable_op_determinism(): off, since XLA on the CPU is deterministic
  # anyway (tests/fault_injection_test.py: two processes, identical results.json). With XLA it
  # works for LeNet; AlexNet's overlapping max-pool has no deterministic XLA gradient (refused).
  config.deterministic = False
  config.dtype = "float32"
  config.distribute = "default"  # tf.distribute: default, mirrored, multi_worker_mirrored, tpu.
  config.dataset = data.default_config()
  config.dataset.name = "mnist"
  config.model = model_config()
  config.train = train_config()
  config.train.epochs = 100
  config.train.batch_size = 32
  config.train.learning_rate = 0.1
  config.train.momentum = 0.9
  config.train.weight_decay = 5e-5
  # The squared error averaged over batch and outputs (torch.nn.MSELoss). Samarin et al.'s eq.
  # (3) writes the per-example loss summed over the L outputs ("mse_sum_outputs", an L-times
  # larger gradient), but with it LinLeNet x10 diverges at their lr 0.1 on MNIST (step 62,
  # mnist5k, seed 0) while the paper trains it to x60 at lr 0.1: their runs averaged.
  config.train.loss = "mse"
  config.train.linearized_loss = "mse"
  config.baseline = ml_collections.ConfigDict(dict(logistic_regression=False))
  return config


def spectrum() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.experiment = "spectrum"
  config.seed = 0
  config.deterministic = False
  config.dtype = "float32"
  config.distribute = "default"  # Kernel blocks round robin over the strategy's devices.
  config.dataset = data.default_config()
  config.dataset.name = "mnist"
  config.model = model_config()
  config.model.widths = (1,)
  config.spectrum = ml_collections.ConfigDict(dict(
      num_samples=600,
      translations=(0,),              # dataset.translate values to run (e.g. (0, 7)).
      method="auto",
      memory_limit_gb=16.0,
      block_size=ml_collections.FieldReference(None, field_type=int),
      jit_compile=False,
      checkpoint_dir=ml_collections.FieldReference(None, field_type=str),  # After-kernel.
      checkpoint_step=ml_collections.FieldReference(None, field_type=int),  # K^t.
      save_kernel=False,
  ))
  return config


def binary_solver() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.experiment = "binary_solver"
  config.seed = 0
  config.deterministic = False
  config.dtype = "float32"          # SGD runs (as in `compare`).
  config.dataset = data.default_config()
  config.dataset.name = "mnist"
  config.dataset.target = "class_vs_rest"
  config.dataset.positive_class = 0
  config.dataset.binary_labels = "01"  # One output; target 1 for digit 0, else 0.
  config.model = model_config()
  config.model.widths = (1,)
  config.solver = ml_collections.ConfigDict(dict(
      methods=("lstsq", "sgd"),
      # Precisions of the solvers' model (the same seeded w0, rounded): float64 and/or float32.
      dtypes=("float64",),
      dtype=ml_collections.FieldReference(None, field_type=str),  # Old key: dtypes=(dtype,).
      dense_widths=ml_collections.FieldReference(None, field_type=tuple),  # None: all widths.
      **{k: v for k, v in solver_options.options().items() if k not in ("workdir",)
         and v is not None},
      rcond=ml_collections.FieldReference(None, field_type=float),
      iter_lim=ml_collections.FieldReference(None, field_type=int),
      nystrom_rank=ml_collections.FieldReference(None, field_type=int),  # None: min(1000, n).
  ))
  config.solver.atol = config.solver.btol = 1e-8
  config.train = train_config()
  config.train.epochs = 200
  config.train.batch_size = 32
  config.train.learning_rate = 0.01
  config.train.momentum = 0.9
  config.train.weight_decay = 5e-5
  return config


def kernel_regression() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  config.experiment = "kernel_regression"
  config.seed = 0
  config.deterministic = False
  config.dtype = "float32"
  config.distribute = "default"  # Kernel blocks round robin over the strategy's devices.
  config.dataset = data.default_config()
  config.dataset.name = "mnist5k"
  config.model = model_config()
  config.kernel = ml_collections.ConfigDict(dict(
      name="empirical",               # "infinite" (closed form), "monte_carlo" (max-pool nets).
      which="ntk",                    # infinite / monte_carlo: "ntk" or "nngp".
      num_samples=10,                 # monte_carlo: initializations averaged.
      dtype="float64",                # infinite: computation dtype.
      trained_layers="all",           # infinite NTK: "all", or "middle" (first, last fixed).
      readout_depths=(),              # infinite cnn_v/cnn_gap: also these numbers of convs.
      outputs="trace",
      subtract_initial_outputs=False,
      method="auto",
      memory_limit_gb=8.0,
      checkpoint_dir=ml_collections.FieldReference(None, field_type=str),  # After-kernel.
      checkpoint_step=ml_collections.FieldReference(None, field_type=int),  # K^t.
      save_kernel=False,
  ))
  config.regression = ml_collections.ConfigDict(dict(
      train_sizes=(100, 200, 500, 1000, 2000, 4000),
      alphas=(0.0,),                  # Several: the best on a validation split of each n.
      validation_fraction=0.1,
  ))
  return config


def scaling_law() -> ml_collections.ConfigDict:
  config = vyas_config("scaling_law")
  config.scaling = ml_collections.ConfigDict(dict(
      train_sizes=(64, 128, 256, 512),
      kinds=SCALING_KINDS,
      empirical_ntk_method="auto",   # "kernel" if the eNTK over the samples fits, else SGD on
                                     # the linearized model ("linearized").
      infinite_regression=True,      # Also the infinite NTK's kernel regression.
      memory_limit_gb=8.0,
      num_resamples=1000,            # Bootstrap over seeds for the β interval.
      confidence=0.95,
  ))
  config.width_sweep = ml_collections.ConfigDict(dict(
      widths=(),                     # E.g. (16, 32, 64, 128): network and eNTK at one n.
      train_size=ml_collections.FieldReference(None, field_type=int),
      # The eNTK's error in the sweep: "sgd" (kernel SGD at train.learning_rate, as the scaling
      # runs) or "interpolate" (its minimum-norm interpolant, the converged limit of that SGD
      # from zero: no learning rate to exceed at small widths, where the eNTK fluctuates).
      entk_fit="sgd",
  ))
  config.paper = ml_collections.ConfigDict(dict(   # Published β, printed beside ours.
      reference="",
      network=ml_collections.FieldReference(None, field_type=float),
      empirical_ntk=ml_collections.FieldReference(None, field_type=float),
      infinite_ntk=ml_collections.FieldReference(None, field_type=float),
  ))
  return config


def after_kernel() -> ml_collections.ConfigDict:
  config = vyas_config("after_kernel")
  config.after_kernel = ml_collections.ConfigDict(dict(
      train_sizes=(128, 512),          # m: samples the network is trained on.
      fit_sizes=(32, 64, 128),         # n: samples each after-kernel is fitted on.
      include_initialization=True,     # m = 0: the eNTK at initialization.
      fresh=True,                      # Also fit on n samples the network never saw.
      fit="sgd",                       # "sgd" (early stopping) or "regression" (interpolation).
      memory_limit_gb=8.0,
      save_kernels=False,              # kernels/m<m>_seed<s>.npy (for inspection and tests).
      num_resamples=1000,
      confidence=0.95,
  ))
  return config


def time_dynamics() -> ml_collections.ConfigDict:
  config = vyas_config("time_dynamics")
  config.time_dynamics = ml_collections.ConfigDict(dict(
      train_size=512,                  # n: the network and every K^t are fitted on these.
      num_kernels=6,                   # Log-spaced steps 0 < t ≤ budget (with t = 0) ...
      steps=(),                        # ... or these steps exactly.
      fit="sgd",                       # "sgd" (early stopping) or "regression".
      memory_limit_gb=8.0,
      save_kernels=False,              # kernels/t<t>_seed<s>.npy.
  ))
  return config


def data_summary() -> ml_collections.ConfigDict:
  """A config of the 'data_summary' experiment: the data set's shapes and statistics."""
  return ml_collections.ConfigDict(dict(experiment="data_summary", seed=0, deterministic=False,
                                        dataset=data.default_config()))


EXPERIMENTS = {"compare": compare, "spectrum": spectrum, "binary_solver": binary_solver,
               "kernel_regression": kernel_regression, "scaling_law": scaling_law,
               "after_kernel": after_kernel, "time_dynamics": time_dynamics,
               "data_summary": data_summary}


def default_config(experiment: str) -> ml_collections.ConfigDict:
  """Every key of an `experiment` config, with its defaults."""
  if experiment not in EXPERIMENTS:
    raise ConfigError(f"unknown experiment {experiment!r}; valid experiments: "
                      f"{', '.join(sorted(EXPERIMENTS))}.")
  return EXPERIMENTS[experiment]()
