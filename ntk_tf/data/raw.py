"""The container every data source returns before transforms."""

import dataclasses
from typing import Sequence

import numpy as np


@dataclasses.dataclass
class RawData:
  """Train/test arrays as a source delivers them.

  Images are float32, NHWC, scaled to [0, 1] (flat (N, D) for vector data such as the
  synthetic task); labels are int64 class indices 0..C-1.
  """
  x_train: np.ndarray
  y_train: np.ndarray
  x_test: np.ndarray
  y_test: np.ndarray
  class_names: Sequence[str]
  source: str = ""

  @property
  def num_classes(self) -> int:
    return len(self.class_names)
