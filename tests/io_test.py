"""Checkpoint files: atomic writes, and unusable checkpoints set aside instead of used."""

import os

import numpy as np
from absl.testing import absltest

from ntk_tf.utils import io


class LoadArraysTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.dir = self.create_tempdir().full_path

  def test_good_files_load(self):
    io.write_npz(os.path.join(self.dir, "a.npz"), x=np.arange(3.0), n=np.array(3))
    out = io.load_arrays(os.path.join(self.dir, "a.npz"), keys=("x", "n"), shapes={"x": (3,)})
    np.testing.assert_array_equal(out["x"], [0.0, 1.0, 2.0])
    io.write_npy(os.path.join(self.dir, "b.npy"), np.eye(2))
    np.testing.assert_array_equal(io.load_arrays(os.path.join(self.dir, "b.npy"))["array"],
                                  np.eye(2))

  def test_unusable_files_are_set_aside(self):
    cases = {
        "missing_key.npz": lambda p: np.savez(p, y=np.zeros(3)),
        "nan.npz": lambda p: np.savez(p, x=np.array([0.0, np.nan, 1.0])),
        "shape.npz": lambda p: np.savez(p, x=np.zeros(4)),
        "empty.npz": lambda p: open(p, "wb").close(),
    }
    for name, write in cases.items():
      path = os.path.join(self.dir, name)
      write(path)
      with self.assertLogs(level="WARNING"):
        self.assertIsNone(io.load_arrays(path, keys=("x",), shapes={"x": (3,)}), name)
      self.assertFalse(os.path.exists(path), name)
      self.assertTrue(os.path.exists(path + ".corrupt"), name)

  def test_read_cell(self):
    path = os.path.join(self.dir, "cell.json")
    self.assertIsNone(io.read_cell(path))
    io.write_json(path, {"x": 1})
    self.assertEqual(io.read_cell(path), {"x": 1})
    for text in ('{"x": ', "[1, 2]"):
      with open(path, "w") as f:
        f.write(text)
      with self.assertLogs(level="WARNING"):
        self.assertIsNone(io.read_cell(path))
      self.assertTrue(os.path.exists(path + ".corrupt"))

  def test_atomic_write_leaves_no_partial_file(self):
    path = os.path.join(self.dir, "r.json")
    io.write_json(path, {"a": 1})

    class Boom:  # Not serializable: json.dump fails half way.
      pass
    with self.assertRaises(TypeError):
      io.write_json(path, {"a": 2, "b": Boom()})
    self.assertEqual(io.read_json(path), {"a": 1})
    self.assertEqual(os.listdir(self.dir), ["r.json"])


if __name__ == "__main__":
  absltest.main()
