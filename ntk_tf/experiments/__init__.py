"""Experiments: each module wires a config to library calls and writes its results.

The contract (contract.py): `default_config()` (TensorFlow-free, from defaults.py),
`validate(config) -> Spec` (every check that needs no data, run once) and `run(spec, workdir)
-> Results`. `ntk_tf.cli.launch.launch(config, workdir)` is the one caller on the way from a config
file to a result; `get(name)` finds a module by `config.experiment`.
"""

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
