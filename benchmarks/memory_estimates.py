"""Estimated vs measured peak memory of SGD training (ntk_tf.utils.memory, checked per run).

Usage:  python benchmarks/memory_estimates.py [--cases=lenet:30:32:1,...]
Runtime: ~6 min on a 2-core CPU with the default cases (LeNet x60 dominates).

Each case trains a few SGD steps in a fresh process on random data of the model's input shape
and prints the process's peak RSS growth (resource.getrusage, from just before the model is
built) beside memory.training_bytes. A case is name:width:batch:jit (jit 1/0), run as the
paired network + linearization (compare) and, with a "single" suffix, as one model
(learning curves: the network and the centered linearization, the larger of the two). The
estimate must stay above the measurement (refusing a run that would have fit by a little is
the price of never being OOM-killed hours in).
"""

from absl import app, flags

import child

_CASES = flags.DEFINE_list(
    "cases", ["lenet:1:32:1", "lenet:30:32:1", "lenet:60:32:1", "lenet:30:32:0",
              "lenet:10:256:0", "alexnet:1:32:1", "lenet:30:32:0:single",
              "lenet:10:256:0:single"],
    "name:width:batch:jit[:single] (LeNet on 28x28x1, AlexNet on 64x64x3).")
_EVAL = flags.DEFINE_integer("eval_batch_size", None, "Evaluation batch (default: the batch).")

CODE = r"""
import json, os, resource, sys, tempfile
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from ntk_tf import models
from ntk_tf.training import learning_curves
from ntk_tf.utils import memory
from ntk_tf.data.pipeline import Dataset
from ntk_tf.training.paired import PairedTrainer, TrainConfig

name, width, batch, jit, single = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4] == "1", sys.argv[5] == "1"
eval_batch = int(sys.argv[7])
shape = (28, 28, 1) if name == "lenet" else (64, 64, 3)
rng = np.random.default_rng(0)
x = rng.normal(size=(2 * max(batch, eval_batch),) + shape).astype("float32")
labels = rng.integers(0, 10, len(x))
targets = np.eye(10, dtype="float32")[labels]

def rss():
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

kind = sys.argv[6]   # One kind per process: ru_maxrss never falls.
base = rss()
model = models.build(name, width=width, input_shape=shape, num_outputs=10)
if kind == "paired":
  cfg = TrainConfig(epochs=1, batch_size=batch, eval_batch_size=eval_batch, jit_compile=jit,
                    trajectory_points=2, trajectory_steps=1)
  PairedTrainer(model, Dataset(x, labels, targets, x[:eval_batch], labels[:eval_batch],
                               targets[:eval_batch], {}), cfg, 0, tempfile.mkdtemp()).train()
else:
  cls = learning_curves.NetworkModel if kind == "network" else learning_curves.LinearizedModelSGD
  m = cls(model, x, targets, x[:eval_batch], labels[:eval_batch], loss="half_mse",
          momentum=0.9, threshold=0.0, eval_batch_size=eval_batch, jit_compile=jit)
  learning_curves.train_with_early_stopping(m, len(x), batch_size=batch, learning_rate=1e-3,
                                            max_steps=4, seed=0, keep_best=True)
fp = models.footprint(name, width, shape, 10)
estimate = memory.training_bytes(fp.num_params, fp.activations_per_sample, batch, eval_batch, 4,
                                 paired=kind == "paired", jit_compile=jit,
                                 peak_layer_activations=fp.peak_layer_activations)
print(json.dumps(dict(params=fp.num_params, measured=rss() - base, estimate=estimate)))
"""


def main(_):
  gib = 2 ** 30
  print(f"{'case':<24} {'kind':<11} {'params':>12} {'measured':>9} {'estimate':>9} {'ratio':>6}")
  for case in _CASES.value:
    parts = case.split(":")
    name, width, batch, jit = parts[0], parts[1], parts[2], parts[3]
    single = len(parts) > 4 and parts[4] == "single"
    for kind in (("network", "linearized") if single else ("paired",)):
      r = child.run_json(CODE, name, width, batch, jit, int(single), kind,
                         _EVAL.value or batch)
      if "error" in r:
        print(f"{case:<24} {kind:<11} error: {r['error']}")
        continue
      print(f"{case:<24} {kind:<11} {r['params']:>12,} {r['measured'] / gib:>8.2f}G "
            f"{r['estimate'] / gib:>8.2f}G {r['estimate'] / r['measured']:>6.2f}", flush=True)


if __name__ == "__main__":
  app.run(main)
