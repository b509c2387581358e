"""tf.distribute strategies by name (`config.distribute`), and batches split over replicas.

- "default": no distribution (one device: the GPU if there is one).
- "mirrored": MirroredStrategy over every local GPU, or over every logical CPU device when
  there is no GPU (the tests split the CPU into two).
- "multi_worker_mirrored": MultiWorkerMirroredStrategy; the cluster comes from TF_CONFIG.
- "tpu": TPUStrategy on the TPU named by $TPU_NAME (or the local TPU VM).

Training steps (paired_training) compute each replica's share of the batch gradient — the
replica's mean loss weighted by its share of the batch — and sum them across replicas, which is
the gradient of the full batch's mean loss: the same step as without distribution.
"""

import os
from typing import List, Optional

import numpy as np
import tensorflow as tf

from ntk_tf.errors import ConfigError

STRATEGIES = ("default", "mirrored", "multi_worker_mirrored", "tpu")


def validate(name: str):
  if name not in STRATEGIES:
    raise ConfigError(f"config.distribute={name!r}; use one of {', '.join(STRATEGIES)}.")


def get_strategy(name: str = "default") -> tf.distribute.Strategy:
  """The strategy `name` (created once per process by TensorFlow's own caching rules)."""
  validate(name)
  if name == "default":
    return tf.distribute.get_strategy()
  if name == "mirrored":
    if tf.config.list_logical_devices("GPU"):
      return tf.distribute.MirroredStrategy()
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus)
  if name == "multi_worker_mirrored":
    if "TF_CONFIG" not in os.environ:
      raise ConfigError("config.distribute='multi_worker_mirrored' needs the TF_CONFIG "
                        "environment variable describing the cluster (see launch/README.md).")
    return tf.distribute.MultiWorkerMirroredStrategy()
  try:
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu=os.environ.get("TPU_NAME", "local"))
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
  except (ValueError, RuntimeError, tf.errors.NotFoundError) as e:
    raise ConfigError(f"config.distribute='tpu' found no TPU ({e}); run on a TPU VM or set "
                      "TPU_NAME, or use 'default'/'mirrored'.") from e
  return tf.distribute.TPUStrategy(resolver)


def resolve_devices(devices=None) -> List[Optional[str]]:
  """Device names to spread kernel blocks over: None = every GPU when there are several (else
  [None], TensorFlow's placement); "CPU"/"GPU" = every logical device of that type; a list as
  given; a tf.distribute.Strategy = its devices."""
  if devices is None:
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return gpus if len(gpus) > 1 else [None]
  if isinstance(devices, tf.distribute.Strategy):
    return list(devices.extended.worker_devices)
  if isinstance(devices, str):
    found = [d.name for d in tf.config.list_logical_devices(devices.upper())]
    if not found:
      raise ConfigError(f"no {devices} devices; available: "
                        f"{[d.name for d in tf.config.list_logical_devices()]}.")
    return found
  return list(devices)


def split_batch(strategy: tf.distribute.Strategy, array: np.ndarray, dtype):
  """A batch as a per-replica value: contiguous, nearly equal parts (some may be empty)."""
  if strategy.num_replicas_in_sync == 1:
    return tf.constant(array, dtype=dtype)
  parts = np.array_split(np.asarray(array), strategy.num_replicas_in_sync)
  return strategy.experimental_distribute_values_from_function(
      lambda ctx: tf.constant(parts[ctx.replica_id_in_sync_group], dtype=dtype))
