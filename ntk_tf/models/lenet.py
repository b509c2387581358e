"""LeNet-5 with ReLU and max-pooling, as in Samarin et al. (2020, 2022).

conv 6k@5x5 (padding 2 = SAME for inputs smaller than 32x32, as for 28x28 MNIST; VALID from
32x32 on, as for CIFAR-10), maxpool 2, conv 16k@5x5 VALID, maxpool 2, flatten, dense 120k,
dense 84k, dense L, for width factor k. x1 has 61,706 parameters on MNIST, 62,006 on CIFAR-10.
"""

from ntk_tf.errors import ConfigError
from ntk_tf.models import common, layers


def build(width: int, input_shape, num_outputs: int, factory: common.LayerFactory):
  common.require_image("lenet", input_shape, 12)
  h, w, _ = input_shape
  padding = 2 if min(h, w) < 32 else 0
  conv1 = factory.conv(6 * width, 5, padding=padding, name="conv1")
  sizes = [layers.pooled_size(conv1.output_size(s), 2) for s in (h, w)]
  sizes = [layers.pooled_size(s - 4, 2) for s in sizes]
  if min(sizes) < 1:
    raise ConfigError(f"model 'lenet' cannot take {h}x{w} inputs (the second conv leaves "
                      "nothing to pool); use at least 12x12 images.")
  return [
      conv1, factory.relu(), factory.max_pool(2),
      factory.conv(16 * width, 5, name="conv2"), factory.relu(),
      factory.max_pool(2),
      factory.flatten(),
      factory.dense(120 * width, name="fc1"), factory.relu(),
      factory.dense(84 * width, name="fc2"), factory.relu(),
      factory.dense(num_outputs, name="fc3"),
  ]
