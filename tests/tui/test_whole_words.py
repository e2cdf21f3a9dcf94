"""Labels never cut mid-word (issue 14): the loss chart's title at every
width, the header's advice when a run diverges at 80x24."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_tui.tui.widgets.loss_chart import STEP_TITLES

from helpers.scenarios import diverging_model, keys, make_app, settle
from helpers.screen import screen_rows


@pytest.mark.parametrize("size", [(120, 40), (140, 45), (160, 50), (200, 60)])
async def test_the_loss_charts_title_is_whole(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        title = str(app.query_one("#loss").border_title)
        assert title in STEP_TITLES
        rows = screen_rows(app)
        assert any(f"─ {title} ─" in row for row in rows), (title, rows)


async def test_the_diverging_advice_is_whole_at_80x24() -> None:
    app = make_app(diverging_model())
    async with app.run_test(size=(80, 24)) as pilot:
        await keys("g", "8", "enter")(pilot)
        await settle(pilot)
        header = screen_rows(app)[0]
        assert "diverging" in header and "lower η" in header, header
        assert "…" not in header


def test_the_diverged_screenshot_opens_a_model_a_user_can_write(tmp_path) -> None:
    """Not the test-only hello-overflow: what the README's command writes."""
    from rnn_tui.core.model_file import load

    from helpers.cli import run
    from helpers.scenarios import BY_NAME, DIVERGED

    path = tmp_path / "diverged.toml"
    assert run(*DIVERGED, "-o", str(path)).returncode == 0
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert " ".join(["rnn-tui", *DIVERGED]) in " ".join(readme.split())
    spec = BY_NAME["diverged"].model()
    assert not isinstance(spec, str)
    assert spec == load(str(path))[0]
