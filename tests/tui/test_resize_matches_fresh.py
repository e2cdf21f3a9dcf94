"""A resized terminal shows what a fresh start at the new size shows: the
wide layout's classes and rows (layout.py, fit.py) are sized for the size
the Resize event carries, not the app's old size (a window enlarged from
80x24 to 160x50 left 26 rows blank and cut every lower panel short)."""

from __future__ import annotations

import pytest
from textual.app import App

from helpers.marks import slow_after
from helpers.scenarios import make_app, settle
from helpers.screen import screen_rows

STEPS = ("right", "right", "right")


async def rows_after(sizes: list[tuple[int, int]], model: str = "hello",
                     modal: str | None = None) -> list[str]:
    return await resized_rows(make_app(model), sizes, modal)


async def resized_rows(app: App[object], sizes: list[tuple[int, int]],
                       modal: str | None = None) -> list[str]:
    """The screen after starting at sizes[0], resizing through the rest
    (with the screen the key ``modal`` opens on top), then STEPS."""
    async with app.run_test(size=sizes[0]) as pilot:
        await settle(pilot)
        if modal is not None:
            await pilot.press(modal)
            await settle(pilot)
        for size in sizes[1:]:
            await pilot.resize_terminal(*size)
            await settle(pilot)
        if modal is not None:
            await pilot.press("escape")
            await settle(pilot)
        for key in STEPS:
            await pilot.press(key)
        await settle(pilot)
        return screen_rows(app)


# The quick loop keeps one enlarge and one shrink; the full suite runs all six.
@pytest.mark.parametrize("sizes", slow_after(2, [
    [(80, 24), (160, 50)],
    [(160, 50), (80, 24)],
    [(80, 24), (120, 40)],
    [(80, 24), (160, 50), (120, 40)],
    [(80, 24), (160, 50), (80, 24)],
    [(160, 50), (120, 34), (160, 50)],
], one=True), ids=lambda sizes: "-".join(f"{w}x{h}" for w, h in sizes))
async def test_resized_screen_is_a_fresh_start(sizes: list[tuple[int, int]]) -> None:
    resized, fresh = await rows_after(sizes), await rows_after(sizes[-1:])
    assert len(resized) == sizes[-1][1]
    assert resized == fresh


# help, report, prompt
@pytest.mark.parametrize("modal", slow_after(1, ["question_mark", "d", "a"]))
async def test_resized_under_a_modal_screen(modal: str) -> None:
    """The layout classes go on the panels' screen, not on the modal on top."""
    sizes = [(80, 24), (160, 50)]
    assert await rows_after(sizes, modal=modal) == await rows_after(sizes[-1:])


async def cell_rows_after(sizes: list[tuple[int, int]], modal: str | None = None) -> list[str]:
    """The same for the GRU/LSTM debugger (tui/cells/app.py)."""
    from rnn_tui.core.cells.stepper import CellStepper
    from rnn_tui.tui.cells.app import CellApp

    from helpers.models import random_cell

    p, x, y = random_cell("lstm", 5, 2, 3, 4, seed=7)
    app = CellApp(CellStepper(p, x, y, 0.1), cursor_blink=False, theme="dark")
    return await resized_rows(app, sizes, modal)


@pytest.mark.parametrize("modal", slow_after(1, ["question_mark", None]))  # None: modal's subset
async def test_a_cell_model_resized_is_a_fresh_start(modal: str | None) -> None:
    """The cells' layout classes go on the panels' screen too, not on help."""
    sizes = [(80, 24), (160, 50)]
    assert await cell_rows_after(sizes, modal) == await cell_rows_after(sizes[-1:])
