"""Predictions with uncertainty from infinite-width kernels: the trained ensemble (NTK-GP) and
the Bayesian NNGP posterior on real digits.

    python examples/predict_with_uncertainty.py      # ~5 s on a 2-core CPU, offline

scikit-learn's 8x8 digits (300 to train, 300 to test), a depth-3 ReLU MLP at infinite width
(ntk_tf.infinite_kernels), one-hot targets. `EnsemblePredictor` gives, for every test digit,
the mean and variance over initializations of the trained network's outputs, after
t = 0.3 and t = ∞ of gradient flow, and the NNGP posterior; the predictive spread is larger on
the digits the mean gets wrong.
"""

import functools

import numpy as np
import sklearn.datasets

import ntk_tf


def main(num_train=300, num_test=300):
  digits = sklearn.datasets.load_digits()
  order = np.random.default_rng(0).permutation(len(digits.target))
  x = digits.data[order] / 16.0
  x = (x - x.mean(0)) / (x.std(0) + 1e-8)
  x /= np.linalg.norm(x, axis=1, keepdims=True) / np.sqrt(x.shape[1])
  labels = digits.target[order]
  y = np.eye(10)[labels] - 0.1                              # Centered one-hot targets.
  train, test = slice(0, num_train), slice(num_train, num_train + num_test)
  predictor = ntk_tf.EnsemblePredictor(
      functools.partial(ntk_tf.infinite_kernels, "mlp", depth=3), x[train], y[train])
  for name, kwargs in (("NTK-GP, t = 0.3", dict(time=0.3)), ("NTK-GP, t = inf", {}),
                       ("NNGP posterior, noise 0.01", dict(get="nngp", noise=0.01))):
    out = predictor.predict(x[test], **kwargs)
    predicted = out["mean"].argmax(1)
    right = predicted == labels[test]
    sd = np.sqrt(np.clip(np.diag(out["covariance"]), 0, None))
    print(f"{name}: test accuracy {100 * right.mean():.1f}%, predictive sd {sd[right].mean():.3f}"
          f" on the {right.sum()} right and {sd[~right].mean():.3f} on the {(~right).sum()} "
          f"wrong digits")


if __name__ == "__main__":
  main()
