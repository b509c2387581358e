"""Cross-checks ntk_tf's infinite-width kernels against Neural Tangents' `stax` (JAX).

Usage:  python scripts/crosscheck_neural_tangents.py [--nt_python=/path/to/python]
`--nt_python` is an interpreter where `neural_tangents` imports (default: this one). Neural
Tangents needs JAX and is not a dependency of ntk_tf; a working set on 2026-11 was
`pip install neural-tangents==0.6.5 "jax[cpu]==0.5.3" tf2jax==0.3.6` in a separate venv.
Without it the script prints why it skipped and exits 0. Prints, per architecture, the largest
relative difference of the NNGP and NTK over random inputs; exits 1 if any exceeds --rtol.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from absl import app, flags

_PYTHON = flags.DEFINE_string("nt_python", sys.executable, "Interpreter with neural_tangents.")
_RTOL = flags.DEFINE_float("rtol", 1e-6, "Largest relative difference accepted.")

CASES = (("mlp", dict(depth=3), (3, 3, 2)), ("cnn_v", dict(depth=3), (6, 6, 2)),
         ("cnn_gap", dict(depth=3), (6, 6, 2)), ("myrtle", {}, (8, 8, 2)),
         ("cnn5", {}, (6, 6, 2)))

# Runs under --nt_python: the same architectures written with stax.
NT_CHILD = r"""
import json, sys
import numpy as np
try:
  import jax
  jax.config.update("jax_enable_x64", True)
  from neural_tangents import stax
except Exception as e:  # Not installed or broken install.
  print(json.dumps({"skip": f"{type(e).__name__}: {e}"}))
  sys.exit(0)
W, B = 2 ** 0.5, 0.0
def conv():
  return [stax.Conv(1, (3, 3), padding="SAME", W_std=W, b_std=B), stax.Relu()]
def net(arch, depth):
  if arch == "mlp":
    layers = [stax.Flatten()]
    for _ in range(depth - 1):
      layers += [stax.Dense(1, W_std=W, b_std=B), stax.Relu()]
  elif arch in ("cnn_v", "cnn_gap", "cnn5"):
    layers = []
    for _ in range(4 if arch == "cnn5" else depth):
      layers += conv()
    layers += [stax.GlobalAvgPool() if arch == "cnn_gap" else stax.Flatten()]
  else:  # myrtle
    layers = []
    for i in range(4):
      layers += conv() + ([stax.AvgPool((2, 2), strides=(2, 2))] if i > 0 else [])
    layers += [stax.GlobalAvgPool()]
  return stax.serial(*layers, stax.Dense(1, W_std=W, b_std=B))
data = np.load(sys.argv[1])
out = {}
for arch, depth in json.loads(sys.argv[2]):
  _, _, kernel_fn = net(arch, depth)
  k = kernel_fn(data[arch], None, ("nngp", "ntk"))
  out[arch] = {"nngp": np.asarray(k.nngp).tolist(), "ntk": np.asarray(k.ntk).tolist()}
print(json.dumps(out))
"""


def main(argv):
  del argv
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  from ntk_tf.ntk import infinite  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  inputs = {arch: rng.standard_normal((4,) + shape) for arch, _, shape in CASES}
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "inputs.npz")
    np.savez(path, **inputs)
    archs = [(arch, kw.get("depth", 3)) for arch, kw, _ in CASES]
    run = subprocess.run([_PYTHON.value, "-c", NT_CHILD, path, json.dumps(archs)],
                         capture_output=True, text=True, check=False)
  lines = [l for l in run.stdout.splitlines() if l.startswith("{")]
  if not lines:
    print(f"skipped: {_PYTHON.value} could not run Neural Tangents "
          f"({(run.stderr.strip().splitlines() or ['no output'])[-1]})")
    return
  theirs = json.loads(lines[-1])
  if "skip" in theirs:
    print(f"skipped: neural_tangents is not importable in {_PYTHON.value} ({theirs['skip']}); "
          "see this script's docstring for an install that works.")
    return
  worst = 0.0
  print(f"{'arch':>8} {'nngp max rel diff':>18} {'ntk max rel diff':>17}")
  for arch, kwargs, _ in CASES:
    ours = infinite.kernels(arch, inputs[arch], dtype="float64", **kwargs)
    diffs = []
    for key in ("nngp", "ntk"):
      ref = np.asarray(theirs[arch][key])
      diffs.append(float(np.abs(ours[key] - ref).max() / np.abs(ref).max()))
    worst = max(worst, *diffs)
    print(f"{arch:>8} {diffs[0]:>18.2e} {diffs[1]:>17.2e}")
  if worst > _RTOL.value:
    print(f"FAILED: largest relative difference {worst:.2e} > rtol {_RTOL.value}")
    sys.exit(1)
  print(f"ok: all within rtol {_RTOL.value}")


if __name__ == "__main__":
  app.run(main)
