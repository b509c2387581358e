"""Accuracy of a model's outputs against integer labels, for every kind of model alike."""

import numpy as np


def accuracy(outputs: np.ndarray, labels: np.ndarray, threshold: float = 0.0) -> float:
  """Argmax accuracy for L > 1 outputs; for one output, label 1 iff output > threshold."""
  if outputs.shape[-1] == 1:
    predicted = (outputs[:, 0] > threshold).astype(np.int64)
  else:
    predicted = outputs.argmax(axis=-1)
  return float(np.mean(predicted == labels))
