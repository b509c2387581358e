"""Experiments: each module has `run(config, workdir) -> results dict`."""

import importlib

from ntk_tf.errors import ConfigError

EXPERIMENTS = {
    "after_kernel": "ntk_tf.experiments.after_kernel",
    "binary_solver": "ntk_tf.experiments.binary_solver",
    "compare": "ntk_tf.experiments.compare",
    "data_summary": "ntk_tf.experiments.data_summary",
    "kernel_regression": "ntk_tf.experiments.kernel_regression",
    "scaling_law": "ntk_tf.experiments.scaling_law",
    "spectrum": "ntk_tf.experiments.spectrum",
    "time_dynamics": "ntk_tf.experiments.time_dynamics",
}


def get(name: str):
  """The experiment module called `name`."""
  if name not in EXPERIMENTS:
    raise ConfigError(f"unknown experiment {name!r}; valid experiments: "
                      f"{', '.join(sorted(EXPERIMENTS))}.")
  return importlib.import_module(EXPERIMENTS[name])
