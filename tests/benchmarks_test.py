"""The training-step benchmark against today's library: every path it times takes real steps.

benchmarks/linearized_step.py builds its steps from the library's internals (optimizers, the
compiled step, LinearizedModel), which change more often than the others' public calls; an
API change once left it failing at start-up (training.SGD, replaced by TorchSGD). Run in
process at LeNet x1 on a batch of 2, TF graphs only (no XLA compile).
"""

import importlib.util
import os

import numpy as np
import tensorflow as tf
from absl.testing import absltest

from ntk_tf.training import steps as training

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_benchmark(name):
  spec = importlib.util.spec_from_file_location(
      f"benchmark_{name}", os.path.join(ROOT, "benchmarks", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


class LinearizedStepBenchmarkTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.bench = load_benchmark("linearized_step")
    rng = np.random.default_rng(0)
    cls.xs = tf.constant(rng.standard_normal((2, 2, 28, 28, 1)), tf.float32)
    cls.ys = tf.constant(np.eye(10)[rng.integers(0, 10, (2, 2))], tf.float32)
    cls.lr = tf.constant(0.1)

  def test_every_timed_path_moves_its_weights(self):
    model, lin, bodies = self.bench.step_bodies(1)
    weights = {"standard": model.trainable_variables, "linearized": lin.u}
    for which, body in bodies.items():
      for path, run in self.bench.runners(body, False, self.xs, self.ys, self.lr, [2]).items():
        before = [v.numpy().copy() for v in weights[which]]
        self.assertGreater(run(), 0, f"{which} {path}")
        moved = max(np.abs(v.numpy() - b).max() for v, b in zip(weights[which], before))
        self.assertGreater(moved, 0.0, f"{which} {path}: no weight moved")

  def test_the_naive_step_computes_the_linearized_models_loss(self):
    # The papers' per-(sample, output) backward passes against the JVP/VJP linearization.
    _, lin, bodies = self.bench.step_bodies(1)
    bodies["linearized"](self.xs[0], self.ys[0], self.lr)  # u away from 0.
    expected, _ = lin.loss_and_gradient(self.xs[1], self.ys[1], training.mse)
    naive = self.bench.naive_step(lin, self.lr, 2)
    np.testing.assert_allclose(float(naive(self.xs[1], self.ys[1])), float(expected),
                               rtol=1e-4)


if __name__ == "__main__":
  absltest.main()
