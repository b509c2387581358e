"""The one exception family the tool raises for bad input.

`main` prints these as a single line (no traceback) and exits with status 2.
Every message says what was wrong and what to do instead.
"""


class NtkTfError(Exception):
  """Base class: a problem the user can fix (bad config, missing data, ...)."""


class ConfigError(NtkTfError, ValueError):
  """A configuration value is missing, mistyped or out of range."""


class DataError(NtkTfError):
  """A data set cannot be found, read or prepared."""


class NumericalError(NtkTfError):
  """A computation produced NaN or inf; the message says where and what to try."""


def require_finite(array, where: str, fix: str):
  """Raises NumericalError naming `where` (and the first bad index) if `array` has NaN/inf."""
  import numpy as np  # Here only: the error classes above need nothing.
  array = np.asarray(array)
  bad = ~np.isfinite(array)
  if bad.any():
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), array.shape))
    raise NumericalError(f"{where} holds {int(bad.sum())} NaN/inf entries (first at {first}); "
                         f"{fix}")
  return array
