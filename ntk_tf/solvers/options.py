"""The options of the linearized-network solvers, with defaults (TensorFlow-free: configs read
them)."""

from ntk_tf.errors import ConfigError


def options(**overrides) -> dict:
  """Every option `solve` reads, with defaults."""
  out = dict(storage="memory", workdir=None, memory_limit_gb=16.0, rcond=None,
             batch_size=250, jacobian_block_size=32, damp=0.0, atol=1e-10, btol=1e-10,
             iter_lim=None, checkpoint_every=200, conlim=0.0, kernel_method="auto",
             jit_compile=False, nystrom_rank=None, nystrom_shift=0.0, nystrom_seed=0,
             pcg_tol=1e-7)
  unknown = sorted(set(overrides) - set(out))
  if unknown:
    raise ConfigError(f"unknown solver option(s) {unknown}; valid: {', '.join(sorted(out))}.")
  out.update(overrides)
  return out
