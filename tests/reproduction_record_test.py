"""Today's rules against the committed reproduction page: the same runs, the same verdicts.

docs/reproduction/reproduction.json records every claim's verdict, what was found and the
numbers measured from the archived runs of its tier (docs/reproduction/runs). Judged again from
those archived runs with today's registry, every claim must get the same verdict, reason,
values and table, and the same verdict on the papers' own numbers. No TensorFlow, nothing run.
"""

import json
import os

from absl.testing import absltest

from ntk_tf.reproduction import claims, page as pages, plan as plans
from ntk_tf.utils import io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "reproduction", "reproduction.json")
ARCHIVE = os.path.join(ROOT, "docs", "reproduction", "runs")
SAME = ("status", "reason", "values", "ours", "on_paper_numbers", "runs", "scale", "faithful",
        "quote", "claim", "paper_numbers")


def archived_results(plan) -> claims.RunResults:
  """results.json of every run of the plan found in the archive."""
  by_name, roots = {}, {}
  for name in plan.runs:
    where = os.path.join(ARCHIVE, name)
    if os.path.exists(os.path.join(where, "results.json")):
      by_name[name], roots[name] = io.read_json(os.path.join(where, "results.json")), where
  return claims.RunResults(by_name, roots)


class CommittedPageTest(absltest.TestCase):

  def test_every_claim_is_judged_as_the_committed_page_records(self):
    recorded = io.read_json(PAGE)
    plan = plans.make_plan(recorded["tier"])
    results = archived_results(plan)
    self.assertLen(results.by_name, recorded["finished_runs"])
    self.assertEqual([c.id for c in plan.claims], [e["id"] for e in recorded["claims"]])
    for claim, entry in zip(plan.claims, recorded["claims"]):
      again = json.loads(json.dumps(pages.verdict(claim, plan, results)))  # As on disk.
      for key in SAME:
        self.assertEqual(again.get(key), entry.get(key), f"{claim.id}: {key}")

  def test_every_not_reproduced_verdict_says_why_its_protocol_is_faithful(self):
    for page in (PAGE, os.path.join(ROOT, "docs", "reproduction", "cpu_full",
                                    "reproduction.json")):
      for entry in io.read_json(page)["claims"]:
        if entry["status"] == claims.NOT_REPRODUCED:
          self.assertTrue(entry.get("faithful"), f"{page}: {entry['id']}")


if __name__ == "__main__":
  absltest.main()
