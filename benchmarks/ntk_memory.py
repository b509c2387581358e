"""Planned vs measured peak memory of the empirical NTK (planning.plan, checked before every
kernel), per model, method and block size.

Usage:  python benchmarks/ntk_memory.py [--cases=resnet:structured:8,...]
Runtime: ~8 min on a 2-core CPU with the default cases (ResNet-18 dominates).

Each case computes the 2b x 2b kernel of random inputs (real digits for LeNet) in blocks of b
(three block pairs, both blocks' features held: the plan's worst case) in a fresh process, and
prints the process's peak RSS growth (resource.getrusage, from just after the model is built
and surveyed) beside plan().peak_bytes. The machine's free-memory check is skipped so that a
block the plan would refuse can still be measured. The plan must stay above the measurement
(a refused run that would have fit costs a smaller block; an OOM kill costs the run) and
within 1.2x of it (issue 28), so that blocks are as large as memory allows.
"""

from absl import app, flags

import child

_CASES = flags.DEFINE_list(
    "cases", ["resnet:structured:8", "resnet:structured:16", "resnet:structured:32",
              "resnet:structured:16:trace", "resnet:jacobian:4", "resnet:jacobian:8",
              "vit:structured:25", "vit:structured:50", "vit:structured:100",
              "vit:structured:200", "stock_lenet:structured:150",
              "stock_lenet:structured:300", "lenet:structured:300", "lenet:structured:1000",
              "lenet:jacobian:100", "lenet:jacobian:200"],
    "model:method:block[:trace]; model one of resnet, vit (stock_keras), stock_lenet (LeNet "
    "x1 in stock Keras layers), lenet (ours, x1).")

CODE = r"""
import json, os, resource, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, "benchmarks")
import keras
import numpy as np
from ntk_tf import data, models
from ntk_tf.utils import memory
from ntk_tf.models import stock_keras
from ntk_tf.ntk import empirical_ntk, plan
import keras_models

name, method, b, outputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
keras.utils.set_random_seed(0)
if name in ("lenet", "stock_lenet"):
  cfg = data.default_config()
  cfg.num_train = 2 * b
  x = data.load(cfg, seed=0).x_train
  model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
  if name == "stock_lenet":
    model = keras_models.stock_lenet(model)
else:
  model = stock_keras.resnet18() if name == "resnet" else stock_keras.vit()
  x = np.random.default_rng(0).normal(size=(2 * b, 32, 32, 3)).astype("float32")
memory.check = lambda *args, **kwargs: None   # Measure blocks the machine check would refuse.
p = plan(model, 2 * b, 2 * b, method, 1000.0, block_size=b, outputs=outputs, symmetric=True)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
empirical_ntk(model, x, method=method, memory_limit_gb=1000.0, block_size=b, outputs=outputs)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
print(json.dumps(dict(planned=p.peak_bytes, measured=peak)))
"""


def main(_):
  print(f"{'case':<32} {'planned GiB':>12} {'measured GiB':>13} {'ratio':>6}")
  for case in _CASES.value:
    name, method, block, *rest = case.split(":")
    r = child.run_json(CODE, name, method, block, rest[0] if rest else "all")
    if "error" in r:
      print(f"{case:<32} failed: {r['error']}")
      continue
    print(f"{case:<32} {r['planned'] / 2**30:12.2f} {r['measured'] / 2**30:13.2f} "
          f"{r['planned'] / r['measured']:6.2f}", flush=True)


if __name__ == "__main__":
  app.run(main)
