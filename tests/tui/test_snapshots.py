"""Snapshot tests: every named screen of tests/helpers/scenarios.py, pinned as SVG.

Review a changed snapshot by eye (pytest writes snapshot_report.html)
before accepting it with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.scenarios import SCENARIOS, SCREENSHOTS, Scenario

SNAPSHOTS = Path(__file__).parent / "__snapshots__" / "test_snapshots"

# The quick loop (`pytest -m "not slow"`) pins two screens, a wide one and an
# 80x24 one; the full suite (the README's command, CI) pins every screen.
QUICK = ("start", "update_80x24")
SCREENS = [pytest.param(s, id=s.name, marks=() if s.name in QUICK else pytest.mark.slow)
           for s in SCENARIOS]


@pytest.mark.parametrize("scenario", SCREENS)
def test_screen(snap_compare, scenario: Scenario) -> None:
    assert snap_compare(scenario.app(), terminal_size=scenario.size, run_before=scenario.run)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_screenshots_match_the_snapshots(scenario: Scenario) -> None:
    """screenshots/ is what the app draws: each SVG equals its pinned snapshot
    (regenerate both with ``python screenshots/make.py`` and
    ``pytest --snapshot-update`` after looking at the change)."""
    pinned = SNAPSHOTS / f"test_screen[{scenario.name}].svg"
    shot = SCREENSHOTS / f"{scenario.name}.svg"
    assert shot.exists(), f"missing {shot}; run python screenshots/make.py"
    assert shot.read_text(encoding="utf-8") == pinned.read_text(encoding="utf-8"), (
        f"{shot.name} is out of date; run python screenshots/make.py"
    )
