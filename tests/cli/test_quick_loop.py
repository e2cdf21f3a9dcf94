"""The quick loop (``pytest -m "not slow"``) spreads over the cores by itself,
with exactly one layer of workers, while the full suite stays in one process
(tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ONE_FILE = str(TESTS / "core" / "test_factored.py")


def pytest_run(*args: str) -> str:
    ours = ("PYTEST_XDIST", "PYTEST_CURRENT")  # this run's own, not the child's
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args, ONE_FILE],
                       capture_output=True, text=True, cwd=TESTS.parent, env=env, timeout=120)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout


def test_the_quick_loop_starts_one_layer_of_workers() -> None:
    pytest.importorskip("xdist")
    out = pytest_run("-m", "not slow")
    workers = os.cpu_count() or 1
    assert f"created: {workers}/{workers} workers" in out, out[-2000:]
    assert out.count("workers") == 2, out[-2000:]  # "created: N/N workers", "N workers [..]"


def test_the_full_suite_and_minus_n_0_stay_in_one_process() -> None:
    assert "workers" not in pytest_run()
    assert "workers" not in pytest_run("-m", "not slow", "-n", "0")
