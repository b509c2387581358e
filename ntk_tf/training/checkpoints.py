"""Reading trained models back: a saved LinearizedModel or any model using this package's Keras
objects (load_model), and the weights in the checkpoints a 'compare' run writes."""

import os
from typing import List, Optional

import keras
import tensorflow as tf

from ntk_tf.errors import ConfigError


def checkpoint_path(directory: str, step: Optional[int] = None) -> str:
  """The checkpoint in `directory` at `step` (default: the latest)."""
  if not os.path.isdir(directory):
    raise ConfigError(f"checkpoint folder {directory} does not exist; point to the "
                      "'checkpoints' folder of a compare run (<workdir>/seed_<s>/checkpoints).")
  state = tf.train.get_checkpoint_state(directory)
  paths = list(state.all_model_checkpoint_paths) if state else []
  if not paths:
    raise ConfigError(f"no checkpoint in {directory}.")
  if step is None:
    return paths[-1]
  wanted = [p for p in paths if p.endswith(f"ckpt-{int(step)}")]
  if not wanted:
    raise ConfigError(f"no checkpoint at step {step} in {directory}; available steps: "
                      f"{[int(p.rsplit('-', 1)[1]) for p in paths]}. Keep more with "
                      "train.max_checkpoints and train.checkpoint_every_steps.")
  return wanted[0]


def load_params(model, path: str, which: str = "params") -> List[tf.Tensor]:
  """The network weights ("params") or the linearization's u ("u") saved at `path`."""
  holders = [tf.Variable(tf.zeros_like(w)) for w in model.trainable_weights]
  try:
    tf.train.Checkpoint(**{which: holders}).restore(path).expect_partial().assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    raise ConfigError(f"checkpoint {path} does not match model {model.name} (its weights have "
                      f"other shapes or names: {str(e).splitlines()[0][:200]}); use the "
                      "architecture, width and data shape of the run that wrote it.") from e
  return [h.value() if hasattr(h, "value") else tf.convert_to_tensor(h) for h in holders]


def load_model(path: str, **kwargs) -> keras.Model:
  """keras.models.load_model with this package's Keras objects registered (LinearizedModel,
  TorchSGD, the papers' layers), which a bare Keras call finds only once they are imported."""
  # Importing them registers them with Keras.
  # pylint: disable=g-import-not-at-top,unused-import,import-outside-toplevel
  from ntk_tf.models import layers
  from ntk_tf.ntk import linearize
  from ntk_tf.training import optimizers
  return keras.models.load_model(path, **kwargs)
