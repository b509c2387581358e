"""Loads the configured data set and writes its shapes and statistics (a smoke test of data)."""

import ml_collections
import numpy as np

from ntk_tf import data
from ntk_tf.experiments import common, contract, defaults

default_config = defaults.data_summary


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  """The data section's checks; the Spec `run` takes."""
  data.validate(config.dataset)
  return contract.Spec("data_summary", config, seeds=contract.seeds_of(config))


def run(spec, workdir: str) -> contract.Results:
  """Loads the data set and writes its summary."""
  config = contract.spec_of(spec, validate).config
  dataset = data.load(config.dataset, seed=config.seed)
  print(dataset.summary())
  results = dict(
      experiment="data_summary",
      dataset=dataset.info,
      x_train_shape=list(dataset.x_train.shape), x_test_shape=list(dataset.x_test.shape),
      num_outputs=dataset.num_outputs,
      x_train_mean=float(np.mean(dataset.x_train)), x_train_std=float(np.std(dataset.x_train)))
  return common.finish(workdir, results)
