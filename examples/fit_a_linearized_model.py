"""Linearize a Keras model, fit it with Keras, watch its eNTK, save and reload it.

    python examples/fit_a_linearized_model.py [log_dir]   # ~15 s on a 2-core CPU, offline
    tensorboard --logdir <log_dir>                        # the kernel's scalars, spectrum, image

A stock-Keras CNN and its linearization f(w0, x) + J(w0, x)·u (Samarin et al.) are fitted side
by side on 1,000 real MNIST digits with the papers' SGD (`ntk_tf.TorchSGD`: momentum 0.9,
weight decay added to the gradient) and the L2 loss on one-hot targets. `ntk_tf.NTKMonitor`
takes the empirical NTK of 50 probe digits every epoch: the network's kernel moves (distance
to its start > 0), the linearization's does not (J(w0) is fixed). The linearization is saved
as a .keras file and reloaded with its weights u and its optimizer state.
"""

import os
import sys
import tempfile

import keras
import numpy as np

import ntk_tf
from ntk_tf.data import offline


def cnn():
  inputs = keras.Input((28, 28, 1))
  h = keras.layers.Conv2D(8, 5, strides=2, activation="relu")(inputs)
  h = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(h)
  h = keras.layers.Flatten()(h)
  return keras.Model(inputs, keras.layers.Dense(10)(h), name="small_cnn")


def main(log_dir=None, num_train=1000, epochs=4):
  log_dir = log_dir or tempfile.mkdtemp(prefix="ntk_tf_fit_")
  keras.utils.set_random_seed(0)
  digits = offline.load_mnist5k()
  pick = np.random.default_rng(0).permutation(len(digits.x_train))
  x = digits.x_train.astype("float32")
  x = (x - x.mean()) / x.std()
  y = np.eye(10, dtype="float32")[digits.y_train]
  train, test = pick[:num_train], pick[num_train:num_train + 1000]

  network = cnn()
  linearized = ntk_tf.LinearizedModel(network)     # Copies w0 now: build it before training.
  for name, model in (("network", network), ("linearized", linearized)):
    monitor = ntk_tf.NTKMonitor(x[train[:50]], y[train[:50]], outputs="trace",
                                log_dir=os.path.join(log_dir, name))
    model.compile(optimizer=ntk_tf.TorchSGD(0.05, momentum=0.9, weight_decay=1e-4),
                  loss="mse", metrics=["accuracy"])
    history = model.fit(x[train], y[train], batch_size=50, epochs=epochs, verbose=0,
                        callbacks=[monitor])
    _, accuracy = model.evaluate(x[test], y[test], verbose=0)
    first, last = monitor.records[0], monitor.records[-1]
    print(f"{name}: train loss {history.history['loss'][-1]:.4f}, test accuracy "
          f"{100 * accuracy:.1f}%; probe eNTK: kernel distance to the start "
          f"{last['kernel_distance']:.2e}, effective rank {first['effective_rank']:.2f} -> "
          f"{last['effective_rank']:.2f}, label alignment {first['label_alignment']:.3f} -> "
          f"{last['label_alignment']:.3f}")

  path = os.path.join(log_dir, "linearized.keras")
  linearized.save(path)
  reloaded = ntk_tf.load_model(path)
  gap = np.abs(reloaded.predict(x[test], verbose=0) - linearized.predict(x[test], verbose=0))
  print(f"saved and reloaded {path}: max |difference| of predictions {gap.max():.1e}")
  print(f"TensorBoard: tensorboard --logdir {log_dir}")


if __name__ == "__main__":
  main(*sys.argv[1:2])
