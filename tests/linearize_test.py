"""LinearizedModel against explicit Jacobians and finite differences, in float64."""

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import models
from ntk_tf.ntk.linearize import LinearizedModel
from ntk_tf.training import steps as training
from tests import test_utils

SMALL_MODELS = (
    ("lenet", dict(width=1, input_shape=(12, 12, 1), num_outputs=3)),
    ("mlp", dict(width=7, input_shape=(5,), num_outputs=4, parameterization="ntk")),
    ("cnn_gap", dict(width=3, input_shape=(5, 5, 2), num_outputs=2, parameterization="ntk")),
    ("myrtle", dict(width=2, input_shape=(8, 8, 1), num_outputs=1)),
)


def small(name, kwargs, seed=0):
  model = models.build(name, seed=seed, dtype="float64", **kwargs)
  x = np.random.default_rng(seed).standard_normal((3,) + kwargs["input_shape"])
  return model, tf.constant(x)


def explicit_jacobian(model, x):
  """J of shape (n, L, P): every output's gradient, by tf.GradientTape.jacobian."""
  params = [v.value for v in model.trainable_variables]
  with tf.GradientTape() as tape:
    out = model(x)
  jac = tape.jacobian(out, params)
  n, num_out = out.shape
  return np.concatenate([j.numpy().reshape(n, num_out, -1) for j in jac], axis=-1)


def flat(tensors):
  return np.concatenate([np.asarray(t).ravel() for t in tensors])


def random_like(params, seed, scale=1.0):
  rng = np.random.default_rng(seed)
  return [tf.constant(scale * rng.standard_normal(p.shape)) for p in params]


class LinearizationTest(parameterized.TestCase, test_utils.TestCase):

  @parameterized.parameters(*SMALL_MODELS)
  def test_zero_u_is_the_network(self, name, kwargs):
    model, x = small(name, kwargs)
    lin = LinearizedModel(model)
    self.assertAllClose(lin(x), model(x), dtype=np.float64)

  @parameterized.parameters(*SMALL_MODELS)
  def test_jvp_and_vjp_against_explicit_jacobian(self, name, kwargs):
    model, x = small(name, kwargs)
    lin = LinearizedModel(model)
    jac = explicit_jacobian(model, x)
    u = random_like(lin.params0, 1)
    f0, ju = lin.jvp(x, u)
    self.assertAllClose(f0, model(x), dtype=np.float64)
    self.assertAllClose(ju, jac @ flat(u), dtype=np.float64)
    r = np.random.default_rng(2).standard_normal(jac.shape[:2])
    self.assertAllClose(flat(lin.vjp(x, tf.constant(r))),
                        np.einsum("nlp,nl->p", jac, r), dtype=np.float64)
    for v, t in zip(lin.u, u):  # f_lin(u) = f0 + J u with u set in the variables.
      v.assign(t)
    self.assertAllClose(lin(x), model(x).numpy() + jac @ flat(u), dtype=np.float64)

  @parameterized.parameters(False, True)
  def test_loss_gradient_is_eq3(self, centered):
    model, x = small(*SMALL_MODELS[0])
    lin = LinearizedModel(model, centered=centered)
    for v, t in zip(lin.u, random_like(lin.params0, 3, 0.1)):
      v.assign(t)
    y = tf.constant(np.eye(3)[[0, 2, 1]])
    jac = explicit_jacobian(model, x)
    out = (0 if centered else model(x).numpy()) + jac @ flat(lin.u)
    loss, grads = lin.loss_and_gradient(x, y, training.mse_sum_outputs)
    # Samarin et al. eq. (3), averaged over the batch: (2/n) sum_i sum_l ∇f_l (f_lin,l - y_l).
    expected = 2 / 3 * np.einsum("nlp,nl->p", jac, out - y.numpy())
    self.assertAllClose(flat(grads), expected, dtype=np.float64)
    self.assertAllClose(loss, np.mean(np.sum((out - y.numpy()) ** 2, -1)), dtype=np.float64)

  def test_second_order_against_finite_differences(self):
    model, x = small(*SMALL_MODELS[1])
    lin = LinearizedModel(model, order=2)
    u = random_like(lin.params0, 4, 0.3)
    eps = 1e-3
    def f_at(scale):
      return lin.apply_model([p + scale * t for p, t in zip(lin.params0, u)], x).numpy()
    uhu_fd = (f_at(eps) - 2 * f_at(0.0) + f_at(-eps)) / eps ** 2
    _, ju, uhu = lin._quadratic_term(x, u)  # pylint: disable=protected-access
    self.assertAllClose(uhu, uhu_fd, rtol=1e-5, atol=1e-7)
    self.assertAllClose(ju, (f_at(eps) - f_at(-eps)) / (2 * eps), rtol=1e-5, atol=1e-7)
    self.assertGreater(np.abs(uhu).max(), 1e-3)  # The quadratic term is really there.
    for v, t in zip(lin.u, u):
      v.assign(t)
    self.assertAllClose(lin(x), f_at(0.0) + ju + 0.5 * uhu, dtype=np.float64)

  def test_second_order_gradient_against_finite_differences(self):
    model, x = small(*SMALL_MODELS[1])
    lin = LinearizedModel(model, order=2)
    for v, t in zip(lin.u, random_like(lin.params0, 5, 0.2)):
      v.assign(t)
    y = tf.constant(np.random.default_rng(6).standard_normal((3, 4)))
    _, grads = lin.loss_and_gradient(x, y, training.mse)
    direction = random_like(lin.params0, 7)
    eps = 1e-5
    def loss_at(scale):
      u = [v + scale * d for v, d in zip(lin.u, direction)]
      return float(training.mse(lin.apply(x, u), y))
    fd = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    self.assertAllClose(np.dot(flat(grads), flat(direction)), fd, rtol=1e-6, atol=1e-9)

  def test_params_are_a_copy(self):
    model, x = small(*SMALL_MODELS[1])
    lin = LinearizedModel(model)
    before = lin(x).numpy()
    for v in model.trainable_variables:
      v.assign(v * 2.0)
    self.assertAllClose(lin(x), before, dtype=np.float64)


if __name__ == "__main__":
  absltest.main()
