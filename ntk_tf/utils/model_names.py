"""How models are named in configs and reports (no TensorFlow: the report tools import this).

`config.model.name` is a built-in architecture ("lenet", ...) or a user model,
"package.module:function" or "path/to/file.py:function" (ntk_tf.models.user).
"""

PRETTY = {"lenet": "LeNet", "alexnet": "AlexNet", "myrtle": "Myrtle", "mlp": "MLP",
          "cnn5": "CNN5", "cnn_v": "CNN-V", "cnn_gap": "CNN-GAP"}


def is_user_model(name) -> bool:
  """Whether `name` points at a user's function ("module:function" or "file.py:function")."""
  return isinstance(name, str) and ":" in name


def pretty(name: str) -> str:
  """"LeNet" for "lenet"; a user model's function name ("small_cnn")."""
  if is_user_model(name):
    return name.rsplit(":", 1)[1]
  return PRETTY.get(name, name)


def linearized(name: str) -> str:
  """Its linearization: "LinLeNet" (Samarin et al.'s name); "linearized small_cnn"."""
  return f"linearized {pretty(name)}" if is_user_model(name) else f"Lin{pretty(name)}"


def label(name: str, width, pretty_name: bool = False) -> str:
  """A model in titles and messages: "lenet x2" ("LeNet x2" with pretty_name); a user model,
  which has no width factor, by its function name alone ("small_cnn")."""
  if is_user_model(name):
    return pretty(name)
  return f"{pretty(name) if pretty_name else name} x{width}"
