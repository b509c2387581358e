"""Time, peak memory and FLOP rate of the empirical NTK of MNIST digits x 10 outputs.

Usage:  python benchmarks/empirical_ntk.py [--widths=1,5,25,60] [--methods=structured,...]
                                           [--num_samples=600] [--memory_limit_gb=16]
        python benchmarks/empirical_ntk.py --scaling --widths=1,5,25 --sizes=150,300,600,1200
Each (width, method, n) runs in its own process so that its peak resident memory is its own.
Data: the offline MNIST digits (mnist5k), standardized; LeNet, float32. Printed beside each
figure: the contraction's achieved GFLOP/s against this machine's GEMM rate (a 4096³ float32
product, measured first), and the peers' seconds on the same kind of 2-core CPU (Neural Tangents
0.6.5 on JAX 0.4.23) as a ratio ours/theirs. --scaling fits time ∝ n^a and peak ∝ n^b per width,
and time ∝ params^c at each n. Runtime: ~1 min for x1 and x5; x25 ~5 min and x60 ~35 min on an
idle 2-core CPU at 600 samples (their cost is the Gram matrix of the second convolution's
per-sample gradients, see BUILD_NOTES.md).
"""


import numpy as np
from absl import app, flags

import child

_WIDTHS = flags.DEFINE_list("widths", ["1", "5"], "LeNet width factors.")
_METHODS = flags.DEFINE_list("methods", ["structured", "jacobian", "ntvp"], "Methods to time.")
_SAMPLES = flags.DEFINE_integer("num_samples", 600, "Samples (rows = 10 x samples).")
_SIZES = flags.DEFINE_list("sizes", ["150", "300", "600", "1200"], "Sample counts (--scaling).")
_SCALING = flags.DEFINE_bool("scaling", False, "Time and memory against n and width "
                             "(structured method only), with fitted exponents.")
_LIMIT = flags.DEFINE_float("memory_limit_gb", 16.0, "Budget given to empirical_ntk.")

# Peers, 6000x6000 (600 digits), same kind of 2-core CPU, one run each (issue 18).
PEERS = {(1, 600): ("NT auto", 3.35), (5, 600): ("NT structured", 34.1)}
TARGETS = {(60, 600): ("target", 45 * 60.0)}

CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from ntk_tf import data, models
from ntk_tf.ntk import empirical_ntk, plan
width, method, n, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
cfg = data.default_config(); cfg.num_train = n
x = data.load(cfg, seed=0).x_train
model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=10, seed=0)
p = plan(model, n, n, method, limit, symmetric=True)
start = time.time()
kernel = empirical_ntk(model, x, method=method, memory_limit_gb=limit)
seconds = time.time() - start
print(json.dumps(dict(width=width, n=n, method=p.method, seconds=seconds,
                      block_size=p.block_size, flops=p.flops,
                      planned_gib=p.peak_bytes / 2**30, params=models.num_params(model),
                      peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      trace=float(kernel.trace(axis1=0, axis2=1).trace()))))
"""


def slope(xs, ys) -> float:
  """The least-squares exponent a of y ∝ x^a."""
  return float(np.polyfit(np.log(xs), np.log(ys), 1)[0]) if len(xs) > 1 else float("nan")


def row(r, gemm) -> str:
  rate = r["flops"] / r["seconds"] / 1e9
  key = (r["width"], r["n"])
  peer = PEERS.get(key) if r["method"] == "structured" else None
  peer = peer or TARGETS.get(key)
  versus = f"{peer[0]} {peer[1]:.1f}s, ratio {r['seconds'] / peer[1]:.2f}" if peer else ""
  return (f"{r['width']:>5} {r['n']:>5} {r['params']:>12,} {r['method']:>10} "
          f"{r['seconds']:>9.1f} {r['peak_rss_gib']:>9.2f} {r['planned_gib']:>8.2f} "
          f"{r['block_size']:>6} {rate:>8.1f} {100 * rate / gemm:>6.0f}%  {versus}")


def main(argv):
  del argv
  gemm = child.gemm_gflops()
  print(f"GEMM rate of this machine (float32, 4096³): {gemm:.0f} GFLOP/s")
  print(f"{'width':>5} {'n':>5} {'params':>12} {'method':>10} {'seconds':>9} {'peak GiB':>9} "
        f"{'planned':>8} {'block':>6} {'GFLOP/s':>8} {'of GEMM':>7}  peer")
  sizes = [int(n) for n in _SIZES.value] if _SCALING.value else [_SAMPLES.value]
  methods = ["structured"] if _SCALING.value else _METHODS.value
  results = []
  for width in _WIDTHS.value:
    for method in methods:
      for n in sizes:
        r = child.run_json(CHILD, width, method, n, _LIMIT.value)
        if "error" in r:
          print(f"{width:>5} {n:>5} {'':>12} {method:>10} failed: {r['error']}", flush=True)
          continue
        results.append(r)
        print(row(r, gemm), flush=True)
  if _SCALING.value:
    print("fitted exponents: time ∝ n^a, peak memory ∝ n^b (per width)")
    for width in sorted({r["width"] for r in results}):
      mine = [r for r in results if r["width"] == width]
      print(f"  x{width}: a = {slope([r['n'] for r in mine], [r['seconds'] for r in mine]):.2f}"
            f", b = {slope([r['n'] for r in mine], [r['peak_rss_gib'] for r in mine]):.2f}")
    print("fitted exponents: time ∝ params^c (per n)")
    for n in sorted({r["n"] for r in results}):
      mine = [r for r in results if r["n"] == n]
      print(f"  n={n}: c = "
            f"{slope([r['params'] for r in mine], [r['seconds'] for r in mine]):.2f}")


if __name__ == "__main__":
  app.run(main)
