"""A triangle of BPTT norms ‖∂L_t/∂s_k‖ (rows t = 1..T, columns k = 1..t),
drawn to fit a width: for any model (the RNN's, a GRU's, an LSTM's), so two
triangles of the same text can stand side by side (issue 17).

:func:`triangle_lines` is a pure function from (norms, width) to Rich Text
lines; :class:`CellTriangle` is a thin Textual widget around it. Each term
is shaded on a log10 scale below the largest (``top``, which two triangles
shown together should share): the glyphs of the BPTT panel
(widgets/bptt.py), one step per factor of 10. With room, every term is also
written as a number (``sci``: 1.2e-3); without, shades alone; when even one
column per term does not fit, middle columns give way to an explicit ``…``
column, never to a cut number. Rows that do not fit a given height give way
to a ``⋮`` line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from rnn_tui.core.maths import Array
from rnn_tui.core.text import printable, sci
from rnn_tui.tui.widgets.bptt import SHADES
from rnn_tui.tui.widgets.numbers import DONE, LABEL, MUTED, NONFINITE
from rnn_tui.tui.widgets.panel import palette, themed

GAP = "…"  # the column (or the place in a legend) where columns were left out
ROWS_GAP = "⋮"
BELOW = "_"  # a term more than len(SHADES) − 1 decades below top (or exactly 0)


def as_rows(norms: Array | Sequence[Sequence[float]]) -> list[Array]:
    """Row t (1-based) as an array of its t entries k = 1..t, from a (T, T)
    array (the upper triangle ignored) or from rows of lengths 1..T."""
    if isinstance(norms, np.ndarray) and norms.ndim == 2:
        T = norms.shape[0]
        if norms.shape[1] < T:
            raise ValueError(f"a triangle of {T} rows needs {T} columns, got {norms.shape[1]}")
        return [np.asarray(norms[t - 1, :t], dtype=np.float64) for t in range(1, T + 1)]
    rows = [np.asarray(r, dtype=np.float64).ravel() for r in norms]
    for t, r in enumerate(rows, start=1):
        if r.shape[0] < t:
            raise ValueError(f"row t={t} needs {t} entries k = 1..{t}, got {r.shape[0]}")
    return [r[:t] for t, r in enumerate(rows, start=1)]


def top_of(*triangles: Sequence[Array]) -> float:
    """The largest finite norm of one or more triangles (0 if none): a common scale."""
    best = 0.0
    for rows in triangles:
        for r in rows:
            finite = r[np.isfinite(r)]
            if finite.size:
                best = max(best, float(finite.max()))
    return best


def level(size: float, top: float) -> int:
    """How many shades up a term is: len(SHADES) − 1 within a factor 10 of top,
    one less per further factor of 10, 0 below the last (−1 if not finite)."""
    if not math.isfinite(size):
        return -1
    if size <= 0 or top <= 0:
        return 0
    decades = math.log10(top / size)
    return max(0, min(len(SHADES) - 1, len(SHADES) - 1 - int(decades)))


def glyph(size: float, top: float) -> str:
    """The shade of one term: ! not finite, _ below the scale, else SHADES[level]."""
    n = level(size, top)
    return "!" if n < 0 else BELOW if n == 0 else SHADES[n]


def _style(size: float, top: float) -> str:
    n = level(size, top)
    return NONFINITE if n < 0 else DONE if n >= len(SHADES) - 3 else MUTED


def legend(top: float, width: int) -> list[Text]:
    """What the shades mean for this ``top``, wrapped at whole items to ``width``."""
    items = [f"{SHADES[-1]} top {sci(top)}"]
    for n in range(len(SHADES) - 2, 0, -1):
        decades = len(SHADES) - 1 - n
        items.append(f"{SHADES[n]} ≥{sci(top / 10 ** decades)}" if top > 0 else SHADES[n])
    items += [f"{BELOW} smaller", "! not finite"]
    return _wrap(items, width, MUTED)


def _wrap(items: Sequence[str], width: int, style: str) -> list[Text]:
    lines: list[Text] = []
    line = ""
    for item in items:
        if line and len(line) + 2 + len(item) > width:
            lines.append(Text(line, style=style))
            line = ""
        line = item if not line else f"{line}  {item}"
    if line:
        lines.append(Text(line, style=style))
    return lines


def columns(T: int, room: int, cell_w: int, gap_w: int) -> tuple[list[int], int]:
    """The columns k shown in ``room`` characters (each ``cell_w`` wide) and
    where a ``gap_w``-wide gap column goes (the index in the list before which
    it stands; -1 if all fit). Kept: the first columns (the longest lags of
    every row) and the last ones (the diagonal's end)."""
    if T * cell_w <= room:
        return list(range(1, T + 1)), -1
    n = max(2, (room - gap_w) // cell_w)
    head = (n + 1) // 2
    tail = n - head
    return [*range(1, head + 1), *range(T - tail + 1, T + 1)], head


def triangle_lines(
    norms: Array | Sequence[Sequence[float]],
    width: int,
    title: str = "",
    *,
    top: float | None = None,
    numbers: bool | None = None,
    height: int | None = None,
    show_legend: bool = True,
) -> list[Text]:
    """The triangle as lines no wider than ``width`` (at least 12).

    ``norms``: row t, k = 1..t (see :func:`as_rows`); NaN or inf is drawn
    ``!``. ``top``: the size of the darkest shade (default: this triangle's
    largest). ``numbers``: True writes every shown term as a number (eliding
    columns to fit), False shades only, None numbers if every column fits,
    else shades. ``height``: at most this many lines; rows in the middle give
    way to a ``⋮`` line (the title and the last row are kept)."""
    width = max(12, width)
    rows = as_rows(norms)
    T = len(rows)
    scale = top_of(rows) if top is None else top
    label_w = len(f"t={T}") + 1
    room = width - label_w
    foot = legend(scale, width) if show_legend else []
    kept: list[int | tuple[int, int]] = list(range(1, T + 1))
    if height is not None:
        head_n = 2 if title else 1
        if height - head_n - len(foot) < min(T, 3):
            foot = []  # rows first: the legend is the first thing to go
        kept = _kept(T, max(1, height - head_n - len(foot)))
    if numbers is None and 3 * T > room:  # no number is narrower than "█0 "
        numbers = False
    # Only the rows shown are ever formatted (a T = 400 triangle has 80,200 terms).
    texts = {t: [sci(float(v)) for v in rows[t - 1]] for t in kept if isinstance(t, int)} \
        if numbers is not False else {}
    num_w = max((len(s) for r in texts.values() for s in r), default=5) + 2  # glyph, number, gap
    if numbers is None:
        numbers = T * num_w <= room
    if numbers and room < 2 * num_w + 2:  # not even two numbers and a gap: shades
        numbers = False
    cell_w = num_w if numbers else 1
    gap_w = 2 if numbers else 1
    shown, gap_at = columns(T, room, cell_w, gap_w)
    out: list[Text] = []
    if title:
        head = Text(printable(title), style="bold")
        head.truncate(width, overflow="ellipsis")
        out.append(head)
    out.extend(_header(shown, gap_at, label_w, cell_w, gap_w))
    for t in kept:
        if isinstance(t, tuple):
            out.append(Text(f"{ROWS_GAP.rjust(label_w - 1)} rows t={t[0]}..{t[1]}", style=MUTED))
        else:
            out.append(_row(t, rows[t - 1], shown, gap_at, label_w, cell_w, gap_w, scale,
                            texts.get(t) if numbers else None))
    return out + foot


def _header(shown: list[int], gap_at: int, label_w: int, cell_w: int, gap_w: int) -> list[Text]:
    """k labels: over each column when numbers are shown; with shades, a
    label at k = 1 and every multiple of 5 whose digits fit before the next."""
    line = Text("k".rjust(label_w - 1) + " ", style=LABEL)
    if cell_w > 1:
        for n, k in enumerate(shown):
            if n == gap_at:
                line.append(GAP.ljust(gap_w), style=LABEL)
            line.append(str(k).rjust(cell_w - 1) + " ", style=LABEL)
        line.rstrip()
        return [line]
    slots: list[int | None] = []
    for n, k in enumerate(shown):
        if n == gap_at:
            slots.append(None)
        slots.append(k)
    chars = [" "] * len(slots)
    free = 0
    for pos, k in enumerate(slots):
        if k is None:
            chars[pos] = GAP
            free = pos + 1
        elif (k == 1 or k % 5 == 0) and pos >= free and pos + len(str(k)) <= len(slots):
            for i, ch in enumerate(str(k)):
                chars[pos + i] = ch
            free = pos + len(str(k)) + 1
    line.append("".join(chars), style=LABEL)
    return [line]


def _row(t: int, row: Array, shown: list[int], gap_at: int, label_w: int, cell_w: int,
         gap_w: int, top: float, texts: list[str] | None) -> Text:
    line = Text(f"t={t}".rjust(label_w - 1) + " ", style=LABEL)
    for n, k in enumerate(shown):
        if n == gap_at:
            hidden = gap_at < len(shown) and t >= shown[gap_at - 1] + 1
            line.append((GAP if hidden else " ").ljust(gap_w), style=MUTED)
        if k > t:
            line.append(" " * cell_w)
            continue
        size = float(row[k - 1])
        mark = glyph(size, top)
        if texts is None:
            line.append(mark, style=_style(size, top))
        else:  # the glyph next to its number, the pair flush right in the column
            line.append(" " * (cell_w - 2 - len(texts[k - 1])))
            line.append(mark + texts[k - 1], style=_style(size, top))
            line.append(" ")
    line.rstrip()
    return line


def _kept(T: int, room: int) -> list[int | tuple[int, int]]:
    """The rows t shown in ``room`` lines, and (first, last) for the ⋮ line
    that stands for the rows left out: the first rows, the ⋮ line and the
    last row (the longest chain); with less room, the ⋮ line names the rest."""
    if T <= room:
        return list(range(1, T + 1))
    if room < 3:
        return [(1, T)] if room == 1 else [1, (2, T)]
    return [*range(1, room - 1), (room - 1, T - 1), T]


class CellTriangle(Widget):
    """One triangle, redrawn to the widget's width (and height) on every resize."""

    def __init__(self, norms: Array | Sequence[Sequence[float]], title: str = "", *,
                 top: float | None = None, numbers: bool | None = None,
                 fit_height: bool = False, show_legend: bool = True, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.norms = as_rows(norms)
        self.title_text = title
        self.top = top
        self.numbers = numbers
        self.fit_height = fit_height
        self.show_legend = show_legend

    def update(self, *, norms: Array | Sequence[Sequence[float]] | None = None,
               top: float | None = None, numbers: bool | None = None) -> None:
        if norms is not None:
            self.norms = as_rows(norms)
        self.top = top if top is not None else self.top
        self.numbers = numbers
        self.refresh(layout=True)

    def lines(self, width: int, height: int | None = None) -> list[Text]:
        return triangle_lines(self.norms, width, self.title_text, top=self.top,
                              numbers=self.numbers, height=height, show_legend=self.show_legend)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        return len(self.lines(width))

    def render(self) -> RenderableType:
        width = self.content_size.width or self.size.width
        height = self.content_size.height if self.fit_height else None
        styles = palette(self)
        text = [themed(line, styles) for line in self.lines(width, height or None)]
        for line in text:
            line.no_wrap = True
            line.overflow = "crop"
        return Group(*text)
