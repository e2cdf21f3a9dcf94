"""Regenerate screenshots/: one SVG per scenario of tests/helpers/scenarios.py (the
same screens the snapshot tests pin), and main.png for the README.

    python screenshots/make.py          # needs '.[test]'; main.png needs cairosvg

The SVGs are written exactly as Textual exports them; a test checks that
they still match the app.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # for helpers

from pytest_textual_snapshot import normalize_svg  # noqa: E402
from textual._doc import take_svg_screenshot  # noqa: E402

from helpers.scenarios import SCENARIOS, Scenario  # noqa: E402

README_SHOT = "bptt_term"


def render(scenario: Scenario) -> str:
    """The SVG exactly as the snapshot tests store it (normalised)."""
    return normalize_svg(take_svg_screenshot(
        app=scenario.app(), terminal_size=scenario.size, run_before=scenario.run
    ))


def main() -> int:
    for scenario in SCENARIOS:
        path = HERE / f"{scenario.name}.svg"
        path.write_text(render(scenario), encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}: {scenario.about}")
    try:
        import cairosvg
    except ImportError:
        print("cairosvg is not installed: main.png not updated (pip install cairosvg)")
        return 0
    cairosvg.svg2png(url=str(HERE / f"{README_SHOT}.svg"), write_to=str(HERE / "main.png"),
                     output_width=1600)
    print("wrote screenshots/main.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
