"""The paired loop: a network and its linearization, same w0, same minibatches, checkpointed.

Records per-epoch train/test loss and accuracy of both models and the trajectories of the output
for the correct class on fixed validation points (every step for the first T steps, then every
epoch; Samarin et al. 2020, Fig. 2). With translate_mode="per_epoch" the minibatches are shifted
afresh every epoch (Dataset.train_batch) and the epoch's train loss/accuracy are measured on
that epoch's shifted training images, the inputs its steps saw (with "fixed": x_train itself);
the test set keeps its fixed shift. With steps_per_call > 1 each compiled call runs a chunk of
consecutive steps (training.CompiledStep, the same bits as one step per call); chunks end at
every step the loop records, checkpoints or evaluates at. Everything needed to resume (weights,
velocities, u, step, history, trajectories) is in one TensorFlow checkpoint, so an interrupted
run resumes and ends with results identical to an uninterrupted one.
"""

import io as _io
import json
import os
import time
from typing import Optional

import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.data import Dataset
from ntk_tf.errors import DataError
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import optimizers, steps as training, stopping
from ntk_tf.training.config import TrainConfig  # pylint: disable=unused-import  (re-exported)
from ntk_tf.utils import distribute, progress


def chunk_end(step: int, epoch_end: int, steps_per_call: int, trajectory_steps: int,
              checkpoint_every: Optional[int]) -> int:
  """The step at which the chunk of steps after `step` ends.

  At most steps_per_call steps, and never past a step after which the loop records something:
  the epoch's end, the output trajectories (every step up to trajectory_steps) or a mid-epoch
  checkpoint (every checkpoint_every steps).
  """
  if step < trajectory_steps:
    return step + 1
  end = min(step + steps_per_call, epoch_end)
  if checkpoint_every:
    end = min(end, (step // checkpoint_every + 1) * checkpoint_every)
  return end


# The most input bytes a chunk of steps holds (train.steps_per_call is cut to fit): 0.5 GB
# of ImageNet-sized batches would buy nothing where a step takes seconds.
CHUNK_BYTES = 64 * 2 ** 20


class PairedTrainer:
  """Trains `model` and LinearizedModel(model) from the same w0 on the same batches."""

  def __init__(self, model, dataset: Dataset, cfg: TrainConfig, seed: int, workdir: str,
               dtype: str = "float32", threshold: float = 0.0,
               strategy: Optional[tf.distribute.Strategy] = None):
    """`strategy`: a tf.distribute strategy whose scope `model` was built in (None: default)."""
    self.model, self.data, self.cfg, self.seed = model, dataset, cfg, int(seed)
    self.workdir, self.dtype, self.threshold = workdir, tf.as_dtype(dtype), threshold
    self.strategy = strategy or tf.distribute.get_strategy()
    self.std_loss = training.loss_function(cfg.loss, dataset.num_outputs)
    self.lin_loss = training.loss_function(cfg.linearized_loss, dataset.num_outputs)
    with self.strategy.scope():
      self.linearized = LinearizedModel(model, centered=cfg.centered, order=cfg.order)
      self.params = [v.value for v in model.trainable_variables]
      lin_wd = (cfg.weight_decay if cfg.linearized_weight_decay is None
                else cfg.linearized_weight_decay)
      # Built here, not at their first step: a compiled step cannot create the velocities.
      self.std_opt = optimizers.TorchSGD(cfg.learning_rate, cfg.momentum, cfg.weight_decay)
      self.std_opt.build(model.trainable_variables)
      self.lin_opt = optimizers.TorchSGD(cfg.learning_rate, cfg.momentum, lin_wd)
      self.lin_opt.build(self.linearized.u)
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self._history_var = tf.Variable("[]", dtype=tf.string, trainable=False, name="history")
    self._trajectory_var = tf.Variable(b"", dtype=tf.string, trainable=False, name="trajectory")
    self.history, self.trajectory = [], {"step": [], "standard": [], "linearized": []}
    self.stopped = None  # Why training stopped before cfg.epochs (train.stop_*), if it did.
    self._held = None  # The epochs the starting rate is held, once decided (lr_hold_*).
    self._hold_checked = -1  # The epochs of history it was last looked for at.
    self._end = cfg.epochs  # The epochs the run lasts, as known so far.
    n_traj = min(cfg.trajectory_points, len(dataset.x_test))
    self.trajectory_x = tf.constant(dataset.x_test[:n_traj], dtype=self.dtype)
    labels = dataset.labels_test[:n_traj]
    # The output of the correct class (one output: the only output).
    self.trajectory_index = (np.zeros_like(labels) if dataset.num_outputs == 1 else labels)
    self.checkpoint = tf.train.Checkpoint(
        params=self.params, velocity=_values(self.std_opt.velocities),
        u=_values(self.linearized.u), u_velocity=_values(self.lin_opt.velocities),
        step=self.step, history=self._history_var,
        trajectory=self._trajectory_var)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(workdir, "checkpoints"), max_to_keep=cfg.max_checkpoints)
    self._compile()

  # --- compiled steps -------------------------------------------------------------------
  def _compile(self):
    jit = self.cfg.jit_compile
    model, lin = self.model, self.linearized

    # Traced per batch shape, never shape-generalized (reduce_retracing): a resumed run that
    # meets the short last batch first must compute bit for bit what an uninterrupted one does.
    def standard_step(x, y, lr):
      with tf.GradientTape() as tape:
        loss = self.std_loss(model(x, training=True), y)
      self.std_opt.apply_at(lr, tape.gradient(loss, self.params), model.trainable_variables)
      return loss

    def linearized_step(x, y, lr):
      loss, grads = lin.loss_and_gradient(x, y, self.lin_loss)
      self.lin_opt.apply_at(lr, grads, lin.u)
      return loss

    self.compiled_steps = dict(standard=training.CompiledStep(standard_step, jit),
                               linearized=training.CompiledStep(linearized_step, jit))
    self.standard_step = self.compiled_steps["standard"].step
    self.linearized_step = self.compiled_steps["linearized"].step
    if self.strategy.num_replicas_in_sync > 1:
      self.standard_step, self.linearized_step = self._distributed_steps()
    self.standard_fn = tf.function(lambda x: model(x, training=False), jit_compile=jit)
    self.linearized_fn = tf.function(lin.apply, jit_compile=jit)

  def _distributed_steps(self):
    """The two steps under a multi-replica strategy: each replica's loss is weighted by its
    share of the batch, so the summed gradients are the full batch's (distribute.py)."""
    strategy, model, lin, dtype = self.strategy, self.model, self.linearized, self.dtype
    total = tf.distribute.ReduceOp.SUM

    def weighted(loss_fn, x, batch):
      share = tf.cast(tf.shape(x)[0], dtype) / tf.cast(batch, dtype)
      return lambda out, y: loss_fn(out, y) * share

    def guarded(compute, x, variables):
      """compute() on a non-empty replica batch, zeros on an empty one (a short last batch)."""
      return tf.cond(tf.shape(x)[0] > 0, compute,
                     lambda: (tf.zeros((), dtype), [tf.zeros_like(v) for v in variables]))

    def standard_replica(x, y, batch):
      def compute():
        with tf.GradientTape() as tape:
          loss = weighted(self.std_loss, x, batch)(model(x, training=True), y)
        return loss, tape.gradient(loss, self.params)
      return guarded(compute, x, self.params)

    def linearized_replica(x, y, batch):
      return guarded(lambda: lin.loss_and_gradient(x, y, weighted(self.lin_loss, x, batch)),
                     x, lin.u)

    def step_of(replica_fn, optimizer, variables):
      @tf.function
      def step(x, y, lr, batch):
        losses, grads = strategy.run(replica_fn, args=(x, y, batch))
        optimizer.apply_at(lr, [strategy.reduce(total, g, axis=None) for g in grads], variables)
        return strategy.reduce(total, losses, axis=None)
      return step

    return (step_of(standard_replica, self.std_opt, model.trainable_variables),
            step_of(linearized_replica, self.lin_opt, lin.u))

  def _batch(self, idx, epoch: int):
    """(x, y, extra args) of one minibatch of epoch `epoch` (its shifts, in per_epoch mode),
    split over the replicas when there are several."""
    d = self.data
    x = d.train_batch(idx, epoch)
    if self.strategy.num_replicas_in_sync == 1:
      return (tf.constant(x, dtype=self.dtype),
              tf.constant(d.targets_train[idx], dtype=self.dtype), ())
    return (distribute.split_batch(self.strategy, x, self.dtype),
            distribute.split_batch(self.strategy, d.targets_train[idx], self.dtype),
            (tf.constant(len(idx), tf.int32),))

  def _steps_per_call(self) -> int:
    """train.steps_per_call, cut so that a chunk's inputs stay within CHUNK_BYTES; 1 under a
    multi-replica strategy (a chunk is not split over replicas)."""
    if self.strategy.num_replicas_in_sync > 1:
      return 1
    batch_bytes = self.cfg.batch_size * self.data.x_train[0].size * self.dtype.size
    return max(1, min(self.cfg.steps_per_call, CHUNK_BYTES // batch_bytes))

  def _chunk(self, chunk_idx, epoch: int):
    """(xs, ys, n): the minibatches `chunk_idx` of epoch `epoch` stacked on a leading axis and
    zero-padded to _steps_per_call() of them, so that every chunk has one shape (one trace)."""
    d, k = self.data, self._steps_per_call()
    xs = ys = None
    for i, idx in enumerate(chunk_idx):
      x, y = d.train_batch(idx, epoch), d.targets_train[idx]
      if xs is None:  # In the batches' own dtypes: converted once, as single steps convert.
        xs, ys = np.zeros((k, *x.shape), x.dtype), np.zeros((k, *y.shape), y.dtype)
      xs[i], ys[i] = x, y
    return (tf.constant(xs, dtype=self.dtype), tf.constant(ys, dtype=self.dtype),
            tf.constant(len(chunk_idx), tf.int32))

  def _train_chunk(self, chunk_idx, epoch: int, rates: dict, step: int):
    """Trains the models in `rates` ({which: (learning rate, as a tensor)}) on the minibatches
    `chunk_idx`, steps step + 1, ...: one compiled call per step when the chunk has one, else
    one per model. Each loss is checked in the order the per-step loop checks it."""
    if len(chunk_idx) == 1:
      x, y, extra = self._batch(chunk_idx[0], epoch)
      per_step = dict(standard=self.standard_step, linearized=self.linearized_step)
      for which, (lr, lr_t) in rates.items():
        self._check_finite(which, float(per_step[which](x, y, lr_t, *extra)), step + 1, epoch,
                           lr)
      return
    xs, ys, n = self._chunk(chunk_idx, epoch)
    losses = {which: self.compiled_steps[which].steps(xs, ys, n, lr_t).numpy()
              for which, (_, lr_t) in rates.items()}
    for i in range(len(chunk_idx)):
      for which, (lr, _) in rates.items():
        self._check_finite(which, float(losses[which][i]), step + 1 + i, epoch, lr)

  # --- state ----------------------------------------------------------------------------
  def restore(self) -> bool:
    """Restores the latest checkpoint, if any; returns whether one was found."""
    candidates = list(reversed(self.manager.checkpoints))  # Newest first.
    if not candidates:
      return False
    for path in candidates:
      try:
        self.checkpoint.restore(path).assert_existing_objects_matched()
        break
      except (tf.errors.OpError, ValueError, AssertionError, IndexError, KeyError,
              RuntimeError) as e:  # What TensorFlow raises for truncated or damaged files.
        logging.warning("checkpoint %s is unreadable (%s: %s); trying the previous one.", path,
                        type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    else:
      raise DataError(
          f"no readable checkpoint in {os.path.dirname(candidates[0])} ({len(candidates)} "
          "tried, all corrupted); delete that folder to start the run afresh.")
    self.history = json.loads(self._history_var.numpy().decode())
    blob = self._trajectory_var.numpy()
    if blob:
      with np.load(_io.BytesIO(blob)) as z:
        self.trajectory = {k: [row for row in z[k]] for k in z.files}
    logging.info("resumed from %s at step %d", path, int(self.step.numpy()))
    return True

  def save(self):
    self._history_var.assign(json.dumps(self.history))
    buffer = _io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in self.trajectory.items()})
    self._trajectory_var.assign(buffer.getvalue())
    self.manager.save(checkpoint_number=int(self.step.numpy()))

  def _record_trajectory(self, step: int):
    idx = self.trajectory_index
    std = self.standard_fn(self.trajectory_x).numpy()[np.arange(len(idx)), idx]
    lin = self.linearized_fn(self.trajectory_x).numpy()[np.arange(len(idx)), idx]
    self.trajectory["step"].append(step)
    self.trajectory["standard"].append(std)
    self.trajectory["linearized"].append(lin)

  def _evaluate(self, fn, loss_fn, x_train):
    """Train metrics on `x_train` (the epoch's training inputs), test metrics on x_test."""
    d, bs = self.data, self.cfg.eval_batch_size
    train = training.evaluate(fn, x_train, d.targets_train, d.labels_train, loss_fn, bs,
                              self.dtype, self.threshold)
    test = training.evaluate(fn, d.x_test, d.targets_test, d.labels_test, loss_fn, bs,
                             self.dtype, self.threshold)
    return dict(train_loss=train.loss, train_accuracy=train.accuracy,
                test_loss=test.loss, test_accuracy=test.accuracy)

  def _check_finite(self, which: str, loss: float, step: int, epoch: int, lr: float):
    if not np.isfinite(loss):
      last = self.manager.latest_checkpoint
      kept = f"the last good checkpoint ({last}) is kept" if last else "no checkpoint was written"
      key = "learning_rate" if which == "standard" else "linearized_learning_rate"
      raise training.TrainingDivergedError(
          f"the {which} model's training loss became {loss} at step {step} (epoch {epoch + 1}) "
          f"with learning rate {lr:g}; {kept}. Lower config.train.{key} (e.g. to {lr / 10:g}) "
          "and run again.")

  # --- the loop -------------------------------------------------------------------------
  def _stop_reason(self) -> Optional[str]:
    """Why training stops before cfg.epochs (train.stop_*; training.stopping), or None."""
    cfg = self.cfg
    return stopping.stop_reason(self._curves(), cfg.stop_fit_accuracy, cfg.stop_converged_pp,
                                cfg.stop_after_epochs)

  def _curves(self) -> dict:
    """Each trained model's per-epoch train accuracy (%) so far."""
    return {which: [100 * r[which]["train_accuracy"] for r in self.history]
            for which in ("standard", "linearized") if getattr(self.cfg, f"train_{which}")}

  def _hold(self) -> Optional[int]:
    """The epochs the starting rate is held (train.lr_hold_until_settled), None while undecided
    or without a hold."""
    cfg = self.cfg
    if cfg.lr_hold_until_settled is not None and self._held is None and \
        self._hold_checked != len(self.history):  # Once per epoch while undecided.
      self._hold_checked = len(self.history)
      self._held = stopping.hold_epochs(self._curves(), cfg.lr_decay_every,
                                        cfg.lr_hold_until_settled)
    return self._held

  def _rate(self, base: float, epoch: int, hold: Optional[int]) -> float:
    cfg = self.cfg
    if cfg.lr_hold_until_settled is None:
      return training.step_decay(base, epoch, cfg.lr_decay_every, cfg.lr_decay_factor)
    return stopping.held_rate(base, epoch, cfg.lr_decay_every, cfg.lr_decay_factor, hold)

  def _last_epoch(self) -> int:
    """The epochs the run lasts: cfg.epochs; with a hold, the schedule's rest after it (at most
    the longest hold's while the hold is undecided)."""
    cfg = self.cfg
    if cfg.lr_hold_until_settled is None:
      return cfg.epochs
    hold = self._hold()
    rest = cfg.epochs - cfg.lr_decay_every
    return (cfg.lr_hold_until_settled if hold is None else hold) + rest

  def _train_epoch(self, epoch: int, step: int, steps_per_epoch: int, rates: dict, bar,
                   on_step) -> int:
    """Trains from `step` to the end of epoch `epoch` at learning rates {which: lr}, in chunks
    of steps that end wherever the loop records, checkpoints or ends the epoch; the new step."""
    cfg = self.cfg
    rates = {which: (lr, tf.constant(lr, self.dtype)) for which, lr in rates.items()
             if getattr(cfg, f"train_{which}")}
    per_call = self._steps_per_call()
    batches = training.epoch_batches(len(self.data.x_train), cfg.batch_size, self.seed, epoch)
    epoch_end = (epoch + 1) * steps_per_epoch
    # A short last batch has a shape of its own, so a chunk of its own.
    full_end = epoch_end - int(len(self.data.x_train) % cfg.batch_size != 0)
    while step < epoch_end:
      first = step - epoch * steps_per_epoch
      n = chunk_end(step, full_end if step < full_end else epoch_end, per_call,
                    cfg.trajectory_steps, cfg.checkpoint_every_steps) - step
      self._train_chunk(batches[first:first + n], epoch, rates, step)
      step += n
      self.step.assign(step)
      if step <= cfg.trajectory_steps:
        self._record_trajectory(step)
      if cfg.checkpoint_every_steps and step % cfg.checkpoint_every_steps == 0 and \
          step % steps_per_epoch:
        self.save()
      bar.update(n, extra=f"epoch {epoch + 1}/{self._end}")
      if on_step:
        for b in range(first, first + n):
          on_step(epoch, b + 1, steps_per_epoch)
    return step

  def train(self, writer=None, on_step=None) -> list:
    """Runs (or resumes) the paired training; returns the per-epoch history.

    on_step(epoch, batch, steps_per_epoch), if given, is called after every step (after the
    chunk of steps that holds it).
    """
    cfg, d = self.cfg, self.data
    self.restore()
    steps_per_epoch = -(-len(d.x_train) // cfg.batch_size)
    lin_base = cfg.learning_rate if cfg.linearized_learning_rate is None else \
        cfg.linearized_learning_rate
    step = int(self.step.numpy())
    if step == 0 and not self.trajectory["step"]:
      self._record_trajectory(0)
    bar = progress.Progress(self._last_epoch() * steps_per_epoch, "paired training",
                            unit="steps", done=step)
    epoch = step // steps_per_epoch
    while True:
      self._end = self._last_epoch()  # A hold decided during the last epoch moves it.
      if epoch >= self._end:
        break
      self.stopped = self._stop_reason()
      if self.stopped:  # Checked before each epoch, so a resumed stopped run stops at once.
        logging.info("stopping after epoch %d of at most %d: %s", epoch, cfg.epochs,
                     self.stopped)
        break
      hold = self._hold()
      lr, lin_lr = (self._rate(base, epoch, hold) for base in (cfg.learning_rate, lin_base))
      start = time.time()
      step = self._train_epoch(epoch, step, steps_per_epoch, dict(standard=lr, linearized=lin_lr),
                               bar, on_step)
      seconds = time.time() - start
      if step > cfg.trajectory_steps:
        self._record_trajectory(step)
      record = dict(epoch=epoch + 1, step=step, learning_rate=lr, linearized_learning_rate=lin_lr)
      x_seen = d.train_images(epoch)  # This epoch's shifted images in per_epoch mode.
      if cfg.train_standard:
        record["standard"] = self._evaluate(self.standard_fn, self.std_loss, x_seen)
      if cfg.train_linearized:
        record["linearized"] = self._evaluate(self.linearized_fn, self.lin_loss, x_seen)
      self.history.append(record)
      self.save()
      _log_epoch(record, seconds, steps_per_epoch)
      if writer is not None:
        _write_scalars(writer, record)
      epoch += 1
    bar.close()
    return self.history


def _values(variables) -> list:
  """The TensorFlow variables under Keras variables: the checkpoint keeps the layout it had
  when the optimizer was hand-written, so that runs started then resume."""
  return [v.value for v in variables]


def _log_epoch(record, seconds, steps):
  parts = [f"epoch {record['epoch']}"]
  for which in ("standard", "linearized"):
    if which in record:
      m = record[which]
      parts.append(f"{which}: train {m['train_accuracy']:.4f} test {m['test_accuracy']:.4f} "
                   f"(loss {m['train_loss']:.4g})")
  parts.append(f"{seconds:.1f} s ({1000 * seconds / max(steps, 1):.1f} ms/step)")
  logging.info(" | ".join(parts))


def _write_scalars(writer, record):
  with writer.as_default(step=record["epoch"]):
    scalars = {"learning_rate": record["learning_rate"]}
    for which in ("standard", "linearized"):
      scalars.update({f"{which}/{k}": v for k, v in record.get(which, {}).items()})
    for tag, value in scalars.items():
      tf.summary.scalar(tag, value)
  writer.flush()
