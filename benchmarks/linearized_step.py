"""Time of one linearized training step vs one standard step (LeNet, batch 32, MNIST shapes).

Usage:  python benchmarks/linearized_step.py [--widths=1,5,25] [--naive_widths=1,5] [--steps=50]
Runtime: ~4 min on a 2-core CPU (the naive method dominates).

Prints, per width, ms per step of the standard model (forward + backward + SGD update), of the
linearized model (one JVP forward + one VJP, ntk_tf.linearize), their ratio, and the same for
the naive method the papers describe: one backward pass per output and sample (B*L = 320
gradients per step here), then f_lin = f0 + J u and Jᵀ r. All compiled with XLA, same process.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position
from absl import app, flags  # pylint: disable=wrong-import-position

from ntk_tf import models, training  # pylint: disable=wrong-import-position
from ntk_tf.linearize import LinearizedModel  # pylint: disable=wrong-import-position

_WIDTHS = flags.DEFINE_list("widths", ["1", "5", "25"], "LeNet width factors.")
_NAIVE = flags.DEFINE_list("naive_widths", ["1", "5"], "Widths at which to time the naive method.")
_STEPS = flags.DEFINE_integer("steps", 50, "Timed steps per method (after 3 warm-up steps).")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Batch size.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Alternating repetitions; the best median counts.")


def time_steps(step, x, y, steps):
  """Median ms per step (each synchronized by reading the loss) after 3 warm-up steps."""
  for _ in range(3):
    float(step(x, y))
  times = []
  for _ in range(steps):
    start = time.perf_counter()
    float(step(x, y))
    times.append(time.perf_counter() - start)
  return 1000 * float(np.median(times))


def interleaved(fns, x, y, steps, repeats):
  """The best of `repeats` medians per function, alternating functions so that a slow phase of
  a shared machine does not bias one of them."""
  best = [float("inf")] * len(fns)
  for _ in range(repeats):
    for i, fn in enumerate(fns):
      best[i] = min(best[i], time_steps(fn, x, y, steps))
  return best


def steps_for(width, batch):
  model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=10, seed=0)
  params = [v.value for v in model.trainable_variables]
  std_opt = training.SGD(params, 0.9, 5e-5)
  lin = LinearizedModel(model)
  lin_opt = training.SGD(lin.u, 0.9, 5e-5)
  lr = tf.constant(0.1)

  @tf.function(jit_compile=True)
  def standard(x, y):
    with tf.GradientTape() as tape:
      loss = training.mse(model(x, training=True), y)
    std_opt.apply(tape.gradient(loss, params), lr)
    return loss

  @tf.function(jit_compile=True)
  def linearized(x, y):
    loss, grads = lin.loss_and_gradient(x, y, training.mse)
    lin_opt.apply(grads, lr)
    return loss

  @tf.function(jit_compile=True)
  def naive(x, y):
    w0 = [tf.convert_to_tensor(p) for p in lin.params0]
    with tf.GradientTape() as tape:
      tape.watch(w0)
      f0 = lin.apply_model(w0, x)
    # One backward pass per (sample, output): the papers' method, without vectorization.
    jac = tape.jacobian(f0, w0, experimental_use_pfor=False)
    jac = tf.concat([tf.reshape(j, [batch, 10, -1]) for j in jac], axis=-1)
    u = tf.concat([tf.reshape(v, [-1]) for v in lin.u], axis=0)
    out = f0 + tf.einsum("blp,p->bl", jac, u)
    loss = training.mse(out, y)
    flat_grad = tf.einsum("blp,bl->p", jac, 2.0 * (out - y) / tf.cast(tf.size(out), out.dtype))
    grads, offset = [], 0
    for v in lin.u:
      n = v.shape.num_elements()
      grads.append(tf.reshape(flat_grad[offset:offset + n], v.shape))
      offset += n
    lin_opt.apply(grads, lr)
    return loss

  return model, standard, linearized, naive


def main(argv):
  del argv
  rng = np.random.default_rng(0)
  batch = _BATCH.value
  x = tf.constant(rng.standard_normal((batch, 28, 28, 1)), tf.float32)
  y = tf.constant(np.eye(10)[rng.integers(0, 10, batch)], tf.float32)
  print(f"TensorFlow {tf.__version__}, devices {[d.name for d in tf.config.list_logical_devices()]},"
        f" {os.cpu_count()} CPU threads; batch {batch}")
  print(f"{'width':>5} {'params':>11} {'standard ms':>12} {'linearized ms':>14} {'ratio':>6} "
        f"{'naive ms':>10} {'naive ratio':>11}")
  for width in (int(w) for w in _WIDTHS.value):
    model, standard, linearized, naive = steps_for(width, batch)
    t_std, t_lin = interleaved([standard, linearized], x, y, _STEPS.value, _REPEATS.value)
    naive_cols = f"{'-':>10} {'-':>11}"
    if str(width) in _NAIVE.value:
      t_naive = time_steps(naive, x, y, max(3, _STEPS.value // 10))
      naive_cols = f"{t_naive:>10.1f} {t_naive / t_std:>11.1f}"
    print(f"{width:>5} {models.num_params(model):>11,} {t_std:>12.2f} {t_lin:>14.2f} "
          f"{t_lin / t_std:>6.2f} {naive_cols}", flush=True)


if __name__ == "__main__":
  app.run(main)
