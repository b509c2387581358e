"""Today's rules against the committed reproduction page: the same runs, the same verdicts.

docs/reproduction/reproduction.json records every claim's verdict, what was found and the
numbers measured from the archived runs of its tier (docs/reproduction/runs); the cpu-full
tier's page beside it (docs/reproduction/cpu_full) likewise from its own archive. Judged again from
those archived runs with today's registry, every claim must get the same verdict, reason,
values and table, and the same verdict on the papers' own numbers. No TensorFlow, nothing run.
"""

import json
import os

from absl.testing import absltest, parameterized

from ntk_tf.reproduction import claims, page as pages, plan as plans
from ntk_tf.utils import io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "reproduction")
# Each committed page beside its archive of runs: the main page and the cpu-full tier's.
PAGES = (("main", DOCS), ("cpu_full", os.path.join(DOCS, "cpu_full")))
SAME = ("status", "reason", "values", "ours", "on_paper_numbers", "runs", "scale", "faithful",
        "quote", "claim", "paper_numbers")


def archived_results(plan, archive) -> claims.RunResults:
  """results.json of every run of the plan found in the archive."""
  by_name, roots = {}, {}
  for name in plan.runs:
    where = os.path.join(archive, name)
    if os.path.exists(os.path.join(where, "results.json")):
      by_name[name], roots[name] = io.read_json(os.path.join(where, "results.json")), where
  return claims.RunResults(by_name, roots)


class CommittedPageTest(parameterized.TestCase):

  @parameterized.named_parameters(*PAGES)
  def test_every_claim_is_judged_as_the_committed_page_records(self, folder):
    recorded = io.read_json(os.path.join(folder, "reproduction.json"))
    plan = plans.make_plan(recorded["tier"])
    results = archived_results(plan, os.path.join(folder, "runs"))
    self.assertLen(results.by_name, recorded["finished_runs"])
    self.assertEqual([c.id for c in plan.claims], [e["id"] for e in recorded["claims"]])
    for claim, entry in zip(plan.claims, recorded["claims"]):
      again = json.loads(json.dumps(pages.verdict(claim, plan, results)))  # As on disk.
      for key in SAME:
        self.assertEqual(again.get(key), entry.get(key), f"{claim.id}: {key}")

  @parameterized.named_parameters(*PAGES)
  def test_every_not_reproduced_verdict_says_why_its_protocol_is_faithful(self, folder):
    for entry in io.read_json(os.path.join(folder, "reproduction.json"))["claims"]:
      if entry["status"] == claims.NOT_REPRODUCED:
        self.assertTrue(entry.get("faithful"), f"{folder}: {entry['id']}")


if __name__ == "__main__":
  absltest.main()
