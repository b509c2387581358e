"""Experiment 'spectrum': singular values and effective rank of ∇_w f(w0, X) across widths.

Samarin et al. 2020 Fig. 5; 2022 Figs. 6, 7, A.3: for n samples (600 -> 6000 rows with 10
outputs) the empirical NTK Θ = Φ Φᵀ of Φ = ∇_w f(w0, X) is computed for each width (and data
translation); its eigenvalues give σ(Φ), the effective rank (Roy & Vetterli 2007), the condition
number and the numerical rank. With `spectrum.checkpoint_dir` the kernel is taken at trained
weights instead: the after-kernel (latest checkpoint) or K^t (`spectrum.checkpoint_step`).

Workdir: results.json, singular_values/t<translate>_w<width>.npy, kernel_blocks/ (resume),
effective_rank.png, singular_values.png.
"""

import os

import ml_collections
from absl import logging

from ntk_tf import data, models
from ntk_tf.analysis import spectral
from ntk_tf.errors import ConfigError
from ntk_tf.experiments import common, contract, defaults
from ntk_tf.ntk import empirical
from ntk_tf.training import checkpoints
from ntk_tf.utils import distribute, io, plots

default_config = defaults.spectrum


def validate(config: ml_collections.ConfigDict) -> contract.Spec:
  defaults = default_config()
  common.check_keys(config, defaults, "")
  common.check_keys(config.spectrum, defaults.spectrum, "spectrum")
  data.validate(config.dataset)
  distribute.validate(config.get("distribute", "default"))
  common.validate_model_widths(config.model, config.dtype, config.dataset)
  n = config.spectrum.num_samples
  if not isinstance(n, int) or n < 1:
    raise ConfigError(f"spectrum.num_samples={n!r} must be a positive integer.")
  if config.spectrum.method not in empirical.METHODS:
    raise ConfigError(f"spectrum.method={config.spectrum.method!r}; use one of "
                      f"{', '.join(empirical.METHODS)}.")
  for t in config.spectrum.translations:
    dataset = config.dataset.copy_and_resolve_references()
    dataset.translate = t
    data.validate(dataset)
  return contract.Spec("spectrum", config, seeds=contract.seeds_of(config))


def _one(config, dataset, width: int, translate: int, workdir: str) -> dict:
  model = common.build_model(common.model_at_width(config.model, width), dataset.input_shape,
                             dataset.num_outputs, config.seed, config.dtype)
  params, source = None, "initialization"
  if config.spectrum.checkpoint_dir:
    path = checkpoints.checkpoint_path(config.spectrum.checkpoint_dir,
                                       config.spectrum.checkpoint_step)
    params, source = checkpoints.load_params(model, path), path
  tag = f"t{translate}_w{width}"
  s = config.spectrum
  kernel = empirical.empirical_ntk(
      model, dataset.x_train, params=params, method=s.method, dtype=config.dtype,
      memory_limit_gb=s.memory_limit_gb, block_size=s.block_size, jit_compile=s.jit_compile,
      checkpoint_dir=os.path.join(workdir, "kernel_blocks", tag),
      devices=common.kernel_devices(config))
  sigma = spectral.singular_values_from_kernel(kernel)
  io.write_npy(os.path.join(workdir, "singular_values", f"{tag}.npy"), sigma)
  if s.save_kernel:
    io.write_npy(os.path.join(workdir, "kernels", f"{tag}.npy"), kernel)
  info = dict(spectral.summary(sigma), num_params=models.num_params(model), width=width,
              translate=translate, weights=source)
  logging.info("width %d translate %d: %d rows, effective rank %.1f, condition %.3g", width,
               translate, info["num_rows"], info["effective_rank"], info["condition_number"])
  return info


def run(spec, workdir: str) -> contract.Results:
  """Runs a validated Spec (or a bare config, validated here) in `workdir`; its results."""
  spec = contract.spec_of(spec, validate)
  config = spec.config
  by_translation = {}
  for translate in config.spectrum.translations:
    dataset_cfg = config.dataset.copy_and_resolve_references()
    dataset_cfg.translate = translate
    dataset_cfg.num_train = config.spectrum.num_samples
    dataset = data.load(dataset_cfg, seed=config.seed)
    widths = {}
    for width in config.model.widths:
      widths[str(width)] = _one(config, dataset, int(width), int(translate), workdir)
    by_translation[str(translate)] = dict(widths=widths)
  first = by_translation[str(config.spectrum.translations[0])]
  results = dict(experiment="spectrum", model=config.model.name, dataset=config.dataset.name,
                 num_samples=config.spectrum.num_samples, widths=first["widths"],
                 translations=by_translation)
  lines = [f"translate {translate} width {width:>3}: {info['num_rows']} rows, "
           f"{info['num_params']:,} params, effective rank {info['effective_rank']:.1f}, "
           f"numerical rank {info['numerical_rank']}"
           for translate, entry in by_translation.items()
           for width, info in entry["widths"].items()]
  figures = [(plots.effective_rank_vs_width, "effective_rank.png"),
             (lambda _, out: plots.singular_value_distributions(workdir, out),
              "singular_values.png")]
  return common.finish(workdir, results, figures=figures, text="\n".join(lines))
