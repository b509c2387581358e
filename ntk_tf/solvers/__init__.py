"""Solvers: dense and matrix-free least squares for the linearized network, kernel regression."""

from ntk_tf.solvers import dense, iterative, kernel, linearized
from ntk_tf.solvers.operator import JacobianOperator, flatten_params, unflatten_params
