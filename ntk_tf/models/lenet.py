"""LeNet-5 with ReLU and max-pooling, as in Samarin et al. (2020, 2022).

conv 6k@5x5 (padding 2 = SAME for inputs smaller than 32x32, as for 28x28 MNIST; VALID from
32x32 on, as for CIFAR-10), maxpool 2, conv 16k@5x5 VALID, maxpool 2, flatten, dense 120k,
dense 84k, dense L, for width factor k. x1 has 61,706 parameters on MNIST, 62,006 on CIFAR-10.
A fractional k (e.g. 0.25: 3,959 parameters with one output on MNIST) rounds each layer's
width; the binary 0-vs-rest tiers use it to match the paper's rows-to-parameters ratio.
"""

from ntk_tf.errors import ConfigError
from ntk_tf.models import common, layers


def channels(base: int, width) -> int:
  """A layer's width at factor `width`: base·width, rounded for a fractional factor."""
  return base * width if isinstance(width, int) else max(1, int(round(base * width)))


def build(width, input_shape, num_outputs: int, factory: common.LayerFactory):
  common.require_image("lenet", input_shape, 12)
  h, w, _ = input_shape
  padding = 2 if min(h, w) < 32 else 0
  conv1 = factory.conv(channels(6, width), 5, padding=padding, name="conv1")
  sizes = [layers.pooled_size(conv1.output_size(s), 2) for s in (h, w)]
  sizes = [layers.pooled_size(s - 4, 2) for s in sizes]
  if min(sizes) < 1:
    raise ConfigError(f"model 'lenet' cannot take {h}x{w} inputs (the second conv leaves "
                      "nothing to pool); use at least 12x12 images.")
  return [
      conv1, factory.relu(), factory.max_pool(2),
      factory.conv(channels(16, width), 5, name="conv2"), factory.relu(),
      factory.max_pool(2),
      factory.flatten(),
      factory.dense(channels(120, width), name="fc1"), factory.relu(),
      factory.dense(channels(84, width), name="fc2"), factory.relu(),
      factory.dense(num_outputs, name="fc3"),
  ]
