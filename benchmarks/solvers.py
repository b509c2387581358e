"""Solver benchmarks: LSQR seconds per iteration and the dense gelsd solve, binary MNIST.

Usage:  python benchmarks/solvers.py [--lsqr_widths=1,5,25] [--lstsq_widths=1]
                                     [--iterations=5] [--dtype=float32] [--jit]
Rows: all 5,000 offline MNIST digits (mnist5k train + test), digit 0 vs rest, one output
(LinLeNet, Samarin et al. 2022 §4.3). Each measurement runs in its own process so its peak
resident memory is its own. LSQR figures exclude the first iteration (tracing/compilation).
Runtime: x1 ~1 min, x5 ~2 min, x25 ~15 min on a 2-core CPU; lstsq x1 ~3 min.
"""

from absl import app, flags

import child

_LSQR = flags.DEFINE_list("lsqr_widths", ["1", "5", "25"], "LeNet widths for LSQR.")
_LSTSQ = flags.DEFINE_list("lstsq_widths", ["1"], "LeNet widths for the dense solve.")
_ITERS = flags.DEFINE_integer("iterations", 5, "LSQR iterations timed (after a warm-up one).")
_DTYPE = flags.DEFINE_string("dtype", "float32", "Model dtype for the JVP/VJP operator.")
_JIT = flags.DEFINE_bool("jit", False, "Compile the JVP/VJP with XLA.")

CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from ntk_tf import data, models
from ntk_tf.solvers import dense, iterative
from ntk_tf.solvers.operator import JacobianOperator
kind, width, iters, dtype, jit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
cfg = data.default_config(); cfg.target = "class_vs_rest"; cfg.binary_labels = "01"
d = data.load(cfg, seed=0)
x = np.concatenate([d.x_train, d.x_test]); y = np.concatenate([d.targets_train, d.targets_test])
model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=1, seed=0,
                     dtype=dtype if kind == "lsqr" else "float64")
out = dict(kind=kind, width=width, params=models.num_params(model), rows=len(x))
if kind == "lsqr":
  op = JacobianOperator(model, x, batch_size=500, jit_compile=jit)
  r = (y - op.initial_outputs()).ravel()
  iterative.solve(op, r, iter_lim=1, checkpoint_every=0)  # Warm-up: traces JVP and VJP.
  start = time.time()
  sol = iterative.solve(op, r, iter_lim=iters, checkpoint_every=0)
  out.update(seconds_per_iteration=(time.time() - start) / sol.iterations,
             relative_residual=sol.residual_norm / float(np.linalg.norm(r)))
else:
  est = dense.estimate(len(x), out["params"])
  start = time.time()
  jac = dense.jacobian_matrix(model, x, block_size=32)
  build = time.time() - start
  op = JacobianOperator(model, x, batch_size=500)
  r = (y - op.initial_outputs()).ravel()
  sol = dense.lstsq(jac, r)
  out.update(build_seconds=build, solve_seconds=sol.seconds, rank=sol.rank,
             estimated_peak_gib=est.peak_bytes / 2**30)
out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps(out))
"""


def main(argv):
  del argv
  jit = "1" if _JIT.value else "0"
  print(f"LSQR on 5,000 binary MNIST digits ({_DTYPE.value}{', XLA' if _JIT.value else ''})")
  print(f"{'width':>5} {'params':>12} {'s/iteration':>12} {'peak GiB':>9}")
  for width in _LSQR.value:
    r = child.run_json(CHILD, "lsqr", width, _ITERS.value, _DTYPE.value, jit)
    if "error" in r:
      print(f"{width:>5} failed: {r['error']}")
      continue
    print(f"{width:>5} {r['params']:>12,} {r['seconds_per_iteration']:>12.2f} "
          f"{r['peak_rss_gib']:>9.2f}", flush=True)
  print("\nDense least squares (float64 J, LAPACK gelsd)")
  print(f"{'width':>5} {'params':>12} {'build s':>8} {'gelsd s':>8} {'rank':>6} "
        f"{'peak GiB':>9} {'estimated':>9}")
  for width in _LSTSQ.value:
    r = child.run_json(CHILD, "lstsq", width, 0, "float64", "0")
    if "error" in r:
      print(f"{width:>5} failed: {r['error']}")
      continue
    print(f"{width:>5} {r['params']:>12,} {r['build_seconds']:>8.1f} {r['solve_seconds']:>8.1f} "
          f"{r['rank']:>6} {r['peak_rss_gib']:>9.2f} {r['estimated_peak_gib']:>9.2f}", flush=True)


if __name__ == "__main__":
  app.run(main)
