"""The method engines of the empirical NTK behind one small interface: an `Engine` holds one
model's weights in variables (`set_params` changes them without retracing) and computes, for
its method, what a block of samples keeps (`features`) and the kernel of a block pair from two
blocks' features (`block`). "jacobian" keeps per-sample Jacobians (tf.GradientTape.jacobian,
vectorized over samples with pfor) and contracts them, the reference; "ntvp" keeps the inputs
and takes NTK-vector products, rows of J for a chunk of columns by VJPs, then J·v by JVPs,
memory proportional to the chunk; "structured" keeps per-layer terms without weight
Jacobians where possible (Novak et al. 2022), walking a plain ntk_tf layer list layer by layer
(layer_list.py) or intercepting the layer calls of any other Keras model (structured.py).
`engine_for` picks the engine of a method; blocking and caching are the caller's
(blocked_kernel.py).
"""

from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from ntk_tf.errors import ConfigError
from ntk_tf.models import layers as ntk_layers
from ntk_tf.ntk import blocked, inspection, layer_list, structured

NTVP_CHUNK = 16  # Tangents per vectorized JVP in method "ntvp".


class Engine:
  """Block computations of one method for one model, at the weights of `set_params`.

  Args:
    params: the weights to start at, in model.trainable_weights order.
    dtype: the computation dtype (the model's).
    jit_compile: compile the traced block computations with XLA.
    trace: blocks of the output trace Σ_a Θ[i, j, a, a] (only the structured engines form it
      inside their products; the others give every output pair).
  """
  method = ""

  def __init__(self, model: keras.Model, params: Sequence, dtype, jit_compile: bool = False,
               trace: bool = False):
    self.model, self.dtype, self.trace = model, dtype, trace
    self.jit_compile = jit_compile
    # Variables, so that the traced functions serve any weights (set_params), not constants.
    self.params = [tf.Variable(tf.convert_to_tensor(p, dtype=dtype), trainable=False,
                               name=f"kernel_params_{i}") for i, p in enumerate(params)]
    self.non_trainable = [tf.Variable(v.value, trainable=False, name=f"kernel_state_{i}")
                          for i, v in enumerate(model.non_trainable_variables)]
    self.num_outputs = inspection.model_shapes(model)[1]
    self.input_dtype = inspection.input_dtype(model, dtype)

  def traced(self, fn):
    """fn as a tf.function: one trace per block shape (a last partial block traces once more).
    Not reduce_retracing: a shape-generalized trace fuses ops differently, so a resumed run
    meeting the shapes in another order would differ from an uninterrupted one in the last
    bits. Without AutoGraph: the engines' code is tensor algebra and Keras never converts a
    layer's call, so converting only cost time (a quarter of a fresh LeNet 6000x6000 kernel:
    4.59 -> 3.36 s, bit-identical); a call() that branches on tensors is refused up front."""
    return tf.function(fn, jit_compile=self.jit_compile, autograph=False)

  def set_params(self, params):
    """The weights the next kernels are taken at (same shapes; nothing is retraced), and the
    model's non-trainable state as it is now."""
    if len(params) != len(self.params):
      raise ConfigError(f"{len(params)} weights given for an engine of {len(self.params)}.")
    for variable, value in zip(self.params, params):
      variable.assign(tf.convert_to_tensor(value, dtype=self.dtype))
    for variable, current in zip(self.non_trainable, self.model.non_trainable_variables):
      variable.assign(current.value)

  def f(self, params, x):
    """The model's outputs at params, in inference, with the engine's non-trainable state."""
    out, _ = self.model.stateless_call(list(params), self.non_trainable, x)
    return out

  def features(self, x: np.ndarray, batch: Optional[int] = None):
    """What a block of samples x keeps for `block`; batch: samples per reverse pass, where
    the engine takes it (None: the whole block at once)."""
    raise NotImplementedError

  def block(self, feats1, feats2, *, chunk_bytes: int = 2 ** 30, partial: Optional[str] = None,
            log_every_seconds: float = 30.0):
    """Θ (b1, b2, L, L) of a block pair from its blocks' features, or (b1, b2) of the output
    trace where the engine forms it (`trace`); a tensor or array.

    Args:
      chunk_bytes, partial, log_every_seconds: for engines whose block pair takes long (the
        layer list's wide convolutions): the weight gradients formed at once, a file its
        partial sums are saved to and resumed from, and how often progress is logged.
    """
    raise NotImplementedError


class JacobianEngine(Engine):
  """Per-sample Jacobians, contracted blockwise: the reference."""
  method = "jacobian"

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.jacobian = self.traced(self._jacobian)

  def _jacobian(self, x):
    """Per-sample Jacobians: a list over weights of (b, L, *shape)."""
    w = self.params

    def one(xi):
      with tf.GradientTape() as tape:
        tape.watch(w)
        out = self.f(w, xi[None])[0]
      return tape.jacobian(out, w)

    return tf.vectorized_map(one, x)

  def features(self, x, batch=None):
    del batch
    return self.jacobian(tf.constant(x, dtype=self.input_dtype))

  def block(self, feats1, feats2, **options):
    """Σ over weights of ⟨J1[i, a], J2[j, b]⟩ -> (b1, b2, L, L)."""
    del options
    total = 0.0
    for a, b in zip(feats1, feats2):
      a = tf.reshape(a, [a.shape[0], a.shape[1], -1])
      b = tf.reshape(b, [b.shape[0], b.shape[1], -1])
      total += tf.einsum("iap,jbp->ijab", a, b)
    return total


class NtvpEngine(Engine):
  """NTK-vector products: the inputs are the features; never the whole J of a block."""
  method = "ntvp"

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.ntvp_block = self.traced(self._ntvp_block)

  def features(self, x, batch=None):
    del batch
    return tf.constant(x, dtype=self.input_dtype)

  def block(self, feats1, feats2, **options):
    del options
    return self.ntvp_block(feats1, feats2)

  def _ntvp_block(self, x1, x2):
    """Θ(x1, x2) column by column: VJPs on x2 give rows of J2, JVPs on x1 apply J1."""
    w, num_out = self.params, self.num_outputs
    b2 = tf.shape(x2)[0]
    eye = tf.eye(num_out, dtype=self.dtype)

    def row(index):  # ∂f_b(x_j)/∂w for index = j·L + b.
      j, b = index // num_out, index % num_out
      with tf.GradientTape() as tape:
        tape.watch(w)
        out = self.f(w, x2[j][None])
      return tape.gradient(out, w, output_gradients=eye[b][None])

    def column(tangent):  # J1 · tangent, shape (b1, L).
      with tf.autodiff.ForwardAccumulator(w, tangent) as acc:
        out = self.f(w, x1)
      return acc.jvp(out)

    rows = tf.vectorized_map(row, tf.range(b2 * num_out))
    # JVPs in chunks of NTVP_CHUNK tangents, one chunk at a time: memory ∝ chunk · b1, not
    # (b2·L) · b1 (vectorizing all b2·L tangents at once took 618 s for LeNet x1 at 600).
    total = b2 * num_out
    # Never more tangents at once than there are (a block of one sample has only L).
    chunk = min(NTVP_CHUNK, x2.shape[0] * num_out) if x2.shape[0] else NTVP_CHUNK
    chunks = (total + chunk - 1) // chunk
    padded = [tf.reshape(tf.pad(r, [[0, chunks * chunk - total]]
                                + [[0, 0]] * (len(r.shape) - 1)),
                         [chunks, chunk] + r.shape[1:].as_list()) for r in rows]
    cols = tf.map_fn(lambda tangents: tf.vectorized_map(column, tangents), padded,
                     fn_output_signature=tf.TensorSpec([chunk, None, num_out], self.dtype),
                     parallel_iterations=1)           # (chunks, chunk, b1, L)
    cols = tf.reshape(cols, [chunks * chunk, tf.shape(x1)[0], num_out])[:total]
    cols = tf.reshape(cols, [b2, num_out, tf.shape(x1)[0], num_out])
    return tf.transpose(cols, [2, 0, 3, 1])          # (b1, b2, L, L)


def _numpy(structure):
  """A nested structure of tensors as NumPy arrays (None stays None)."""
  return tf.nest.map_structure(lambda t: None if t is None else np.asarray(t), structure)


class LayerListEngine(Engine):
  """The structured method on a plain layer list of ntk_tf Dense/Conv2D (layer_list.py)."""
  method = "structured"

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.dense_layers = [l for l in layer_list.param_layers(self.model)
                         if isinstance(l, ntk_layers.Dense)]
    self.layer_features = self.traced(lambda x: layer_list.layer_features(self, x))

  def features(self, x, batch=None):
    """layer_list.layer_features of a block as NumPy arrays, computed `batch` samples at a
    time (the reverse passes' memory grows with the samples at once; the kept features are
    the same)."""
    if not batch or batch >= len(x):
      return _numpy(self.layer_features(tf.constant(x, dtype=self.input_dtype)))
    whole = None
    for rows in blocked.blocks(len(x), batch):  # Filled in place: no second copy to join.
      part = _numpy(self.layer_features(tf.constant(x[rows], dtype=self.input_dtype)))
      if whole is None:
        whole = tf.nest.map_structure(
            lambda t: None if t is None else np.empty((len(x),) + t.shape[1:], t.dtype), part)
      for target, source in zip(tf.nest.flatten(whole), tf.nest.flatten(part)):
        if source is not None:
          target[rows] = source
    return whole

  def block(self, feats1, feats2, *, chunk_bytes=2 ** 30, partial=None,
            log_every_seconds=30.0):
    return layer_list.block(feats1, feats2, self.dense_layers, self.num_outputs, self.trace,
                            chunk_bytes=chunk_bytes, partial=partial,
                            log_every_seconds=log_every_seconds)


class InterceptedEngine(Engine):
  """The structured method on any other Keras model, by intercepted layer calls
  (structured.py)."""
  method = "structured"

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self.units = structured.units(self.model)[0]
    self.layer_features = self.traced(
        lambda x: structured.layer_features(self, self.units, x))

  def features(self, x, batch=None):
    del batch  # Planned per block (structured_survey.sample_bytes), not per reverse pass.
    return _numpy(self.layer_features(tf.constant(x, dtype=self.input_dtype)))

  def block(self, feats1, feats2, **options):
    del options
    return structured.block(feats1, feats2, self.num_outputs, self.trace)


def engine_for(method: str, model: keras.Model, params: Sequence, dtype,
               jit_compile: bool = False, trace: bool = False) -> Engine:
  """The engine of `method` ("jacobian", "ntvp" or "structured") for `model`."""
  if method == "structured":
    cls = LayerListEngine if inspection.plain_layer_list(model) else InterceptedEngine
  else:
    cls = {"jacobian": JacobianEngine, "ntvp": NtvpEngine}[method]
  return cls(model, params, dtype, jit_compile, trace)


def jacobian_rows(model: keras.Model, x, *, params: Optional[Sequence] = None,
                  block_size: int = 64, jit_compile: bool = False):
  """Yields (sample slice, rows) of J = ∇_w f(params, x) block by block.

  rows has shape (b·L, P), rows ordered (sample, output) as in `empirical.flatten`, columns
  the weights of `model.trainable_weights` flattened and concatenated in that order.
  """
  dtype = tf.as_dtype(model.trainable_weights[0].dtype)
  params = [v.value for v in model.trainable_weights] if params is None else params
  engine = JacobianEngine(model, params, dtype, jit_compile)
  x = np.asarray(x)
  for rows in blocked.blocks(len(x), block_size):
    jac = engine.features(x[rows])
    b, num_out = rows.stop - rows.start, engine.num_outputs
    yield rows, np.concatenate([np.reshape(j, (b * num_out, -1)) for j in jac], axis=1)
