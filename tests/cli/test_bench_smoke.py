"""``python -m bench --quick`` runs end to end: the CI smoke test of the
benchmarks. It checks that the command works and prints its table, never
timings (the CI machine is shared; timings are for reading, not asserting)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmarks

ROOT = Path(__file__).resolve().parents[2]


def test_bench_quick_runs_and_prints_the_table() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL")}
    r = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "BLAS pinned to one thread" in out
    header = next(line for line in out.splitlines() if line.startswith("benchmark"))
    for column in ("benchmark", "case", "measure", "median", "ratio", "target", "status"):
        assert column in header
    for name in ("train", "latency", "startup", "memory", "growth", "tbptt", "cells"):
        assert any(line.startswith(name + " ") for line in out.splitlines()), name
    assert "FAILED" not in out
    assert "targets:" in out and "checks:" in out


def test_bench_only_runs_one_benchmark() -> None:
    r = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", "memory"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = [line for line in r.stdout.splitlines() if line[:9].strip() in
            ("train", "latency", "startup", "memory", "growth")]
    assert rows and all(line.startswith("memory") for line in rows)
