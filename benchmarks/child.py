"""Runs one measurement in a fresh Python process (so its peak memory is its own)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(code: str, *args) -> dict:
  """Runs `code` with argv `args` in the repository root; returns the last JSON line it
  printed, or {"error": the last line of its stderr}."""
  out = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, check=False)
  lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
  if not lines:
    return {"error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
  return json.loads(lines[-1])
