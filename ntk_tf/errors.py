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
