"""Solver benchmarks: LSQR, the dense gelsd solve and Nyström-preconditioned CG, binary MNIST.

Usage:  python benchmarks/solvers.py [--lsqr_widths=1,5,25] [--lstsq_widths=1]
                                     [--iterations=5] [--dtype=float32] [--jit]
                                     [--pcg_widths=1,5] [--pcg_probe_widths=25]
                                     [--nystrom_rank=1000] [--pcg_tol=1e-7]
                                     [--kernel_form_widths=1,5,25]
LSQR/lstsq rows: all 5,000 offline MNIST digits (mnist5k train + test), digit 0 vs rest, one
output (LinLeNet, Samarin et al. 2022 §4.3). Nyström PCG rows: the binary_solver experiment's
own system, the 4,000 mnist5k training digits, float64, solved to --pcg_tol, beside gelsd on
the same 4,000 rows at x1 (its u is the reference) and the previous figures of issue 18
(unpreconditioned LSQR at x1: 0.41 iterations/s, relative residual 0.145 after 200 iterations;
gelsd 66 s). --pcg_probe_widths only builds the preconditioner and times --probe_iterations
iterations, extrapolated to 300. --kernel_form_widths solves the same system exactly through
its n×n empirical NTK (computed by the structured engine in float64, then Cholesky and one VJP),
the form that is cheaper while the kernel fits in memory. Each measurement runs in its own
process so its peak resident memory is its own; the 1-minute load average (`uptime`) is printed
with each row.
LSQR figures exclude the first iteration (tracing/compilation).
Runtime: x1 ~1 min, x5 ~2 min, x25 ~15 min on a 2-core CPU; lstsq x1 ~3 min; PCG x1 ~10 min,
x5 ~1 h, the x25 probe ~30 min; kernel form x1 ~1 min, x25 ~5 min (idle-machine figures are
lower; see docs/solvers.md).
"""

import os
import tempfile

from absl import app, flags

import child

_LSQR = flags.DEFINE_list("lsqr_widths", ["1", "5", "25"], "LeNet widths for LSQR.")
_LSTSQ = flags.DEFINE_list("lstsq_widths", ["1"], "LeNet widths for the dense solve.")
_ITERS = flags.DEFINE_integer("iterations", 5, "LSQR iterations timed (after a warm-up one).")
_DTYPE = flags.DEFINE_string("dtype", "float32", "Model dtype for the JVP/VJP operator.")
_JIT = flags.DEFINE_bool("jit", False, "Compile the JVP/VJP with XLA.")
_PCG = flags.DEFINE_list("pcg_widths", ["1", "5"], "LeNet widths solved by Nyström PCG.")
_PROBE = flags.DEFINE_list("pcg_probe_widths", ["25"],
                           "Widths where Nyström PCG is only set up and timed per iteration.")
_RANK = flags.DEFINE_integer("nystrom_rank", 1000, "Nyström columns (samples) k.")
_TOL = flags.DEFINE_float("pcg_tol", 1e-7, "Relative residual Nyström PCG stops at.")
_PROBE_ITERS = flags.DEFINE_integer("probe_iterations", 2, "Iterations timed by the probe.")
_BATCH = flags.DEFINE_integer("pcg_batch_size", 250, "Samples per JVP/VJP batch in PCG.")
_KERNEL = flags.DEFINE_list("kernel_form_widths", [],
                            "Widths solved in kernel form: the n×n eNTK, Cholesky, u = Jᵀα.")
# Issue 18's figures for the mnist5k x1 system, compared as ratios.
LSQR_ITERATIONS_PER_SECOND, LSQR_RESIDUAL_AT_200, GELSD_SECONDS = 0.41, 0.145, 66.0

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


PCG_CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from ntk_tf import data
from ntk_tf.cli import config_files
from ntk_tf.experiments import common
from ntk_tf.solvers import dense, nystrom_pcg
from ntk_tf.solvers.operator import JacobianOperator
kind, width, rank, tol, probe, batch, ref = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                             float(sys.argv[4]), int(sys.argv[5]),
                                             int(sys.argv[6]), sys.argv[7])
load = os.getloadavg()[0]
config = config_files.load_config("configs/binary_mnist.py:cpu")  # mnist5k, 0 vs rest.
d = data.load(config.dataset, seed=config.seed)
model = common.build_model(common.model_at_width(config.model, width), d.input_shape, 1,
                           int(config.seed), "float64")
x = d.x_train
op = JacobianOperator(model, x, batch_size=batch)
r = (d.targets_train.reshape(len(x), -1) - op.initial_outputs()).ravel()
out = dict(kind=kind, width=width, params=op.shape[1], rows=len(x))


def relative_residual(u):
  return float(np.linalg.norm(op.matvec(u) - r) / np.linalg.norm(r))


def compare_with_gelsd(u):  # u's relative difference from gelsd's u, where a run saved one.
  if os.path.exists(ref):
    u_ref = np.load(ref)
    out["relative_difference_from_gelsd"] = float(np.linalg.norm(u - u_ref) / np.linalg.norm(u_ref))


if kind == "gelsd":
  start = time.time()
  jac = dense.jacobian_matrix(model, x, block_size=32)
  sol = dense.lstsq(jac, r)
  del jac
  np.save(ref, sol.u)
  out.update(seconds=time.time() - start, gelsd_seconds=sol.seconds,
             relative_residual=relative_residual(sol.u))
elif kind == "kernel":
  import scipy.linalg
  from ntk_tf import ntk
  start = time.time()
  theta = ntk.flatten(ntk.empirical_ntk(model, x, memory_limit_gb=8.0, log_every_seconds=1e9))
  kernel_seconds = time.time() - start
  start = time.time()
  alpha = scipy.linalg.cho_solve(scipy.linalg.cho_factor(theta, overwrite_a=True), r)
  cholesky_seconds = time.time() - start
  start = time.time()
  u = op.rmatvec(alpha)
  out.update(kernel_seconds=kernel_seconds, cholesky_seconds=cholesky_seconds,
             vjp_seconds=time.time() - start, relative_residual=relative_residual(u))
  compare_with_gelsd(u)
else:
  start = time.time()
  pre = nystrom_pcg.from_model(model, x, rank, memory_limit_gb=3.0)
  out.update(rank=rank, setup_seconds=time.time() - start)
  if kind == "probe":
    start = time.time()
    sol = nystrom_pcg.pcg(op, r, pre.apply, tol=1e-30, iter_lim=probe, max_restarts=0)
    out.update(seconds_per_iteration=(time.time() - start) / (probe + 0.5))  # + the final JVP.
  else:
    sol = nystrom_pcg.pcg(op, r, pre.apply, tol=tol, iter_lim=300)
    history = np.array(sol.relative_residuals)
    out.update(iterations=sol.iterations, converged=sol.converged, seconds=sol.seconds,
               seconds_per_iteration=sol.seconds / max(sol.iterations, 1),
               iterations_to_1e_6=int(np.argmax(history <= 1e-6)) + 1 if (history <= 1e-6).any()
               else None, relative_residual=sol.residual_norm / float(np.linalg.norm(r)))
    compare_with_gelsd(sol.u)
out["peak_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
out["load"] = [load, os.getloadavg()[0]]
print(json.dumps(out))
"""


def _load(r) -> str:
  return f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"


def _versus_gelsd(r) -> str:
  diff = r.get("relative_difference_from_gelsd")
  return f"{'–' if diff is None else f'{diff:.1e}':>11}"


def pcg_section():
  """Nyström PCG on the experiment's 4,000-row system, against gelsd at x1 and issue 18."""
  ref = os.path.join(tempfile.mkdtemp(), "u_gelsd.npy")
  args = (_RANK.value, _TOL.value, _PROBE_ITERS.value, _BATCH.value, ref)
  print(f"\nNyström-preconditioned CG, mnist5k 0 vs rest (4,000 training digits), float64, "
        f"k = {_RANK.value}, tol {_TOL.value:g}")
  g = {"error": "not run"}
  if "1" in _PCG.value or "1" in _KERNEL.value:
    g = child.run_json(PCG_CHILD, "gelsd", 1, *args)
    if "error" in g:
      print(f"gelsd x1 failed: {g['error']}")
    else:
      print(f"gelsd x1 (reference u): {g['seconds']:.1f} s (dgelsd {g['gelsd_seconds']:.1f} s), "
            f"residual {g['relative_residual']:.1e}, peak {g['peak_rss_gib']:.2f} GiB, "
            f"load {_load(g)}", flush=True)
  print(f"{'width':>5} {'params':>12} {'iters':>5} {'to 1e-6':>7} {'setup s':>8} {'iter s':>8} "
        f"{'s/iter':>7} {'peak GiB':>8} {'residual':>9} {'|u-u_gelsd|':>11} {'load':>9}")
  for width in _PCG.value:
    r = child.run_json(PCG_CHILD, "solve", width, *args)
    if "error" in r:
      print(f"{width:>5} failed: {r['error']}")
      continue
    print(f"{width:>5} {r['params']:>12,} {r['iterations']:>5} {r['iterations_to_1e_6']:>7} "
          f"{r['setup_seconds']:>8.1f} {r['seconds']:>8.1f} {r['seconds_per_iteration']:>7.2f} "
          f"{r['peak_rss_gib']:>8.2f} {r['relative_residual']:>9.1e} "
          f"{_versus_gelsd(r)} {_load(r):>9}", flush=True)
    if width == "1":
      total = r["setup_seconds"] + r["seconds"]
      print(f"      vs issue 18 (x1): {1 / r['seconds_per_iteration'] / LSQR_ITERATIONS_PER_SECOND:.2f}"
            f"x LSQR's iterations/s, residual {r['relative_residual'] / LSQR_RESIDUAL_AT_200:.1e}x "
            f"LSQR's after 200 iterations, {total / GELSD_SECONDS:.2f}x gelsd's 66 s"
            + ("" if "error" in g else f"; {total / g['seconds']:.2f}x gelsd's time measured "
               "above (J built + dgelsd)"))
  if _KERNEL.value:
    print("\nKernel form: Θ = J Jᵀ (n×n, float64, structured engine), "
          "Cholesky, u = Jᵀ α")
    print(f"{'width':>5} {'params':>12} {'eNTK s':>8} {'chol s':>7} {'VJP s':>7} {'total s':>8} "
          f"{'peak GiB':>8} {'residual':>9} {'|u-u_gelsd|':>11} {'load':>9}")
  for width in _KERNEL.value:
    r = child.run_json(PCG_CHILD, "kernel", width, *args)
    if "error" in r:
      print(f"{width:>5} kernel form failed: {r['error']}")
      continue
    total = r["kernel_seconds"] + r["cholesky_seconds"] + r["vjp_seconds"]
    print(f"{width:>5} {r['params']:>12,} {r['kernel_seconds']:>8.1f} "
          f"{r['cholesky_seconds']:>7.1f} {r['vjp_seconds']:>7.1f} {total:>8.1f} "
          f"{r['peak_rss_gib']:>8.2f} "
          f"{r['relative_residual']:>9.1e} {_versus_gelsd(r)} "
          f"{_load(r):>9}", flush=True)
  for width in _PROBE.value:
    r = child.run_json(PCG_CHILD, "probe", width, *args)
    if "error" in r:
      print(f"{width:>5} probe failed: {r['error']}")
      continue
    print(f"{width:>5} {r['params']:>12,} probe: set-up {r['setup_seconds']:.1f} s, "
          f"{r['seconds_per_iteration']:.1f} s/iteration; 300 iterations "
          f"~{(r['setup_seconds'] + 300 * r['seconds_per_iteration']) / 3600:.1f} h; peak "
          f"{r['peak_rss_gib']:.2f} GiB; load {_load(r)}", flush=True)


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
  if _PCG.value or _PROBE.value or _KERNEL.value:
    pcg_section()


if __name__ == "__main__":
  app.run(main)
