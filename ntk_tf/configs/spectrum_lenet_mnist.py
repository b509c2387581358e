"""Effective rank and singular values of LinLeNet's feature matrix on MNIST, by width
(Samarin et al. 2020 Fig. 5 left; 2022 Figs. 6 left, 7, A.3).

Command:  python -m ntk_tf.main --config=configs/spectrum_lenet_mnist.py \
            --workdir=workdirs/spectrum_lenet_mnist [--config.dataset.name=mnist5k  # offline]
Runtime:  600 samples x 10 outputs = 6000x6000 kernels for widths 1, 2, 5, 10, 25, 60, on plain
          and 7-pixel-translated MNIST: ~5 s (x1), ~5 min (x25) and ~35 min (x60) per kernel
          on an idle 2-core CPU within 16 GB (structured method; BUILD_NOTES.md).
Paper:    effective rank far below 6000 at every width, growing with width; lower growth with
          translations.
Tiers:    `:cpu`: 600 offline mnist5k digits, widths 1, 2, 5, 10 (add 25 and 60 with
          --config.model.widths=1,2,5,10,25,60 and memory_limit_gb=16: ~40 min more);
          `:smoke`: 20 digits, widths 1, 2.
"""

from ntk_tf.configs import common as cc


def get_config(arg=None):
  tier = cc.parse_tier(arg)
  config = cc.default_config("spectrum")
  config.dataset.name = "mnist"
  config.model.name = "lenet"
  config.model.widths = cc.PAPER_WIDTHS
  config.spectrum.num_samples = 600
  config.spectrum.translations = (0, 7)
  if tier != "paper":
    config.dataset.name = "mnist5k"
    config.model.widths = cc.CPU_WIDTHS if cc.is_cpu(tier) else cc.SMOKE_WIDTHS
    config.spectrum.num_samples = 600 if cc.is_cpu(tier) else 20
    # Blocks planned for 8 GiB: the tier's other runs may hold memory beside it (at 16 GiB a
    # run beside another was refused, "needs ~15.5 GiB ... 10.6 GiB available now").
    config.spectrum.memory_limit_gb = 8.0
  return config
