"""Today's code against the committed reproduction runs: the same config gives the same outputs.

The archived run docs/reproduction/runs/lenet_mnist_x1 (the `cpu` tier, computed on
2026-12-02 by the paired trainer's hand-written SGD, one step per call) recorded the outputs of
both models on 8 test points after every one of its first 200 steps. Its config, rerun for two
epochs (250 steps) with today's trainer (TorchSGD steps, chunks of 16 steps per call), must
give those 2 x 201 x 8 outputs: exactly on the machine that made the run, to float32 rounding
on another CPU.
"""

import json
import os

import ml_collections
import numpy as np
from absl.testing import absltest

from ntk_tf.cli import launch
from ntk_tf.experiments import compare
from ntk_tf.reproduction import archive
from tests import test_utils

RUN = os.path.join(os.path.dirname(__file__), "..", "docs", "reproduction", "runs",
                   "lenet_mnist_x1")


def _update(config: ml_collections.ConfigDict, values: dict):
  """config with `values` (a nested dict of a config.json) written in, key by key."""
  for key, value in values.items():
    if isinstance(value, dict) and isinstance(config.get(key), ml_collections.ConfigDict):
      _update(config[key], value)
    else:
      config[key] = tuple(value) if isinstance(value, list) else value


class ArchivedPairedRunTest(test_utils.TestCase):

  def test_first_200_steps_equal_the_archived_run(self):
    with open(os.path.join(RUN, "config.json")) as f:
      archived = json.load(f)
    config = compare.default_config()
    _update(config, archived)
    config.train.epochs = 2  # 125 steps per epoch: the trajectories' 200 steps and one more.
    config.seeds = (0,)
    config.baseline.logistic_regression = False
    workdir = self.create_tempdir().full_path
    launch.launch(config, workdir)
    with np.load(os.path.join(RUN, "seed_0", "trajectories.npz")) as z:
      expected = {k: z[k] for k in z.files}
    with np.load(os.path.join(workdir, "seed_0", "trajectories.npz")) as z:
      got = {k: z[k] for k in z.files}
    np.testing.assert_array_equal(got["step"][:201], np.arange(201))
    np.testing.assert_array_equal(expected["step"][:201], np.arange(201))
    # Bit for bit on the machine that made the run; elsewhere the CPU's kernels (AVX-512 on the
    # Intel Xeon it ran on, AVX2 on an AMD EPYC) round differently from the first forward pass
    # on: float32 rounding, ~1e-6 relative after 200 steps, where a changed step is ~1e-1.
    record = os.path.join(RUN, "reproduce_run.json")
    with open(record) as f:
      same_machine = json.load(f).get("machine") == archive.machine()
    for which in ("standard", "linearized"):
      if same_machine:
        np.testing.assert_array_equal(got[which][:201], expected[which][:201], err_msg=which)
      else:
        np.testing.assert_allclose(got[which][:201], expected[which][:201], rtol=1e-4, atol=1e-6,
                                   err_msg=which)


if __name__ == "__main__":
  absltest.main()
