"""Vyas, Bansal, Nakkiran (2022), appendix A: Myrtle CNN, the 5-layer CNN and the MLP.

Here `width` is the papers' c (channels or hidden units), not a multiplier.
- myrtle: conv c, conv 2c, avgpool 2, conv 4c, avgpool 2, conv 8c, avgpool 2, global average
  pool (the paper's 4x4 average pool on 32x32 inputs), dense L; 3x3 SAME convs with ReLU.
- cnn5: four 3x3 SAME convs with c channels and ReLU, flatten, dense L.
- mlp: flatten, (depth - 1) hidden dense layers of c units with ReLU, dense L (depth 4 default).
"""

from ntk_tf.errors import ConfigError
from ntk_tf.models import common


def build_myrtle(width: int, input_shape, num_outputs: int, factory: common.LayerFactory):
  common.require_image("myrtle", input_shape, 8, " (three 2x2 average pools)")
  out = []
  for i, channels in enumerate((width, 2 * width, 4 * width, 8 * width)):
    out += [factory.conv(channels, 3, padding="same", name=f"conv{i + 1}"), factory.relu()]
    if i > 0:
      out.append(factory.avg_pool(2))
  return out + [factory.global_avg_pool(),
                factory.dense(num_outputs, name="fc")]


def build_cnn5(width: int, input_shape, num_outputs: int, factory: common.LayerFactory):
  common.require_image("cnn5", input_shape, 1)
  out = []
  for i in range(4):
    out += [factory.conv(width, 3, padding="same", name=f"conv{i + 1}"), factory.relu()]
  return out + [factory.flatten(), factory.dense(num_outputs, name="fc")]


def build_mlp(width: int, input_shape, num_outputs: int, factory: common.LayerFactory,
              depth: int = 4):
  if depth < 1:
    raise ConfigError(f"model.depth={depth}: an MLP needs depth >= 1 (dense layers).")
  out = [factory.flatten()]
  for i in range(depth - 1):
    out += [factory.dense(width, name=f"fc{i + 1}"), factory.relu()]
  return out + [factory.dense(num_outputs, name=f"fc{depth}")]
