"""The vanilla CNN (CNN-V) and CNN with global average pooling (CNN-GAP) of Arora et al. 2019.

`depth` 3x3 SAME convolutions with `width` channels and ReLU, then flatten + dense (cnn_v) or
global average pooling + dense (cnn_gap).
"""

from ntk_tf.errors import ConfigError
from ntk_tf.models import common


def _convs(name, width, input_shape, factory, depth):
  common.require_image(name, input_shape, 1)
  if depth < 1:
    raise ConfigError(f"model.depth={depth}: {name} needs at least one convolution.")
  out = []
  for i in range(depth):
    out += [factory.conv(width, 3, padding="same", name=f"conv{i + 1}"), factory.relu()]
  return out


def build_cnn_v(width, input_shape, num_outputs, factory, depth: int = 3):
  return (_convs("cnn_v", width, input_shape, factory, depth)
          + [factory.flatten(), factory.dense(num_outputs, name="fc")])


def build_cnn_gap(width, input_shape, num_outputs, factory, depth: int = 3):
  return (_convs("cnn_gap", width, input_shape, factory, depth)
          + [factory.global_avg_pool(),
             factory.dense(num_outputs, name="fc")])
