"""Run costs from measured times: a run's own, a line through measured sizes, the nearest run
scaled by parameters, seeds and epochs; other data or another model give no estimate."""

import json
import os

from absl.testing import absltest

from ntk_tf.reproduction import run_costs


def timing(name, tier="cpu", seconds=100.0, params=1000.0, **settings):
  base = {"dataset.name": "mnist5k", "model.name": "lenet", "seeds": (0, 1, 2),
          "train.epochs": 10, "train.learning_rate": 0.1}
  return run_costs.Timing(name, tier, "configs/x.py", seconds, dict(base, **settings), params)


def settings(**changes):
  return dict(timing("").settings, **changes)


class EstimateTest(absltest.TestCase):

  def estimate(self, timings, params=1000.0, tier="cpu", name="target", **changes):
    return run_costs.estimate(name, "configs/x.py", tier, settings(**changes), params, timings)

  def test_a_run_measured_at_its_tier_is_its_own_time(self):
    e = self.estimate([timing("target", seconds=42.0), timing("target", "cpu-full", 900.0)])
    self.assertEqual((e.seconds, e.kind, e.basis), (42.0, "measured", "measured"))

  def test_a_line_through_the_measured_sizes(self):
    # 3 seeds x 10 epochs; per seed-epoch 2 s + 0.001 s per parameter.
    runs = [timing(f"x{p}", params=p, seconds=30 * (2 + 0.001 * p)) for p in (1000, 3000)]
    e = self.estimate(runs, params=10000, seeds=(0,))  # One seed.
    self.assertAlmostEqual(e.seconds, 10 * (2 + 0.001 * 10000))
    self.assertEqual(e.kind, "scaled")
    self.assertIn("fitted to x1000, x3000", e.basis)

  def test_the_nearest_run_scaled_by_parameters_seeds_and_epochs(self):
    e = self.estimate([timing("small", params=1000.0, seconds=60.0),
                       timing("smaller", params=100.0, seconds=20.0, **{
                           "train.learning_rate": 1.0})], params=2000.0, seeds=(0,),
                      **{"train.epochs": 100})
    self.assertAlmostEqual(e.seconds, 60.0 * 2 * (1 / 3) * 10)
    self.assertEqual(e.basis, "from small (1.0 min): parameters x2, seeds x0.333, epochs x10")

  def test_another_tier_of_the_same_run_and_what_else_differs(self):
    e = self.estimate([timing("target", "cpu", 60.0, **{"train.steps_per_call": None})],
                      tier="cpu-full", **{"train.epochs": 100, "train.steps_per_call": 16})
    self.assertAlmostEqual(e.seconds, 600.0)
    self.assertEqual(e.basis, "from target at tier cpu (1.0 min): epochs x10; also differs: "
                              "train.steps_per_call")

  def test_a_run_that_trains_on_until_settled_is_estimated_at_least(self):
    measured = [timing("small", seconds=60.0)]
    self.assertFalse(self.estimate(measured).at_least)
    for open_ended in ({"train.stop_after_epochs": 10}, {"train.lr_hold_until_settled": 40}):
      e = self.estimate(measured, **open_ended)
      self.assertTrue(e.at_least, open_ended)
      self.assertAlmostEqual(e.seconds, 60.0)  # The epochs before the test or hold decides.
    own = self.estimate([timing("target", seconds=42.0)], **{"train.stop_after_epochs": 10})
    self.assertFalse(own.at_least)  # Its own measured time is what it took.

  def test_other_data_or_another_model_give_no_estimate(self):
    for changes in ({"dataset.name": "fashion_mnist"}, {"model.name": "cnn_gap"}):
      e = self.estimate([timing("target", "cpu-full")], tier="cpu", **changes)
      self.assertEqual((e.seconds, e.kind), (None, "none"))
      self.assertIn("no run of configs/x.py on the same data and model", e.basis)


class LoadTest(absltest.TestCase):

  def test_reads_every_archived_run_with_its_wall_time(self):
    root = self.create_tempdir().full_path
    for name, record in (("a", dict(seconds=12.5, tier="cpu", config="configs/x.py")),
                         ("b", None)):  # b finished before wall times were recorded.
      os.makedirs(os.path.join(root, name))
      with open(os.path.join(root, name, "config.json"), "w") as f:
        json.dump(dict(model=dict(name="lenet", width=2), seeds=[0, 1]), f)
      if record:
        with open(os.path.join(root, name, "reproduce_run.json"), "w") as f:
          json.dump(record, f)
    timings = run_costs.load([None, root, root], lambda config: config["model"]["width"] * 10)
    self.assertEqual(timings, [run_costs.Timing("a", "cpu", "configs/x.py", 12.5, {
        "model.name": "lenet", "model.width": 2, "seeds": (0, 1)}, 20)])

  def test_a_run_a_stopping_test_ended_counts_the_epochs_it_ran(self):
    # Planned: 100 epochs, then on to at most 1,500; it ran 250 (its seeds record them).
    root = self.create_tempdir().full_path
    os.makedirs(os.path.join(root, "a"))
    for f, content in (("config.json", dict(train=dict(epochs=1500, stop_after_epochs=100))),
                       ("reproduce_run.json", dict(seconds=500.0, tier="cpu-full", config="x")),
                       ("results.json", dict(per_seed=[dict(epochs=250), dict(epochs=200)]))):
      with open(os.path.join(root, "a", f), "w") as out:
        json.dump(content, out)
    (t,) = run_costs.load([root], lambda config: None)
    self.assertEqual((t.settings["train.epochs"], t.settings["train.stop_after_epochs"]),
                     (250.0, None))
    planned = dict(t.settings, **{"train.epochs": 1500, "train.stop_after_epochs": 100})
    e = run_costs.estimate("b", "x", "cpu-full", planned, None, [t])
    self.assertAlmostEqual(e.seconds, 500.0 * 100 / 250)  # At least the 100 epochs before.


if __name__ == "__main__":
  absltest.main()
