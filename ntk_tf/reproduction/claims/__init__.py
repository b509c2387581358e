"""The reproduction registry: every headline claim of the four papers, as data.

Each claim (ids as in the papers' digitized tables, `paper_tables.md`: "samarin2020.1", ...) is a
`Claim` declared by keyword in its paper's module (`samarin2020`, `samarin2022`, `vyas2022`,
`arora2019`): the paper's sentence, the runs it needs at each tier (`runs`), how it measures their
results and the rule deciding its verdict (`ntk_tf.reproduction.verdicts`: reproduced, not
reproduced, inconclusive, not testable at this tier). A rule is a function whose docstring is its
text on the page; it declares the conditions under which it can decide (training length, widths,
data size, the n/p regime) and is also run on the paper's own numbers (`paper_values`), where the
papers print them: a faithful rule says "reproduced" there. Runs are shared between claims by name,
so a run is computed once for every claim that reads it. `ntk_tf.reproduce` runs them and writes the
page; the rules are pure functions of the numbers. No TensorFlow is imported here.
"""

from typing import List, Optional, Sequence

from ntk_tf.reproduction.claims import arora2019, samarin2020, samarin2022, vyas2022
from ntk_tf.reproduction.claims.base import TIERS, Claim, Measured, RunResults, Run
# The verdicts are re-exported: ntk_tf.reproduce and the tests read them from the registry.
from ntk_tf.reproduction.verdicts import (INCONCLUSIVE, NOT_REPRODUCED, NOT_TESTABLE,
                                          REPRODUCED, TOO_SMALL, VERDICTS)

__all__ = ["CLAIMS", "BY_ID", "get", "TIERS", "Claim", "Measured", "RunResults", "Run",
           "INCONCLUSIVE", "NOT_REPRODUCED", "NOT_TESTABLE", "REPRODUCED", "TOO_SMALL", "VERDICTS"]

CLAIMS: List[Claim] = (samarin2020.CLAIMS + samarin2022.CLAIMS + vyas2022.CLAIMS
                       + arora2019.CLAIMS)
BY_ID = {c.id: c for c in CLAIMS}


def get(ids: Optional[Sequence[str]] = None) -> List[Claim]:
  """The claims named by `ids` (all when None); an unknown id is one error listing the valid."""
  from ntk_tf.errors import ConfigError  # pylint: disable=import-outside-toplevel
  if not ids:
    return list(CLAIMS)
  unknown = [i for i in ids if i not in BY_ID]
  if unknown:
    raise ConfigError(f"unknown claim id(s) {', '.join(unknown)}; valid: "
                      f"{', '.join(BY_ID)}.")
  return [BY_ID[i] for i in ids]
