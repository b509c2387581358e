"""The layer rules of the structured empirical NTK (Novak et al. 2022, 'Fast Finite Width
Neural Tangent Kernel', structured derivatives), one `Rule` per kind of weight-holding layer,
each registered in `RULES` where it is defined: dense.py (ntk_tf and Keras Dense, EinsumDense),
convolution.py (ntk_tf Conv2D, Keras convolutions, depthwise, separable and transposed),
embedding.py, normalization.py (batch, layer and group normalization), and fallback.py for
every other layer. Adding a kind of layer is adding a rule in one of these modules (or a new
module imported here); base.py says what a rule provides.
"""

from ntk_tf.ntk.rules import dense, convolution, embedding, normalization  # Registers them.
from ntk_tf.ntk.rules.base import RULES, Call, Rule, Unit, rule_for
from ntk_tf.ntk.rules.fallback import FALLBACK
