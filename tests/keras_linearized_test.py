"""LinearizedModel as a keras.Model (compile, fit, evaluate, predict, save, load) and TorchSGD,
against the paired trainer's loop (TorchSGD.apply_at with loss_and_gradient), hand-computed optimizer
steps and a 2-replica MirroredStrategy, in float64."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import optimizers, steps as training
import ntk_tf
from tests import test_utils

F64 = "float64"


class Float64TestCase(test_utils.TestCase):
  """Keras converts fit/predict inputs and computes losses and metrics in floatx: float64 here."""

  def setUp(self):
    super().setUp()
    self.addCleanup(keras.config.set_floatx, keras.config.floatx())
    keras.config.set_floatx(F64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def small_cnn(seed=0, batchnorm=False):
  keras.utils.set_random_seed(seed)
  inp = keras.Input((6, 6, 1), dtype=F64)
  h = keras.layers.Conv2D(3, 3, activation="tanh", dtype=F64)(inp)
  if batchnorm:
    h = keras.layers.BatchNormalization(dtype=F64)(h)
  h = keras.layers.Flatten(dtype=F64)(h)
  return keras.Model(inp, keras.layers.Dense(4, dtype=F64)(h))


def data(n=12, seed=1):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 6, 6, 1))
  y = np.eye(4)[rng.integers(0, 4, n)]
  return x, y


def hand_loop(model, x, y, batch_size, epochs, lr, momentum, weight_decay, centered=False,
              order=1):
  """The paired trainer's pieces: loss_and_gradient and TorchSGD.apply_at, batches in order."""
  lin = LinearizedModel(model, centered=centered, order=order)
  opt = optimizers.TorchSGD(0.0, momentum=momentum, weight_decay=weight_decay)
  opt.build(lin.u)
  for _ in range(epochs):
    for start in range(0, len(x), batch_size):
      xb, yb = (tf.constant(a[start:start + batch_size]) for a in (x, y))
      _, grads = lin.loss_and_gradient(xb, yb, training.mse)
      opt.apply_at(lr, grads, lin.u)
  return lin


class TorchSGDTest(Float64TestCase):

  def test_two_steps_by_hand(self):
    p = keras.Variable(np.array([1.0, -2.0]), dtype=F64)
    opt = optimizers.TorchSGD(0.1, momentum=0.9, weight_decay=0.01)
    g1, g2 = np.array([0.5, 0.25]), np.array([-1.0, 2.0])
    opt.apply([tf.constant(g1)], [p])
    d1 = g1 + 0.01 * np.array([1.0, -2.0])          # g + λp
    v1 = d1                                         # v = μ·0 + g
    p1 = np.array([1.0, -2.0]) - 0.1 * v1
    np.testing.assert_array_equal(p.numpy(), p1)
    opt.apply([tf.constant(g2)], [p])
    v2 = 0.9 * v1 + (g2 + 0.01 * p1)
    np.testing.assert_allclose(p.numpy(), p1 - 0.1 * v2, rtol=0, atol=1e-16)

  def test_the_learning_rate_is_exact_in_float64(self):
    opt = optimizers.TorchSGD(0.1)
    self.assertEqual(opt.learning_rate.dtype, "float64")
    self.assertEqual(float(opt.learning_rate.numpy()), 0.1)

  def test_config_round_trip(self):
    opt = optimizers.TorchSGD(0.05, momentum=0.5, weight_decay=1e-4)
    again = optimizers.TorchSGD.from_config(opt.get_config())
    self.assertEqual((again.momentum, again.coupled_weight_decay), (0.5, 1e-4))
    self.assertIsNone(again.weight_decay)  # Keras' decoupled decay stays off.

  def test_negative_momentum_is_refused(self):
    with self.assertRaisesRegex(ValueError, "must be >= 0"):
      optimizers.TorchSGD(0.1, momentum=-0.1)


class KerasLinearizedModelTest(Float64TestCase, parameterized.TestCase):

  @parameterized.named_parameters(("linear", False, 1), ("centered", True, 1),
                                  ("second_order", False, 2))
  def test_fit_takes_the_hand_loops_steps(self, centered, order):
    x, y = data()
    reference = hand_loop(small_cnn(), x, y, batch_size=4, epochs=2, lr=0.05, momentum=0.9,
                          weight_decay=1e-3, centered=centered, order=order)
    lin = LinearizedModel(small_cnn(), centered=centered, order=order)
    lin.compile(optimizer=optimizers.TorchSGD(0.05, momentum=0.9, weight_decay=1e-3),
                loss="mse")
    history = lin.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for mine, theirs in zip(lin.u, reference.u):
      np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=0, atol=1e-13)
    self.assertLen(history.history["loss"], 2)
    self.assertTrue(np.all(np.isfinite(history.history["loss"])))

  def test_a_loss_scaling_optimizer_takes_the_same_steps(self):
    x, y = data()
    models_ = []
    for factor in (None, 1024.0):
      lin = LinearizedModel(small_cnn())
      lin.compile(optimizer=optimizers.TorchSGD(0.05, momentum=0.9, loss_scale_factor=factor),
                  loss="mse")
      lin.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
      models_.append(lin)
    for a, b in zip(*(m.u for m in models_)):
      np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-13)

  def test_fit_reports_the_epochs_mean_loss_and_metrics(self):
    x, y = data()
    lin = LinearizedModel(small_cnn())
    lin.compile(optimizer=optimizers.TorchSGD(0.0), loss="mse", metrics=["accuracy"])
    history = lin.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    out = lin.apply(tf.constant(x)).numpy()         # u stays 0 at learning rate 0.
    self.assertAlmostEqual(history.history["loss"][0], np.mean((out - y) ** 2), places=12)
    self.assertAlmostEqual(history.history["accuracy"][0],
                           np.mean(out.argmax(1) == y.argmax(1)), places=12)

  def test_predict_and_evaluate_are_f_lin(self):
    x, y = data()
    model = small_cnn()
    lin = LinearizedModel(model)
    for v, seed in zip(lin.u, range(10)):
      v.assign(0.1 * np.random.default_rng(seed).normal(size=v.shape))
    out = lin.apply(tf.constant(x)).numpy()
    np.testing.assert_allclose(lin.predict(x, batch_size=5, verbose=0), out, atol=1e-14)
    lin.compile(loss="mse")
    self.assertAlmostEqual(lin.evaluate(x, y, batch_size=12, verbose=0),
                           np.mean((out - y) ** 2), places=12)
    self.assertEqual([w.name for w in lin.trainable_weights], [v.name for v in lin.u])
    self.assertEqual(len(lin.non_trainable_weights), len(model.trainable_weights))

  def test_base_model_weights_are_neither_read_nor_trained(self):
    x, y = data()
    model = small_cnn()
    before = [w.numpy().copy() for w in model.weights]
    lin = LinearizedModel(model)
    out = lin.apply(tf.constant(x)).numpy()
    model.weights[0].assign(model.weights[0] + 1.0)   # Changing the base model afterwards...
    np.testing.assert_allclose(lin.apply(tf.constant(x)).numpy(), out, atol=1e-15)  # ...is moot.
    model.weights[0].assign(before[0])
    lin.compile(optimizer=optimizers.TorchSGD(0.1), loss="mse")
    lin.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for w, b in zip(model.weights, before):
      np.testing.assert_array_equal(w.numpy(), b)

  @parameterized.named_parameters(("plain", False), ("batchnorm", True))
  def test_save_and_load_then_go_on_fitting(self, batchnorm):
    x, y = data()
    lin = LinearizedModel(small_cnn(batchnorm=batchnorm), centered=True)
    lin.compile(optimizer=optimizers.TorchSGD(0.05, momentum=0.9, weight_decay=1e-3),
                loss="mse")
    if batchnorm:
      with self.assertWarnsRegex(UserWarning, r"BatchNormalization layers \(batch_normaliz"
                                              r".*moving mean and variance as at construction"):
        lin.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    else:
      lin.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    path = os.path.join(self.create_tempdir().full_path, "lin.keras")
    lin.save(path)
    loaded = ntk_tf.load_model(path)
    self.assertIsInstance(loaded, LinearizedModel)
    self.assertTrue(loaded.centered)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), lin.predict(x, verbose=0))
    for model in (lin, loaded):   # The optimizer's velocity came along: the same next epoch.
      model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(loaded.u, lin.u):
      np.testing.assert_array_equal(a.numpy(), b.numpy())

  def test_our_lenet_saves_and_loads(self):
    model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0,
                         dtype=F64)
    lin = LinearizedModel(model)
    x = np.random.default_rng(2).normal(size=(3, 28, 28, 1))
    path = os.path.join(self.create_tempdir().full_path, "lenet.keras")
    lin.save(path)
    np.testing.assert_array_equal(ntk_tf.load_model(path).predict(x, verbose=0),
                                  lin.predict(x, verbose=0))

  def test_an_unbuilt_model_is_refused(self):
    model = keras.Sequential([keras.layers.Dense(2)])
    with self.assertRaisesRegex(ConfigError, "build it"):
      LinearizedModel(model)


# TensorFlow fixes its devices at start-up: the 2-replica fit runs in a fresh interpreter.
MIRRORED = textwrap.dedent('''
    import json
    import numpy as np
    import keras
    import tensorflow as tf
    keras.config.set_floatx("float64")
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from tests import keras_linearized_test as t
    from ntk_tf.training import optimizers
    from ntk_tf.ntk.linearize import LinearizedModel
    x, y = t.data(n=16)
    out = {}
    for name, strategy in (("default", tf.distribute.get_strategy()),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
      with strategy.scope():
        lin = LinearizedModel(t.small_cnn())
        lin.compile(optimizer=optimizers.TorchSGD(0.05, momentum=0.9, weight_decay=1e-3),
                    loss="mse")
      history = lin.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
      out[name] = dict(u=[v.numpy().ravel().tolist() for v in lin.u],
                       loss=history.history["loss"],
                       replicas=strategy.num_replicas_in_sync)
    print("RESULT", json.dumps(out))
''')


class MirroredFitTest(test_utils.TestCase):

  def test_two_replicas_fit_like_one(self):
    done = subprocess.run([sys.executable, "-c", MIRRORED], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    lines = [l for l in done.stdout.splitlines() if l.startswith("RESULT ")]
    self.assertTrue(lines, done.stderr[-3000:])
    out = json.loads(lines[-1][len("RESULT "):])
    self.assertEqual(out["mirrored"]["replicas"], 2)
    for a, b in zip(out["default"]["u"], out["mirrored"]["u"]):
      np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    np.testing.assert_allclose(out["default"]["loss"], out["mirrored"]["loss"], rtol=1e-12)


if __name__ == "__main__":
  absltest.main()
