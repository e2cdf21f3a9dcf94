"""The compare-cells view (tui/screens/cell_compare.py) under the real pilot:
side by side when it fits, one at a time when not, the keys, resizes, and
a snapshot (review its PNG before --snapshot-update)."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from rnn_tui.core.cell_compare import compare
from rnn_tui.core.text import sci
from rnn_tui.tui.screens.cell_compare import CellCompareApp, CellCompareHelp, CellCompareScreen
from rnn_tui.tui.widgets.cell_triangle import CellTriangle

from helpers.screen import pause_until

TEXT = "hello world, hello rnn"


@pytest.fixture(scope="module")
def comparison():
    return compare(TEXT, ("rnn", "lstm"), 8, 4, 0)


def shown(app: CellCompareApp) -> list[str]:
    return [t.id or "" for t in app.screen.query(CellTriangle) if t.display]


def lines_of(tri: CellTriangle) -> list[str]:
    return [line.plain for line in tri.render().renderables]  # type: ignore[attr-defined]


def summary(app: CellCompareApp) -> str:
    return str(app.screen.query_one("#cells-summary").render())


async def test_80x24_side_by_side_with_the_numbers(comparison) -> None:
    app = CellCompareApp(comparison, "dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert shown(app) == ["cells-rnn", "cells-lstm"]
        for tri in app.screen.query(CellTriangle):
            rows = lines_of(tri)
            assert any("t=21 " in r for r in rows) and any("⋮" in r for r in rows)
            assert all(cell_len(r) <= tri.content_size.width for r in rows)
        text = summary(app)
        assert sci(comparison.triangles["rnn"].ratio()) in text
        assert sci(comparison.triangles["lstm"].ratio()) in text
        await pilot.press("v")  # one at a time
        await pilot.pause()
        assert shown(app) == ["cells-rnn"]
        await pilot.press("tab")
        await pilot.pause()
        assert shown(app) == ["cells-lstm"]
        await pilot.press("n")  # numbers, columns elided to fit
        await pilot.pause()
        rows = lines_of(app.screen.query_one("#cells-lstm", CellTriangle))
        last = next(r for r in rows if "t=21 " in r)
        assert "…" in last and sci(float(comparison.triangles["lstm"].norms[20, 20])) in last
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, CellCompareHelp)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CellCompareScreen)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_resizes_do_not_crash_and_narrow_shows_one_at_a_time(comparison) -> None:
    app = CellCompareApp(comparison, "mono")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        assert shown(app) == ["cells-rnn", "cells-lstm"]
        rows = lines_of(app.screen.query_one("#cells-rnn", CellTriangle))
        assert not any("⋮" in r for r in rows)  # 50 rows: all 21 rows of the triangle
        for size in [(80, 24), (50, 16), (40, 12), (200, 60), (80, 24)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            for tri in app.screen.query(CellTriangle):
                if tri.display:
                    assert all(cell_len(r) <= tri.content_size.width for r in lines_of(tri))
        await pilot.resize_terminal(50, 16)
        await pause_until(pilot, lambda: shown(app) != ["cells-rnn", "cells-lstm"])  # a refresh
        assert shown(app) == ["cells-rnn"]  # 2 x (5 + 21 + 2) > 50


async def test_three_models_and_the_computing_path() -> None:
    c = compare("abcabd", ("rnn", "gru", "lstm"), 4, 2, 1)

    class Host(CellCompareApp):
        def get_default_screen(self):  # type: ignore[no-untyped-def]
            return CellCompareScreen(compute=lambda: c)

    app = Host(c, "dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert shown(app) == ["cells-rnn", "cells-gru", "cells-lstm"]
        await pause_until(pilot, lambda: summary(app))  # filled in after the next refresh
        assert "GRU" in summary(app)


def test_snapshot_80x24(snap_compare, comparison) -> None:
    assert snap_compare(CellCompareApp(comparison, "dark"), terminal_size=(80, 24))


def test_snapshot_160x50_numbers(snap_compare, comparison) -> None:
    assert snap_compare(CellCompareApp(comparison, "dark"), terminal_size=(160, 50),
                        press=["n"])


async def test_tiny_terminals_do_not_crash(comparison) -> None:
    app = CellCompareApp(comparison, "dark")
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        for size in [(10, 3), (30, 8), (20, 5)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
        await pilot.press("n", "v", "tab", "n")
        await pilot.pause()
        assert isinstance(app.screen, CellCompareScreen)


async def test_the_debuggers_key_opens_the_view_for_its_text() -> None:
    from rnn_tui.core.model_file import load
    from rnn_tui.tui.app import RnnApp

    spec = load("hello")[0]
    app = RnnApp(spec, cursor_blink=False, theme="dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CellCompareScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        c = screen.comparison
        assert c is not None and c.text == spec.text and list(c.triangles) == ["rnn", "gru", "lstm"]
        assert (c.hidden, c.embed, c.seed) == (spec.hidden_size, spec.embedding_dim,
                                               spec.init.seed or 0)
        assert shown(app) == ["cells-rnn", "cells-gru", "cells-lstm"]  # type: ignore[arg-type]
        before = app.stepper.position
        await pilot.press("space", "n", "]", "e")  # the debugger's keys: not under the view
        await pilot.pause()
        assert app.stepper.position == before
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CellCompareScreen)
        assert app.is_running  # q and escape close the view, not the debugger


async def test_a_text_too_short_says_so_in_the_view() -> None:
    c = compare(TEXT, ("rnn",), 2, 2, 0)

    class Host(CellCompareApp):
        def get_default_screen(self):  # type: ignore[no-untyped-def]
            return CellCompareScreen(compute=lambda: compare("ab"))

    app = Host(c, "dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "at least 3 characters" in str(app.screen.query_one("#cells-head").render())
        await pilot.press("n", "v", "tab", "question_mark", "escape")  # nothing to show: no crash
        await pilot.pause()
        assert isinstance(app.screen, CellCompareScreen)


async def test_closed_at_once_the_view_leaves_the_debugger_running() -> None:
    """b then esc in one burst (as the key storm sends them): the worker's
    result and the deferred fit find the view gone, and nothing crashes."""
    from helpers.scenarios import make_app

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CellCompareScreen) and screen.comparison is not None
        screen.dismiss()
        await pilot.pause()
        screen._ready(screen.comparison)  # a worker's result arriving late
        screen._fit()  # a deferred fit, or a resize, after the view closed
        await pilot.press("b", "escape", "b", "escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and not isinstance(app.screen, CellCompareScreen)
