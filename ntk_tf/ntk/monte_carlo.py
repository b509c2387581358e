"""Monte-Carlo estimates of infinite-width kernels for architectures without a closed form.

LeNet and AlexNet use max-pooling, whose infinite-width kernel has no closed form (Samarin et
al. leave it open). In the NTK parameterization the empirical NTK of a width-k network
converges to a deterministic kernel as k → ∞ and its mean over initializations approaches it
at O(1/k); this module averages the output-averaged eNTK (and the NNGP, E[f(x) f(x')]) over M
independent initializations at width factor k and reports the standard error of the mean.
"""

import math
from typing import Optional

import numpy as np
from absl import logging

from ntk_tf import models
from ntk_tf.errors import ConfigError
from ntk_tf.ntk import empirical
from ntk_tf.utils import model_names


def kernels(arch: str, x1, x2=None, *, width: int, num_samples: int = 10, seed: int = 0,
            num_outputs: int = 1, dtype: str = "float32", memory_limit_gb: float = 4.0,
            w_std: float = math.sqrt(2.0), b_std: float = 0.0,
            depth: Optional[int] = None) -> dict:
  """{"ntk", "ntk_stderr", "nngp", "nngp_stderr"}: (n1, n2) means over `num_samples` inits.

  Each initialization (seeds seed, seed+1, ...) contributes its eNTK averaged over the
  `num_outputs` outputs (independent readouts, so more outputs lower the variance) and the
  output-averaged f(x1) f(x2)ᵀ for the NNGP. A user model ("module:function", width 1) is
  built as its function initializes it: the mean of its eNTK over initializations.
  """
  if num_samples < 2:
    raise ConfigError(f"num_samples={num_samples}: a standard error needs at least 2 "
                      "initializations.")
  x1 = np.asarray(x1)
  symmetric = x2 is None
  x2 = x1 if symmetric else np.asarray(x2)
  kwargs = {} if depth is None else {"depth": depth}
  ntks, nngps = [], []
  for index in range(num_samples):
    model = models.build(arch, width=width, input_shape=x1.shape[1:], num_outputs=num_outputs,
                         seed=seed + index, dtype=dtype,
                         parameterization="standard" if model_names.is_user_model(arch) else "ntk",
                         w_std=w_std,
                         b_std=b_std, **kwargs)
    ntks.append(empirical.empirical_ntk(model, x1, None if symmetric else x2,
                                        memory_limit_gb=memory_limit_gb, outputs="trace"))
    f1 = np.asarray(model.predict(x1, batch_size=256, verbose=0), np.float64)
    f2 = f1 if symmetric else np.asarray(model.predict(x2, batch_size=256, verbose=0), np.float64)
    nngps.append(f1 @ f2.T / num_outputs)
    logging.info("Monte-Carlo %s x%d: initialization %d/%d", arch, width, index + 1,
                 num_samples)
  out = {}
  for name, values in (("ntk", np.array(ntks)), ("nngp", np.array(nngps))):
    out[name] = values.mean(axis=0)
    out[f"{name}_stderr"] = values.std(axis=0, ddof=1) / math.sqrt(num_samples)
  return out
