"""What a reproduction tier runs: its plan (claims and runs), each run's config, memory need
and estimated cost.

A tier's plan lists every claim with the runs it needs there, each run once by name (claims
that read the same run share it). Costs come from the measured wall times of finished runs
(`run_costs`); a tier whose runs would not fit in this machine's memory is refused up front.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

import ml_collections

from ntk_tf.cli import launch
from ntk_tf.errors import ConfigError, NtkTfError
from ntk_tf.reproduction import claims as claims_lib
from ntk_tf.reproduction import run_costs
from ntk_tf.utils import memory

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The committed archives of finished runs, whose measured times the estimates come from.
ARCHIVES = ("docs/reproduction/runs", "docs/reproduction/cpu_full/runs")


@dataclasses.dataclass
class Plan:
  tier: str
  claims: List[claims_lib.Claim]
  runs: Dict[str, claims_lib.Run]            # Unique runs by name.
  claim_runs: Dict[str, Optional[List[str]]]  # Claim id -> run names (None: not run).


def check_tier(tier: str) -> str:
  if tier not in claims_lib.TIERS:
    raise ConfigError(f"--tier={tier!r}; use one of {', '.join(claims_lib.TIERS)}.")
  return tier


def make_plan(tier: str, ids: Sequence[str] = ()) -> Plan:
  """The runs the claims need at `tier`, each once (same name must mean the same run)."""
  check_tier(tier)
  chosen = claims_lib.get(ids)
  runs, claim_runs = {}, {}
  for claim in chosen:
    needed = claim.runs.get(tier)
    if needed is None:
      claim_runs[claim.id] = None
      continue
    for run in needed:
      if run.name in runs and runs[run.name] != run:
        raise ConfigError(f"claims registry: run {run.name!r} is defined twice differently.")
      runs[run.name] = run
    claim_runs[claim.id] = [r.name for r in needed]
  return Plan(tier, chosen, runs, claim_runs)


def load_config(run: claims_lib.Run, tier: str):
  """The run's config, tier argument and overrides applied (not validated)."""
  return launch.load(f"{os.path.join(REPO, run.config)}:{tier}", dict(run.overrides))


def run_config(run: claims_lib.Run, tier: str):
  """The run's config, tier argument and overrides applied (validated)."""
  config = load_config(run, tier)
  try:
    launch.validate(config)
  except NtkTfError as e:
    raise ConfigError(f"run {run.name} ({run.config}:{tier}): {e}") from e
  return config


def footprints(config):
  """(width, footprint) of the run's model at each of its widths."""
  from ntk_tf import data, models  # pylint: disable=import-outside-toplevel
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  m, dataset = config.model, config.dataset
  widths = tuple(m.widths) if "widths" in m else (m.width,)
  num_outputs = 1 if dataset.target != "one_hot" else len(dataset.classes or ()) or 10
  return [(width, models.footprint(m.name, width, data.input_shape(dataset), num_outputs,
                                   **common.architecture_options(m)))
          for width in widths]


def num_params(config: dict) -> Optional[int]:
  """The parameters of a config's model (a dict, as in config.json), summed over its widths;
  None for a config without a built-in model."""
  try:
    return sum(fp.num_params for _, fp in footprints(ml_collections.ConfigDict(config)))
  except (AttributeError, KeyError, TypeError, ValueError, NtkTfError):
    return None


def memory_need(config) -> int:
  """Estimated peak bytes of one run: training (a model's footprint) or its kernel budget."""
  from ntk_tf import data  # pylint: disable=import-outside-toplevel
  from ntk_tf.experiments import common  # pylint: disable=import-outside-toplevel
  need = 0
  for section in ("spectrum", "solver", "kernel", "scaling"):
    limit = config.get(section, {}).get("memory_limit_gb") if section in config else None
    if limit:
      need = max(need, int(limit * memory.GiB))
  if config.get("train") is not None and "batch_size" in config.train and "model" in config:
    m, dataset = config.model, config.dataset
    num_outputs = 1 if dataset.target != "one_hot" else len(dataset.classes or ()) or 10
    for width in tuple(m.widths) if "widths" in m else (m.width,):
      need = max(need, common.training_need(
          common.model_at_width(m, width), data.input_shape(dataset), num_outputs,
          config.train.batch_size, config.train.get("eval_batch_size", 1000),
          config.get("dtype", "float32"), config.experiment in ("compare", "binary_solver"),
          config.train.get("jit_compile", True))[0])
  return need


def check_memory(plan: Plan) -> Dict[str, int]:
  """Each run's estimate; a run above this machine's memory refuses the whole tier up front."""
  needs = {name: memory_need(run_config(run, plan.tier)) for name, run in plan.runs.items()}
  total = memory_total_bytes()
  too_big = {n: b for n, b in needs.items() if total and b > total}
  if too_big:
    worst = ", ".join(f"{n} ~{b / memory.GiB:.1f} GiB" for n, b in sorted(
        too_big.items(), key=lambda kv: -kv[1])[:4])
    raise ConfigError(f"tier {plan.tier} needs more memory than this machine has "
                      f"({total / memory.GiB:.1f} GiB): {worst}; run it on a larger machine "
                      "or choose fewer claims with --claims.")
  return needs


def memory_total_bytes() -> Optional[int]:
  try:
    with open("/proc/meminfo") as f:
      for line in f:
        if line.startswith("MemTotal:"):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return memory.host_available_bytes()


def estimate_runs(plan: Plan, workdir: Optional[str] = None, archive: Optional[str] = None
                  ) -> Dict[str, run_costs.Estimate]:
  """Every run's estimated cost, from the measured times of finished runs (the committed
  archives, `archive` and the workdir's runs)."""
  roots = [os.path.join(workdir, "runs") if workdir else None, archive] + [
      os.path.join(REPO, a) for a in ARCHIVES]
  timings = run_costs.load(roots, num_params)
  out = {}
  for name, run in plan.runs.items():
    try:
      settings = load_config(run, plan.tier).to_dict()
    except NtkTfError:
      settings = None
    out[name] = run_costs.estimate(
        name, run.config, plan.tier, None if settings is None else run_costs.flatten(settings),
        None if settings is None else num_params(settings), timings)
  return out


def _minutes(estimates: Sequence[run_costs.Estimate]) -> str:
  """Their sum in minutes, and how many were measured, scaled or have no estimate."""
  known = [e.seconds for e in estimates if e.seconds is not None]
  kinds = [(k, sum(e.kind == k for e in estimates)) for k in ("measured", "scaled", "none")]
  how = ", ".join(f"{n} {'without an estimate' if k == 'none' else k}" for k, n in kinds if n)
  open_ended = sum(e.at_least for e in estimates)
  how += (f"; {open_ended} of them at least: they train on until settled" if open_ended else "")
  return (f"~{sum(known) / 60:.1f} min" if known else "no estimate") + f" ({how})"


def estimates_text(plan: Plan, estimates: Dict[str, run_costs.Estimate]) -> str:
  """Per claim: its runs' estimated minutes (a shared run is counted in every claim using it);
  per run: its estimate and where it comes from; the total, each run once."""
  lines = [f"tier {plan.tier}: {len(plan.claims)} claims, {len(plan.runs)} runs; minutes on the "
           "2-core CPU the archived runs were measured on"]
  for claim in plan.claims:
    names = plan.claim_runs[claim.id]
    if names is None:
      lines.append(f"  {claim.id:<15} not run at this tier")
      continue
    lines.append(f"  {claim.id:<15} {len(names):>2} runs, "
                 + _minutes([estimates[n] for n in names]))
  lines.append("  runs (measured: its own archived wall time; scaled: from the runs named; ≥: at "
               "least, the run trains on until settled):")
  for name, e in sorted(estimates.items()):
    cost = "–" if e.seconds is None else f"{'≥' if e.at_least else '~'}{e.seconds / 60:.1f} min"
    lines.append(f"    {name:<40} {cost:>12}  {e.basis}")
  lines.append("  total (each run once): " + _minutes(list(estimates.values())))
  return "\n".join(lines)
