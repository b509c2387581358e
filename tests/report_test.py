"""Reports of compare, spectrum, binary_solver, kernel_regression and scaling_law sweeps: the
tables' numbers are the cells' results, the papers' rows those of the matching setting."""

import csv
import os

import numpy as np
from absl.testing import absltest

from ntk_tf import report, sweep
from ntk_tf.experiments import binary_solver, kernel_regression, scaling_law, spectrum
from ntk_tf.utils import io
from tests import binary_solver_test, scaling_law_test, test_utils


def run_sweep_in_process(workdir, module, base, cells):
  """What ntk_tf.sweep does, in this process: each cell's run() in cells/<name>."""
  entries = []
  for index, overrides in enumerate(cells):
    name = sweep.cell_name(overrides)
    module.run(sweep.apply_overrides(base, overrides), os.path.join(workdir, "cells", name))
    entries.append(dict(index=index, name=name, overrides=overrides))
  io.write_json(os.path.join(workdir, "sweep.json"), dict(config="test", cells=entries))
  return [os.path.join(workdir, "cells", e["name"], "results.json") for e in entries]


def read_csv(path):
  with open(path) as f:
    return list(csv.DictReader(f))


def fake_alexnet_cell(width, train):
  """A finished compare cell of AlexNet on the snakes with the given config.json `train`."""
  accuracies = dict(test_accuracy=0.5, train_accuracy=0.9)
  return dict(name=f"w{width}", overrides={"model.width": width}, workdir="/nonexistent",
              config=dict(dataset=dict(name="imagenet_snakes", translate=0), train=train),
              results=dict(experiment="compare", model="alexnet", dataset="imagenet_snakes",
                           width=width, seeds=[0], per_seed=[dict(
                               seed=0, standard=accuracies, linearized=accuracies)]))


class ReportTest(test_utils.TestCase):

  def alexnet_table(self, train):
    out = self.create_tempdir().full_path
    report.compare_report([fake_alexnet_cell(w, train) for w in (1, 4)], out)
    with open(os.path.join(out, "width_table.md")) as f:
      return f.read()

  def test_alexnet_paper_rows_match_the_linearized_learning_rate(self):
    # Samarin et al. 2020 Fig. 6 (paper_tables.md fig6_alexnet_snakes), columns x1 and x4.
    lr1 = self.alexnet_table(dict(learning_rate=0.1, weight_decay=5e-6,
                                  linearized_learning_rate=1.0, linearized_weight_decay=5e-7))
    self.assertIn("| LinAlexNet Test (paper, LR 1) | 35.20 | 39.20 |", lr1)
    self.assertIn("| LinAlexNet Train (paper, LR 1) | 54.70 | 84.90 |", lr1)
    self.assertIn("| AlexNet Test (paper) | 53.80 | 57.00 |", lr1)
    self.assertIn("LinAlexNet rows: LinAlexNet LR 1 (lr 1, wd 5e-7", lr1)
    self.assertNotIn("29.20", lr1)
    self.assertNotIn("differs from the paper", lr1)
    lr01 = self.alexnet_table(dict(learning_rate=0.1, weight_decay=5e-6,
                                   linearized_learning_rate=0.1, linearized_weight_decay=5e-6))
    self.assertIn("| LinAlexNet Test (paper, LR 0.1) | 29.20 | 36.40 |", lr01)
    self.assertIn("| LinAlexNet Train (paper, LR 0.1) | 37.50 | 51.50 |", lr01)
    self.assertIn("| AlexNet Train (paper) | 99.10 | 99.20 |", lr01)
    self.assertIn("LinAlexNet rows: LinAlexNet LR 0.1 (AlexNet's own lr 0.1, wd 5e-6)", lr01)
    self.assertNotIn("35.20", lr01)
    # Unset linearized values are the network's own: lr 0.1, so the LR 0.1 rows.
    shared = self.alexnet_table(dict(learning_rate=0.1, weight_decay=5e-6,
                                     linearized_learning_rate=None))
    self.assertIn("| LinAlexNet Test (paper, LR 0.1) | 29.20 | 36.40 |", shared)
    # The LR 1 rows beside a run at lr 1 but another weight decay say so.
    self.assertIn("weight decay 5e-06 differs from the paper's 5e-07", self.alexnet_table(
        dict(learning_rate=0.1, weight_decay=5e-6, linearized_learning_rate=1.0)))

  def test_alexnet_at_a_learning_rate_the_paper_did_not_use(self):
    text = self.alexnet_table(dict(learning_rate=0.1, linearized_learning_rate=0.5))
    self.assertIn("| AlexNet Test (paper) | 53.80 | 57.00 |", text)
    self.assertNotIn("LinAlexNet Test (paper", text)
    self.assertIn("at lr 1 and 0.1, this run at lr 0.5", text)


  def test_spectrum_effective_rank_by_width(self):
    workdir = self.create_tempdir().full_path
    base = spectrum.default_config()
    base.dataset.name = "digits"
    base.model.name = "mlp"
    base.model.widths = (8, 16)
    base.spectrum.num_samples = 12
    base.spectrum.translations = (0, 2)
    paths = run_sweep_in_process(workdir, spectrum, base, [{"seed": 0}, {"seed": 1}])
    report.build_report(workdir)
    rows = read_csv(os.path.join(workdir, "report", "effective_rank.csv"))
    self.assertLen(rows, 4)
    for row in rows:
      values = [io.read_json(p)["translations"][row["translate"]]["widths"][row["width"]][
          "effective_rank"] for p in paths]
      self.assertAllClose(float(row["mean_effective_rank"]), np.mean(values))
      self.assertAllClose(float(row["std_effective_rank"]), np.std(values))
    for name in ("effective_rank_vs_width.png", "effective_rank_vs_width.pdf",
                 "singular_values_seed-0.png"):
      self.assertTrue(os.path.exists(os.path.join(workdir, "report", name)), name)

  def test_arora_table_from_kernel_regression_cells(self):
    workdir = self.create_tempdir().full_path
    base = kernel_regression.default_config()
    base.dataset.name = "digits"
    base.dataset.num_train = 60
    base.dataset.num_test = 40
    base.model.parameterization = "ntk"
    base.kernel.name = "infinite"
    base.regression.train_sizes = (30, 60)
    cells = [{"model.name": arch, "model.depth": d} for arch in ("cnn_v", "mlp") for d in (2, 3)]
    paths = run_sweep_in_process(workdir, kernel_regression, base, cells)
    report.build_report(workdir)
    rows = read_csv(os.path.join(workdir, "report", "kernel_table.csv"))
    self.assertLen(rows, 8)  # 2 sizes x 2 kernels x 2 depths.
    for cell, path in zip(cells, paths):
      r = io.read_json(path)
      name = "CNTK-V" if cell["model.name"] == "cnn_v" else "NTK-MLP"
      for n, entry in r["train_sizes"].items():
        depth = cell["model.depth"] + (1 if cell["model.name"] == "cnn_v" else 0)  # + readout.
        row = [x for x in rows if x["n"] == n and x["kernel"] == name and
               x["depth"] == str(depth)]
        self.assertLen(row, 1)
        self.assertAllClose(float(row[0]["test_accuracy"]), 100 * entry["test_accuracy"])
    with open(os.path.join(workdir, "report", "kernel_table.md")) as f:
      self.assertIn("| CNTK-V |", f.read())

  def test_binary_table_merges_width_cells(self):
    workdir = self.create_tempdir().full_path
    base = binary_solver_test.tiny_config()
    base.solver.methods = ("kernel",)
    base.solver.dtypes = ("float64", "float32")
    paths = run_sweep_in_process(workdir, binary_solver, base,
                                 [{"model.widths": (1,)}, {"model.widths": (2,)}])
    report.build_report(workdir)
    with open(os.path.join(workdir, "report", "binary_table.md")) as f:
      text = f.read()
    self.assertIn("| split | method | x1 | x2 |", text)
    self.assertIn("| Test (paper) | Solver | 97.80 | 99.86 |", text)  # Samarin 2022 Table 1.
    rows = read_csv(os.path.join(workdir, "report", "binary_table.csv"))
    for key, dtype in (("kernel", "float64"), ("kernel_float32", "float32")):
      accuracies = [100 * io.read_json(path)["widths"][width][key]["test_accuracy"]
                    for width, path in (("1", paths[0]), ("2", paths[1]))]
      name = "Solver (kernel)" if dtype == "float64" else "Solver (kernel, float32)"
      self.assertIn(f"| Test | {name} | {accuracies[0]:.2f} | {accuracies[1]:.2f} |", text)
      self.assertEqual([r["dtype"] for r in rows if r["method"] == key], [dtype, dtype])

  def test_scaling_exponents(self):
    workdir = self.create_tempdir().full_path
    base = scaling_law_test.tiny_config()
    base.scaling.kinds = ("network", "infinite_ntk")
    paths = run_sweep_in_process(workdir, scaling_law, base, [{"train.learning_rate": 1.0}])
    report.build_report(workdir)
    rows = read_csv(os.path.join(workdir, "report", "scaling_exponents.csv"))
    r = io.read_json(paths[0])
    self.assertNotEmpty(rows)
    for row in rows:
      self.assertAllClose(float(row["beta"]), r[row["kind"]]["beta"])
    self.assertTrue(os.path.exists(os.path.join(
        workdir, "report", "learning_curves_train.learning_rate-1.0.pdf")))


if __name__ == "__main__":
  absltest.main()
