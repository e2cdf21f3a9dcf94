"""Numbers and words are never cut with …: they wrap or shorten (reviewed
at 80x24 and 160x50 on ``rnn-tui new --optimizer adam --clip-norm 1.0
--seq-length 8``, the README's kind of [train] model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len

from rnn_tui.core import gradcheck
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.text import padded
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.widgets.panel import Panel

from helpers.marks import slow_after
from helpers.scenarios import make_app, settle
from helpers.screen import screen_rows, text_of

NEW = ("new", "--text", "hello world, hello rnn", "--hidden", "3", "--embed", "2", "--seed", "0",
       "--optimizer", "adam", "--clip-norm", "1.0", "--seq-length", "8")


@pytest.fixture(scope="module")
def adam(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    from rnn_tui.cli import main

    path = Path(tmp_path_factory.mktemp("adam")) / "ra.toml"
    assert main([*NEW, "-o", str(path)]) == 0
    return load(str(path))[0]


async def test_gradient_check_rows_fit_at_80x24(adam: ModelSpec) -> None:
    app = make_app(adam)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        rows = screen_rows(app)
        first = next(i for i, row in enumerate(rows) if "Gradient check" in row)
        last = next(i for i, row in enumerate(rows) if "esc closes" in row)
        # the page, inside its thick border (█ on either side)
        shown = "\n".join(row.split("█")[1] for row in rows[first:last + 1])
        ep = app.stepper.current
        results = gradcheck.check(ep.params, ep.fwd.inputs, ep.fwd.targets, h0=ep.h0,
                                  grads=ep.grads)
        for r in results:
            assert f"backward {r.analytic:.6g}, numeric {r.numeric:.6g}" in shown
        assert shown.count(" ok ") == len(results) == 6
        assert "…" not in shown


def fits(app: RnnApp, selector: str) -> list[str]:
    """The lines and the title of a panel that its box cuts (wider than it)."""
    panel = app.query_one(selector, Panel)
    width = panel.content_size.width
    cut = [line for line in text_of(app, selector).splitlines() if cell_len(line) > width]
    title = str(panel.border_title)
    if cell_len(title) > panel.outer_size.width - 4:  # "╭─ " title " ─╮"
        cut.append(title)
    return cut


@pytest.mark.parametrize("size", slow_after(1, [(80, 24), (120, 40), (160, 50)], one=True))
async def test_updates_panel_cuts_nothing(adam: ModelSpec, size: tuple[int, int]) -> None:
    app = make_app(adam)
    async with app.run_test(size=size) as pilot:
        await pilot.press(*["right_square_bracket"] * 3)
        for _ in range(6):  # V c W U b E
            await settle(pilot)
            assert str(app.query_one("#update", Panel).border_title).startswith("Updates: Adam")
            assert fits(app, "#update") == []
            await pilot.press("n")


async def test_generation_prompt_wraps_a_long_error_at_80x24() -> None:
    app = make_app()
    seed = "9" * 35
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*f"h | 1 | {seed}", "enter")
        await settle(pilot)
        rows = screen_rows(app)
        first = next(i for i, row in enumerate(rows) if "The seed is" in row)
        # the page's rows inside its thick border (█ on either side), words joined
        words = " ".join(row.split("█")[1].strip() for row in rows[first:first + 4])
        assert f"The seed is a whole number from 0 to {2**63 - 1}, got '{seed}'." in words


async def test_generation_lines_start_their_primes_in_one_column() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"h | 1e-300 | 1", "enter")
        await settle(pilot)
        greedy, drawn = text_of(app, "#generate").splitlines()[:2]
        assert greedy.startswith("greedy ") and drawn.startswith("τ = 1e-300 ")
        assert greedy.index("h│") == drawn.index("h│")


@pytest.mark.parametrize("size", slow_after(1, [(80, 24), (160, 50)], one=True))
async def test_formula_update_breaks_after_punctuation(adam: ModelSpec,
                                                        size: tuple[int, int]) -> None:
    """No row of the optimizer-aware update starts with a dangling ``,``
    (it was ``  ,  η = 0.048`` at 80x24, ``  ,  n = 1`` at 160x50)."""
    app = make_app(adam)
    async with app.run_test(size=size) as pilot:
        await pilot.press(*["right_square_bracket"] * 3)
        for _ in range(6):  # V c W U b E
            await settle(pilot)
            rows = text_of(app, "#formula").splitlines()
            assert [r for r in rows if r.strip().startswith(",")] == []
            assert "η = 0.048" in "\n".join(rows)
            await pilot.press("n")


async def test_adams_tiny_v_shows_its_digits_with_a_factor(adam: ModelSpec) -> None:
    """v ~ 1e-7 after the first update: ``1e-7·[ 1.4361 …]`` in the formula
    and the update panels, the same numbers in both, not ``[ 0.0000 …]``."""
    app = make_app(adam)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press(*["right_square_bracket"] * 3, "n", "n")  # the update of W
        await settle(pilot)
        v = app.stepper.current.state_after.v.get("W")
        e = int(np.floor(np.log10(np.abs(v).max())))
        assert e < -3
        first = f"1e{e}·[{padded(v[0, 0] / 10.0**e)}"
        assert f"= {first}" in text_of(app, "#formula")
        assert f"v ←      {first}" in text_of(app, "#update")
