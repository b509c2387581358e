"""ms per SGD step of LeNet and its linearization: one step per call vs many (MNIST shapes).

Usage:  python benchmarks/linearized_step.py [--widths=1,5] [--steps_per_call=4,16,64]
            [--jit=true,false] [--repeats=5] [--naive_widths=1] [--breakdown]
Runtime: ~2 min on a 2-core CPU at widths 1,5 (the naive method adds ~30 s at x1).

Prints, per width and compiler (XLA or TensorFlow's graph runtime), the ms per step of the
standard model (forward + backward + SGD update) and of the linearized one (one JVP forward +
one VJP, ntk_tf.ntk.linearize), run the way paired training runs them (training.CompiledStep): one
step per call, each synchronized by reading its loss ("per-step"; "plain": a plain tf.function
of the step, as paired training ran before train.steps_per_call), or k steps per call, the
losses read once ("chunk k"). Beside them, the ratio to PyTorch torch.func on the
same kind of 2-core CPU at x1 (4.4 ms standard, 7.9 ms linearized). Each figure is the best of
`repeats` repetitions, all functions alternating in each repetition (the machine is shared),
with the spread over repetitions and the 1-minute load average (/proc/loadavg) at the best and
over all. --breakdown adds where a x1 linearized step's time goes; --naive_widths the papers'
method (one backward pass per output and sample, B*L = 320 gradients per step here).
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position
from absl import app, flags  # pylint: disable=wrong-import-position

from ntk_tf import models
from ntk_tf.ntk.linearize import LinearizedModel  # pylint: disable=wrong-import-position
from ntk_tf.training import optimizers, steps as training

_WIDTHS = flags.DEFINE_list("widths", ["1", "5"], "LeNet width factors.")
_JIT = flags.DEFINE_list("jit", ["true", "false"], "Compilers: true = XLA, false = TF graphs.")
_PER_CALL = flags.DEFINE_list("steps_per_call", ["16"], "Steps per call of the chunked paths.")
_CALLS = flags.DEFINE_integer("calls", 4, "Chunks of steps timed per repetition.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Alternating repetitions; the best counts.")
_BATCH = flags.DEFINE_integer("batch_size", 32, "Batch size.")
_NAIVE = flags.DEFINE_list("naive_widths", [], "Widths at which to time the naive method.")
_BREAKDOWN = flags.DEFINE_bool("breakdown", False, "Time the pieces of a x1 linearized step.")

TORCH_FUNC_MS = {"standard": 4.4, "linearized": 7.9}  # x1, batch 32, same kind of CPU.


def load() -> float:
  """The 1-minute load average."""
  with open("/proc/loadavg") as f:
    return float(f.read().split()[0])


def step_bodies(width):
  """(model, lin, {which: body(x, y, lr)}) for LeNet at `width` with SGD as in paired runs."""
  model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=10, seed=0)
  params = [v.value for v in model.trainable_variables]
  lin = LinearizedModel(model)
  # Built before tracing, as the paired trainer's: a compiled step cannot create velocities.
  std_opt = optimizers.TorchSGD(0.1, 0.9, 5e-5)
  std_opt.build(model.trainable_variables)
  lin_opt = optimizers.TorchSGD(0.1, 0.9, 5e-5)
  lin_opt.build(lin.u)

  def standard(x, y, lr):
    with tf.GradientTape() as tape:
      loss = training.mse(model(x, training=True), y)
    std_opt.apply_at(lr, tape.gradient(loss, params), model.trainable_variables)
    return loss

  def linearized(x, y, lr):
    loss, grads = lin.loss_and_gradient(x, y, training.mse)
    lin_opt.apply_at(lr, grads, lin.u)
    return loss

  return model, lin, {"standard": standard, "linearized": linearized}


def runners(body, jit, xs, ys, lr, chunk_sizes):
  """{path: run()} where run() trains some steps and returns how many: one step per call of a
  plain tf.function of `body` (paired training before steps_per_call) and of CompiledStep
  (steps_per_call=1), len(xs) steps each, or one call of k steps for each k in chunk_sizes."""
  batches = [(xs[i], ys[i]) for i in range(int(xs.shape[0]))]
  compiled = training.CompiledStep(body, jit)

  def one_per_call(step):
    def run():
      for x, y in batches:
        float(step(x, y, lr))  # Read each loss, as the per-step training loop does.
      return len(batches)
    return run

  def chunk_of(k):
    n = tf.constant(k, tf.int32)

    def chunked():
      compiled.steps(xs[:k], ys[:k], n, lr).numpy()
      return k
    return chunked

  return {"plain": one_per_call(tf.function(body, jit_compile=jit)),
          "per-step": one_per_call(compiled.step),
          **{f"chunk {k}": chunk_of(k) for k in chunk_sizes}}


def time_alternating(fns: dict, calls: int, repeats: int) -> dict:
  """{name: [(ms per step, load)] per repetition}: each repetition times every function in
  turn, `calls` calls each (median), after two warm-up calls."""
  for fn in fns.values():
    fn()
    fn()
  out = {name: [] for name in fns}
  for _ in range(repeats):
    for name, fn in fns.items():
      times = []
      for _ in range(calls):
        start = time.perf_counter()
        steps = fn()
        times.append((time.perf_counter() - start) / steps)
      out[name].append((1000 * float(np.median(times)), load()))
  return out


def summary(samples) -> tuple:
  """(best ms, slowest ms, load at the best, lowest load, highest load)."""
  best_ms, best_load = min(samples)
  loads = [l for _, l in samples]
  return best_ms, max(ms for ms, _ in samples), best_load, min(loads), max(loads)


def breakdown(lin, model, x, y, jit, calls, repeats):
  """ms of the pieces of a linearized step: forward, forward + JVP, VJP at w0, the gradient."""
  u = [tf.convert_to_tensor(v) for v in lin.u]
  pieces = {
      "forward f(w0, x)": lambda: model(x, training=False),
      "forward + JVP": lambda: lin.jvp(x, u),
      "VJP at w0": lambda: lin.vjp(x, y),
      "loss and gradient": lambda: lin.loss_and_gradient(x, y, training.mse),
  }
  fns = {}
  for name, piece in pieces.items():
    compiled = tf.function(piece, jit_compile=jit)
    fns[name] = (lambda c: lambda: (tf.nest.map_structure(lambda t: t.numpy(), c()), 1)[1])(
        compiled)
  return time_alternating(fns, calls * 4, repeats)


def naive_step(lin, lr, batch):
  """The papers' method: one backward pass per (sample, output), then f0 + J u and Jᵀ r."""
  lin_opt = optimizers.TorchSGD(float(lr), 0.9, 5e-5)
  lin_opt.build(lin.u)

  @tf.function(jit_compile=True)
  def naive(x, y):
    w0 = [tf.convert_to_tensor(p) for p in lin.params0]
    with tf.GradientTape() as tape:
      tape.watch(w0)
      f0 = lin.apply_model(w0, x)
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
    lin_opt.apply(grads, lin.u)
    return loss

  return naive


def print_rows(width, params, jit, results, paths):
  tag = "XLA" if jit else "TF"
  for path in paths:
    cols = []
    for which in ("standard", "linearized"):
      best, worst, at, lo, hi = summary(results[(which, path)])
      ratio = f"{best / TORCH_FUNC_MS[which]:>5.2f}" if width == 1 else f"{'-':>5}"
      cols.append(f"{best:>8.2f} {worst:>7.2f} {ratio} {at:>5.2f} {lo:>5.2f}-{hi:<5.2f}")
    print(f"{width:>3} {params:>10,} {tag:>3} {path:>8} | " + " | ".join(cols), flush=True)


def main(argv):
  del argv
  tf.get_logger().setLevel("ERROR")  # Chunks of several sizes retrace on purpose.
  rng = np.random.default_rng(0)
  batch, sizes = _BATCH.value, [int(k) for k in _PER_CALL.value]
  k = max(sizes)
  xs = tf.constant(rng.standard_normal((k, batch, 28, 28, 1)), tf.float32)
  ys = tf.constant(np.eye(10)[rng.integers(0, 10, (k, batch))], tf.float32)
  lr = tf.constant(0.1)
  print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU threads; batch {batch}, "
        f"chunks of {', '.join(map(str, sizes))} steps per call, {k} steps per call of the "
        f"per-step path's timer; {_REPEATS.value} alternating repetitions of the median of "
        f"{_CALLS.value} calls")
  print("ms/step: best and slowest repetition; /torch: best / torch.func's (x1: 4.4 standard, "
        "7.9 linearized); load: 1-min load average at the best, and its range")
  print(f"{'w':>3} {'params':>10} {'':>3} {'path':>8} | "
        + " | ".join(f"{which + ' ms':>16} {'/torch':>5} {'load':>5} {'range':>11}"
                     for which in ("standard", "linearized")))
  for width in (int(w) for w in _WIDTHS.value):
    for jit in (j.lower() == "true" for j in _JIT.value):
      model, lin, bodies = step_bodies(width)
      fns = {}
      for which, body in bodies.items():
        for path, run in runners(body, jit, xs, ys, lr, sizes).items():
          fns[(which, path)] = run
      results = time_alternating(fns, _CALLS.value, _REPEATS.value)
      print_rows(width, models.num_params(model), jit, results,
                 ["plain", "per-step"] + [f"chunk {k}" for k in sizes])
      if _BREAKDOWN.value and width == 1:
        for name, samples in breakdown(lin, model, xs[0], ys[0], jit, _CALLS.value,
                                       _REPEATS.value).items():
          best, worst, at, _, _ = summary(samples)
          print(f"      {'XLA' if jit else 'TF':>3} {name:<20} {best:>7.2f} ms "
                f"(slowest {worst:.2f}, load {at:.2f})")
    if str(width) in _NAIVE.value:
      _, lin, _ = step_bodies(width)
      naive = naive_step(lin, lr, batch)
      fns = {"naive": lambda: (float(naive(xs[0], ys[0])), 1)[1]}
      best, _, at, _, _ = summary(time_alternating(fns, 3, 1)["naive"])
      print(f"{width:>3} naive (XLA, one backward pass per sample and output): {best:.0f} ms/step"
            f" (load {at:.2f})", flush=True)


if __name__ == "__main__":
  app.run(main)
