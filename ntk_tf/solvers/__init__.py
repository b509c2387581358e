"""Solvers: dense and matrix-free least squares for the linearized network, kernel regression,
posteriors. Import the module you need (`from ntk_tf.solvers import dense`): this package's
import loads nothing, so that TensorFlow-free parts (options.py) stay TensorFlow-free."""
