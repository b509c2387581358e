"""The papers' optimizer as a Keras optimizer, for `model.fit` of a network or its linearization.

Samarin et al. train with torch.optim.SGD: weight decay added to the gradient (coupled, unlike
Keras' decoupled `weight_decay`) and momentum accumulating gradients, not learning-rate-scaled
steps. `TorchSGD` is that update; the paired trainer and the learning curves step with it too,
so a Keras fit and the paired trainer take the same steps.
"""

import contextlib

import keras
import tensorflow as tf


@contextlib.contextmanager
def _floatx(dtype: str):
  previous = keras.config.floatx()
  keras.config.set_floatx(dtype)
  try:
    yield
  finally:
    keras.config.set_floatx(previous)


@keras.saving.register_keras_serializable(package="ntk_tf")
class TorchSGD(keras.optimizers.Optimizer):
  """torch.optim.SGD(lr=η, momentum=μ, weight_decay=λ, dampening=0, nesterov=False).

  For each weight p with gradient g:  g ← g + λ p;  v ← μ v + g;  p ← p − η v.
  The learning rate is held in float64 (cast to each weight's dtype per step), so float64
  training takes η exactly; schedules and callbacks that set `learning_rate` work as usual.
  """

  def __init__(self, learning_rate=0.01, momentum: float = 0.9, weight_decay: float = 0.0,
               name: str = "torch_sgd", **kwargs):
    if momentum < 0 or weight_decay < 0:
      raise ValueError(f"TorchSGD momentum={momentum}, weight_decay={weight_decay}: both must "
                       "be >= 0.")
    with _floatx("float64"):  # The learning-rate variable Keras creates.
      super().__init__(learning_rate=learning_rate, name=name, **kwargs)
    self.momentum, self.coupled_weight_decay = float(momentum), float(weight_decay)

  def build(self, variables):
    if self.built:
      return
    super().build(variables)
    self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

  def update_step(self, gradient, variable, learning_rate):
    dtype = variable.dtype
    gradient = tf.cast(gradient, dtype)
    if self.coupled_weight_decay:
      gradient = gradient + tf.constant(self.coupled_weight_decay, dtype) * variable
    velocity = self.velocities[self._get_variable_index(variable)]
    self.assign(velocity, tf.constant(self.momentum, dtype) * velocity + gradient)
    self.assign_sub(variable, tf.cast(learning_rate, dtype) * velocity)

  def apply_at(self, learning_rate, grads, variables):
    """One step at `learning_rate` (a scalar tensor, e.g. an argument of a compiled step; it
    stays the rate afterwards): the paired trainer's and the learning curves' steps."""
    dtype = self.learning_rate.dtype
    if isinstance(learning_rate, (int, float)):  # tf.cast would round it to float32 first.
      learning_rate = tf.constant(learning_rate, dtype)
    self.learning_rate.assign(tf.cast(learning_rate, dtype))
    self.apply(grads, variables)

  def get_config(self):
    config = super().get_config()
    config.update(momentum=self.momentum, weight_decay=self.coupled_weight_decay)
    return config
