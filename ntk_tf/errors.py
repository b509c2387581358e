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


class StorageError(NtkTfError):
  """A file could not be written: the disk is full or the quota reached."""


class NumericalError(NtkTfError):
  """A computation produced NaN or inf; the message says where and what to try."""


def non_finite(array):
  """(count, index of the first) of the NaN/inf entries of `array`; None if all are finite."""
  import numpy as np  # Here only: the error classes above need nothing.
  bad = ~np.isfinite(array)
  if not bad.any():
    return None
  return int(bad.sum()), tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))


def require_finite(array, where: str, fix: str):
  """Raises NumericalError naming `where` (and the first bad index) if `array` has NaN/inf."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  array = np.asarray(array)
  found = non_finite(array)
  if found:
    raise NumericalError(f"{where} holds {found[0]} NaN/inf entries (first at {found[1]}); "
                         f"{fix}")
  return array


def require_finite_inputs(x1, x2):
  """Refuses kernel inputs holding NaN/inf as bad input (ConfigError); x2 may be x1."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  for name, x in (("x1", x1),) + ((("x2", x2),) if x2 is not x1 else ()):
    if not np.all(np.isfinite(x)):
      raise ConfigError(f"{name} contains NaN or inf; clean the inputs first.")
