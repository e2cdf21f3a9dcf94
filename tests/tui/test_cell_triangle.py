"""The triangle renderer of issue 17 (widgets/cell_triangle.py): it fits any
width without cutting a number, shows every row or says which it left out,
and the thin widget redraws on resize."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult

from rnn_tui.core.text import sci
from rnn_tui.tui.widgets.bptt import SHADES
from rnn_tui.tui.widgets.cell_triangle import (
    BELOW,
    GAP,
    ROWS_GAP,
    CellTriangle,
    as_rows,
    glyph,
    triangle_lines,
)

from helpers.marks import slow_after

MARKS = set(SHADES) | {BELOW, "!"}


def decaying(T: int, factor: float = 0.4, nan_at: tuple[int, int] | None = (6, 3)) -> np.ndarray:
    """A (T, T) lower triangle 0.5 factor^(t−k), NaN above the diagonal (and at nan_at)."""
    n = np.full((T, T), np.nan)
    for t in range(1, T + 1):
        n[t - 1, :t] = 0.5 * factor ** (t - np.arange(1, t + 1))
    if nan_at is not None and nan_at[0] <= T:
        n[nan_at[0] - 1, nan_at[1] - 1] = np.inf
    return n


def rows_of(lines: list[str]) -> dict[int, str]:
    out = {}
    for line in lines:
        m = re.match(r"^\s*t=(\d+) (.*)$", line)
        if m:
            out[int(m.group(1))] = m.group(2)
    return out


@pytest.mark.parametrize("T", slow_after(2, [1, 5, 21, 60]))
@pytest.mark.parametrize("numbers", [None, True, False])
def test_every_width_fits_and_no_number_is_cut(T: int, numbers: bool | None) -> None:
    norms = decaying(T)
    values = as_rows(norms)
    for width in range(40, 201):
        lines = [x.plain for x in triangle_lines(norms, width, "RNN h", numbers=numbers)]
        assert all(cell_len(x) <= width for x in lines), (width, lines)
        rows = rows_of(lines)
        assert sorted(rows) == list(range(1, T + 1)), width  # every row, no height limit
        for t, body in rows.items():
            cells = body.split()
            if any(ch.isdigit() for ch in body):  # numbers: glyph + sci
                shown = [c for c in cells if c != GAP]
                for c in shown:
                    assert c[1:] in {sci(float(v)) for v in values[t - 1]}, (width, t, c)
                hidden = t - len(shown)
                assert (GAP in cells) == (hidden > 0), (width, t, body)
            else:  # shades: one glyph per term, a gap where columns were left out
                glyphs = body.replace(" ", "")
                assert set(glyphs) <= MARKS | {GAP}
                hidden = t - len(glyphs.replace(GAP, ""))
                assert (GAP in glyphs) == (hidden > 0), (width, t, body)
                # the shown glyphs are the terms' own, k = 1.. first
                first = glyphs.split(GAP)[0]
                top = float(np.nanmax(np.where(np.isfinite(norms), norms, np.nan)))
                assert first == "".join(glyph(float(v), top) for v in values[t - 1][:len(first)])


def test_numbers_when_they_fit_shades_otherwise() -> None:
    norms = decaying(5)
    wide = [x.plain for x in triangle_lines(norms, 120)]
    assert "█5.0e-1" in rows_of(wide)[1]
    assert rows_of(wide)[5].split()[0] == "▓1.3e-2"  # 0.5 0.4^4, a decade and more below
    narrow = rows_of([x.plain for x in triangle_lines(decaying(21), 40)])
    assert narrow[21] == "".join(glyph(float(v), 0.5) for v in as_rows(decaying(21))[20])
    assert "!" in narrow[6]  # the inf at (6, 3)


def test_height_leaves_out_middle_rows_with_a_marker() -> None:
    lines = [x.plain for x in triangle_lines(decaying(30), 80, "LSTM", height=12)]
    assert len(lines) <= 12
    rows = rows_of(lines)
    assert 1 in rows and 30 in rows
    gap = [x for x in lines if ROWS_GAP in x]
    assert len(gap) == 1 and f"t={max(r for r in rows if r < 30) + 1}..29" in gap[0]


def test_shared_top_and_legend() -> None:
    norms = decaying(4, nan_at=None)
    lines = [x.plain for x in triangle_lines(norms, 80, top=50.0)]
    assert "top 5.0e1" in lines[-1]
    assert rows_of(lines)[1] == "▒5.0e-1"  # 0.5 is two decades below 50


def test_rows_of_lengths_one_to_T_and_bad_shapes() -> None:
    rows = [[1.0], [0.1, 1.0], [0.01, 0.1, 1.0]]
    assert [r.tolist() for r in as_rows(rows)] == rows
    with pytest.raises(ValueError, match="row t=2"):
        as_rows([[1.0], [0.5]])
    with pytest.raises(ValueError, match="3 columns"):
        as_rows(np.zeros((3, 2)))


class TriangleApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CellTriangle(decaying(21), "RNN ‖∂L_t/∂h_k‖", id="tri")


async def test_widget_redraws_to_its_width() -> None:
    app = TriangleApp()
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        wide = app.query_one(CellTriangle).render()
        assert "█5.0e-1" in "\n".join(t.plain for t in wide.renderables)  # type: ignore[attr-defined]
        await pilot.resize_terminal(40, 30)
        await pilot.pause()
        again = app.query_one(CellTriangle).render()
        narrow = "\n".join(t.plain for t in again.renderables)  # type: ignore[attr-defined]
        assert "█5.0e-1" not in narrow and "t=21 " in narrow  # shades now
        assert all(cell_len(x) <= 40 for x in narrow.splitlines())


@pytest.mark.parametrize("T", [1, 2, 3, 9, 40])
def test_every_row_is_shown_or_named_by_the_marker(T: int) -> None:
    norms = decaying(T)
    for height in range(3, 50):
        for width in (40, 77, 200):
            lines = [x.plain for x in triangle_lines(norms, width, "GRU", height=height)]
            assert len(lines) <= height, (height, lines)
            shown = rows_of(lines)
            rows = set(shown)
            for line in lines:
                m = re.search(rf"{ROWS_GAP} rows t=(\d+)\.\.(\d+)$", line)
                if m:
                    left_out = set(range(int(m.group(1)), int(m.group(2)) + 1))
                    assert not left_out & rows
                    rows |= left_out
            assert rows == set(range(1, T + 1)), (height, width, lines)
            if height >= 5:  # the title, the k labels, row 1, the ⋮ line, the last row
                assert T in shown and 1 in shown, (height, lines)
