"""Time and peak memory of the empirical NTK of 600 MNIST digits x 10 outputs (6000x6000).

Usage:  python benchmarks/empirical_ntk.py [--widths=1,5,25,60] [--methods=structured,...]
                                           [--num_samples=600] [--memory_limit_gb=16]
Each (width, method) runs in its own process so that its peak resident memory is its own.
Data: the offline MNIST digits (mnist5k), standardized. Runtime: ~1 min for x1 with the
structured method, ~1 min per 100 samples for the jacobian method at x1; x25/x60 take hours on
a 2-core CPU (their cost is dominated by the second convolution's weights, see BUILD_NOTES.md).
"""

from absl import app, flags

import child

_WIDTHS = flags.DEFINE_list("widths", ["1", "5"], "LeNet width factors.")
_METHODS = flags.DEFINE_list("methods", ["structured", "jacobian", "ntvp"], "Methods to time.")
_SAMPLES = flags.DEFINE_integer("num_samples", 600, "Samples (rows = 10 x samples).")
_LIMIT = flags.DEFINE_float("memory_limit_gb", 16.0, "Budget given to empirical_ntk.")
_ONE = flags.DEFINE_string("one", None, "Internal: run one 'width,method' and print JSON.")

CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
from ntk_tf import data, models
from ntk_tf.ntk import empirical_ntk, plan
width, method, n, limit = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
cfg = data.default_config(); cfg.num_train = n
x = data.load(cfg, seed=0).x_train
model = models.build("lenet", width=width, input_shape=(28, 28, 1), num_outputs=10, seed=0)
p = plan(model, n, n, method, limit)
start = time.time()
kernel = empirical_ntk(model, x, method=method, memory_limit_gb=limit)
seconds = time.time() - start
print(json.dumps(dict(width=width, method=p.method, seconds=seconds, block_size=p.block_size,
                      planned_gib=p.peak_bytes / 2**30, params=models.num_params(model),
                      peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      trace=float(kernel.trace(axis1=0, axis2=1).trace()))))
"""


def main(argv):
  del argv
  print(f"{'width':>5} {'params':>12} {'method':>10} {'seconds':>9} {'peak GiB':>9} "
        f"{'planned GiB':>11} {'block':>6}")
  for width in _WIDTHS.value:
    for method in _METHODS.value:
      r = child.run_json(CHILD, width, method, _SAMPLES.value, _LIMIT.value)
      if "error" in r:
        print(f"{width:>5} {'':>12} {method:>10} failed: {r['error']}")
        continue
      print(f"{r['width']:>5} {r['params']:>12,} {r['method']:>10} {r['seconds']:>9.1f} "
            f"{r['peak_rss_gib']:>9.2f} {r['planned_gib']:>11.2f} {r['block_size']:>6}",
            flush=True)


if __name__ == "__main__":
  app.run(main)
