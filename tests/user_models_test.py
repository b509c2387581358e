"""A user's own Keras model (`model.name="module:function"` or "file.py:function") in the
experiments: end to end from the smoke configs, the same numbers as the built-in LeNet when the
function rebuilds it, one clear ConfigError per bad name, and the linearization of a functional
model with a skip connection against explicit Jacobians."""

import json
import os
from unittest import mock

import numpy as np
import tensorflow as tf
from absl.testing import absltest, parameterized

from ntk_tf import data, models
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import binary_solver, common, compare, kernel_regression, spectrum
from ntk_tf.ntk.linearize import LinearizedModel
from tests import test_utils
from tests.linearize_test import explicit_jacobian, flat, random_like

FNS = "tests.user_model_fns"
FNS_FILE = os.path.join(test_utils.ROOT, "tests", "user_model_fns.py")
LENET = f"{FNS}:lenet"


def _compare_config(name):
  """configs/lenet_mnist.py:smoke: one seed, 32 digits, one epoch, no XLA."""
  return test_utils.smoke_config("lenet_mnist", {
      "model.name": name, "dataset.num_train": 32, "dataset.num_test": 16, "seeds": None,
      "train.epochs": 1, "train.trajectory_points": 4, "train.trajectory_steps": 2,
      "train.jit_compile": False, "train.eval_batch_size": 1000,
      "baseline.logistic_regression": False})


def _spectrum_config(name):
  return test_utils.smoke_config("spectrum_lenet_mnist", {
      "model.name": name, "model.widths": (1,), "spectrum.num_samples": 12,
      "spectrum.translations": (0,)})


def _binary_config(name):
  """configs/binary_mnist.py:smoke on 32 digits, the dense solve in float64 (its SGD cell is
  the paired run `compare` checks)."""
  return test_utils.smoke_config("binary_mnist", {
      "model.name": name, "dataset.num_train": 32, "dataset.num_test": 16,
      "solver.methods": ("lstsq",), "solver.dtypes": ("float64",)})


def _kernel_config(name, kind="empirical"):
  return test_utils.smoke_config("kernel_regression_mnist", {
      "model.name": name, "dataset.num_train": 20, "dataset.num_test": 10,
      "regression.train_sizes": (10, 20), "kernel.name": kind, "kernel.num_samples": 2})


RUNS = {  # experiment: (module, config of a model name)
    "compare": (compare, _compare_config),
    "spectrum": (spectrum, _spectrum_config),
    "binary_solver": (binary_solver, _binary_config),
    "kernel_regression": (kernel_regression, _kernel_config),
    "monte_carlo": (kernel_regression, lambda name: _kernel_config(name, "monte_carlo")),
}


def _without_model(results):
  """Results as written, without the model's name and the solvers' wall-clock seconds."""
  def strip(value):
    if isinstance(value, dict):
      return {k: strip(v) for k, v in value.items() if k != "seconds"}
    return value
  as_written = json.loads(json.dumps(dict(results)))  # A Results or a results.json dict.
  return {k: strip(v) for k, v in as_written.items() if k != "model"}


class UserModelExperimentsTest(parameterized.TestCase, test_utils.TestCase):

  def run_experiment(self, experiment, name):
    module, make_config = RUNS[experiment]
    workdir = self.create_tempdir().full_path
    results = module.run(make_config(name), workdir)
    with open(os.path.join(workdir, "results.json")) as f:
      on_disk = json.load(f)
    self.assertEqual(on_disk, json.loads(json.dumps(results.to_json())))
    self.assertEqual(on_disk["model"], name)
    return on_disk

  @parameterized.parameters("compare", "spectrum", "binary_solver", "kernel_regression")
  def test_lenet_by_a_user_function_gives_the_builtin_results(self, experiment):
    user = self.run_experiment(experiment, LENET)
    builtin = self.run_experiment(experiment, "lenet")
    self.assertEqual(_without_model(user), _without_model(builtin))
    if experiment == "compare":
      table = compare.format_table(user)
      self.assertIn("linearized lenet ", table)
      self.assertNotIn(" x1", table)
    if experiment == "binary_solver":
      self.assertCountEqual(user["widths"]["1"], ["lstsq"])
      self.assertEqual(user["widths"]["1"]["lstsq"]["train_accuracy"], 1.0)

  def test_monte_carlo_kernel_of_a_user_function(self):
    # The Monte-Carlo kernels build 'lenet' in the NTK parameterization; a user model as its
    # function builds it: lenet_ntk is the same network, so the same mean kernel.
    user = self.run_experiment("monte_carlo", f"{FNS}:lenet_ntk")
    builtin = self.run_experiment("monte_carlo", "lenet")
    self.assertEqual(_without_model(user), _without_model(builtin))

  def test_functional_model_from_a_file(self):
    name = f"{FNS_FILE}:residual"
    on_disk = self.run_experiment("spectrum", name)
    model = models.build(name, width=1, input_shape=(28, 28, 1), num_outputs=10, seed=0)
    self.assertEqual(on_disk["widths"]["1"]["num_params"], models.num_params(model))
    self.assertEqual(on_disk["widths"]["1"]["num_rows"], 120)


class TrainingStateNoticeTest(test_utils.TestCase):

  def test_batchnorm_models_are_told_what_the_paired_run_means(self):
    import keras  # pylint: disable=g-import-not-at-top
    from ntk_tf.training import paired_runs
    inp = keras.Input((4,))
    h = keras.layers.BatchNormalization(name="bn")(keras.layers.Dense(3)(inp))
    notice = paired_runs.training_state_notice(keras.Model(inp, keras.layers.Dense(2)(h)))
    self.assertIn("has BatchNormalization (bn): the network trains with batch statistics",
                  notice)
    self.assertIn("use inference mode at w0's moving statistics", notice)
    plain = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(3)(inp)))
    self.assertIsNone(paired_runs.training_state_notice(plain))


class UserModelBuildTest(test_utils.TestCase):

  def test_seeded_even_if_the_function_ignores_its_seed(self):
    build = lambda seed: models.build(f"{FNS}:residual", width=1, input_shape=(6, 6, 1),  # noqa
                                      num_outputs=2, seed=seed).get_weights()
    for a, b in zip(build(3), build(3)):
      np.testing.assert_array_equal(a, b)
    self.assertFalse(np.array_equal(build(3)[0], build(4)[0]))

  def test_module_and_file_give_the_same_model(self):
    kwargs = dict(width=1, input_shape=(6, 6, 2), num_outputs=3, seed=1, dtype="float64")
    by_module = models.build(f"{FNS}:residual", **kwargs)
    by_file = models.build(f"{FNS_FILE}:residual", **kwargs)
    self.assertEqual(by_file.trainable_weights[0].dtype, "float64")
    for a, b in zip(by_module.get_weights(), by_file.get_weights()):
      np.testing.assert_array_equal(a, b)

  def test_footprint_and_max_pool(self):
    model = models.build(f"{FNS}:residual", width=1, input_shape=(8, 8, 1), num_outputs=3)
    fp = models.footprint(f"{FNS}:residual", 1, (8, 8, 1), 3)
    self.assertEqual(fp.num_params, models.num_params(model))
    self.assertGreaterEqual(fp.activations_per_sample, 2 * 8 * 8 * 3)  # Two conv outputs.
    self.assertBetween(fp.peak_layer_activations, 8 * 8 * 3, fp.activations_per_sample)
    self.assertFalse(models.has_overlapping_max_pool(f"{FNS}:residual", 1, (8, 8, 1)))
    self.assertTrue(models.has_overlapping_max_pool(f"{FNS}:overlapping_pool", 1, (8, 8, 1)))
    config = _compare_config(f"{FNS}:overlapping_pool")
    config.deterministic, config.train.jit_compile = True, True
    with self.assertRaisesRegex(ConfigError, "overlapping max-pooling"):
      common.check_determinism(config)


class BadNamesTest(parameterized.TestCase):
  """Each bad name is one ConfigError that says what to do, before any data is read."""

  @parameterized.named_parameters(
      ("no_module", "no_such_package.nets:cnn", r"no module 'no_such_package.nets' on the "
       r"Python path .* or give the file instead: 'path/to/file.py:cnn'"),
      ("no_file", "tests/no_such_file.py:cnn", r"file tests/no_such_file.py does not exist "
       r"\(a relative path is read from the current directory"),
      ("no_function", f"{FNS}:cnn", r"module tests.user_model_fns has no function 'cnn'; "
       r"functions it defines: .*lenet, lenet_ntk.*residual"),
      ("not_callable", f"{FNS}:NOT_A_FUNCTION", "has a non-callable 'NOT_A_FUNCTION'"),
      ("no_function_name", f"{FNS}:", r"'package.module:function' or "
       r"'path/to/file.py:function'"),
      ("arguments", f"{FNS}:two_arguments", r"two_arguments\(input_shape, num_outputs\) must "
       r"take \(input_shape, num_outputs, seed\)"),
      ("raises", f"{FNS}:raises", r"raises\(\(28, 28, 1\), 1, 0\) raised "
       r"ValueError: cannot build .* \(at .*user_model_fns.py:\d+\)"),
      ("not_a_model", f"{FNS}:returns_none", r"returned NoneType, not a keras.Model"),
      ("unbuilt", f"{FNS}:unbuilt", r"without weights \(not built\); start it from "
       r"keras.Input\(shape=input_shape\)"),
      ("outputs", f"{FNS}:wrong_outputs", r"output has shape \(batch,\) \+ \(2,\), not "
       r"\(batch, 1\); end it with keras.layers.Dense\(num_outputs\)"),
      ("input_shape", f"{FNS}:fixed_input", r"input shape \(None, 32, 32, 3\) does not match "
       r"the data's \(None,\) \+ \(28, 28, 1\); build keras.Input\(shape=input_shape\)"),
  )
  def test_bad_name(self, name, message):
    config = _compare_config(name)
    with mock.patch.object(data, "load", side_effect=AssertionError("data was read")):
      with self.assertRaisesRegex(ConfigError, message) as raised:
        compare.validate(config)
    self.assertIn(f"model.name={name!r}", str(raised.exception))

  def test_model_options_that_do_not_apply(self):
    for key, value, message in (
        ("model.width", 2, r"model.width=2: a user model .* has no width factor.*Set "
                           r"model.width=1"),
        ("model.parameterization", "ntk", "NTK parameterization cannot be imposed; set "
                                          "model.parameterization='standard'"),
        ("model.depth", 3, "model.depth applies to the built-in architectures only")):
      config = _compare_config(LENET)
      config.model[key.split(".")[1]] = value
      with self.assertRaisesRegex(ConfigError, message):
        compare.validate(config)
    with self.assertRaisesRegex(ConfigError, "model.width=2: .*model.widths=\\(1,\\)"):
      spectrum.validate(test_utils.smoke_config("spectrum_lenet_mnist", {"model.name": LENET}))
    with self.assertRaisesRegex(ConfigError, "kernel.name='infinite': closed-form kernels exist "
                                             "for the built-in architectures only"):
      kernel_regression.validate(_kernel_config(LENET, "infinite"))

  def test_dtype(self):
    config = _compare_config(f"{FNS}:no_dtype")
    config.dtype = "float64"
    with self.assertRaisesRegex(ConfigError, r"builds the model in float64, but no_dtype\(\) "
                                             "takes no dtype keyword"):
      compare.validate(config)
    with self.assertRaisesRegex(ConfigError, "takes no dtype keyword"):  # solver.dtypes.
      binary_solver.validate(_binary_config(f"{FNS}:no_dtype"))
    with self.assertRaisesRegex(ConfigError, "weights are float32, not float64; pass dtype"):
      models.build(f"{FNS}:ignores_dtype", width=1, input_shape=(6, 6, 1), num_outputs=1,
                   dtype="float64")


class UserModelLinearizationTest(test_utils.TestCase):

  def test_skip_connection_model_against_explicit_jacobian(self):
    model = models.build(f"{FNS}:residual", width=1, input_shape=(5, 5, 2), num_outputs=3,
                         seed=0, dtype="float64")
    x = tf.constant(np.random.default_rng(0).standard_normal((4, 5, 5, 2)))
    lin = LinearizedModel(model)
    self.assertAllClose(lin(x), model(x), dtype=np.float64)
    jac = explicit_jacobian(model, x)
    u = random_like(lin.params0, 1)
    f0, ju = lin.jvp(x, u)
    self.assertAllClose(ju, jac @ flat(u), dtype=np.float64)
    r = np.random.default_rng(2).standard_normal(jac.shape[:2])
    self.assertAllClose(flat(lin.vjp(x, tf.constant(r))), np.einsum("nlp,nl->p", jac, r),
                        dtype=np.float64)
    for v, t in zip(lin.u, u):
      v.assign(t)
    self.assertAllClose(lin(x), f0.numpy() + jac @ flat(u), dtype=np.float64)


if __name__ == "__main__":
  absltest.main()
