"""Workdir files: atomic JSON/npz writes so no reader ever sees a partial file."""

import hashlib
import json
import os
import tempfile
from typing import Any

import numpy as np


def _default(obj):
  if isinstance(obj, np.generic):
    return obj.item()
  if isinstance(obj, np.ndarray):
    return obj.tolist()
  if isinstance(obj, (tuple, set)):
    return list(obj)
  raise TypeError(f"not JSON serializable: {type(obj).__name__}")


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
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
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


def append_jsonl(path: str, record: dict):
  """Appends one JSON line (metrics logs); a crash leaves at most the last line incomplete."""
  with open(path, "a") as f:
    f.write(json.dumps(record, default=_default) + "\n")
