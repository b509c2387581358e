"""The linearization of a Keras model around its initial weights (Samarin et al., eq. (2)).

f_lin(u, x) = f(w0, x) + J(w0, x) u, with J = ∂f/∂w at w0 and trainable u (zero at start).
The forward pass is one Jacobian-vector product (forward-mode autodiff); the gradient of a loss
in u is one vector-Jacobian product at w0, ∇_u ℓ = J(w0, x)ᵀ ∂ℓ/∂f_lin (eq. (3)); J itself is
never formed. `centered=True` drops f(w0, x) (the "empirical NTK" model of Vyas et al.);
`order=2` adds ½ uᵀ ∇²_w f(w0, x) u, computed by nested JVPs (Vyas et al., appendix C).

The linearization is a keras.Model: `compile`, `fit` (its train_step takes the gradient by
the VJP above, not by autodiff through the JVP), `evaluate`, `predict`, `save` and
`keras.models.load_model` work as for any model. Its weights: u (trainable, zero at start),
w0 and the base model's non-trainable state at construction (both frozen); the base model is
kept as the function f, its own variables never read or trained.
"""

import warnings
from typing import Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from ntk_tf.errors import ConfigError


@keras.saving.register_keras_serializable(package="ntk_tf")
class LinearizedModel(keras.Model):
  """f_lin(u, x) = f(w0, x) + J(w0, x)·u for a Keras model (weights w0 copied at construction).

  Args:
    model: a built keras.Model; its current trainable weights become w0 (or `params`).
    params: optional list of tensors to use as w0 instead (e.g. restored from a checkpoint).
    centered: drop the f(w0, x) term.
    order: 1 (linear) or 2 (adds the quadratic Taylor term).
  """

  def __init__(self, model: keras.Model, params: Optional[Sequence] = None, *,
               centered: bool = False, order: int = 1, **kwargs):
    if order not in (1, 2):
      raise ConfigError(f"linearization order={order}; use 1 or 2.")
    if not model.built or not model.trainable_weights:
      raise ConfigError(f"model {model.name} has no trainable weights yet; build it (call it "
                        "on a batch, or give it an Input) before linearizing.")
    kwargs.setdefault("name", f"linearized_{model.name}")
    kwargs.setdefault("dtype", model.trainable_weights[0].dtype)
    super().__init__(**kwargs)
    object.__setattr__(self, "_base", model)  # Untracked: f only; its variables stay its own.
    self.centered, self.order = bool(centered), int(order)
    source = params if params is not None else [v.value for v in model.trainable_variables]
    self.params0 = [self._copy(p, f"w0_{i}", False) for i, p in enumerate(source)]
    self.u = [self.add_weight(shape=tuple(p.shape), dtype=p.dtype, initializer="zeros",
                              trainable=True, name=f"u_{i}") for i, p in enumerate(self.params0)]
    self.state0 = [self._copy(v.value, f"state_{i}", False)
                   for i, v in enumerate(model.non_trainable_variables)]
    self.built = True

  def _copy(self, value, name: str, trainable: bool):
    value = tf.convert_to_tensor(value)
    weight = self.add_weight(shape=tuple(value.shape), dtype=value.dtype.name,
                             initializer="zeros", trainable=trainable, name=name)
    weight.assign(value)
    return weight

  @property
  def model(self) -> keras.Model:
    """The base model (the function f)."""
    return self._base

  @property
  def input_shape(self):
    return self._base.input_shape

  @property
  def output_shape(self):
    return self._base.output_shape

  def get_config(self):
    return {"model": keras.saving.serialize_keras_object(self._base),
            "centered": self.centered, "order": self.order, "name": self.name}

  @classmethod
  def from_config(cls, config, custom_objects=None):
    config = dict(config)
    model = keras.saving.deserialize_keras_object(config.pop("model"),
                                                  custom_objects=custom_objects)
    return cls(model, **config)

  def call(self, x):
    return self.apply(x)

  def fit(self, *args, **kwargs):
    """keras.Model.fit; warns once when the base model normalizes by batch statistics in
    training, which the linearization does not: it uses the moving statistics at w0."""
    normalizing = [l.name for l in self._base._flatten_layers()
                   if isinstance(l, keras.layers.BatchNormalization)]
    if normalizing:
      warnings.warn(
          f"{self.name}: the base model's BatchNormalization layers ({', '.join(normalizing)}) "
          "use batch statistics in the network's training, but f_lin(u, x) = f(w0, x) + "
          "J(w0, x) u is the network in inference mode: their moving mean and variance as at "
          "construction, fixed during fit.", stacklevel=2)
    return super().fit(*args, **kwargs)

  def apply_model(self, params, x):
    """f(params, x): the network evaluated at the given weights (a pure function)."""
    out, _ = self._base.stateless_call(list(params), [tf.convert_to_tensor(v)
                                                      for v in self.state0], x)
    return out

  def _w0(self) -> List[tf.Tensor]:
    """w0 as tensors (autodiff is taken with respect to these, not the variables)."""
    return [tf.convert_to_tensor(p) for p in self.params0]

  def jvp(self, x, tangents) -> tuple:
    """(f(w0, x), J(w0, x)·tangents) by one forward-mode pass."""
    w0 = self._w0()
    with tf.autodiff.ForwardAccumulator(w0, [tf.convert_to_tensor(t) for t in tangents]) as acc:
      f0 = self.apply_model(w0, x)
    return f0, acc.jvp(f0)

  def vjp(self, x, cotangent) -> List[tf.Tensor]:
    """J(w0, x)ᵀ·cotangent, one reverse-mode pass; cotangent has the output's shape."""
    w0 = self._w0()
    with tf.GradientTape() as tape:
      tape.watch(w0)
      f0 = self.apply_model(w0, x)
    return tape.gradient(f0, w0, output_gradients=cotangent)

  def _quadratic_term(self, x, u):
    """(f(w0, x), J u, uᵀ ∇²f u) by a JVP nested in a JVP, both along u."""
    w0, u = self._w0(), [tf.convert_to_tensor(t) for t in u]
    with tf.autodiff.ForwardAccumulator(w0, u) as outer:
      with tf.autodiff.ForwardAccumulator(w0, u) as inner:
        f0 = self.apply_model(w0, x)
      ju = inner.jvp(f0)
    return f0, ju, outer.jvp(ju)

  def apply(self, x, u: Optional[Sequence] = None):
    """f_lin(u, x); u defaults to the model's own variables."""
    u = self.u if u is None else u
    if self.order == 2:
      f0, ju, uhu = self._quadratic_term(x, u)
      out = ju + 0.5 * uhu
    else:
      f0, out = self.jvp(x, u)
    return out if self.centered else f0 + out

  def loss_and_gradient(self, x, y, loss_fn: Callable):
    """(loss, ∇_u loss) for a loss of the outputs, ℓ(f_lin(u, x), y).

    Order 1: one forward pass carrying the JVP, then one VJP at w0 with cotangent ∂ℓ/∂f_lin
    (eq. (3) of Samarin et al.). Order 2: with r = ∂ℓ/∂f_lin, the gradient is
    Jᵀr + (Σ_l r_l ∇²f_l) u: a VJP and, by forward-over-reverse, its derivative along u.
    """
    loss, gradient, _ = self._loss_gradient_and_outputs(x, y, loss_fn)
    return loss, gradient

  def _loss_gradient_and_outputs(self, x, y, loss_fn: Callable):
    """loss_and_gradient and the outputs f_lin(u, x) it computed on the way."""
    if self.order == 2:
      out = self.apply(x)
      loss, cotangent = _loss_and_cotangent(loss_fn, out, y)
      w0 = self._w0()
      with tf.autodiff.ForwardAccumulator(w0, [tf.convert_to_tensor(v) for v in self.u]) as acc:
        with tf.GradientTape() as tape:
          tape.watch(w0)
          f0 = self.apply_model(w0, x)
        jtr = tape.gradient(f0, w0, output_gradients=cotangent)
      hvp = acc.jvp(jtr, unconnected_gradients=tf.UnconnectedGradients.ZERO)
      return loss, [g + h for g, h in zip(jtr, hvp)], out
    w0 = self._w0()
    with tf.GradientTape() as tape:
      tape.watch(w0)
      with tf.autodiff.ForwardAccumulator(w0, [tf.convert_to_tensor(v) for v in self.u]) as acc:
        f0 = self.apply_model(w0, x)
    ju = acc.jvp(f0)
    out = ju if self.centered else f0 + ju
    loss, cotangent = _loss_and_cotangent(loss_fn, out, y)
    return loss, tape.gradient(f0, w0, output_gradients=cotangent), out

  def train_step(self, data):
    """One step of `fit`: the compiled loss's gradient in u by one VJP at w0 (eq. (3)), then
    the compiled optimizer; metrics as Keras' own train_step keeps them."""
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)

    def loss_fn(outputs, targets):
      return self.compute_loss(x=x, y=targets, y_pred=outputs, sample_weight=sample_weight,
                               training=True)
    loss, gradient, out = self._loss_gradient_and_outputs(x, y, loss_fn)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync  # compute_loss divided by it.
    batch = tf.shape(tf.nest.flatten(x)[0])[0]
    self._loss_tracker.update_state(loss * tf.cast(replicas, loss.dtype), sample_weight=batch)
    # An optimizer that scales the loss (loss_scale_factor, mixed precision) unscales the
    # gradients it is given: scale them as autodiff of the scaled loss would have.
    scale = self.optimizer.scale_loss(tf.ones((), loss.dtype))
    self.optimizer.apply_gradients(zip([g * tf.cast(scale, g.dtype) for g in gradient], self.u))
    return self.compute_metrics(x, y, out, sample_weight=sample_weight)


def _loss_and_cotangent(loss_fn: Callable, outputs, targets):
  """(ℓ(outputs, targets), ∂ℓ/∂outputs)."""
  with tf.GradientTape() as tape:
    tape.watch(outputs)
    loss = loss_fn(outputs, targets)
  return loss, tape.gradient(loss, outputs)
