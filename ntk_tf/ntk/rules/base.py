"""What a layer rule of the structured empirical NTK is, and the registry that finds one: a
`Rule` says which layers it takes (`matches`), what each of their calls records (`record`,
before the fused activation when `pre_activation`), the per-sample weight gradients it forms
from that record and the call's output cotangents (`features`), whether and how its calls may
be contracted through position pairs instead (`positionwise_shape`, `pixel_terms`) or as an
inputs x cotangents Gram (`gram`, `gram_terms`), and the sizes the planner counts for it. Each
rule module defines its rules and registers them with `register`; `rule_for` returns the first
registered rule that matches a layer (none: the fallback rule).
"""

import dataclasses
from typing import Dict, List, Optional

import numpy as np
import tensorflow as tf

# Tensor algebra without Python control flow on tensors: AutoGraph need not convert it (its
# conversions were most of the first trace of a stock-Keras model: 5.5 s vs 2.3 s for ours).
plain_python = tf.autograph.experimental.do_not_convert


@dataclasses.dataclass
class Unit:
  """A layer whose weights get one rule; indices: its weights in model.trainable_weights."""
  layer: object
  rule: "Rule"
  indices: List[int]

  @property
  def kind(self) -> str:
    """The rule's name, e.g. "dense", "conv", "own_conv", "batchnorm" or "fallback"."""
    return self.rule.name

  @property
  def num_params(self) -> int:
    """Weights of the layer (its share of the features when its rule is per-sample)."""
    return int(sum(int(np.prod(v.shape)) for v in self.layer.trainable_variables))


@dataclasses.dataclass
class Call:
  """One call of a unit during the forward pass: what its rule needs and its probes."""
  unit: int
  inputs: object = None
  probes: list = dataclasses.field(default_factory=list)
  cotangents: list = dataclasses.field(default_factory=list)
  ops: set = dataclasses.field(default_factory=set)  # Graph ops it created (survey only).


class Rule:
  """How the structured NTK takes the weights of one kind of layer; subclasses override."""
  name = ""               # What Unit.kind reports.
  pre_activation = False  # Probe z, before the layer's fused activation (else its outputs).
  position_wise = False   # Applied alike at every position: position pairs may be cheaper.

  def matches(self, layer) -> bool:
    """Whether this rule takes `layer`'s weights."""
    raise NotImplementedError

  def record(self, layer, x, args, kwargs):
    """What a call of `layer` on x (its first argument) keeps for `features`: called before
    the layer's own call for pre-activation rules, after it for the others."""
    del layer, args, kwargs
    return x

  def scales(self, layer):
    """(s, β) in z = s·(x ∗ W) + β·b; β None without a bias (or a zero bias scale)."""
    return 1.0, (1.0 if layer.use_bias else None)

  def features(self, unit: Unit, call: Call, engine):
    """The per-sample weight gradients (b, L, P_u) of one call; engine: the model at its
    params (for rules that run the layer again)."""
    raise NotImplementedError

  def gram(self, call: Call) -> bool:
    """Whether the call's term is (A A'ᵀ) ⊙ (G G'ᵀ) from `gram_terms` (a dense layer on
    vectors) rather than from weight gradients."""
    del call
    return False

  def gram_terms(self, unit: Unit, call: Call):
    """(A (b, d_in [+1 bias column]) scaled, G (b, L, d_out)) of a `gram` call."""
    raise NotImplementedError

  def positionwise_shape(self, unit: Unit, call: Call):
    """(S positions, K inputs, C outputs per position) of a call whose term may be formed from
    position pairs, or None (weight gradients only)."""
    del unit, call
    return None

  def pixel_terms(self, unit: Unit, call: Call):
    """(s·patches (b, S, K), cotangents (b, L, S, C)) of a position-wise call, and its bias's
    per-sample gradients (b, L, |bias|) or None."""
    raise NotImplementedError

  def extra_cotangents(self, unit: Unit, call: Call) -> int:
    """Per-sample numbers per output the call's features form beyond its outputs'
    cotangents (the planner's count)."""
    del unit, call
    return 0

  def vjp_row_size(self, unit: Unit, call: Call) -> Optional[int]:
    """Numbers per row of the single-sample VJPs the call's features take, or None for a rule
    that forms them by tensor algebra (the planner's count)."""
    del unit, call
    return None

  def weight_gradient_order(self, unit: Unit, vjp_rows: int):
    """(contraction order, why) for the plan's log when the unit's weight gradients are
    formed per sample; vjp_rows: the unit's `vjp_row_size` summed over its calls."""
    del vjp_rows
    return "weight gradients", f"{self.name} rule: {unit.num_params:,} per sample and output"


RULES: Dict[str, Rule] = {}  # name -> rule, in the order `rule_for` tries them.


def register(cls):
  """Class decorator: registers an instance of the Rule subclass `cls` under its name."""
  rule = cls()
  if rule.name in RULES:
    raise ValueError(f"a rule named {rule.name!r} is registered already")
  RULES[rule.name] = rule
  return cls


def rule_for(layer) -> Optional[Rule]:
  """The first registered rule that takes `layer`, or None."""
  return next((rule for rule in RULES.values() if rule.matches(layer)), None)


def same_call(layer, cls) -> bool:
  """Whether `layer` runs `cls`'s own call (a subclass overriding call gets the fallback)."""
  return isinstance(layer, cls) and type(layer).call is cls.call


def plain(layer) -> bool:
  """Neither quantized nor with LoRA weights: its weights are the ones its call reads."""
  return (getattr(layer, "quantization_mode", None) is None
          and not getattr(layer, "lora_enabled", False))


@plain_python
def summed_bias_grads(g, beta):
  """β·Σ over the positions of g (b, L, *positions, C): a per-channel bias's gradients."""
  return beta * tf.reduce_sum(g, axis=list(range(2, len(g.shape) - 1)))


@plain_python
def position_terms(x, g, shape, s):
  """(s·x (b, S, K), g (b, L, S, C)) for position-wise shape (S, K, C)."""
  b, num_out = tf.shape(g)[0], g.shape[1]
  positions, inputs, outputs = shape
  return (s * tf.reshape(x, [b, positions, inputs]),
          tf.reshape(g, [b, num_out, positions, outputs]))
