"""The shapes of the registry: a run, a claim, what a claim measured, and the results it reads.

A `Claim` is declared by keyword in its paper's module: the paper's sentence, which runs it
needs at each tier (`Run`: a config file, its tier argument, overrides), how it measures their
results (`measure`, reading them through `RunResults` only) and the rule deciding its verdict. The
rule is a function of the measured values whose docstring is the rule's text on the page,
written once. TensorFlow-free, as is the whole package.
"""

import dataclasses
import inspect
import os
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from ntk_tf.reproduction import claim_quotes

TIERS = ("smoke", "cpu", "cpu-full", "paper")


@dataclasses.dataclass(frozen=True)
class Run:
  """One experiment run: `python -m ntk_tf.main --config=<config>:<tier> <overrides>`."""
  name: str
  config: str
  overrides: Tuple[Tuple[str, object], ...] = ()


@dataclasses.dataclass
class Measured:
  """What a claim read from its runs: `values` for the rule, a table for the page."""
  values: dict
  header: List[str]
  rows: List[List[str]]
  notes: List[str] = dataclasses.field(default_factory=list)


class RunResults:
  """The Results of every finished run of a tier, by run name, and each run's folder.

  The one way rules' measurements read runs: `results[name]` (that run's
  `ntk_tf.experiments.contract.Results`, read from its results.json), `name in results`, and
  `results.path(name, ...)` for a run's other files.
  """

  def __init__(self, by_name: Mapping[str, Mapping], roots: Dict[str, str]):
    self.by_name, self.roots = by_name, roots
    self.failed = set()  # Runs that failed in this invocation (the rest of the missing: not yet).

  def __getitem__(self, name: str) -> Mapping:
    return self.by_name[name]

  def __contains__(self, name: str) -> bool:
    return name in self.by_name

  def path(self, name: str, *parts) -> str:
    return os.path.join(self.roots[name], *parts)


RunLists = Mapping[str, Optional[Tuple[Run, ...]]]


def per_tier(runs: Callable[[str], Optional[List[Run]]]) -> Dict[str, Optional[Tuple[Run, ...]]]:
  """{tier: its runs} from a function of the tier (None: not run at that tier)."""
  out = {}
  for tier in TIERS:
    found = runs(tier)
    out[tier] = None if found is None else tuple(found)
  return out


def rule_text(rule: Callable) -> str:
  """A rule's docstring as one paragraph: the page's text of the rule."""
  return " ".join(inspect.getdoc(rule).split())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Claim:
  """One headline claim of a paper, and how this repository judges it."""
  id: str                                   # As in paper_tables.md: "samarin2020.1", ...
  paper: str                                # samarin2020, samarin2022, vyas2022, arora2019.
  statement: str                            # The claim in one sentence.
  paper_numbers: str                        # The paper's numbers behind it.
  runs: RunLists                            # Tier -> the runs it reads (None: not run there).
  measure: Callable[[RunResults, str], Measured]  # (results, tier) -> values and a table.
  rule: Callable[[dict], Tuple[str, str]]   # values -> (verdict, what was found).
  scale: Mapping[str, str] = dataclasses.field(default_factory=dict)   # Tier -> its scale.
  not_run: Mapping[str, str] = dataclasses.field(default_factory=dict)  # Tier -> why not run.
  paper_values: Optional[Callable[[], dict]] = None  # The paper's numbers in `values` form.
  figure: Optional[str] = None              # The page's figure drawn from its values.
  # Tier -> why its protocol is faithful to the paper for this claim: printed with a "not
  # reproduced" verdict, which must survive a referee (a committed page's test requires it).
  faithful: Mapping[str, str] = dataclasses.field(default_factory=dict)

  @property
  def rule_text(self) -> str:
    return rule_text(self.rule)

  @property
  def quote(self) -> str:
    """The paper's sentence(s), verbatim (`ntk_tf.reproduction.claim_quotes`)."""
    return claim_quotes.QUOTES.get(self.id, {}).get("quote", "")

  @property
  def where(self) -> str:
    """The quote's section or figure."""
    return claim_quotes.QUOTES.get(self.id, {}).get("where", "")


def rule_doc(**constants):
  """Fills a rule's docstring with the thresholds it uses ("{MIN_GAP:g} pp"), so the page's
  text of the rule and its code share the numbers."""
  def fill(fn):
    fn.__doc__ = inspect.cleandoc(fn.__doc__).format(**constants)
    return fn
  return fill
