"""What every command-line entry point (main, sweep, report, reproduce) does before its work:
a quiet terminal, and one error line with exit status 2 for problems a user can fix.

Quiet by default: TensorFlow's C++ start-up lines (oneDNN, cpu_feature_guard, the XLA service,
"Compiled cluster using XLA!") and its Python INFO lines (a checkpoint's "Sharding callback
duration") are hidden, and our own log lines are printed without absl's prefix. A user who
sets TF_CPP_MIN_LOG_LEVEL, or passes --verbosity=1 (absl's flag), sees TensorFlow's logs.
"""

import contextlib
import importlib
import logging as pylogging
import os
import sys
import tempfile
from typing import NoReturn

from absl import logging

# Set by a quiet parent for its children (sweep and reproduce start `ntk_tf.main`), so that
# their TF_CPP_MIN_LOG_LEVEL does not read as the user's own choice.
_QUIET_MARK = "NTK_TF_QUIET_TENSORFLOW"


def _verbosity(argv) -> int:
  """The --verbosity / -v value on the command line (absl's flag), 0 without it."""
  for i, arg in enumerate(argv):
    for name in ("--verbosity", "-v"):
      if arg.startswith(name + "="):
        value = arg.split("=", 1)[1]
      elif arg == name and i + 1 < len(argv):
        value = argv[i + 1]
      else:
        continue
      try:
        return int(value)
      except ValueError:
        return 0
  return 0


def wants_tensorflow_logs(argv, environ=None) -> bool:
  """Whether TensorFlow's own logs stay on: the user set TF_CPP_MIN_LOG_LEVEL themselves, or
  asked for --verbosity ≥ 1."""
  environ = os.environ if environ is None else environ
  users_level = "TF_CPP_MIN_LOG_LEVEL" in environ and environ.get(_QUIET_MARK) != "1"
  return users_level or _verbosity(argv) >= 1


@contextlib.contextmanager
def _stderr_to_file():
  """File descriptor 2 goes to a temporary file (C++ writes too); yields that file."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile(mode="w+b") as captured:
    os.dup2(captured.fileno(), 2)
    try:
      yield captured
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)


class _Concise(pylogging.Formatter):
  """Our log lines as plain messages; warnings and errors say so."""

  def format(self, record):
    message = record.getMessage()
    if record.levelno >= pylogging.ERROR:
      return f"error: {message}"
    if record.levelno >= pylogging.WARNING:
      return f"warning: {message}"
    return message


def quiet_start(argv=None) -> None:
  """Hides TensorFlow's start-up and INFO lines unless asked for; call before TensorFlow is
  imported. TensorFlow is imported here with its C++ start-up output captured: if the import
  fails, what it printed is shown."""
  argv = sys.argv if argv is None else argv
  if wants_tensorflow_logs(argv):
    return
  os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
  os.environ[_QUIET_MARK] = "1"
  if "tensorflow" not in sys.modules:
    with _stderr_to_file() as captured:
      try:
        importlib.import_module("tensorflow")
        failed = False
      except BaseException:  # pylint: disable=broad-except
        failed = True
      captured.seek(0)
      output = captured.read()
    if failed:  # Show what the import printed, then fail again, visibly.
      sys.stderr.write(output.decode(errors="replace"))
      importlib.import_module("tensorflow")
  pylogging.getLogger("tensorflow").setLevel(pylogging.ERROR)


def concise_logging() -> None:
  """Our own absl log lines without the 'I1203 17:42:08.79 140517 main.py:36]' prefix; call
  inside app.run's main (absl's handler exists then). Not under --verbosity ≥ 1."""
  if logging.get_verbosity() >= 1:
    return
  handler = logging.get_absl_handler()
  handler.setFormatter(_Concise())
  handler.addFilter(_not_tensorflow_info)


def _not_tensorflow_info(record) -> bool:
  """Drops INFO lines TensorFlow and Keras log through absl (a checkpoint's 'Sharding callback
  duration'); their warnings and errors stay."""
  path = record.pathname.replace(os.sep, "/")
  return record.levelno >= pylogging.WARNING or not any(
      part in path for part in ("/tensorflow/", "/keras/", "/tensorflow_datasets/"))


def fail(message: str) -> NoReturn:
  """Prints `ntk_tf: error: <message>` on stderr and exits with status 2."""
  print(f"ntk_tf: error: {message}", file=sys.stderr)
  sys.exit(2)
