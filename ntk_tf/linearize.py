"""The linearization of a Keras model around its initial weights (Samarin et al., eq. (2)).

f_lin(u, x) = f(w0, x) + J(w0, x) u, with J = ∂f/∂w at w0 and trainable u (zero at start).
The forward pass is one Jacobian-vector product (forward-mode autodiff); the gradient of a loss
in u is one vector-Jacobian product at w0, ∇_u ℓ = J(w0, x)ᵀ ∂ℓ/∂f_lin (eq. (3)); J itself is
never formed. `centered=True` drops f(w0, x) (the "empirical NTK" model of Vyas et al.);
`order=2` adds ½ uᵀ ∇²_w f(w0, x) u, computed by nested JVPs (Vyas et al., appendix C).
"""

from typing import Callable, List, Optional, Sequence

import keras
import tensorflow as tf

from ntk_tf.errors import ConfigError


class LinearizedModel:
  """f_lin(u, x) = f(w0, x) + J(w0, x)·u for a Keras model (weights w0 copied at construction).

  Args:
    model: a built keras.Model; its current trainable weights become w0 (or `params`).
    params: optional list of tensors to use as w0 instead (e.g. restored from a checkpoint).
    centered: drop the f(w0, x) term.
    order: 1 (linear) or 2 (adds the quadratic Taylor term).
  """

  def __init__(self, model: keras.Model, params: Optional[Sequence] = None, *,
               centered: bool = False, order: int = 1):
    if order not in (1, 2):
      raise ConfigError(f"linearization order={order}; use 1 or 2.")
    self.model, self.centered, self.order = model, bool(centered), int(order)
    source = params if params is not None else [v.value for v in model.trainable_variables]
    self.params0 = [tf.Variable(tf.identity(p), trainable=False, name=f"w0_{i}")
                    for i, p in enumerate(source)]
    self.u = [tf.Variable(tf.zeros_like(p), trainable=True, name=f"u_{i}")
              for i, p in enumerate(self.params0)]
    self._non_trainable = [v.value for v in model.non_trainable_variables]

  @property
  def dtype(self):
    return self.params0[0].dtype

  def apply_model(self, params, x):
    """f(params, x): the network evaluated at the given weights (a pure function)."""
    out, _ = self.model.stateless_call(list(params), self._non_trainable, x)
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

  __call__ = apply

  def loss_and_gradient(self, x, y, loss_fn: Callable):
    """(loss, ∇_u loss) for a loss of the outputs, ℓ(f_lin(u, x), y).

    Order 1: one forward pass carrying the JVP, then one VJP at w0 with cotangent ∂ℓ/∂f_lin
    (eq. (3) of Samarin et al.). Order 2: with r = ∂ℓ/∂f_lin, the gradient is
    Jᵀr + (Σ_l r_l ∇²f_l) u: a VJP and, by forward-over-reverse, its derivative along u.
    """
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
      return loss, [g + h for g, h in zip(jtr, hvp)]
    w0 = self._w0()
    with tf.GradientTape() as tape:
      tape.watch(w0)
      with tf.autodiff.ForwardAccumulator(w0, [tf.convert_to_tensor(v) for v in self.u]) as acc:
        f0 = self.apply_model(w0, x)
    ju = acc.jvp(f0)
    out = ju if self.centered else f0 + ju
    loss, cotangent = _loss_and_cotangent(loss_fn, out, y)
    return loss, tape.gradient(f0, w0, output_gradients=cotangent)


def _loss_and_cotangent(loss_fn: Callable, outputs, targets):
  """(ℓ(outputs, targets), ∂ℓ/∂outputs)."""
  with tf.GradientTape() as tape:
    tape.watch(outputs)
    loss = loss_fn(outputs, targets)
  return loss, tape.gradient(loss, outputs)
