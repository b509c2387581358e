"""Fits the linearized network exactly: u solving J(w0, X)·u = y − f(w0, X) (Samarin 2022 eq. 4).

One entry point, `solve`, with five backends that must agree on the minimum-norm solution:
  "lstsq" — J built densely (memory or memmap), LAPACK gelsd;
  "lsqr", "lsmr" — matrix-free, JVP/VJP LinearOperator (any width);
  "nystrom_pcg" — matrix-free CG on Θ α = r, u = Jᵀ α, preconditioned by a Nyström
    approximation of Θ from `nystrom_rank` of its columns (any width; J of full row rank);
  "kernel" — u = Jᵀ Θ⁺ r through the empirical NTK Θ = J Jᵀ (eigh with a floor).
`rcond` is relative to J's largest singular value for every method (the kernel form applies
rcond² to Θ's eigenvalues; by default it resolves σ down to ~sqrt(n·eps)·σ_max, gelsd to
eps·σ_max, so the two agree unless cond(J) exceeds ~1e6).
Each reports train/test accuracy of f_lin(u, ·) = f(w0, ·) + J(w0, ·)·u, residual norms, ‖u‖
and the numerical rank where the method knows it.
"""

import os
import time
import keras
import numpy as np
from absl import logging

from ntk_tf.analysis import metrics
from ntk_tf.errors import ConfigError, require_finite
from ntk_tf.ntk import empirical
from ntk_tf.solvers import dense, iterative, kernel, nystrom_pcg
from ntk_tf.solvers.operator import JacobianOperator, check_finite
from ntk_tf.solvers.options import options
from ntk_tf.utils import memory

METHODS = ("lstsq", "lsqr", "lsmr", "kernel", "nystrom_pcg")
PCG_ITER_LIM = 1000   # nystrom_pcg's default iteration limit (mnist5k x1, x5: ~80 used).


def check_feasible(method: str, num_rows: int, num_params: int, opts: dict,
                   num_outputs: int = 1):
  """Refuses, before any work, a dense solve that cannot fit the memory budget."""
  if method not in METHODS:
    raise ConfigError(f"solver method {method!r}; use one of {', '.join(METHODS)}.")
  if method == "lstsq":
    est = dense.estimate(num_rows, num_params, opts["storage"],
                         block_rows=3 * opts["jacobian_block_size"] * num_outputs)
    dense.check_fits(est, opts["memory_limit_gb"], opts["storage"])
    return est
  if method == "kernel":   # empirical_ntk checks its own plan.
    return None
  if method == "nystrom_pcg":
    _check_nystrom(num_rows, num_params, opts, num_outputs)
    return None
  # LSQR/LSMR keep ~5 parameter-length float64 vectors (x, v, w, Aᵀu, the checkpointed
  # iterate) and the operator w0, tangents and gradients in the model's dtype (≤ float64).
  memory.check(num_params * 8 * 8 + memory.RUNTIME_BYTES,
               f"the matrix-free {method} solve over {num_params:,} parameters",
               "use a smaller width or a machine with more memory.",
               limit_gb=opts["memory_limit_gb"])
  return None


def _check_nystrom(num_rows: int, num_params: int, opts: dict, num_outputs: int):
  """Refuses bad nystrom_pcg options, and a preconditioner or iterate over the budget."""
  rank = nystrom_pcg.default_rank(opts["nystrom_rank"], num_rows // num_outputs)
  shift, tol = opts["nystrom_shift"], opts["pcg_tol"]
  if not (np.isfinite(shift) and shift >= 0):
    raise ConfigError(f"nystrom_shift={shift!r} must be a finite number >= 0 (0: none).")
  if not 0 < tol < 1:
    raise ConfigError(f"pcg_tol={tol!r} is the relative residual to reach; use a number in "
                      "(0, 1), e.g. 1e-7.")
  columns = nystrom_pcg.column_bytes(num_rows // num_outputs, rank, num_outputs)
  # CG keeps u, Jᵀp and the operator's w0, tangents and gradients (≤ float64): ~6 P-vectors.
  memory.check(max(columns, num_params * 8 * 6) + memory.RUNTIME_BYTES,
               f"the Nyström-preconditioned CG solve ({rank:,} kernel columns "
               f"of {num_rows:,} rows, {num_params:,} parameters)",
               "lower solver.nystrom_rank, or use a machine with more memory.",
               limit_gb=opts["memory_limit_gb"])


def _solve_nystrom_pcg(model, x_train, op, residual0, opts: dict) -> tuple:
  """u by Nyström-preconditioned CG on the dual system; (u, report entries)."""
  start = time.time()
  rank = nystrom_pcg.default_rank(opts["nystrom_rank"], len(x_train))
  pre = nystrom_pcg.from_model(model, x_train, rank, seed=opts["nystrom_seed"],
                               shift=opts["nystrom_shift"], kernel_method=opts["kernel_method"],
                               memory_limit_gb=opts["memory_limit_gb"],
                               jit_compile=opts["jit_compile"])
  setup = time.time() - start
  sol = nystrom_pcg.pcg(op, residual0.ravel(), pre.apply, tol=opts["pcg_tol"],
                        iter_lim=int(opts["iter_lim"] or PCG_ITER_LIM))
  return sol.u, dict(iterations=sol.iterations, converged=sol.converged,
                     nystrom_samples=rank, preconditioner_rank=pre.rank,
                     nystrom_eigenvalues=[float(pre.values[0]), float(pre.values[-1])],
                     setup_seconds=setup, iteration_seconds=sol.seconds,
                     pcg_tol=float(opts["pcg_tol"]))


def solve(model: keras.Model, x_train, y_train, labels_train, x_test, labels_test, *,
          method: str, threshold: float = 0.0, **opts) -> dict:
  """Solves for u with `method` and reports how f_lin(u, ·) does on train and test data."""
  opts = options(**opts)
  y_train = check_finite("training targets", y_train).astype(np.float64)
  y_train = y_train.reshape(len(y_train), -1)
  for weight in model.trainable_weights:  # XLA's ReLU maps NaN to 0: f0 alone can look finite.
    require_finite(weight.numpy(), f"the weight {weight.path} the linearization is taken at",
                   "the network's outputs f(w0, x) cannot be trusted: check the weights w0 (a "
                   "diverged checkpoint?).")
  op = JacobianOperator(model, x_train, batch_size=opts["batch_size"],
                        jit_compile=opts["jit_compile"])
  op_test = JacobianOperator(model, x_test, batch_size=opts["batch_size"],
                             jit_compile=opts["jit_compile"])
  est = check_feasible(method, op.shape[0], op.shape[1], opts, op.num_outputs)
  if est is not None:
    logging.info("lstsq: %s", est.describe())
  f0, f0_test = op.initial_outputs(), op_test.initial_outputs()
  for name, values in (("training", f0), ("test", f0_test)):
    require_finite(values, f"the network's outputs f(w0, x) on the {name} set",
                   "check the weights w0 (a diverged checkpoint?) or standardize the inputs.")
  residual0 = y_train - f0
  start = time.time()
  report = dict(method=method, num_rows=op.shape[0], num_params=op.shape[1])
  workdir = opts["workdir"]
  if method == "kernel":
    k = empirical.empirical_ntk(model, x_train, method=opts["kernel_method"],
                                memory_limit_gb=opts["memory_limit_gb"],
                                jit_compile=opts["jit_compile"])
    k_test = empirical.empirical_ntk(model, x_test, x_train, method=opts["kernel_method"],
                                     memory_limit_gb=opts["memory_limit_gb"],
                                     jit_compile=opts["jit_compile"])
    # rcond is relative to σ_max of J; the kernel's eigenvalues are σ².
    out = kernel.interpolate(k, residual0, k_test,
                             rcond=None if opts["rcond"] is None else opts["rcond"] ** 2)
    train, test = f0 + out["train"], f0_test + out["test"]
    report.update(rank=out["rank"], u_norm=out["norm"], eigenvalue_floor=float(out["floor"]))
  else:
    if method == "lstsq":
      path = os.path.join(workdir, "jacobian.f64") if workdir else None
      jac = dense.jacobian_matrix(model, x_train, storage=opts["storage"], path=path,
                                  block_size=opts["jacobian_block_size"],
                                  jit_compile=opts["jit_compile"])
      sol = dense.lstsq(jac, residual0.ravel(), rcond=opts["rcond"])
      del jac
      if opts["storage"] == "memmap":
        os.remove(path)
      u = sol.u
      report.update(rank=sol.rank, singular_value_max=float(sol.singular_values[0]),
                    singular_value_min=float(sol.singular_values[-1]))
    elif method == "nystrom_pcg":
      u, entries = _solve_nystrom_pcg(model, x_train, op, residual0, opts)
      report.update(entries)
    else:
      checkpoint = os.path.join(workdir, f"{method}_iterate.npz") if workdir else None
      sol = iterative.solve(op, residual0.ravel(), method=method, damp=opts["damp"],
                            atol=opts["atol"], btol=opts["btol"], iter_lim=opts["iter_lim"],
                            checkpoint_path=checkpoint, conlim=opts["conlim"],
                            checkpoint_every=opts["checkpoint_every"])
      u = sol.x
      report.update(iterations=sol.iterations, converged=sol.converged, istop=sol.istop,
                    normal_residual_norm=sol.normal_residual_norm)
    train = f0 + op.matvec(u).reshape(f0.shape)
    test = f0_test + op_test.matvec(u).reshape(f0_test.shape)
    report["u_norm"] = float(np.linalg.norm(u))
  report["seconds"] = time.time() - start
  for name, values in (("train", train), ("test", test)):
    require_finite(values, f"the {method} solution's {name} predictions f0 + J u",
                   "the inputs and f0 were finite, so J u overflowed: try method 'lsqr' with "
                   "damp > 0, or rcond to cut the smallest singular values.")
  report.update(
      train_accuracy=metrics.accuracy(train, np.asarray(labels_train), threshold),
      test_accuracy=metrics.accuracy(test, np.asarray(labels_test), threshold),
      residual_norm=float(np.linalg.norm(train - y_train)),
      initial_residual_norm=float(np.linalg.norm(residual0)))
  report["relative_residual"] = report["residual_norm"] / max(report["initial_residual_norm"],
                                                              1e-300)
  report.setdefault("converged", True)
  return report

