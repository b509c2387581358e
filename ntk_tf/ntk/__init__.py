"""Neural tangent kernels: empirical (finite width)."""

from ntk_tf.ntk.empirical import METHODS, empirical_ntk, flatten
from ntk_tf.ntk.planning import plan
