"""Kernel entries per second of the exact infinite-width kernels (CNTK), and peak memory.

Usage:  python benchmarks/infinite_kernels.py [--arch=cnn_gap] [--depth=11] [--num_samples=16]
                                              [--size=32] [--dtypes=float32,float64]
Inputs: standard-normal 32x32x3 images (the cost does not depend on the values). The kernel is
symmetric, so n(n+1)/2 distinct entries are computed; each (dtype) runs in its own process so
its peak resident memory is its own. Runtime: ~1-3 min on a 2-core CPU for the defaults.
"""

from absl import app, flags

import child

_ARCH = flags.DEFINE_string("arch", "cnn_gap", "Architecture (ntk_tf.ntk.infinite).")
_DEPTH = flags.DEFINE_integer("depth", 11, "Convolutions (cnn_v, cnn_gap).")
_N = flags.DEFINE_integer("num_samples", 16, "Samples n; n(n+1)/2 entries.")
_SIZE = flags.DEFINE_integer("size", 32, "Image height and width.")
_DTYPES = flags.DEFINE_list("dtypes", ["float32", "float64"], "Computation dtypes.")

CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from ntk_tf.ntk import infinite
arch, depth, n, size, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
x = np.random.default_rng(0).standard_normal((n, size, size, 3))
infinite.kernels(arch, x[:2], depth=depth, dtype=dtype)  # Warm-up: tracing.
start = time.time()
out = infinite.kernels(arch, x, depth=depth, dtype=dtype, memory_limit_gb=8)
seconds = time.time() - start
print(json.dumps(dict(seconds=seconds, entries=n * (n + 1) // 2,
                      peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)))
"""


def main(argv):
  del argv
  print(f"{_ARCH.value} depth {_DEPTH.value}, {_N.value} samples of {_SIZE.value}x{_SIZE.value}x3")
  print(f"{'dtype':>8} {'seconds':>8} {'entries/s':>10} {'peak GiB':>9}")
  for dtype in _DTYPES.value:
    r = child.run_json(CHILD, _ARCH.value, _DEPTH.value, _N.value, _SIZE.value, dtype)
    if "error" in r:
      print(f"{dtype:>8} failed: {r['error']}")
      continue
    print(f"{dtype:>8} {r['seconds']:>8.1f} {r['entries'] / r['seconds']:>10.2f} "
          f"{r['peak_rss_gib']:>9.2f}", flush=True)


if __name__ == "__main__":
  app.run(main)
