"""AlexNet in torchvision's layout without dropout (Samarin et al.; Krizhevsky 2014).

conv 64k@11x11 stride 4 pad 2, maxpool 3/2, conv 192k@5x5 pad 2, maxpool 3/2, conv 384k@3x3,
conv 256k@3x3, conv 256k@3x3 (pad 1), maxpool 3/2, adaptive average pooling to 6x6, dense 4096k,
dense 4096k, dense L. For 224x224x3 inputs and L=10, x1 has 57,044,810 parameters. The smallest
input is 63x63.
"""

from ntk_tf.models import common, layers


def build(width: int, input_shape, num_outputs: int, factory: common.LayerFactory):
  common.require_image("alexnet", input_shape, 63, " (torchvision's AlexNet; the papers use "
                       "224x224)")

  def pool():
    return factory.max_pool(3, strides=2)

  return [
      factory.conv(64 * width, 11, strides=4, padding=2, name="conv1"), factory.relu(),
      pool(),
      factory.conv(192 * width, 5, padding=2, name="conv2"), factory.relu(), pool(),
      factory.conv(384 * width, 3, padding=1, name="conv3"), factory.relu(),
      factory.conv(256 * width, 3, padding=1, name="conv4"), factory.relu(),
      factory.conv(256 * width, 3, padding=1, name="conv5"), factory.relu(), pool(),
      layers.AdaptiveAvgPool2D(6, dtype=factory.dtype), factory.flatten(),
      factory.dense(4096 * width, name="fc1"), factory.relu(),
      factory.dense(4096 * width, name="fc2"), factory.relu(),
      factory.dense(num_outputs, name="fc3"),
  ]
