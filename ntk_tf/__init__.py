"""ntk_tf: how well does Neural Tangent Kernel theory describe real, finite-width CNNs?"""

__version__ = "0.1.0"
