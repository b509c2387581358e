"""The hyperparameters of a paired run (TensorFlow-free: configs and validation read them)."""

import dataclasses
from typing import Optional

from ntk_tf.errors import ConfigError


@dataclasses.dataclass
class TrainConfig:
  """The hyperparameters of a paired run (Samarin et al.: lr 0.1, momentum 0.9, wd 5e-5,
  batch 32, 100 epochs; CIFAR-10 and snakes with lr ÷10 every 30 epochs)."""
  epochs: int = 1
  batch_size: int = 32
  learning_rate: float = 0.1
  linearized_learning_rate: Optional[float] = None  # None: same as learning_rate.
  momentum: float = 0.9
  weight_decay: float = 5e-5
  linearized_weight_decay: Optional[float] = None  # None: same as weight_decay.
  lr_decay_every: Optional[int] = None  # Epochs between ÷10 steps (None: constant).
  lr_decay_factor: float = 0.1
  # With lr_decay_every: hold the starting rate until every trained model's train accuracy has
  # settled (training.stopping.settled: fits its training set or converged), at least
  # lr_decay_every and at most this many epochs; the decays then come every lr_decay_every
  # epochs and the run ends epochs - lr_decay_every epochs after the hold (the schedule's rest).
  # None: the first decay after lr_decay_every epochs, as usual.
  lr_hold_until_settled: Optional[int] = None
  loss: str = "mse"
  linearized_loss: str = "mse"
  eval_batch_size: int = 1000
  trajectory_points: int = 8     # Validation (test) points whose outputs are tracked.
  trajectory_steps: int = 200    # Record every step for the first T steps, then every epoch.
  checkpoint_every_steps: Optional[int] = None  # Also checkpoint mid-epoch (None: epochs only).
  max_checkpoints: int = 2
  jit_compile: bool = True
  train_standard: bool = True
  train_linearized: bool = True
  centered: bool = False
  order: int = 1
  steps_per_call: int = 16  # SGD steps per compiled call (1: one Python dispatch per step).
  # Stopping before `epochs` (training.stopping): once every trained model fits its training set
  # (train accuracy >= stop_fit_accuracy) or converged (moved <= stop_converged_pp over the last
  # quarter of its epochs and twice that over the last half), checked after each epoch from
  # epoch stop_after_epochs on.
  stop_fit_accuracy: Optional[float] = None
  stop_converged_pp: Optional[float] = None
  stop_after_epochs: Optional[int] = None  # None: from the first epoch.

  def __post_init__(self):
    k = self.steps_per_call
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
      raise ConfigError(f"train.steps_per_call={k!r} must be a positive integer (1: one step "
                        "per compiled call).")
    fit, pp, after = self.stop_fit_accuracy, self.stop_converged_pp, self.stop_after_epochs
    if fit is not None and not 0 < fit <= 1:
      raise ConfigError(f"train.stop_fit_accuracy={fit!r} must be in (0, 1] (e.g. 0.99: stop "
                        "once 99 % of the training set is fit), or None.")
    if pp is not None and not pp >= 0:
      raise ConfigError(f"train.stop_converged_pp={pp!r} must be >= 0 (percentage points of "
                        "train accuracy over the last quarter of epochs, twice over the last "
                        "half, e.g. 0.5), or None.")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int) or after < 0):
      raise ConfigError(f"train.stop_after_epochs={after!r} must be a non-negative integer.")
    hold, every = self.lr_hold_until_settled, self.lr_decay_every
    if hold is not None and (isinstance(hold, bool) or not isinstance(hold, int) or not every
                             or hold < every or self.epochs < every):
      raise ConfigError(
          f"train.lr_hold_until_settled={hold!r} needs train.lr_decay_every (now {every!r}) "
          f"and must be an integer of at least lr_decay_every epochs, with train.epochs (now "
          f"{self.epochs}) at least lr_decay_every: the most epochs at the starting rate, e.g. "
          "the paper's steps at that rate in epochs of this training set; or None.")
    if after is not None and fit is None and pp is None:
      raise ConfigError("train.stop_after_epochs is set but no stopping test is: set "
                        "train.stop_fit_accuracy and/or train.stop_converged_pp, or unset it.")
