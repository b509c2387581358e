"""The papers' published numbers that reports print beside ours (accuracies in percent).

Transcribed from the papers' tables (Samarin et al. 2020 Figs. 3, 4, 6; Samarin et al. 2022
Tables 1, 2; Arora et al. 2019 Table 1). None marks a cell the paper leaves blank. Fig. 6 trains
LinAlexNet at lr 1 and at lr 0.1: `width_table` picks the rows of the run's learning rate.
"""

import math
from typing import Dict, Optional

# Samarin et al. 2020: {(model, dataset): {(kind, split): {width: accuracy}}}, single runs.
_W6 = (1, 2, 5, 10, 25, 60)
_W4 = (1, 2, 3, 4)


def _row(widths, values):
  return dict(zip(widths, values))


SAMARIN2020 = {
    ("lenet", "mnist"): {
        "source": "Samarin et al. 2020, Fig. 3 (full MNIST, 100 epochs)",
        ("linearized", "test"): _row(_W6, (93.2, 96.3, 97.9, 98.3, 98.8, 98.9)),
        ("standard", "test"): _row(_W6, (99.2, 99.3, 99.4, 99.4, 99.4, 99.4)),
        ("linearized", "train"): _row(_W6, (92.9, 96.5, 98.1, 98.8, 99.5, 99.9)),
        ("standard", "train"): _row(_W6, (99.8, 99.9, 100, 100, 100, 100)),
    },
    ("lenet", "cifar10"): {
        "source": "Samarin et al. 2020, Fig. 4 (CIFAR-10, 100 epochs)",
        ("linearized", "test"): _row(_W6, (42.3, 46.3, 54.2, 57.7, 62.2, 65.6)),
        ("standard", "test"): _row(_W6, (62.5, 69.6, 76.1, 77.4, 78.9, 78.8)),
        ("linearized", "train"): _row(_W6, (42.9, 48.1, 60.5, 68.0, 81.2, 94.1)),
        ("standard", "train"): _row(_W6, (92.0, 98.4, 99.8, 99.9, 100, 100)),
    },
}

# Samarin et al. 2020 Fig. 6 trains LinAlexNet twice; {linearized learning rate: its rows}.
# The report shows the variant whose learning rate matches the run's (`width_table`).
LINALEXNET_SNAKES = {
    1.0: {"variant": "LinAlexNet LR 1 (lr 1, wd 5e-7; the paper's headline)", "label": "LR 1",
          "learning_rate": 1.0, "weight_decay": 5e-7,
          ("linearized", "test"): _row(_W4, (35.2, 36.4, 34.2, 39.2)),
          ("linearized", "train"): _row(_W4, (54.7, 69.6, 77.9, 84.9))},
    0.1: {"variant": "LinAlexNet LR 0.1 (AlexNet's own lr 0.1, wd 5e-6)", "label": "LR 0.1",
          "learning_rate": 0.1, "weight_decay": 5e-6,
          ("linearized", "test"): _row(_W4, (29.2, 33.8, 34.8, 36.4)),
          ("linearized", "train"): _row(_W4, (37.5, 43.6, 47.5, 51.5))},
}
_ALEXNET_SNAKES = {
    "source": "Samarin et al. 2020, Fig. 6 (ImageNet snakes)",
    ("standard", "test"): _row(_W4, (53.8, 54.4, 54.2, 57.0)),
    ("standard", "train"): _row(_W4, (99.1, 99.2, 99.2, 99.2)),
}
# The headline table (LR 1) for readers of SAMARIN2020; width_table picks by learning rate.
SAMARIN2020[("alexnet", "imagenet_snakes")] = {**_ALEXNET_SNAKES, **LINALEXNET_SNAKES[1.0]}
# Width tables whose linearized rows depend on the linearization's learning rate.
LINEARIZED_VARIANTS = {("alexnet", "imagenet_snakes"): LINALEXNET_SNAKES}
# The offline digits are a subset of MNIST: the full-MNIST numbers are the reference.
SAMARIN2020[("lenet", "mnist5k")] = SAMARIN2020[("lenet", "mnist")]

# Samarin et al. 2022 Tables 1 (plain) and 2 (translated by up to 7 px): {translate: table}.
SAMARIN2022_BINARY = {
    0: {"source": "Samarin et al. 2022, Table 1 (full MNIST, 0 vs rest)",
        ("Solver", "test"): _row(_W6, (97.8, 99.86, 99.89, None, None, None)),
        ("Lin.", "test"): _row(_W6, (99.61, 99.75, 99.81, 99.85, 99.85, 99.89)),
        ("LeNet", "test"): _row(_W6, (99.89, 99.89, 99.88, 99.89, 99.89, 99.88)),
        ("Solver", "train"): _row(_W6, (100, 100, 100, None, None, None)),
        ("Lin.", "train"): _row(_W6, (99.42, 99.74, 99.88, 99.97, 99.9983, 100)),
        ("LeNet", "train"): _row(_W6, (100, 100, 100, 100, 100, 100))},
    7: {"source": "Samarin et al. 2022, Table 2 (full MNIST shifted by up to 7 px, 0 vs rest)",
        ("Solver", "test"): _row(_W6, (86.05, 98.7, 99.17, None, None, None)),
        ("Lin.", "test"): _row(_W6, (95.48, 98.51, 98.97, 99.31, 99.51, 99.55)),
        ("LeNet", "test"): _row(_W6, (99.72, 99.80, 99.82, 99.77, 99.82, 99.86)),
        ("Solver", "train"): _row(_W6, (100, 100, 100, None, None, None)),
        ("Lin.", "train"): _row(_W6, (95.42, 98.29, 98.90, 99.25, 99.49, 99.61)),
        ("LeNet", "train"): _row(_W6, (99.77, 99.83, 99.86, 99.90, 99.92, 99.90))},
}

# Arora et al. 2019 Table 1 (CIFAR-10): {(kernel, n): {depth (total layers): accuracy}}.
_DEPTHS = (3, 4, 6, 11, 21)
ARORA2019 = {
    "source": "Arora et al. 2019, Table 1 (CIFAR-10; depth counts the readout)",
    ("CNTK-V", 50000): _row(_DEPTHS, (64.47, 65.52, 66.03, 65.90, 64.09)),
    ("CNTK-V", 2000): _row(_DEPTHS, (40.94, 42.54, 43.43, 43.42, 42.53)),
    ("CNTK-GAP", 50000): _row(_DEPTHS, (70.47, 75.93, 76.73, 77.43, 77.08)),
    ("CNTK-GAP", 2000): _row(_DEPTHS, (49.71, 51.06, 51.73, 51.92, 52.22)),
    ("CNN-V", 50000): _row(_DEPTHS, (59.97, 60.20, 64.11, 69.48, 75.57)),
    ("CNN-GAP", 50000): _row(_DEPTHS, (63.81, 80.93, 83.75, 82.92, 83.30)),
}


def width_table(model: str, dataset: str, translate: int = 0,
                linearized_learning_rate: Optional[float] = None) -> Optional[Dict]:
  """Samarin et al. 2020's width table for a compare run, or None.

  Where the paper trains the linearization at several learning rates (AlexNet, Fig. 6), the
  linearized rows and their "variant" are those of `linearized_learning_rate` (None: unknown,
  the headline variant); at a rate the paper did not use, the standard rows only and a "note".
  """
  if translate:
    return None  # Samarin et al. 2022's per-width tables (Supp. A.1/A.2) are not transcribed.
  table = SAMARIN2020.get((model, dataset))
  variants = LINEARIZED_VARIANTS.get((model, dataset))
  if table is None or variants is None or linearized_learning_rate is None:
    return table
  for rate, rows in variants.items():
    if math.isclose(rate, float(linearized_learning_rate), rel_tol=1e-9):
      return {**table, **rows}
  rates = " and ".join(f"{rate:g}" for rate in variants)
  return dict(without_linearized(table), note=(
      f"No linearized rows: the paper trains the linearization at lr {rates}, this run at "
      f"lr {float(linearized_learning_rate):g}"))


def without_linearized(table: Dict) -> Dict:
  """A width table's standard rows and source, without the linearized rows or their variant."""
  return {k: v for k, v in table.items() if k not in ("variant", "label", "learning_rate",
                                                       "weight_decay")
          and not (isinstance(k, tuple) and k[0] == "linearized")}


def binary_table(translate: int) -> Optional[Dict]:
  return SAMARIN2022_BINARY.get(7 if translate else 0)

# Samarin et al. 2020, Fig. 1: AlexNet x1 on snakes (13,000 train / 500 test), L2 vs CE.
SAMARIN2020_LOSS = {"source": "Samarin et al. 2020, Fig. 1", "num_train": 13000, "num_test": 500,
                    "l2": {"train": 99.1, "test": 53.8}, "cross_entropy": {"train": 98.5,
                                                                          "test": 51.4}}

# Samarin et al. 2022 §4.1: test gaps (pp, mean of 5 reruns) at the smallest and largest width.
SAMARIN2022_GAPS = {"MNIST": {1: 4.67, 60: 0.48}, "translated MNIST": {1: 27.65, 60: 3.91},
                    "harder": {1: 20.22, 60: 13.17}, "snakes": {1: 20.4, 4: 18.56}}
MNIST_TEST, MNIST_TRAIN, CIFAR_TEST, CIFAR_TRAIN = 10000, 60000, 10000, 50000

# Vyas et al. 2022: fitted β (no intervals printed); Fig. 1(A), 2(a), 3(a-d); §4.1; Table 1.
VYAS2022_BETAS = {"network": 0.307, "empirical_ntk": 0.185, "infinite_ntk": 0.213}
VYAS2022_VARIANTS = {"width 16": 0.276, "width 1024": 0.279, "lr x3": 0.333, "lr / 10": 0.262,
                     "full-batch GD": 0.294, "no momentum": 0.310,
                     "no early stopping": 0.292}
VYAS2022_SMALL_LR = {"network": 0.204}  # lr 0.004 (1000x smaller).
VYAS2022_AFTER_KERNELS = {"16000": 0.103, "64000": 0.097}
VYAS2022_ZERO_OUTPUT = {"float32": 0.04118, "f − f(w0), float32": 0.04152, "float64": 0.03993}
