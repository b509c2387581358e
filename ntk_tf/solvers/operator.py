"""J = ∇_w f(w0, X) as a SciPy LinearOperator: J·v by batched JVPs, Jᵀ·r by batched VJPs.

Rows are ordered (sample, output) as in `ntk.empirical.flatten`; columns are the weights of
`model.trainable_weights` flattened and concatenated in that order. J is never formed, so the
memory is a few copies of the parameters plus one batch of activations.
"""

from typing import List, Optional, Sequence

import keras
import numpy as np
import scipy.sparse.linalg
import tensorflow as tf

from ntk_tf.errors import DataError, non_finite
from ntk_tf.ntk.linearize import LinearizedModel


def flatten_params(params: Sequence) -> np.ndarray:
  """Weights (a list of arrays) -> one float64 vector."""
  return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params])


def unflatten_params(vector: np.ndarray, shapes: Sequence) -> List[np.ndarray]:
  """The inverse of `flatten_params` for weights of the given shapes."""
  out, start = [], 0
  for shape in shapes:
    size = int(np.prod(shape))
    out.append(np.reshape(vector[start:start + size], shape))
    start += size
  return out


def check_finite(name: str, array) -> np.ndarray:
  """The array, or one DataError naming what is not finite."""
  array = np.asarray(array)
  found = non_finite(array)
  if found:
    raise DataError(f"{name} has {found[0]} NaN/inf entries (first at index {found[1]}); "
                    "clean or drop those samples before solving.")
  return array


class JacobianOperator(scipy.sparse.linalg.LinearOperator):
  """The (n·L) x P Jacobian of `model` at `params` (default: its weights) on inputs x."""

  def __init__(self, model: keras.Model, x, *, params: Optional[Sequence] = None,
               batch_size: int = 256, jit_compile: bool = False):
    self.linear = LinearizedModel(model, params)
    self.x = check_finite("inputs", x)
    self.batch_size = int(batch_size)
    self.shapes = [tuple(w.shape) for w in self.linear.params0]
    self.num_outputs = int(model.output_shape[-1])
    self.model_dtype = self.linear.dtype
    num_params = int(sum(int(np.prod(s)) for s in self.shapes))
    super().__init__(dtype=np.float64, shape=(len(self.x) * self.num_outputs, num_params))
    self._jvp = tf.function(self.linear.jvp, jit_compile=jit_compile)
    self._vjp = tf.function(self.linear.vjp, jit_compile=jit_compile)
    self._outputs = tf.function(lambda x: self.linear.apply_model(self.linear._w0(), x),
                                jit_compile=jit_compile)
    self.matvecs = self.rmatvecs = 0

  def _batches(self):
    for start in range(0, len(self.x), self.batch_size):
      yield slice(start, min(start + self.batch_size, len(self.x)))

  def _batch(self, rows):
    return tf.constant(self.x[rows], dtype=self.model_dtype)

  def initial_outputs(self) -> np.ndarray:
    """f(w0, x), shape (n, L), float64."""
    return np.concatenate([np.asarray(self._outputs(self._batch(b)), np.float64)
                           for b in self._batches()])

  def _matvec(self, v):
    self.matvecs += 1
    tangents = [tf.constant(t, dtype=self.model_dtype)
                for t in unflatten_params(np.ravel(v), self.shapes)]
    out = [np.asarray(self._jvp(self._batch(b), tangents)[1], np.float64)
           for b in self._batches()]
    return np.concatenate(out).ravel()

  def _rmatvec(self, r):
    self.rmatvecs += 1
    r = np.reshape(r, (len(self.x), self.num_outputs))
    total = np.zeros(self.shape[1], dtype=np.float64)
    for b in self._batches():
      grads = self._vjp(self._batch(b), tf.constant(r[b], dtype=self.model_dtype))
      total += flatten_params(grads)
    return total

  def _adjoint(self):
    return scipy.sparse.linalg.LinearOperator(
        dtype=np.float64, shape=(self.shape[1], self.shape[0]), matvec=self._rmatvec,
        rmatvec=self._matvec)
