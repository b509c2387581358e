"""Data layer: real, offline and synthetic data sets with the papers' transforms."""

from ntk_tf.data.pipeline import (DATASETS, OFFLINE, Dataset, default_config, input_shape, load,
                                  validate)
from ntk_tf.data.raw import RawData
