"""The empirical NTK of stock Keras 3 models (issue 17, 'Any Keras model').

Usage:  python benchmarks/keras_models.py [--parts=lenet,resnet] [--lenet_samples=600]
                                          [--repeats=2] [--resnet_images=100]
                                          [--resnet_methods=structured,jacobian]
                                          [--memory_limit_gb=16]
1. lenet: the 6000x6000 eNTK (600 mnist5k digits x 10 outputs, float32, width x1) of this
   project's LeNet (ntk_tf.models.build("lenet", seed=0)) and of the same LeNet written as a
   stock-Keras functional model (keras.Input -> Conv2D/MaxPooling2D/Flatten/Dense) holding the
   same weights. Runs alternate own, stock, own, stock, ...; each time is the median over
   --repeats and includes tracing (a fresh process per run, as a user sees it).
2. resnet: a stock-Keras ResNet-18 in CIFAR layout (32x32x3, 3x3 stem with 64 channels, no
   max-pool, 4 stages of 2 BasicBlocks with 64/128/256/512 channels, BatchNormalization, ReLU,
   Add, 1x1 strided projection conv + BN where the shape changes, GlobalAveragePooling2D,
   Dense(10)); the eNTK of --resnet_images random standard-normal images x 10 outputs by
   method 'structured' and 'jacobian' (block sizes from the planner within --memory_limit_gb).
Each measured run is its own process, so its peak resident memory (ru_maxrss) is its own.
Kernels are compared as max|Θ_a - Θ_b| / max|Θ_b|.
Columns: peak GiB = the run's max resident set, planned GiB = the planner's estimate, pairs =
block pairs computed, load = 1-min load average at its end, waited s = time the run waited for
its planned peak to be available (it starts once the machine has it, as empirical_ntk checks).
Runtime on the 2-core VM (load ~4 from other work): lenet ~10 s per run; resnet at 50 images
~8 min structured, ~4.5 min jacobian, peaks 8.6 and 12.7 GiB (BUILD_NOTES.md); 100 images
would take ~4x that. Estimate first with --parts=resnet --resnet_images=10.
"""

import os
import statistics
import tempfile

import numpy as np
from absl import app, flags

import child

_PARTS = flags.DEFINE_list("parts", ["lenet", "resnet"], "Benchmarks to run.")
_LENET_SAMPLES = flags.DEFINE_integer("lenet_samples", 600, "MNIST digits (rows = 10 x).")
_REPEATS = flags.DEFINE_integer("repeats", 2, "Alternating repetitions of each LeNet.")
_RESNET_IMAGES = flags.DEFINE_integer("resnet_images", 100, "Random images for ResNet-18.")
_RESNET_METHODS = flags.DEFINE_list("resnet_methods", ["structured", "jacobian"],
                                    "Methods to time on ResNet-18.")
_LIMIT = flags.DEFINE_float("memory_limit_gb", 16.0, "Budget given to empirical_ntk.")
_WAIT = flags.DEFINE_float("wait_for_memory_seconds", 1800.0, "On a shared machine: how long "
                           "a run waits for its planned peak to be available before starting.")

NT_RESNET_SPEEDUP = 2.5  # Neural Tangents, Flax ResNet-18 on a V100: structured vs jacobian.


def stock_lenet(model=None):
  """This project's LeNet x1 as a stock-Keras functional model; with `model` (ours), holding
  its weights (the layers' weights come in the same order and shapes)."""
  import keras
  inp = keras.Input((28, 28, 1))
  h = keras.layers.Conv2D(6, 5, padding="same", activation="relu")(inp)
  h = keras.layers.MaxPooling2D()(h)
  h = keras.layers.Conv2D(16, 5, activation="relu")(h)
  h = keras.layers.Flatten()(keras.layers.MaxPooling2D()(h))
  h = keras.layers.Dense(84, activation="relu")(keras.layers.Dense(120, activation="relu")(h))
  stock = keras.Model(inp, keras.layers.Dense(10)(h), name="stock_lenet")
  if model is not None:
    for mine, theirs in zip(model.trainable_weights, stock.trainable_weights):
      theirs.assign(mine.numpy())
  return stock


def resnet18(num_outputs=10, input_shape=(32, 32, 3)):
  """ResNet-18 for CIFAR (He et al. 2016; the layout of the CIFAR reimplementations): stock
  keras.layers only."""
  import keras
  layers = keras.layers

  def conv_bn(h, channels, kernel, stride):
    h = layers.Conv2D(channels, kernel, strides=stride, padding="same", use_bias=False)(h)
    return layers.BatchNormalization()(h)

  def basic_block(x, channels, stride):
    h = layers.ReLU()(conv_bn(x, channels, 3, stride))
    h = conv_bn(h, channels, 3, 1)
    skip = x if stride == 1 and x.shape[-1] == channels else conv_bn(x, channels, 1, stride)
    return layers.ReLU()(layers.Add()([h, skip]))

  inp = keras.Input(input_shape)
  h = layers.ReLU()(conv_bn(inp, 64, 3, 1))
  for stage, channels in enumerate((64, 128, 256, 512)):
    for index in range(2):
      h = basic_block(h, channels, 2 if stage > 0 and index == 0 else 1)
  h = layers.GlobalAveragePooling2D()(h)
  return keras.Model(inp, layers.Dense(num_outputs)(h), name="resnet18")


# Runs in a fresh process: argv = model, method, n, limit, path to save the kernel ("" none),
# seconds to wait at most for the planned memory to be available.
CHILD = """
import json, os, resource, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, "benchmarks")
import keras
import numpy as np
import keras_models
from ntk_tf import data, memory, models
from ntk_tf.ntk import empirical_ntk, plan
name, method, n, limit, path, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), \\
    float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
if name in ("own", "stock"):
  cfg = data.default_config(); cfg.num_train = n
  x = data.load(cfg, seed=0).x_train
  model = models.build("lenet", width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
  if name == "stock":
    model = keras_models.stock_lenet(model)
else:
  keras.utils.set_random_seed(0)
  model = keras_models.resnet18()
  x = np.random.default_rng(0).normal(size=(n, 32, 32, 3)).astype("float32")
# On a shared machine the memory check refuses while others hold memory: wait until the
# planned peak is available (the plan is computed in a copy so the timed call still traces
# and surveys the model as a user's first call does).
probe = keras.models.clone_model(model) if name != "own" else model
waited, start = 0.0, time.time()
while memory.host_available_bytes() < plan(probe, n, n, method, limit).peak_bytes + 2**29 \
    and time.time() - start < wait:
  time.sleep(10)
waited = time.time() - start
del probe
start = time.time()
kernel = empirical_ntk(model, x, method=method, memory_limit_gb=limit)
seconds = time.time() - start
p = plan(model, n, n, method, limit)
if path:
  np.save(path, kernel)
print(json.dumps(dict(model=name, method=p.method, seconds=seconds, block_size=p.block_size,
                      blocks=p.num_blocks, planned_gib=p.peak_bytes / 2**30,
                      params=models.num_params(model),
                      total_params=int(sum(np.prod(v.shape) for v in model.weights)),
                      peak_rss_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                      waited=waited, load=os.getloadavg()[0])))
"""


def relative_difference(a_path, b_path):
  """max|a - b| / max|b| of two saved kernels."""
  a, b = np.load(a_path), np.load(b_path)
  return float(np.abs(a - b).max() / np.abs(b).max())


def header():
  print(f"{'model':>7} {'params':>12} {'method':>10} {'images':>6} {'seconds':>9} "
        f"{'peak GiB':>9} {'planned GiB':>11} {'block':>6} {'pairs':>6} {'load':>5} {'waited s':>8}", flush=True)


def row(r, n):
  side = -(-n // r["block_size"])
  pairs = side * (side + 1) // 2  # Block pairs computed: the kernel is symmetric.
  print(f"{r['model']:>7} {r['params']:>12,} {r['method']:>10} {n:>6} {r['seconds']:>9.1f} "
        f"{r['peak_rss_gib']:>9.2f} {r['planned_gib']:>11.2f} {r['block_size']:>6} "
        f"{pairs:>6} {r['load']:>5.2f} {r['waited']:>8.0f}", flush=True)


def run(name, method, n, path=""):
  r = child.run_json(CHILD, name, method, n, _LIMIT.value, path, _WAIT.value)
  if "error" in r:
    print(f"{name:>7} {'':>12} {method:>10} {n:>6} failed: {r['error']}", flush=True)
    return None
  row(r, n)
  return r


def lenet(tmp):
  n = _LENET_SAMPLES.value
  print(f"LeNet x1, {n} mnist5k digits x 10 outputs, float32, method structured "
        f"(own: layer-list path; stock: functional Keras, intercepted layer calls)")
  header()
  times = {"own": [], "stock": []}
  paths = {name: os.path.join(tmp, f"{name}.npy") for name in times}
  for _ in range(_REPEATS.value):
    for name in ("own", "stock"):
      r = run(name, "structured", n, paths[name])
      if r:
        times[name].append(r["seconds"])
  if not (times["own"] and times["stock"]):
    return
  own, stock = statistics.median(times["own"]), statistics.median(times["stock"])
  print(f"median seconds: own {own:.1f}, stock {stock:.1f}; stock/own {stock / own:.2f} "
        f"(target <= 1.2); max relative difference "
        f"{relative_difference(paths['stock'], paths['own']):.1e}\n", flush=True)


def resnet(tmp):
  n = _RESNET_IMAGES.value
  print(f"ResNet-18 (CIFAR layout), {n} random N(0,1) 32x32x3 images x 10 outputs, float32, "
        f"memory_limit_gb={_LIMIT.value}")
  header()
  results, paths = {}, {}
  for method in _RESNET_METHODS.value:
    paths[method] = os.path.join(tmp, f"resnet_{method}.npy")
    results[method] = run("resnet", method, n, paths[method])
  r = results.get("structured"), results.get("jacobian")
  if r[0]:
    print(f"parameters: {r[0]['params']:,} trainable, {r[0]['total_params']:,} with the "
          "BatchNormalization moving statistics")
  if all(r):
    print(f"speedup jacobian/structured {r[1]['seconds'] / r[0]['seconds']:.2f} (Neural "
          f"Tangents, Flax ResNet-18 on a V100: ~{NT_RESNET_SPEEDUP}); max relative "
          f"difference {relative_difference(paths['structured'], paths['jacobian']):.1e}",
          flush=True)


def main(argv):
  del argv
  with tempfile.TemporaryDirectory(prefix="keras_models_") as tmp:
    if "lenet" in _PARTS.value:
      lenet(tmp)
    if "resnet" in _PARTS.value:
      resnet(tmp)


if __name__ == "__main__":
  app.run(main)
