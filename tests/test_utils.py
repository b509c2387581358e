"""Shared test helpers: one TestCase base with per-dtype tolerances."""

import os

import numpy as np
from absl.testing import absltest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# (rtol, atol) for comparing two computations of the same quantity.
TOLERANCES = {
    np.dtype(np.float64): (1e-10, 1e-12),
    np.dtype(np.float32): (1e-4, 1e-5),
}


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def smoke_config(name: str, overrides=None):
  """configs/<name>.py:smoke with dotted overrides (a test's own shrinks beyond the tier)."""
  from ntk_tf import sweep
  from ntk_tf.cli import config_files
  config = config_files.load_config(os.path.join(ROOT, "configs", f"{name}.py:smoke"))
  return sweep.apply_overrides(config, overrides or {})


class TestCase(absltest.TestCase):
  """absltest.TestCase with dtype-aware closeness checks."""

  def assertAllClose(self, actual, desired, dtype=None, rtol=None, atol=None, msg=""):
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    dtype = np.dtype(dtype or np.result_type(actual.dtype, desired.dtype))
    default_rtol, default_atol = TOLERANCES.get(dtype, (1e-6, 1e-8))
    np.testing.assert_allclose(actual, desired,
                               rtol=default_rtol if rtol is None else rtol,
                               atol=default_atol if atol is None else atol, err_msg=msg)
