"""The synthetic task of Vyas, Bansal, Nakkiran (2022), appendix D.

z ~ uniform on {-1, 1}^dim, eps ~ N(0, noise_std^2 I) (the paper: dim 30, covariance 0.25 I),
x = z + eps and y = z_1 z_2. Labels are returned as classes 0 (y = -1) and 1 (y = +1).
"""

import numpy as np

from ntk_tf.data.raw import RawData
from ntk_tf.errors import ConfigError

CLASS_NAMES = ("y=-1", "y=+1")


def sample(n: int, dim: int, noise_std: float, generator: np.random.Generator):
  z = generator.choice(np.array([-1.0, 1.0]), size=(n, dim))
  x = z + noise_std * generator.standard_normal((n, dim))
  y = z[:, 0] * z[:, 1]
  return x.astype(np.float32), (y > 0).astype(np.int64)


def load_vyas_synthetic(num_train: int, num_test: int, dim: int = 30, noise_std: float = 0.5,
                        seed: int = 0) -> RawData:
  if dim < 2:
    raise ConfigError(f"dataset.synthetic.dim={dim}: the label z1*z2 needs dim >= 2.")
  for key, value in (("num_train", num_train), ("num_test", num_test)):
    if not isinstance(value, int) or value < 1:
      raise ConfigError(f"dataset.synthetic.{key}={value!r} must be a positive integer.")
  x_train, y_train = sample(num_train, dim, noise_std, np.random.default_rng([seed, 101]))
  x_test, y_test = sample(num_test, dim, noise_std, np.random.default_rng([seed, 102]))
  return RawData(x_train, y_train, x_test, y_test, CLASS_NAMES,
                 source=f"Vyas et al. appendix D synthetic task (dim={dim}, noise_std={noise_std})")
