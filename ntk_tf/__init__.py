"""ntk_tf: how well does Neural Tangent Kernel theory describe real, finite-width CNNs?

The library's public names, imported on first use (so `import ntk_tf` stays light for the
command-line tools; TensorFlow loads with the first kernel or model):

    import ntk_tf
    theta = ntk_tf.empirical_ntk(model, x)            # (n, n, L, L) empirical NTK
    lin = ntk_tf.LinearizedModel(model)                 # f(w0, x) + J(w0, x) u, a keras.Model
    lin.compile(ntk_tf.TorchSGD(0.1, momentum=0.9), "mse"); lin.fit(x, y); lin.save("lin.keras")
    k = ntk_tf.infinite_kernels("cnn_gap", x, depth=10) # exact NNGP / NTK (CNTK)
    sigma = ntk_tf.singular_values_from_kernel(theta); ntk_tf.effective_rank(sigma)
    out = ntk_tf.predict(k_train, residual, time=t, k_test_train=k_test)  # gradient flow
"""

import importlib
import importlib.util

if importlib.util.find_spec("tensorflow") is None:
  raise ImportError(
      "ntk_tf needs TensorFlow, which its extras install: pip install 'ntk_tf[cpu]' (the CPU "
      "build) or 'ntk_tf[gpu]' (with CUDA); in a checkout: pip install -e '.[cpu]'.")

try:
  from importlib import metadata as _metadata
  __version__ = _metadata.version("ntk_tf")
except Exception:  # pylint: disable=broad-except  # Not installed: a source checkout.
  __version__ = "0.1.0"

_PUBLIC = {
    # Kernels.
    "empirical_ntk": ("ntk_tf.ntk.empirical", "empirical_ntk"),
    "kernel_fn": ("ntk_tf.ntk.empirical", "kernel_fn"),
    "infinite_kernels": ("ntk_tf.ntk.infinite", "kernels"),
    "monte_carlo_kernels": ("ntk_tf.ntk.monte_carlo", "kernels"),
    "flatten_kernel": ("ntk_tf.ntk.empirical", "flatten"),
    # Linearization.
    "LinearizedModel": ("ntk_tf.ntk.linearize", "LinearizedModel"),
    "JacobianOperator": ("ntk_tf.solvers.operator", "JacobianOperator"),
    "load_model": ("ntk_tf.training.checkpoints", "load_model"),
    "TorchSGD": ("ntk_tf.training.optimizers", "TorchSGD"),
    "NTKMonitor": ("ntk_tf.training.callbacks", "NTKMonitor"),
    # Solvers.
    "solve_linearized": ("ntk_tf.solvers.linearized", "solve"),
    "jacobian_matrix": ("ntk_tf.solvers.dense", "jacobian_matrix"),
    "lstsq": ("ntk_tf.solvers.dense", "lstsq"),
    "iterative_solve": ("ntk_tf.solvers.iterative", "solve"),
    "kernel_ridge": ("ntk_tf.solvers.kernel", "kernel_ridge"),
    "interpolate": ("ntk_tf.solvers.kernel", "interpolate"),
    "predict": ("ntk_tf.solvers.kernel", "gradient_flow"),
    "ntk_posterior": ("ntk_tf.solvers.posterior", "ntk_posterior"),
    "nngp_posterior": ("ntk_tf.solvers.posterior", "nngp_posterior"),
    "EnsemblePredictor": ("ntk_tf.solvers.posterior", "EnsemblePredictor"),
    # Spectra.
    "singular_values_from_kernel": ("ntk_tf.analysis.spectral", "singular_values_from_kernel"),
    "effective_rank": ("ntk_tf.analysis.spectral", "effective_rank"),
    "condition_number": ("ntk_tf.analysis.spectral", "condition_number"),
    "numerical_rank": ("ntk_tf.analysis.spectral", "numerical_rank"),
    "spectrum_summary": ("ntk_tf.analysis.spectral", "summary"),
    # Models of the papers.
    "build_model": ("ntk_tf.models", "build"),
}

__all__ = sorted(_PUBLIC) + ["__version__"]


def __getattr__(name):
  if name in _PUBLIC:
    module, attr = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value
  raise AttributeError(f"module 'ntk_tf' has no attribute {name!r}")


def __dir__():
  return sorted(set(globals()) | set(_PUBLIC))
