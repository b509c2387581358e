"""Kernel entries per second of the exact infinite-width kernels (CNTK), and peak memory.

Usage:  python benchmarks/infinite_kernels.py [--arch=cnn_gap] [--depth=11] [--num_samples=16]
                                              [--size=32] [--dtypes=float32,float64]
                                              [--repeats=1] [--nowarm_up]
Issue 18's comparison with Neural Tangents (CNTK-V, 10 convolutions, 64 images, float32):
        python benchmarks/infinite_kernels.py --arch=cnn_v --depth=10 --num_samples=64 \
            --dtypes=float32 --repeats=3
Inputs: standard-normal 32x32x3 images (the cost does not depend on the values). The kernel is
symmetric, so n(n+1)/2 distinct entries are computed; each (dtype) runs in its own process so
its peak resident memory is its own. A warm-up call on 2 samples traces the graphs first (as a
second kernel in the same process would find them); --nowarm_up times the first call, tracing
included, each run in a fresh process. With --repeats > 1 the best run is shown beside the range
of all runs.
Runtime: ~1-3 min on a 2-core CPU for the defaults.

Peer figures (PEERS) are printed beside a matching configuration with the ratios. Neural
Tangents' stax (JAX, jit) was measured at 0.94 s for the issue-18 configuration on a 2-core CPU
of this kind; it is not re-measured here (JAX is not a dependency of ntk_tf).
"""

from absl import app, flags

import child

_ARCH = flags.DEFINE_string("arch", "cnn_gap", "Architecture (ntk_tf.ntk.infinite).")
_DEPTH = flags.DEFINE_integer("depth", 11, "Convolutions (cnn_v, cnn_gap).")
_N = flags.DEFINE_integer("num_samples", 16, "Samples n; n(n+1)/2 entries.")
_SIZE = flags.DEFINE_integer("size", 32, "Image height and width.")
_DTYPES = flags.DEFINE_list("dtypes", ["float32", "float64"], "Computation dtypes.")
_REPEATS = flags.DEFINE_integer("repeats", 1, "Timed runs per dtype (best and range shown).")
_WARM_UP = flags.DEFINE_bool("warm_up", True, "Trace on 2 samples before the timed runs.")

# (arch, depth, samples, size, dtype) -> (peer, seconds, entries/s): the same symmetric kernel.
PEERS = {("cnn_v", 10, 64, 32, "float32"): ("NT stax", 0.94, 2220)}

CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from ntk_tf.ntk import infinite
arch, depth, n, size, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
repeats, warm_up = int(sys.argv[6]), sys.argv[7] == "True"
x = np.random.default_rng(0).standard_normal((n, size, size, 3))
if warm_up:
  infinite.kernels(arch, x[:2], depth=depth, dtype=dtype)  # Tracing.
seconds = []
for _ in range(repeats):
  start = time.time()
  out = infinite.kernels(arch, x, depth=depth, dtype=dtype, memory_limit_gb=8)
  seconds.append(time.time() - start)
print(json.dumps(dict(seconds=seconds, entries=n * (n + 1) // 2,
                      peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20)))
"""


def peer_line(peer, seconds: float, entries_per_second: float) -> str:
  """The peer's figures beside ours, and which is ahead."""
  name, peer_seconds, peer_rate = peer
  ahead = "ours ahead" if seconds < peer_seconds else f"{name} ahead"
  return (f"{'':>8} {name} {peer_seconds:.2f} s, {peer_rate:,} entries/s: ours/{name} time "
          f"{seconds / peer_seconds:.2f}, {name}/ours entries/s "
          f"{peer_rate / entries_per_second:.2f} ({ahead})")


def measure(dtype: str) -> dict:
  """{"seconds": [each timed run], "entries", "peak_rss_gib"}, or {"error"}: all runs in one
  process after a warm-up, or each run in its own process without one."""
  args = (_ARCH.value, _DEPTH.value, _N.value, _SIZE.value, dtype)
  if _WARM_UP.value:
    return child.run_json(CHILD, *args, _REPEATS.value, True)
  runs = [child.run_json(CHILD, *args, 1, False) for _ in range(_REPEATS.value)]
  failed = [r for r in runs if "error" in r]
  if failed:
    return failed[0]
  return dict(seconds=[r["seconds"][0] for r in runs], entries=runs[0]["entries"],
              peak_rss_gib=max(r["peak_rss_gib"] for r in runs))


def main(argv):
  del argv
  runs = f", best of {_REPEATS.value} runs" if _REPEATS.value > 1 else ""
  print(f"{_ARCH.value} depth {_DEPTH.value}, {_N.value} samples of {_SIZE.value}x{_SIZE.value}x3"
        f"{'' if _WARM_UP.value else ', first call (tracing included)'}{runs}")
  print(f"{'dtype':>8} {'seconds':>8} {'entries/s':>10} {'peak GiB':>9}")
  for dtype in _DTYPES.value:
    r = measure(dtype)
    if "error" in r:
      print(f"{dtype:>8} failed: {r['error']}")
      continue
    best = min(r["seconds"])
    spread = (f"  (runs {best:.2f}-{max(r['seconds']):.2f} s)" if len(r["seconds"]) > 1
              else "")
    print(f"{dtype:>8} {best:>8.2f} {r['entries'] / best:>10.2f} {r['peak_rss_gib']:>9.2f}"
          f"{spread}", flush=True)
    peer = PEERS.get((_ARCH.value, _DEPTH.value, _N.value, _SIZE.value, dtype))
    if peer:
      print(peer_line(peer, best, r["entries"] / best), flush=True)


if __name__ == "__main__":
  app.run(main)
