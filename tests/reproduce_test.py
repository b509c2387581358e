"""The smoke tier of `python -m ntk_tf.reproduce` end to end, the page's structure and numbers,
resuming, and the errors before any work."""

import json
import os
import re
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
from absl.testing import absltest

from ntk_tf import reproduce
from ntk_tf.cli import jobs
from ntk_tf.errors import ConfigError
from ntk_tf.reproduction import archive as archives, claims, page as pages, plan as plans
from ntk_tf.training import stopping
from ntk_tf.utils import io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERDICTS = claims.VERDICTS + (claims.TOO_SMALL,)


def cli(*args):
  return subprocess.run([sys.executable, "-m", "ntk_tf.reproduce", *args], cwd=ROOT,
                        capture_output=True, text=True, check=False)


class SmokeTierTest(absltest.TestCase):
  """One smoke tier for the whole class (it is the expensive part)."""

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.workdir = tempfile.mkdtemp(prefix="reproduce_smoke_",
                                   dir=absltest.get_default_test_tmpdir())
    cls.proc = cli("--tier=smoke", f"--workdir={cls.workdir}", "--in_process")
    with open(os.path.join(cls.workdir, "REPRODUCTION.md")) as f:
      cls.page = f.read()
    cls.json = io.read_json(os.path.join(cls.workdir, "reproduction.json"))

  def test_the_tier_passes(self):
    self.assertEqual(self.proc.returncode, 0, self.proc.stderr[-3000:])
    self.assertIn("total (each run once)", self.proc.stdout)  # The estimate came first.

  def test_every_claim_appears_once_with_a_verdict(self):
    ids = [c.id for c in claims.CLAIMS]
    for cid in ids:
      self.assertLen(re.findall(rf"^### {re.escape(cid)}$", self.page, re.M), 1, cid)
      self.assertLen(re.findall(rf"^\| \[{re.escape(cid)}\]", self.page, re.M), 1, cid)
    self.assertEqual([e["id"] for e in self.json["claims"]], ids)
    for entry in self.json["claims"]:
      self.assertIn(entry["status"], VERDICTS, f"{entry['id']}: {entry.get('reason')}")
      self.assertTrue(entry["reason"], entry["id"])
    self.assertEqual(len(re.findall(r"^\*\*Verdict: ", self.page, re.M)), len(ids))

  def test_stamp_and_figures(self):
    self.assertRegex(self.page, r"Commit \w+.*cores.*runs' wall time [\d.]+ min")
    for fig in self.json["figures"]:
      path = os.path.join(self.workdir, fig)
      self.assertTrue(os.path.exists(path), fig)
      self.assertLess(os.path.getsize(path), 200_000)

  def test_page_numbers_equal_the_runs_results(self):
    entry = next(e for e in self.json["claims"] if e["id"] == "samarin2020.1")
    for width in (1, 2):
      results = io.read_json(os.path.join(self.workdir, "runs", f"lenet_mnist_x{width}",
                                          "results.json"))
      lin = [100 * s["linearized"]["test_accuracy"] for s in results["per_seed"]]
      net = [100 * s["standard"]["test_accuracy"] for s in results["per_seed"]]
      shown = entry["values"]["widths"][str(width)]
      self.assertAlmostEqual(shown["linearized_test"]["mean"], np.mean(lin), places=10)
      self.assertAlmostEqual(shown["gap_test"]["mean"], np.mean(net) - np.mean(lin), places=10)
      self.assertAlmostEqual(shown["gap_test"]["std"], np.std(np.subtract(net, lin), ddof=1),
                             places=10)
      row = next(r for r in entry["ours"]["rows"] if r[0].startswith("LinLeNet test"))
      self.assertEqual(row[width], f"{np.mean(lin):.2f} ± {np.std(lin, ddof=1):.2f}")
    spectrum = io.read_json(os.path.join(self.workdir, "runs", "spectrum_lenet_mnist",
                                         "results.json"))
    entry = next(e for e in self.json["claims"] if e["id"] == "samarin2022.6")
    self.assertEqual(entry["values"]["translations"]["7"]["2"]["effective_rank"],
                     spectrum["translations"]["7"]["widths"]["2"]["effective_rank"])

  def test_a_rerun_runs_nothing_and_a_lost_run_is_redone_alone(self):
    plan = plans.make_plan("smoke", ["samarin2020.7", "samarin2020.1"])
    kept = os.path.join(self.workdir, "runs", "lenet_mnist_x1", "results.json")
    before = os.path.getmtime(kept)
    self.assertEqual(reproduce.run_all(plan, self.workdir, in_process=True)["done"], [])
    lost = os.path.join(self.workdir, "runs", "spectrum_lenet_mnist", "results.json")
    os.remove(lost)
    summary = reproduce.run_all(plan, self.workdir, in_process=True)
    self.assertEqual(summary["done"], ["spectrum_lenet_mnist"])
    self.assertEqual(os.path.getmtime(kept), before)
    self.assertTrue(os.path.exists(lost))

  def test_an_archive_lets_a_fresh_workdir_resume(self):
    plan = plans.make_plan("smoke", ["samarin2020.6"])
    archive = self.create_tempdir().full_path
    archives.archive_runs(plan, self.workdir, archive)
    self.assertTrue(os.path.exists(os.path.join(archive, "lenet_mnist_x1", "seed_0",
                                                "trajectories.npz")))
    fresh = self.create_tempdir().full_path
    self.assertEqual(reproduce.run_all(plan, fresh, archive=archive)["done"], [])
    again = pages.write_page(plan, fresh, archive=archive)["claims"][0]
    first = next(e for e in self.json["claims"] if e["id"] == "samarin2020.6")
    self.assertEqual(json.loads(json.dumps(again["values"])), first["values"])  # As on disk.


class BadInputTest(absltest.TestCase):

  def test_unknown_claim_and_tier_are_one_line_listing_the_valid_ones(self):
    proc = cli("--tier=smoke", "--claims=samarin2020.1,bogus", "--estimate_only")
    self.assertEqual(proc.returncode, 2)
    self.assertRegex(proc.stderr, r"error: unknown claim id\(s\) bogus; valid: samarin2020.1, ")
    self.assertNotIn("Traceback", proc.stderr)
    proc = cli("--tier=laptop", "--estimate_only")
    self.assertEqual(proc.returncode, 2)
    self.assertIn("use one of smoke, cpu, cpu-full, paper", proc.stderr)

  def test_a_tier_beyond_the_machines_memory_is_refused_before_any_work(self):
    plan = plans.make_plan("cpu", ["samarin2020.7", "samarin2020.1"])
    with mock.patch.object(plans, "memory_total_bytes", return_value=2 ** 30), \
        mock.patch.object(reproduce, "run_all", side_effect=AssertionError("work started")):
      with self.assertRaisesRegex(ConfigError, r"tier cpu needs more memory than this machine "
                                  r"has \(1.0 GiB\): spectrum_lenet_mnist ~"):
        plans.check_memory(plan)
      with self.assertRaisesRegex(ConfigError, "needs more memory"):
        reproduce.reproduce("cpu", self.create_tempdir().full_path, ["samarin2020.7"])

  def test_estimates_cover_every_claim_and_run(self):
    for tier in claims.TIERS:
      plan = plans.make_plan(tier)
      text = plans.estimates_text(plan, plans.estimate_runs(plan))
      for claim in claims.CLAIMS:
        self.assertIn(claim.id, text)
      for name in plan.runs:
        self.assertRegex(text, rf"\n    {re.escape(name)} +([~≥][\d.]+ min|–)  \w")
      self.assertIn("total (each run once): ", text)

  def test_estimates_come_from_the_archived_runs_measured_times(self):
    plan = plans.make_plan("cpu")
    estimates = plans.estimate_runs(plan)
    for name in plan.runs:  # Every run of the cpu tier is archived with its wall time.
      record = io.read_json(os.path.join(ROOT, "docs", "reproduction", "runs", name,
                                         "reproduce_run.json"))
      self.assertEqual((estimates[name].kind, estimates[name].seconds),
                       ("measured", record["seconds"]))
    estimates = plans.estimate_runs(plans.make_plan("cpu-full", ["samarin2020.1"]))
    wide = estimates["lenet_mnist_x60"]
    if wide.kind != "measured":  # Scaled from the narrower runs of the same config.
      self.assertEqual(wide.kind, "scaled")
      self.assertIn("lenet_mnist_x2", wide.basis)
      self.assertGreater(wide.seconds, 10 * estimates["lenet_mnist_x2"].seconds)

  def test_cpu_full_tier_plans_the_papers_epochs_then_on_to_its_steps_and_x25(self):
    # The paper's epochs, then on until settled, at most the paper's SGD steps: 100 epochs of
    # MNIST's 60,000 images are 1,500 of the 4,000 stand-ins; 200, 3,077 of the binary task's
    # 3,900 digits. The CIFAR-10 stand-in keeps the paper's schedule (lr ÷10 every 30 epochs).
    plan = plans.make_plan("cpu-full", ["samarin2022.3", "samarin2022.5", "samarin2020.1"])
    config = plans.run_config(plan.runs["lenet_cifar_x25"], "cpu-full")
    self.assertEqual((config.dataset.name, config.train.epochs, config.train.stop_after_epochs,
                      tuple(config.seeds)), ("fashion_mnist", 100, None, (0,)))  # Its schedule.
    config = plans.run_config(plan.runs["lenet_mnist_x1"], "cpu-full")
    self.assertEqual((config.dataset.name, config.train.epochs), ("mnist5k", 1500))  # 4,000 train.
    config = plans.run_config(plan.runs["binary_x0.3"], "cpu-full")
    self.assertEqual((config.train.epochs, config.train.stop_after_epochs,
                      config.dataset.num_train), (3077, 200, 3900))
    cpu = plans.run_config(plans.make_plan("cpu", ["samarin2020.1"]).runs["lenet_mnist_x1"], "cpu")
    self.assertEqual((cpu.train.epochs, cpu.train.stop_after_epochs), (12, None))

  def test_a_finished_run_every_seed_of_which_settled_is_current_under_more_epochs(self):
    # Continuing it under train.stop_* would stop at once: the same results, so not stale.
    plan = plans.make_plan("cpu-full", ["samarin2020.1"])
    current = plans.run_config(plan.runs["lenet_mnist_x2"], "cpu-full").to_dict()
    stored = json.loads(json.dumps(current))
    stored["train"]["epochs"] = 100
    for key in ("stop_after_epochs", "stop_fit_accuracy", "stop_converged_pp"):
      del stored["train"][key]  # Made before the stopping test existed.
    where = self.create_tempdir().full_path
    io.write_json(os.path.join(where, "config.json"), stored)
    rise = lambda end: [dict(standard=dict(train_accuracy=1.0),
                             linearized=dict(train_accuracy=(end - 0.03 * (99 - e)) / 100))
                        for e in range(100)]
    for seed, curve in ((0, rise(98.0)), (1, rise(99.5))):
      os.makedirs(os.path.join(where, f"seed_{seed}"))
      with open(os.path.join(where, f"seed_{seed}", "metrics.jsonl"), "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in curve))
    # Seed 0 gains 0.03 x 25 = 0.75 pp over its last 25 epochs at 98 %: not settled. (The
    # stopping test is an option the run predates, set away from its default: a change too.)
    raised = ["train.epochs", "train.stop_after_epochs", "train.stop_converged_pp",
              "train.stop_fit_accuracy"]
    self.assertEqual(archives.stale_at(where, current), raised)
    with open(os.path.join(where, "seed_0", "metrics.jsonl"), "w") as f:
      f.write("".join(json.dumps(r) + "\n" for r in rise(99.2)))  # Fits (>= 99 %).
    self.assertEqual(archives.stale_at(where, current), [])
    stored["train"]["epochs"] = 50  # Fewer epochs than the checks start at: stale.
    io.write_json(os.path.join(where, "config.json"), stored)
    for seed in (0, 1):
      with open(os.path.join(where, f"seed_{seed}", "metrics.jsonl"), "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rise(99.5)[:50]))
    self.assertEqual(archives.stale_at(where, current), raised)

  def test_an_option_added_since_a_run_is_a_change_only_away_from_its_default(self):
    current = plans.run_config(plans.make_plan("smoke", ["samarin2020.6"]).runs[
        "lenet_mnist_x1"], "smoke").to_dict()
    stored = json.loads(json.dumps(current))
    for key in ("lr_hold_until_settled", "steps_per_call"):  # Options the run predates.
      del stored["train"][key]
    stored["train"]["retired_option"] = 3  # An option gone since: ignored.
    self.assertEqual(archives.stale_keys(stored, current), [])  # Both at their defaults.
    current["train"]["steps_per_call"] = 1
    current["train"]["lr_hold_until_settled"] = 375
    self.assertEqual(archives.stale_keys(stored, current),
                     ["train.lr_hold_until_settled", "train.steps_per_call"])

  def test_a_run_whose_config_changed_is_rerun_and_never_judged(self):
    plan = plans.make_plan("smoke", ["samarin2020.6"])
    workdir, archive = self.create_tempdir().full_path, self.create_tempdir().full_path
    name = next(iter(plan.runs))
    config = plans.run_config(plan.runs[name], "smoke").to_dict()
    current = json.loads(json.dumps(config))
    config["train"]["loss"] = "mse_sum_outputs"  # A run made with the other L2 loss.
    for root in (archives.run_dir(workdir, name), os.path.join(archive, name)):
      os.makedirs(root)
      io.write_json(os.path.join(root, "config.json"), config)
      io.write_json(os.path.join(root, "results.json"), {})
    self.assertEmpty(pages.load_results(plan, workdir, archive).by_name)
    stale = archives.retire_stale(plan, workdir, archive)
    self.assertEqual(stale, {name: ["train.loss"]})
    self.assertFalse(archives.is_done(workdir, name, archive))
    self.assertTrue(os.path.exists(archives.run_dir(workdir, name) + ".stale"))
    # A stale workdir copy beside a current archived one: only the stale copy goes.
    for root, cfg in ((archives.run_dir(workdir, name), config),
                      (os.path.join(archive, name), current)):
      os.makedirs(root)
      io.write_json(os.path.join(root, "config.json"), cfg)
      io.write_json(os.path.join(root, "results.json"), {})
    self.assertEqual(archives.retire_stale(plan, workdir, archive), {})
    self.assertEqual(archives.finished_dir(workdir, name, archive), os.path.join(archive, name))

  def test_a_finished_run_whose_epochs_were_raised_continues_from_its_checkpoints(self):
    plan = plans.make_plan("smoke", ["samarin2020.6"])
    workdir, archive = self.create_tempdir().full_path, self.create_tempdir().full_path
    name, planned = next(iter(plan.runs.items()))
    plan.runs[name] = claims.Run(name, planned.config, planned.overrides + (("train.epochs", 3),))
    current = json.loads(json.dumps(plans.run_config(plan.runs[name], "smoke").to_dict()))
    config = json.loads(json.dumps(current))
    config["train"]["epochs"] = 1  # Made with fewer epochs than the plan's.
    run = archives.run_dir(workdir, name)
    for root in (run, os.path.join(archive, name)):
      os.makedirs(os.path.join(root, "seed_0", "checkpoints"))
      with open(os.path.join(root, "seed_0", "metrics.jsonl"), "w") as f:
        f.write(json.dumps(dict(standard=dict(train_accuracy=0.5))) + "\n")
      io.write_json(os.path.join(root, "config.json"), config)
      os.makedirs(os.path.join(root, "w1"))  # A binary run's finished SGD cell (here as a
      io.write_json(os.path.join(root, "w1", "sgd.json"), {})  # stand-in: it must go too).
      io.write_json(os.path.join(root, "results.json"), {})
      io.write_json(os.path.join(root, "reproduce_run.json"), dict(seconds=30.0))
      with open(os.path.join(root, "seed_0", "checkpoints", "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "ckpt-3"\n')
    fresh = self.create_tempdir().full_path
    archives.archive_runs(plan, workdir, fresh)  # A stale run is never archived (--page_only).
    self.assertEmpty(os.listdir(fresh))
    self.assertEqual(archives.retire_stale(plan, workdir, archive), {name: ["train.epochs"]})
    self.assertFalse(os.path.exists(os.path.join(archive, name)))  # The archive copy goes ...
    self.assertFalse(os.path.exists(run + ".stale"))  # ... the workdir copy stays, to resume,
    self.assertFalse(os.path.exists(os.path.join(run, "results.json")))  # unfinished,
    self.assertTrue(os.path.exists(os.path.join(run, "seed_0", "checkpoints", "checkpoint")))
    self.assertEqual(io.read_json(os.path.join(run, "config.json")), current)  # Resumable.
    self.assertFalse(os.path.exists(os.path.join(run, "w1", "sgd.json")))  # Retrained.
    io.write_json(os.path.join(run, "results.json"), {})  # ... until the continuation ends:
    archives.record(plan.runs[name], "smoke", workdir, 12.0)
    self.assertEqual(io.read_json(os.path.join(run, "reproduce_run.json"))["seconds"], 42.0)
    self.assertFalse(os.path.exists(os.path.join(run, archives.CONTINUED)))
    # Fewer epochs, or no checkpoints to resume from: rerun from scratch, as any stale run.
    for epochs, keep in ((current["train"]["epochs"] + 1, True), (1, False)):
      config["train"]["epochs"] = epochs
      io.write_json(os.path.join(run, "config.json"), config)
      if not keep:
        os.remove(os.path.join(run, "seed_0", "checkpoints", "checkpoint"))
      archives.retire_stale(plan, workdir, archive)
      self.assertTrue(os.path.exists(run + ".stale"))
      os.replace(run + ".stale", run)
      io.write_json(os.path.join(run, "results.json"), {})

  def test_an_unfinished_runs_finished_seeds_resume_on_a_fresh_machine(self):
    # A two-seed run interrupted in its second seed: its archived progress (config and the
    # first seed's small files, no checkpoints) lets a fresh workdir reuse seed 0 and train
    # only seed 1, ending with the results of an uninterrupted run.
    plan = plans.make_plan("smoke", ["samarin2020.6"])
    name, planned = next(iter(plan.runs.items()))
    run = claims.Run(name, planned.config, planned.overrides + (("seeds", (0, 1)),))
    plan.runs = {name: run}
    workdir, archive = self.create_tempdir().full_path, self.create_tempdir().full_path
    self.assertTrue(jobs.execute(reproduce.job(run, "smoke", workdir, in_process=True)))
    where = archives.run_dir(workdir, name)
    whole = io.read_json(os.path.join(where, "results.json"))
    os.remove(os.path.join(where, "results.json"))
    os.remove(os.path.join(where, "seed_1", "seed_result.json"))  # Seed 1 was cut off.
    archives.archive_runs(plan, workdir, archive)
    kept = sorted(os.path.relpath(os.path.join(d, f), archive)
                  for d, _, files in os.walk(archive) for f in files)
    self.assertEqual(kept, [f"{name}/config.json"] + [
        f"{name}/seed_0/{f}" for f in ("metrics.jsonl", "seed_result.json", "trajectories.npz")])
    seed_0 = os.path.join(archive, name, "seed_0", "metrics.jsonl")
    before = os.path.getmtime(seed_0)
    fresh = self.create_tempdir().full_path
    with mock.patch.object(jobs, "execute", wraps=jobs.execute) as execute:
      summary = reproduce.run_all(plan, fresh, in_process=True, archive=archive)
    self.assertEqual(summary["done"], [name])
    self.assertEqual(execute.call_count, 1)
    again = io.read_json(os.path.join(archives.run_dir(fresh, name), "results.json"))
    self.assertEqual(again["per_seed"], whole["per_seed"])
    trained = [os.path.exists(os.path.join(archives.run_dir(fresh, name), f"seed_{s}",
                                           "checkpoints")) for s in (0, 1)]
    self.assertEqual(trained, [False, True])  # Seed 0 reused, seed 1 trained here.
    self.assertEqual(os.path.getmtime(seed_0), before)
    self.assertTrue(os.path.exists(os.path.join(archive, name, "results.json")))
    # Progress made with another config is removed, never resumed.
    other = self.create_tempdir().full_path
    os.remove(os.path.join(archive, name, "results.json"))
    config = io.read_json(os.path.join(archive, name, "config.json"))
    config["train"]["learning_rate"] *= 2
    io.write_json(os.path.join(archive, name, "config.json"), config)
    self.assertEqual(archives.restore_progress(plan, other, archive), [])
    self.assertFalse(os.path.exists(os.path.join(archive, name)))

  def test_an_unfinished_kernel_runs_finished_blocks_are_its_progress(self):
    run = self.create_tempdir().full_path
    self.assertEqual(archives.progress_files(run), [])  # Nothing finished: nothing kept.
    for f in ("config.json", "kernel_blocks/train/manifest.json",
              "kernel_blocks/train/block_0_0.npz", "kernel_blocks/train/block_0_1.npz.tmp",
              "seed_0/metrics.jsonl"):  # A half-written block, an unfinished seed.
      os.makedirs(os.path.dirname(os.path.join(run, f)), exist_ok=True)
      open(os.path.join(run, f), "w").close()
    self.assertEqual(archives.progress_files(run), [
        "config.json", "kernel_blocks/train/block_0_0.npz", "kernel_blocks/train/manifest.json"])
    # Archived as progress; once the run finishes, its archive keeps the results, not the blocks.
    plan = plans.make_plan("smoke", ["arora2019.1"])
    name, planned = next(iter(plan.runs.items()))
    workdir, archive = self.create_tempdir().full_path, self.create_tempdir().full_path
    os.makedirs(os.path.join(workdir, "runs"))
    os.replace(run, archives.run_dir(workdir, name))
    run = archives.run_dir(workdir, name)
    io.write_json(os.path.join(run, "config.json"), plans.run_config(planned, "smoke").to_dict())
    archives.archive_runs(plan, workdir, archive)
    self.assertTrue(os.path.exists(os.path.join(archive, name, "kernel_blocks", "train",
                                                "block_0_0.npz")))
    io.write_json(os.path.join(run, "results.json"), {})
    archives.archive_runs(plan, workdir, archive)
    self.assertTrue(os.path.exists(os.path.join(archive, name, "results.json")))
    self.assertFalse(os.path.exists(os.path.join(archive, name, "kernel_blocks")))

  def test_a_continued_run_ends_as_an_uninterrupted_one_of_the_raised_config(self):
    # A finished 1-epoch run, its epochs raised to 3 with a stopping test that does not fire:
    # retire_stale makes it resumable and the job finishes it; every epoch's metrics equal those
    # of a 3-epoch run made from scratch.
    plan = plans.make_plan("smoke", ["samarin2020.6"])
    name, run = next(iter(plan.runs.items()))
    workdir, fresh = self.create_tempdir().full_path, self.create_tempdir().full_path
    self.assertTrue(jobs.execute(reproduce.job(run, "smoke", workdir, in_process=True)))
    raised = claims.Run(name, run.config, run.overrides + (
        ("train.epochs", 3), ("train.stop_fit_accuracy", 1.0), ("train.stop_converged_pp", 0.0)))
    plan.runs[name] = raised
    self.assertIn("train.epochs", archives.retire_stale(plan, workdir, None)[name])
    for where in (workdir, fresh):
      self.assertTrue(jobs.execute(reproduce.job(raised, "smoke", where, in_process=True)))
    curves = [[json.loads(line) for line in open(os.path.join(
        archives.run_dir(where, name), "seed_0", "metrics.jsonl"))] for where in (workdir, fresh)]
    self.assertLen(curves[0], 3)
    self.assertEqual(curves[0], curves[1])

  def test_binary_and_early_stopped_runs_are_current_only_where_the_test_would_stop(self):
    plan = plans.make_plan("cpu-full", ["samarin2022.4"])
    current = plans.run_config(plan.runs["binary_x0.5"], "cpu-full").to_dict()  # After 200.
    stored = json.loads(json.dumps(current))
    where = self.create_tempdir().full_path
    def made(epochs, curve, **train):
      stored["train"].update(dict(epochs=epochs, **train))
      io.write_json(os.path.join(where, "config.json"), stored)
      os.makedirs(os.path.join(where, "w0.5", "sgd"), exist_ok=True)
      with open(os.path.join(where, "w0.5", "sgd", "metrics.jsonl"), "w") as f:
        f.write("".join(json.dumps(dict(standard=dict(train_accuracy=1.0),
                                        linearized=dict(train_accuracy=a / 100))) + "\n"
                        for a in curve))
    flat = [90.0] * 100 + [95.0] * 200  # Settled by epoch 200, still at 300.
    made(300, flat, stop_after_epochs=None, stop_fit_accuracy=None, stop_converged_pp=None)
    # 300 epochs made without the test, which would have stopped it at 200: not this config's.
    self.assertIn("train.epochs", archives.stale_at(where, current))
    made(200, flat[:200])  # Stopped where the test stops it: current under a larger cap.
    self.assertEqual(archives.stale_at(where, current), [])
    made(200, [90.0 + e / 40 for e in range(200)])  # Still gaining 1.25 pp per quarter.
    self.assertIn("train.epochs", archives.stale_at(where, current))

  def test_a_run_the_stopping_test_now_trains_on_continues_from_its_checkpoints(self):
    # Made with today's config, but stopped by an older test at a pause between climbs (the
    # quarter's line flat, the half's rising): stale, and continued, not rerun; the seed that
    # fit stays where it is (resumed, it stops at once).
    plan = plans.make_plan("cpu-full", ["arora2019.2"])
    name = "cnn_gap_d3_lr3"
    current = plans.run_config(plan.runs[name], "cpu-full").to_dict()
    workdir = self.create_tempdir().full_path
    where = archives.run_dir(workdir, name)
    os.makedirs(where)
    io.write_json(os.path.join(where, "config.json"), current)
    io.write_json(os.path.join(where, "results.json"), {})
    paused = [30.0 + 0.3 * e for e in range(110)] + [62.7] * 36
    fit = [30.0 + 0.3 * e for e in range(230)] + [99.5]  # Fits at its last epoch.
    for seed, curve in ((0, fit), (1, paused)):
      os.makedirs(os.path.join(where, f"seed_{seed}", "checkpoints"))
      with open(os.path.join(where, f"seed_{seed}", "checkpoints", "checkpoint"), "w") as f:
        f.write('model_checkpoint_path: "ckpt-1"\n')
      with open(os.path.join(where, f"seed_{seed}", "metrics.jsonl"), "w") as f:
        f.write("".join(json.dumps(dict(standard=dict(train_accuracy=a / 100))) + "\n"
                        for a in curve))
    self.assertEqual(archives.stale_at(where, current), [archives.STOPPED_ELSEWHERE])
    self.assertEqual(archives.retire_stale(plan, workdir, None),
                     {name: [archives.STOPPED_ELSEWHERE]})
    self.assertFalse(os.path.exists(os.path.join(where, "results.json")))  # Resumes.
    self.assertFalse(os.path.exists(where + ".stale"))
    # Ended where today's test stops it, or at the cap without stopping: current.
    for seed, curve in ((1, paused + [62.7] * 110), (1, [30.0 + 0.01 * e for e in range(500)])):
      with open(os.path.join(where, f"seed_{seed}", "metrics.jsonl"), "w") as f:
        f.write("".join(json.dumps(dict(standard=dict(train_accuracy=a / 100))) + "\n"
                        for a in curve[:stopping.first_stop({"s": curve}, 0.99, 0.5, 100)
                                       or len(curve)]))
      self.assertEqual(archives.stale_at(where, current), [])

  def test_cpu_full_trains_the_arora_cnns_at_the_top_rate_until_they_fit_or_converged(self):
    plan = plans.make_plan("cpu-full", ["arora2019.2"])
    top = plans.run_config(plan.runs["cnn_gap_d11_lr3"], "cpu-full").train
    grid = plans.run_config(plan.runs["cnn_gap_d11_lr1"], "cpu-full").train
    self.assertEqual((top.epochs, top.stop_after_epochs, top.stop_fit_accuracy,
                      top.stop_converged_pp), (500, 100, 0.99, 0.5))
    self.assertEqual((grid.epochs, grid.stop_after_epochs, grid.stop_fit_accuracy), (100, None, None))
    # CNN-GAP depth 6: lr 1 led at 100 epochs, so it trains on and lr 3 stops at 100.
    leader = plans.run_config(plan.runs["cnn_gap_d6_lr1"], "cpu-full").train
    other = plans.run_config(plan.runs["cnn_gap_d6_lr3"], "cpu-full").train
    self.assertEqual((leader.epochs, leader.stop_after_epochs, other.epochs), (500, 100, 100))

  def test_unfinished_runs_are_named_and_counted_apart_from_claims_this_tier_cannot_test(self):
    plan = plans.make_plan("cpu-full", ["samarin2020.1", "samarin2020.4"])
    out = self.create_tempdir().full_path
    entries = pages.write_page(plan, self.create_tempdir().full_path, out)["claims"]
    self.assertEqual([e["status"] for e in entries], [claims.NOT_TESTABLE] * 2)
    self.assertEqual(sorted(entries[0]["unfinished"]), sorted(plan.claim_runs["samarin2020.1"]))
    self.assertNotIn("unfinished", entries[1])
    with open(os.path.join(out, "REPRODUCTION.md")) as f:
      text = f.read()
    n = len(plan.claim_runs["samarin2020.1"])
    self.assertIn(f"**not testable at this tier** ({n} runs unfinished) |", text)
    self.assertRegex(text, r"\| \*\*not testable at this tier\*\* \|\n")  # samarin2020.4
    self.assertIn("2 not testable at this tier (1 of them until their runs finish).", text)
    self.assertIn("Fashion-MNIST at 28x28", text)  # Arora's stand-in at this tier.

  def test_the_stamp_names_the_machine_each_run_was_made_on(self):
    plan = plans.make_plan("cpu-full", ["samarin2020.4", "samarin2020.7"])
    workdir = self.create_tempdir().full_path
    name = plans.make_plan("cpu-full", ["samarin2020.7"]).claim_runs["samarin2020.7"][0]
    os.makedirs(archives.run_dir(workdir, name))
    io.write_json(os.path.join(archives.run_dir(workdir, name), "results.json"), {})
    archives.record(plan.runs[name], "cpu-full", workdir, 12.0)
    record = io.read_json(os.path.join(archives.run_dir(workdir, name), "reproduce_run.json"))
    self.assertEqual(record["machine"], archives.machine())
    self.assertEqual(pages.run_machines(pages.run_records(plan, workdir)), {archives.machine(): 1})
    self.assertEqual(pages.machines_text({archives.machine(): 1}, archives.machine()),
                     archives.machine())  # Made and judged here: named once.
    io.write_json(os.path.join(archives.run_dir(workdir, name), "reproduce_run.json"),
                  dict(record, machine=None))  # Recorded before records named machines.
    self.assertEqual(pages.run_machines(pages.run_records(plan, workdir)), {pages.NOT_RECORDED: 1})
    self.assertEqual(
        pages.machines_text({"a big node": 3, pages.NOT_RECORDED: 1}, "a laptop"),
        "runs: 3 on a big node, 1 on a machine not recorded; judged on a laptop")

  def test_the_stamps_commit_is_dirty_only_for_changes_to_the_code_that_judges(self):
    repo = self.create_tempdir().full_path
    git = lambda *a: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *a],
                                    cwd=repo, check=True, capture_output=True, text=True)
    git("init", "-q")
    paths = ("ntk_tf/rules.py", "docs/reproduction/REPRODUCTION.md", "docs/reproduction/runs/r",
             "tests/t.py")
    def write(path, text):
      os.makedirs(os.path.dirname(os.path.join(repo, path)), exist_ok=True)
      with open(os.path.join(repo, path), "w") as f:
        f.write(text)
    for path in paths:
      write(path, "0")
    git("add", "-A")
    git("commit", "-q", "-m", "c")
    head = git("rev-parse", "--short", "HEAD").stdout.strip()
    self.assertEqual(pages.CODE, "ntk_tf")
    with mock.patch.object(pages, "REPO", repo):
      for path in paths[1:]:  # Pages, archives and tests are not the code that judges.
        write(path, "1")
      self.assertEqual(pages.commit(), head)
      write(paths[0], "1")
      self.assertEqual(pages.commit(), f"{head} (with uncommitted changes)")

  def test_paper_tier_plans_the_papers_scale(self):
    plan = plans.make_plan("paper", ["samarin2020.1", "samarin2020.4"])
    self.assertIn("lenet_mnist_x60", plan.runs)
    self.assertEqual(dict(plan.runs["lenet_mnist_x60"].overrides)["seeds"], (0, 1, 2, 3, 4))
    self.assertIn("alexnet_snakes_lin_lr01_x4", plan.runs)
    config = plans.run_config(plan.runs["lenet_mnist_x60"], "paper")
    self.assertEqual((config.dataset.name, config.train.epochs), ("mnist", 100))


if __name__ == "__main__":
  absltest.main()
