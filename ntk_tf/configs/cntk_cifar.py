"""CNTK kernel regression on CIFAR-10 (Arora et al. 2019, Table 1).

Command:  python -m ntk_tf.main --config=configs/cntk_cifar.py --workdir=workdirs/cntk_gap11
          [--config.model.name=cnn_v] [--config.model.depth=20]  # convolutions: depth - 1
Runtime:  the exact 60,000 x 60,000 kernel: CNTK-GAP costs O((32·32)²) per pair and layer
          (~0.5 kernel entries/s at depth 11 on a 2-core CPU, see BUILD_NOTES.md: a GPU-cluster
          job, as in the paper); CNTK-V uses the same-pixel shortcut, O(32·32) per pair.
          The "-2K" columns come from the same kernel (train_sizes includes 2000).
Paper:    Table 1, test accuracy (%) by depth 3 / 4 / 6 / 11 / 21 (total layers, convolutions
          plus the dense readout: model.depth = depth - 1): CNTK-V 64.47 / 65.52 / 66.03 /
          65.90 / 64.09; CNTK-GAP 70.47 / 75.93 / 76.73 / 77.43 / 77.08; -2K: CNTK-V 40.94 -
          43.43, CNTK-GAP 49.71 - 52.22.
Setting:  CNTK-V / CNTK-GAP (model.name cnn_v / cnn_gap), 3x3 SAME convs with ReLU, W_std = √2,
          b_std = 0; kernel regression on one-hot targets without ridge. CNTK-GAP cells fix the
          first and readout layers (kernel.trained_layers="middle", the default here: Arora et
          al.'s code `--fix yes` for the GAP column), CNTK-V cells train all layers (`--fix no`;
          with --config.model.name=cnn_v add --config.kernel.trained_layers=all).
Tiers:    `:cpu` stands in scikit-learn's 8x8 digits for CIFAR-10 (offline; 300 train / 200 test,
          class-balanced), n = 75 and 300 for the "-2K" comparison, float64: CNTK-GAP depth 11
          takes ~8 min on a 2-core CPU; `:cpu-full` stands in Fashion-MNIST's 28x28 images
          (1,000 train / 1,000 test, n = 250 and 1,000), where ten 3x3 convolutions (21 px) do
          not yet cover the image: depth 11 read out at depths 3 and 6 in the same pass
          (kernel.readout_depths), float32 as Arora et al.'s GPU code; CNTK-GAP takes ~8-10 h on
          a 2-core CPU (1.5 M sample pairs at ~50/s, BUILD_NOTES.md), CNTK-V ~10 min;
          `:smoke`: 30 / 20 digits.
"""

from ntk_tf.configs import common as cc

DEPTHS = (3, 4, 6, 11, 21)
STAND_IN_DEPTHS = (3, 6, 11)  # cpu-full: one depth-11 pass, read out at 3 and 6.
STAND_IN_TRAIN, STAND_IN_TEST = 1000, 1000  # 0.1 pp per test image.
ARCHS = ("cnn_v", "cnn_gap")


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  if tier == "paper":
    return cc.cntk_config("cifar10", "cnn_gap", 11, train_sizes=(2000, 50000),
                          trained_layers="middle")
  if tier == "cpu-full":
    config = cc.cntk_config(
        "fashion_mnist", "cnn_gap", 11, train_sizes=(250, STAND_IN_TRAIN), num_train=STAND_IN_TRAIN,
        num_test=STAND_IN_TEST, trained_layers="middle")
    config.kernel.readout_depths = tuple(d - 1 for d in STAND_IN_DEPTHS[:-1])
    config.kernel.dtype = "float32"
    return config
  sizes, train, test = ((75, 300), 300, 200) if cc.is_cpu(tier) else ((10, 30), 30, 20)
  return cc.cntk_config("digits", "cnn_gap", 11, train_sizes=sizes,
                        num_train=train, num_test=test, trained_layers="middle")


def sweep():
  """Table 1's cells: CNTK-V and CNTK-GAP at every depth (depth - 1 convolutions)."""
  return [{"model.name": arch, "model.depth": depth - 1,
           "kernel.trained_layers": "middle" if arch == "cnn_gap" else "all"}
          for arch in ARCHS for depth in DEPTHS]
