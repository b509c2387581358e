"""Workdir files: atomic JSON/npz writes so no reader ever sees a partial file."""

import errno
import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any, Dict, Optional, Sequence

import numpy as np
from absl import logging

from ntk_tf.errors import StorageError


def _default(obj):
  if isinstance(obj, np.generic):
    return obj.item()
  if isinstance(obj, np.ndarray):
    return obj.tolist()
  if isinstance(obj, (tuple, set)):
    return list(obj)
  raise TypeError(f"not JSON serializable: {type(obj).__name__}")


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _atomic_write(path: str, write_fn, mode: str):
  directory = os.path.dirname(os.path.abspath(path))
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
  try:
    with os.fdopen(fd, mode) as f:
      write_fn(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException as e:
    if os.path.exists(tmp):
      os.remove(tmp)
    if isinstance(e, OSError) and e.errno in _DISK_FULL:
      state = "is unchanged" if os.path.exists(path) else "was not created"
      raise StorageError(
          f"the disk filled while writing {path} ({e.strerror}): nothing was half-written "
          f"(the file {state}); free space and rerun the same command: finished work is "
          "kept and resumes.") from e
    raise


def write_json(path: str, obj: Any):
  """Writes `obj` as indented JSON via a temporary file and an atomic rename."""
  _atomic_write(path, lambda f: json.dump(obj, f, indent=2, default=_default, sort_keys=False),
                "w")


def read_json(path: str):
  with open(path) as f:
    return json.load(f)


def sha1_of(*arrays) -> str:
  """Hex SHA-1 of the arrays' bytes (C order): identifies the data a checkpoint was made from."""
  digest = hashlib.sha1()
  for array in arrays:
    digest.update(np.ascontiguousarray(array).tobytes())
  return digest.hexdigest()


def check_manifest(path: str, manifest: dict) -> dict:
  """Compares `manifest` with the one recorded in the JSON file `path` (written when absent).

  Returns {key: recorded value} for every key whose value differs; empty when they agree. Values
  are compared after a JSON round trip (tuples read back as lists).
  """
  expected = json.loads(json.dumps(manifest, default=_default))
  if not os.path.exists(path):
    write_json(path, expected)
    return {}
  found = read_json(path)
  return {k: found.get(k) for k in sorted(expected) if found.get(k) != expected[k]}


def write_npy(path: str, array):
  _atomic_write(path, lambda f: np.save(f, array), "wb")


def write_npz(path: str, **arrays):
  _atomic_write(path, lambda f: np.savez(f, **arrays), "wb")


def write_jsonl(path: str, records):
  """Writes one JSON line per record, atomically."""
  _atomic_write(path, lambda f: f.writelines(json.dumps(r, default=_default) + "\n"
                                             for r in records), "w")


def read_jsonl(path: str) -> list:
  """The records of a JSON-lines file (write_jsonl, append_jsonl), blank lines skipped."""
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def append_jsonl(path: str, record: dict):
  """Appends one JSON line (metrics logs); a crash leaves at most the last line incomplete."""
  with open(path, "a") as f:
    f.write(json.dumps(record, default=_default) + "\n")


def set_aside(path: str, reason: str) -> str:
  """Renames an unusable checkpoint to <path>.corrupt (kept for inspection) with a warning."""
  target = path + ".corrupt"
  os.replace(path, target)
  logging.warning("checkpoint %s is unusable (%s); moved to %s and falling back.", path, reason,
                  target)
  return target


def load_arrays(path: str, keys: Optional[Sequence[str]] = None,
                shapes: Optional[Dict[str, tuple]] = None) -> Optional[Dict[str, np.ndarray]]:
  """The arrays of a .npy (key "array") or .npz checkpoint, fully read and checked.

  A truncated or corrupted file, a missing key, a shape other than `shapes` says, or NaN/inf
  values make it unusable: it is set aside (`set_aside`) and None is returned, so the caller
  falls back (an older checkpoint, or recomputing that piece) instead of crashing or using it.
  """
  try:
    with open(path, "rb") as f:
      loaded = np.load(f, allow_pickle=False)
      if isinstance(loaded, np.ndarray):
        arrays = {"array": loaded}
      else:
        with loaded:
          arrays = {k: loaded[k] for k in loaded.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
    set_aside(path, f"unreadable: {e}")
    return None
  for key in keys or ():
    if key not in arrays:
      set_aside(path, f"no array {key!r}")
      return None
  for key, shape in (shapes or {}).items():
    if arrays[key].shape != tuple(shape):
      set_aside(path, f"{key} has shape {arrays[key].shape}, expected {tuple(shape)}")
      return None
  for key, value in arrays.items():
    if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
      set_aside(path, f"{key} holds NaN or inf")
      return None
  return arrays


def read_cell(path: str) -> Optional[dict]:
  """A finished piece of work saved as a JSON object, or None when it must be (re)done: missing,
  or unreadable (set aside as *.corrupt with a warning)."""
  if not os.path.exists(path):
    return None
  try:
    value = read_json(path)
  except (ValueError, UnicodeDecodeError) as e:
    set_aside(path, f"not valid JSON: {e}")
    return None
  if not isinstance(value, dict):
    set_aside(path, f"holds a {type(value).__name__}, not a JSON object")
    return None
  return value
