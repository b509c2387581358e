"""Runs one measurement in a fresh Python process (so its peak memory is its own), and
measures this machine's GEMM rate the benchmarks compare with."""

import json
import os
import subprocess
import sys
import time

import numpy as np

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


def gemm_gflops(size: int = 4096) -> float:
  """This machine's float32 GEMM rate: best of 3 products of two distinct size² matrices."""
  rng = np.random.default_rng(0)
  a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
  best = float("inf")
  for _ in range(3):
    start = time.perf_counter()
    a @ b  # pylint: disable=pointless-statement
    best = min(best, time.perf_counter() - start)
  return 2 * size ** 3 / best / 1e9
