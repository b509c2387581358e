"""The package installs like a library: a built wheel, in a fresh venv, outside the repository,
imports, reports its version, computes an empirical NTK, lists its shipped configs and runs one
by the name the docs give it; without TensorFlow, its import names the extra to install."""

import os
import subprocess
import sys
import sysconfig
import textwrap

from absl.testing import absltest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WheelTest(absltest.TestCase):

  def test_wheel_installs_and_runs_outside_the_repository(self):
    work = self.create_tempdir().full_path
    subprocess.run([sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps",
                    "--no-build-isolation", "-q", "-w", os.path.join(work, "dist")],
                   check=True, capture_output=True, timeout=600)
    wheels = os.listdir(os.path.join(work, "dist"))
    self.assertLen(wheels, 1)
    self.assertRegex(wheels[0], r"^ntk_tf-\d+\.\d+\.\d+-py3-none-any\.whl$")
    venv = os.path.join(work, "venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True,
                   timeout=300)
    python = os.path.join(venv, "bin", "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True
                          ).stdout.strip()
    # The dependencies (TensorFlow, ...) come from this environment's site-packages as plain
    # paths: its .pth files (our own editable install among them) are not run, so the only
    # ntk_tf the venv can import is the wheel's.
    with open(os.path.join(site, "dependencies.pth"), "w") as f:
      f.write(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    site, os.path.join(work, "dist", wheels[0])], check=True,
                   capture_output=True, timeout=600)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    code = textwrap.dedent("""\
        import keras, numpy as np
        import ntk_tf
        print("FILE", ntk_tf.__file__)
        print("VERSION", ntk_tf.__version__)
        inp = keras.Input((4,))
        out = keras.layers.Dense(2)(keras.layers.Dense(8, activation="relu")(inp))
        model = keras.Model(inp, out)
        theta = ntk_tf.empirical_ntk(model, np.random.default_rng(0).normal(size=(5, 4)))
        print("SHAPE", theta.shape)
        """)
    result = subprocess.run([python, "-c", code], cwd=work, env=env, capture_output=True,
                            text=True, timeout=600, check=False)
    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn(f"FILE {site}", result.stdout)
    self.assertNotIn(ROOT, result.stdout)
    self.assertRegex(result.stdout, r"VERSION \d+\.\d+\.\d+")
    self.assertIn("SHAPE (5, 5, 2, 2)", result.stdout)
    listed = subprocess.run([python, "-m", "ntk_tf.main", "--list"], cwd=work, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    self.assertEqual(listed.returncode, 0, listed.stderr)
    self.assertIn("configs/quickstart.py  [compare]", listed.stdout)
    run = subprocess.run([python, "-m", "ntk_tf.main", "--config=configs/quickstart.py",
                          "--config.train.epochs=1", "--config.dataset.num_train=256",
                          "--config.dataset.num_test=100",
                          "--config.baseline.logistic_regression=False",
                          f"--workdir={os.path.join(work, 'quickstart')}"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    self.assertEqual(run.returncode, 0, run.stderr)
    self.assertTrue(os.path.exists(os.path.join(work, "quickstart", "results.json")))
    # Without site processing the dependencies are gone but the wheel is on the path: no
    # TensorFlow.
    bare = subprocess.run([python, "-S", "-c", "import ntk_tf"], cwd=work,
                          env=dict(env, PYTHONPATH=site), capture_output=True, text=True,
                          timeout=60, check=False)
    self.assertNotEqual(bare.returncode, 0)
    self.assertIn("ImportError: ntk_tf needs TensorFlow", bare.stderr)
    self.assertIn("pip install 'ntk_tf[cpu]'", bare.stderr)

if __name__ == "__main__":
  absltest.main()
