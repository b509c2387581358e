"""Keras callbacks that watch the empirical NTK during anyone's own `model.fit`.

`NTKMonitor` takes the eNTK Θ_t of a fixed probe set every N epochs or steps (Vyas et al.'s
K^t, Fort et al.'s kernel velocity) and records its spectrum's effective rank and condition
number (Samarin et al. 2022, §4.2), its distance to the kernel at the start of fit, and its
alignment with the probe labels, to TensorBoard (tf.summary: scalars, the singular values as a
histogram, the kernel as an image) and to a JSON-lines file, one record per measurement.
"""

import json
import os
import time
from typing import Optional

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from ntk_tf.analysis import spectral
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import blocked, empirical, inspection, planning


class NTKMonitor(keras.callbacks.Callback):
  """The empirical NTK of a probe set during fit, with its spectrum and movement.

  Args:
    probe_x: (n, ...) inputs of the model.
    probe_y: optional (n, L) targets (e.g. one-hot labels) for the label alignment.
    every: measure every this many epochs (or steps); also at the start of fit.
    unit: "epoch" or "step" (steps as Keras reports batches: with steps_per_execution > 1,
      one per execution).
    log_dir: TensorBoard directory (None: no summaries).
    results_path: JSON-lines file appended with one record per measurement (None: none).
    outputs: "all" (the n·L × n·L kernel, as Samarin et al.'s spectra) or "trace" (n × n).
    memory_limit_gb, method: as empirical_ntk; the probe set is checked against them at the
      start of fit, before any step.
  Attributes:
    records: the measurements so far, as dicts.
  """

  def __init__(self, probe_x, probe_y=None, *, every: int = 1, unit: str = "epoch",
               log_dir: Optional[str] = None, results_path: Optional[str] = None,
               outputs: str = "all", memory_limit_gb: float = 4.0, method: str = "auto"):
    super().__init__()
    if unit not in ("epoch", "step"):
      raise ConfigError(f"NTKMonitor unit={unit!r}; use 'epoch' or 'step'.")
    if int(every) < 1:
      raise ConfigError(f"NTKMonitor every={every}; use a positive number of {unit}s.")
    if method not in empirical.METHODS:
      raise ConfigError(f"NTKMonitor method={method!r}; use one of "
                        f"{', '.join(empirical.METHODS)}.")
    if outputs not in ("all", "trace"):
      raise ConfigError(f"NTKMonitor outputs={outputs!r}; use 'all' or 'trace'.")
    self.probe_x = np.asarray(probe_x)
    self.probe_y = None if probe_y is None else np.asarray(probe_y, dtype=np.float64)
    if self.probe_y is not None and len(self.probe_y) != len(self.probe_x):
      raise ConfigError(f"NTKMonitor: {len(self.probe_y)} probe targets for "
                        f"{len(self.probe_x)} probe inputs.")
    self.every, self.unit, self.outputs = int(every), unit, outputs
    self.log_dir, self.results_path = log_dir, results_path
    self.memory_limit_gb, self.method = float(memory_limit_gb), method
    self.records, self._initial, self._writer, self._step = [], None, None, 0

  def on_train_begin(self, logs=None):
    n = len(self.probe_x)
    inspection.model_shapes(self.model, self.probe_x[:1])  # A subclassed model: called once.
    try:
      planning.plan(self.model, n, n, self.method, self.memory_limit_gb,
                    outputs=self.outputs, symmetric=True)
    except ConfigError as error:
      fits = self._largest_probe_set(n)
      advice = (f"{fits} samples would, or raise memory_limit_gb" if fits else
                "not even one sample fits: raise memory_limit_gb")
      raise ConfigError(f"NTKMonitor: the probe set of {n} samples does not fit "
                        f"memory_limit_gb={self.memory_limit_gb} ({error}); {advice}.") from None
    # Traced once for the whole fit: each measurement only sets the weights.
    self._kernel = empirical.kernel_fn(self.model, self.outputs, method=self.method,
                                       memory_limit_gb=self.memory_limit_gb,
                                       log_every_seconds=600.0)
    if self.log_dir:
      self._writer = tf.summary.create_file_writer(self.log_dir)
    self._initial = None  # Distances from the start of this fit; steps go on across fits.
    self._measure(epoch=0)

  def _largest_probe_set(self, n: int) -> int:
    def fits(size):
      try:
        planning.plan(self.model, size, size, self.method, self.memory_limit_gb,
                      outputs=self.outputs, symmetric=True)
        return True
      except ConfigError:
        return False
    return blocked.largest_fitting(fits, n - 1)

  def on_train_batch_end(self, batch, logs=None):
    self._step += 1
    if self.unit == "step" and self._step % self.every == 0:
      self._measure(epoch=None)

  def on_epoch_end(self, epoch, logs=None):
    if self.unit == "epoch" and (epoch + 1) % self.every == 0:
      self._measure(epoch=epoch + 1)

  def on_train_end(self, logs=None):
    if self._writer is not None:
      self._writer.close()

  def _measure(self, epoch: Optional[int]):
    start = time.time()
    kernel = self._kernel(self.probe_x)
    if kernel.ndim > 4:  # Outputs of rank > 1: (n, n, *out, *out) -> (n, n, P, P).
      n, size = len(kernel), int(np.sqrt(kernel[0, 0].size))
      kernel = kernel.reshape(n, n, size, size)
    if self._initial is None:
      self._initial = kernel
    sigma = spectral.singular_values_from_kernel(kernel)
    record = dict(step=self._step, epoch=epoch,
                  effective_rank=spectral.effective_rank(sigma),
                  condition_number=spectral.condition_number(sigma),
                  kernel_distance=spectral.kernel_distance(kernel, self._initial),
                  trace=float(np.trace(spectral.as_matrix(kernel))))
    if self.probe_y is not None:
      record["label_alignment"] = spectral.label_alignment(kernel, self.probe_y)
    record["seconds"] = time.time() - start
    self.records.append(record)
    logging.info("NTKMonitor at step %d: %s", self._step,
                 ", ".join(f"{k} {v:.4g}" for k, v in record.items()
                           if isinstance(v, float) and k != "seconds"))
    if self.results_path:
      os.makedirs(os.path.dirname(os.path.abspath(self.results_path)), exist_ok=True)
      with open(self.results_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    if self._writer is not None:
      with self._writer.as_default(step=self._step):
        for name, value in record.items():
          if isinstance(value, float) and name != "seconds":
            tf.summary.scalar(f"ntk/{name}", value)
        tf.summary.histogram("ntk/log10_singular_values", np.log10(sigma[sigma > 0]))
        square = spectral.as_matrix(kernel)
        image = np.abs(square) / max(np.abs(square).max(), 1e-300)
        tf.summary.image("ntk/kernel", image[None, :, :, None].astype(np.float32))
      self._writer.flush()
