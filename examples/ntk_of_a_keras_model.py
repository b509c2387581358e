"""The NTK toolkit on your own Keras model: a stock-Keras functional LeNet on real MNIST digits.

    python examples/ntk_of_a_keras_model.py      # ~20 s on a 2-core CPU, offline

Computes the empirical NTK of 100 digits at initialization, its spectrum, the linearization
f(w0, x) + J(w0, x)·u, and the kernel-regression (gradient flow at t = ∞) predictions of the
linearized network on 200 held-out digits.
"""

import keras
import numpy as np

import ntk_tf
from ntk_tf.data import offline


def lenet(input_shape=(28, 28, 1), num_outputs=10):
  """LeNet-5 with ReLU and max-pooling, written with stock Keras layers."""
  inputs = keras.Input(input_shape)
  h = keras.layers.Conv2D(6, 5, activation="relu")(inputs)
  h = keras.layers.MaxPooling2D()(h)
  h = keras.layers.Conv2D(16, 5, activation="relu")(h)
  h = keras.layers.MaxPooling2D()(h)
  h = keras.layers.Flatten()(h)
  h = keras.layers.Dense(120, activation="relu")(h)
  h = keras.layers.Dense(84, activation="relu")(h)
  return keras.Model(inputs, keras.layers.Dense(num_outputs)(h), name="keras_lenet")


def main(num_train=100, num_test=200):
  keras.utils.set_random_seed(0)
  digits = offline.load_mnist5k()                # Sorted by class: draw a random subset.
  pick = np.random.default_rng(0).permutation(len(digits.x_train))[:num_train + num_test]
  x = digits.x_train[pick]
  x = ((x - x.mean()) / x.std()).astype("float32")
  labels = digits.y_train[pick]
  y = np.eye(10)[labels]
  model = lenet()

  theta = ntk_tf.empirical_ntk(model, x[:num_train])          # (n, n, 10, 10)
  sigma = ntk_tf.singular_values_from_kernel(ntk_tf.flatten_kernel(theta))
  print(f"eNTK of {num_train} digits x 10 outputs: effective rank "
        f"{ntk_tf.effective_rank(sigma):.1f} of {sigma.size}")

  linearized = ntk_tf.LinearizedModel(model)                    # u = 0: f_lin = f(w0, x).
  gap = np.abs(linearized.apply(x[:8]).numpy() - model(x[:8]).numpy()).max()
  print(f"max |f_lin(0, x) - f(w0, x)| = {gap:.1e}")

  k_train = ntk_tf.empirical_ntk(model, x[:num_train], outputs="trace")
  k_test = ntk_tf.empirical_ntk(model, x[num_train:], x[:num_train], outputs="trace")
  f0 = model(x).numpy()
  flow = ntk_tf.predict(k_train, y[:num_train] - f0[:num_train], np.inf, k_test)
  accuracy = np.mean(np.argmax(f0[num_train:] + flow["test"], 1) == labels[num_train:])
  print(f"linearized network trained to convergence (gradient flow, t = inf): test accuracy "
        f"{100 * accuracy:.1f}% on {num_test} digits")
  return dict(effective_rank=ntk_tf.effective_rank(sigma), linearization_gap=gap,
              test_accuracy=accuracy)


if __name__ == "__main__":
  main()
