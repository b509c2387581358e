"""One paired run of one seed: the network built under a strategy, PairedTrainer, its files.

seed_dir gets metrics.jsonl, metrics.csv (one row per epoch and model), trajectories.npz,
tensorboard/ and the trainer's checkpoints/; the run returns the final metrics of both models and
keeps them in seed_result.json, so that a rerun of a finished seed (for example on another
machine, from an archive of its small files, without checkpoints) reuses it instead of training.
"""

import csv
import os
import time
from typing import Callable, Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf import models
from ntk_tf.training.paired import PairedTrainer, TrainConfig
from ntk_tf.utils import distribute, io

METRIC_KEYS = ("train_accuracy", "test_accuracy", "train_loss", "test_loss")
SEED_RESULT = "seed_result.json"  # {"result": run_seed's return, "seconds": its wall time}.
SEED_FILES = ("metrics.jsonl", "trajectories.npz", SEED_RESULT)  # A finished seed's small files.


def finished_seed(seed_dir: str) -> Optional[dict]:
  """The saved seed_result.json of a finished seed (with its metrics and trajectories), else
  None."""
  if all(os.path.exists(os.path.join(seed_dir, f)) for f in SEED_FILES):
    return io.read_json(os.path.join(seed_dir, SEED_RESULT))
  return None


def write_metrics(history, seed_dir: str):
  """The per-epoch history as metrics.jsonl and metrics.csv."""
  io.write_jsonl(os.path.join(seed_dir, "metrics.jsonl"), history)
  rows = []
  for r in history:
    for which in ("standard", "linearized"):
      if which in r:
        rows.append(dict(epoch=r["epoch"], model=which, learning_rate=r["learning_rate"]
                         if which == "standard" else r["linearized_learning_rate"],
                         **r[which]))
  with open(os.path.join(seed_dir, "metrics.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["epoch", "model", "learning_rate", *METRIC_KEYS])
    writer.writeheader()
    writer.writerows(rows)


def training_state_notice(model) -> Optional[str]:
  """What a model whose layers keep state updated in training (BatchNormalization's moving
  statistics) means for a paired run, or None: the network trains with batch statistics, while
  its linearization f(w0) + J(w0)·u and every kernel use inference mode at w0's statistics."""
  stateful = sorted({layer.name for layer in model._flatten_layers()  # pylint: disable=protected-access
                     if isinstance(layer, keras.layers.BatchNormalization)})
  if not stateful:
    return None
  return (f"{model.name} has BatchNormalization ({', '.join(stateful)}): the network trains "
          "with batch statistics and updates its moving statistics; its linearization "
          "f(w0) + J(w0)·u, and every kernel, use inference mode at w0's moving statistics "
          "(mean 0, variance 1 at initialization), so the two models differ by more than "
          "the linearization.")


def run_seed(build_model: Callable, dataset, train_cfg: TrainConfig, seed: int, seed_dir: str,
             dtype: str = "float32",
             strategy: Optional[tf.distribute.Strategy] = None) -> dict:
  """One paired run of `build_model()` (built in `strategy`'s scope); its final metrics (those
  saved by a finished run of this seed in `seed_dir`, if there is one)."""
  done = finished_seed(seed_dir)
  if done is not None:
    logging.info("seed %d finished before: its results in %s are reused", seed, seed_dir)
    return done["result"]
  start = time.time()
  if strategy is None:
    strategy = distribute.get_strategy("default")
  with strategy.scope():
    model = build_model()
  logging.info("seed %d: %s with %s parameters on %d replica(s)", seed, model.name,
               f"{models.num_params(model):,}", strategy.num_replicas_in_sync)
  notice = training_state_notice(model)
  if notice:
    logging.warning("%s", notice)
  trainer = PairedTrainer(model, dataset, train_cfg, seed, seed_dir, dtype,
                          dataset.decision_threshold, strategy)
  writer = tf.summary.create_file_writer(os.path.join(seed_dir, "tensorboard"))
  logging.info("TensorBoard curves: tensorboard --logdir %s",
               os.path.dirname(os.path.abspath(seed_dir)))
  history = trainer.train(writer=writer)
  write_metrics(history, seed_dir)
  io.write_npz(os.path.join(seed_dir, "trajectories.npz"),
               **{k: np.asarray(v) for k, v in trainer.trajectory.items()})
  final = history[-1]
  result = dict(seed=seed, num_params=models.num_params(model), epochs=len(history),
                **({"stopped": trainer.stopped} if trainer.stopped else {}),
                **{k: final[k] for k in ("standard", "linearized") if k in final})
  io.write_json(os.path.join(seed_dir, SEED_RESULT),
                dict(result=result, seconds=time.time() - start))
  return result
