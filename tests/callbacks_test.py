"""NTKMonitor during model.fit, and the kernel distance and label alignment it records."""

import json
import os

import keras
import numpy as np
import tensorflow as tf
from absl.testing import absltest

from ntk_tf.analysis import spectral
from ntk_tf.errors import ConfigError
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import callbacks, optimizers
import ntk_tf
from tests import test_utils
from tests.keras_linearized_test import Float64TestCase, data, small_cnn


def events(log_dir):
  """{tag: [step, ...]} of the TensorBoard event files under log_dir."""
  found = {}
  for name in os.listdir(log_dir):
    for event in tf.compat.v1.train.summary_iterator(os.path.join(log_dir, name)):
      for value in event.summary.value:
        found.setdefault(value.tag, []).append(event.step)
  return found


class KernelMeasuresTest(test_utils.TestCase):

  def test_kernel_distance(self):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 3))
    k = a @ a.T
    self.assertAlmostEqual(spectral.kernel_distance(k, 3.0 * k), 0.0, places=15)
    self.assertAlmostEqual(spectral.kernel_distance(np.diag([1.0, 0.0]), np.diag([0.0, 2.0])),
                           1.0, places=15)
    # (n, n, L, L) and its (n·L, n·L) matrix are the same kernel.
    k4 = rng.normal(size=(3, 3, 2, 2))
    self.assertAlmostEqual(spectral.kernel_distance(k4, spectral.as_matrix(k4)), 0.0, places=14)

  def test_label_alignment(self):
    y = np.eye(3)[[0, 1, 1, 2]]
    self.assertAlmostEqual(spectral.label_alignment(y @ y.T, y), 1.0, places=15)
    k = np.diag([1.0, 2.0, 3.0, 4.0])
    # ⟨K, YYᵀ⟩ = Σ_i K_ii = 10; ‖K‖ = sqrt(30); YYᵀ has six 1s (samples 1 and 2 agree).
    self.assertAlmostEqual(spectral.label_alignment(k, y), 10 / np.sqrt(30) / np.sqrt(6),
                           places=15)
    with self.assertRaisesRegex(ValueError, "targets of shape"):
      spectral.label_alignment(k, np.ones((3, 2)))


class NTKMonitorTest(Float64TestCase):

  def fit(self, model, monitor, epochs=2):
    x, y = data()
    model.compile(optimizer=optimizers.TorchSGD(0.1, momentum=0.9), loss="mse")
    model.fit(x, y, batch_size=4, epochs=epochs, shuffle=False, verbose=0, callbacks=[monitor])
    return x, y

  def test_records_each_epoch_to_tensorboard_and_a_file(self):
    x, y = data()
    tmp = self.create_tempdir().full_path
    model = small_cnn()
    monitor = callbacks.NTKMonitor(x[:6], y[:6], log_dir=os.path.join(tmp, "tb"),
                                   results_path=os.path.join(tmp, "ntk.jsonl"))
    self.fit(model, monitor)
    self.assertEqual([r["epoch"] for r in monitor.records], [0, 1, 2])
    self.assertEqual([r["step"] for r in monitor.records], [0, 3, 6])
    self.assertEqual(monitor.records[0]["kernel_distance"], 0.0)
    self.assertGreater(monitor.records[-1]["kernel_distance"], 0.0)  # The network's kernel moves.
    # The last record is the kernel after fit, computed independently by per-sample Jacobians.
    reference = ntk_tf.empirical_ntk(model, x[:6], method="jacobian", dtype="float64")
    sigma = spectral.singular_values_from_kernel(reference)
    self.assertAlmostEqual(monitor.records[-1]["effective_rank"], spectral.effective_rank(sigma),
                           places=9)
    self.assertAlmostEqual(monitor.records[-1]["label_alignment"],
                           spectral.label_alignment(reference, y[:6]), places=9)
    with open(os.path.join(tmp, "ntk.jsonl"), encoding="utf-8") as f:
      self.assertEqual([json.loads(line) for line in f], monitor.records)
    tags = events(os.path.join(tmp, "tb"))
    self.assertEqual(tags["ntk/effective_rank"], [0, 3, 6])
    for tag in ("ntk/condition_number", "ntk/kernel_distance", "ntk/label_alignment",
                "ntk/log10_singular_values", "ntk/kernel"):
      self.assertIn(tag, tags)

  def test_a_second_fit_measures_from_its_own_start_and_steps_go_on(self):
    x, _ = data()
    model = small_cnn()
    monitor = callbacks.NTKMonitor(x[:4], outputs="trace")
    self.fit(model, monitor, epochs=1)
    self.fit(model, monitor, epochs=1)
    self.assertEqual([r["step"] for r in monitor.records], [0, 3, 3, 6])
    self.assertEqual(monitor.records[2]["kernel_distance"], 0.0)
    self.assertGreater(monitor.records[3]["kernel_distance"], 0.0)

  def test_every_n_steps(self):
    x, _ = data()
    monitor = callbacks.NTKMonitor(x[:4], every=2, unit="step", outputs="trace")
    self.fit(small_cnn(), monitor)   # 3 steps per epoch, 2 epochs.
    self.assertEqual([r["step"] for r in monitor.records], [0, 2, 4, 6])

  def test_the_linearizations_kernel_stays_put(self):
    x, _ = data()
    monitor = callbacks.NTKMonitor(x[:5], outputs="trace")
    self.fit(LinearizedModel(small_cnn()), monitor)
    self.assertLen(monitor.records, 3)
    for record in monitor.records:   # J(w0) Jᵀ(w0) whatever u: distance 0 to rounding.
      self.assertLess(record["kernel_distance"], 1e-13)

  def test_a_probe_set_too_large_is_refused_before_any_step(self):
    x, _ = data()
    model = small_cnn()
    before = [w.numpy().copy() for w in model.weights]
    monitor = callbacks.NTKMonitor(np.repeat(x, 400, axis=0), memory_limit_gb=0.2)
    with self.assertRaisesRegex(ConfigError, r"probe set of 4800 samples does not fit "
                                             r"memory_limit_gb=0.2 .* \d+ samples would"):
      self.fit(model, monitor)
    for w, b in zip(model.weights, before):
      np.testing.assert_array_equal(w.numpy(), b)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ConfigError, "unit='batch'"):
      callbacks.NTKMonitor(np.zeros((2, 6, 6, 1)), unit="batch")
    with self.assertRaisesRegex(ConfigError, "3 probe targets for 2 probe inputs"):
      callbacks.NTKMonitor(np.zeros((2, 6, 6, 1)), np.zeros((3, 4)))


if __name__ == "__main__":
  absltest.main()
