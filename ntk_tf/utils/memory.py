"""Peak-memory estimates of the heavy steps, checked before each starts.

A step that would not fit is refused with one message naming the step, its estimated peak,
the budget and what to change, instead of being killed by the OOM killer hours in. The budget
is the config's memory_limit_gb where the step has one, and in any case what the machine has:
host memory available now (MemAvailable, capped by a cgroup limit), or for training on a GPU
the smallest visible GPU's memory (nvidia-smi). Estimates are calibrated against peak RSS
(benchmarks/memory_estimates.py prints both).
"""

import functools
import os
import shutil
import subprocess
from typing import Optional, Tuple

from absl import logging

from ntk_tf.errors import ConfigError

GiB = 2 ** 30
# Copies of the parameters and of one batch's activations alive at the peak of SGD training,
# from peak RSS minus the process before it (benchmarks/memory_estimates.py; BUILD_NOTES.md):
# paired LeNet x30/x60, AlexNet x1 compiled with XLA 6.2-6.6 copies, LeNet x30 without XLA 11
# (every update op allocates its result); one model without XLA 5.2 (network) and 6.9
# (linearized: w0, u, velocity, gradient, tangents). Rounded up.
PAIRED_STATE_COPIES = {True: 7, False: 12}   # By jit_compile.
SINGLE_STATE_COPIES = {True: 6, False: 8}
PAIRED_ACTIVATION_COPIES = 3  # LeNet x10 batch 256: 1.8 (no XLA), 0.65 (XLA) of our count.
SINGLE_ACTIVATION_COPIES = 2
# Evaluation: no backward pass, so only the largest layer's input, output and temporaries are
# alive, for the primal and the tangent; without XLA the JVP keeps more (LeNet x30, eval batch
# 1000: 2.35 copies measured for the linearized model).
EVAL_ACTIVATION_COPIES = {True: 2, False: 3}   # By jit_compile.
RUNTIME_BYTES = GiB // 4     # XLA compilation, TensorFlow's allocator slack (LeNet x1: 0.18).


def _cgroup_room() -> Optional[int]:
  """Bytes left under this process's cgroup (v2 or v1) memory limit; None if unlimited."""
  for limit_path, usage_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                 ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                  "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
    try:
      with open(limit_path) as f:
        limit = f.read().strip()
      with open(usage_path) as f:
        usage = int(f.read().strip())
    except (OSError, ValueError):
      continue
    if limit == "max" or int(limit) >= 2 ** 60:
      return None
    return max(0, int(limit) - usage)
  return None


def host_available_bytes() -> Optional[int]:
  """Memory the host can give this process now; None where it cannot be read."""
  available = None
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemAvailable:"):
          available = int(line.split()[1]) * 1024
          break
  except OSError:
    pass
  if available is None:
    try:
      available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
      pass
  room = _cgroup_room()
  if room is not None:
    available = room if available is None else min(available, room)
  return available


@functools.lru_cache(maxsize=None)
def gpu_total_bytes() -> Optional[int]:
  """Total memory of the smallest GPU TensorFlow sees (nvidia-smi); None without one."""
  import tensorflow as tf  # Only here: the estimates above need no TensorFlow.
  if not tf.config.list_physical_devices("GPU") or not shutil.which("nvidia-smi"):
    return None
  try:
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,"
                          "nounits"], capture_output=True, text=True, timeout=30, check=True)
    return min(int(float(line)) for line in out.stdout.split() if line.strip()) * 2 ** 20
  except (OSError, ValueError, subprocess.SubprocessError):
    logging.warning("could not read the GPU's memory with nvidia-smi; its training memory is "
                    "not checked before the run.")
    return None


def budget(limit_gb: Optional[float] = None, device: str = "host") -> Tuple[Optional[int], str]:
  """The bytes a step may plan on and where that figure comes from.

  device: "host" (kernels, solvers, data) or "accelerator" (training: the GPU if one is
  visible, else the host).
  """
  candidates = []
  if limit_gb is not None:
    candidates.append((int(limit_gb * GiB), f"memory_limit_gb={limit_gb:g}"))
  gpu = gpu_total_bytes() if device == "accelerator" else None
  if gpu is not None:
    candidates.append((int(0.9 * gpu), f"the GPU's {gpu / GiB:.1f} GiB (90% usable)"))
  else:
    host = host_available_bytes()
    if host is not None:
      candidates.append((host, f"this machine's {host / GiB:.1f} GiB available now"))
  if not candidates:
    return None, "unknown"
  return min(candidates)


def check(need_bytes: int, what: str, advice: str, limit_gb: Optional[float] = None,
          device: str = "host"):
  """Raises ConfigError when `what` needs more than the budget; logs the estimate otherwise."""
  room, source = budget(limit_gb, device)
  if room is not None and need_bytes > room:
    raise ConfigError(f"{what} needs ~{need_bytes / GiB:.2f} GiB at its peak but {source} "
                      f"allows {room / GiB:.2f} GiB; {advice}")
  logging.info("%s: estimated peak %.2f GiB (budget %s).", what, need_bytes / GiB,
               "unknown" if room is None else f"{room / GiB:.2f} GiB, {source}")


def training_bytes(num_params: int, activations_per_sample: int, batch_size: int,
                   eval_batch_size: int, itemsize: int, paired: bool = True,
                   jit_compile: bool = True, peak_layer_activations: int = None) -> int:
  """Estimated peak of SGD training: optimizer state, one batch's activations (every layer's,
  kept for the backward pass) or one evaluation batch's (the largest layer's), the runtime.

  paired: a network and its linearization side by side (Samarin et al.); else one model.
  peak_layer_activations: per sample (models.Footprint); None: all activations (an upper bound).
  """
  state = (PAIRED_STATE_COPIES if paired else SINGLE_STATE_COPIES)[bool(jit_compile)]
  train_acts = PAIRED_ACTIVATION_COPIES if paired else SINGLE_ACTIVATION_COPIES
  peak_layer = activations_per_sample if peak_layer_activations is None else \
      peak_layer_activations
  activations = max(train_acts * batch_size * activations_per_sample,
                    EVAL_ACTIVATION_COPIES[bool(jit_compile)] * eval_batch_size * peak_layer)
  return (state * num_params + activations) * itemsize + RUNTIME_BYTES


def describe_training(num_params: int, batch_size: int) -> str:
  """The usual ways out of a training estimate that does not fit."""
  return (f"lower train.batch_size (now {batch_size}) or train.eval_batch_size, the width, or "
          f"use float32; the model has {num_params:,} parameters.")
