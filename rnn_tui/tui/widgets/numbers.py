"""Numbers to Rich Text, fitted to a width.

Only the cells that will be shown are ever formatted: a 64 x 128 matrix is
never turned into a string whole. Vectors and matrix rows that do not fit
are elided with an ellipsis around the cell that matters (the argmax, the
target, a changed entry) instead of wrapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.text import Span, Text

from rnn_tui.core.maths import Array
from rnn_tui.core.text import PLACES, fmt  # noqa: F401  (PLACES, fmt: re-exported for widgets)

ELLIPSIS = "…"

# Semantic style names; Panel.render maps them to the theme's colours, so
# the same Text works in every theme, including monochrome.
ARGMAX = "argmax"
TARGET = "target"
RIGHT = "right"
WRONG = "wrong"
NONFINITE = "nonfinite"
MUTED = "muted"
CURRENT = "current"
DONE = "done"
CHANGED = "changed"
LABEL = "label"
DIFFERS = "differs"  # theirs differs from ours here (widgets/marks.py)


def cell(x: float, style: str = "") -> Text:
    text = fmt(float(x))
    if not math.isfinite(x):
        return Text(text, style=NONFINITE)
    return Text(text, style=style)


def _window(n: int, width_of: Sequence[int], budget: int, focus: int) -> tuple[int, int]:
    """The widest run [lo, hi) of cells around ``focus`` that fits ``budget``."""
    lo = hi = max(0, min(focus, n - 1))
    used = width_of[lo] + 1
    hi = lo + 1
    while True:
        grew = False
        if hi < n and used + width_of[hi] + 1 <= budget:
            used += width_of[hi] + 1
            hi += 1
            grew = True
        if lo > 0 and used + width_of[lo - 1] + 1 <= budget:
            lo -= 1
            used += width_of[lo] + 1
            grew = True
        if not grew:
            return lo, hi


def vector(
    values: Array,
    width: int = 10_000,
    styles: Mapping[int, str] | None = None,
    focus: int | None = None,
    brackets: str = "[]",
) -> Text:
    """``[a b c]``, elided to ``width`` cells around ``focus``."""
    styles = styles or {}
    n = len(values)
    out = Text(brackets[:1])
    if n == 0:
        return out.append(brackets[1:2])
    if focus is None:
        focus = min(styles) if styles else 0
    # Estimate widths from a bounded sample: formatting every cell of a long
    # row would defeat the point of eliding it.
    probe = max(1, min(n, width // 2 + 1))
    lo_probe = max(0, min(focus - probe // 2, n - probe))
    widths = [9] * n
    for i in range(lo_probe, lo_probe + probe):
        widths[i] = len(fmt(float(values[i])))
    budget = max(8, width - 2)
    if sum(widths) + n - 1 <= budget:
        lo, hi = 0, n
    else:
        lo, hi = _window(n, widths, budget - 4, focus)
    if lo > 0:
        out.append(ELLIPSIS + " ", style=MUTED)
    # The cells as one string and a span per styled cell: what appending a
    # cell() at a time makes, without a Text per cell (a 128-wide gradient
    # row is built on every key).
    parts: list[str] = []
    spans: list[Span] = []
    at = 0  # offsets within the cells; append_text shifts them
    for i in range(lo, hi):
        x = float(values[i])
        text = fmt(x)
        style = styles.get(i, "") if math.isfinite(x) else NONFINITE
        if style:
            spans.append(Span(at, at + len(text), style))
        parts.append(text)
        at += len(text) + 1
    out.append_text(Text(" ".join(parts), spans=spans))
    if hi < n:
        out.append(" " + ELLIPSIS, style=MUTED)
    out.append(brackets[1:2])
    return out


def by_row(styles: Mapping[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    """{(r, c): style} as {r: {c: style}}, in one pass over the cells."""
    rows: dict[int, dict[int, str]] = {}
    for (r, c), style in styles.items():
        rows.setdefault(r, {})[c] = style
    return rows


def inline(m: Array, width: int, styles: Mapping[tuple[int, int], str] | None = None) -> Text:
    """A matrix on one line: a column as ``[..]ᵀ``, else rows split by ``;``."""
    styles = styles or {}
    if m.ndim == 1:
        return vector(m, width, {c: s for (_, c), s in styles.items()})
    if m.shape[1] == 1 and m.shape[0] > 1:
        t = vector(m[:, 0], width - 1, {r: s for (r, _), s in styles.items()})
        return t.append("ᵀ")
    if m.shape[0] == 1:
        return vector(m[0], width, {c: s for (_, c), s in styles.items()})
    out = Text("[")
    budget = width - 2
    rows = by_row(styles)
    for r in range(m.shape[0]):
        row = vector(m[r], budget, rows.get(r), brackets="")
        piece = Text("; ") if r else Text("")
        piece.append_text(row)
        if out.cell_len + piece.cell_len + 1 > width and r > 0:
            out.append("; " + ELLIPSIS, style=MUTED)
            break
        out.append_text(piece)
    out.append("]")
    return out


def block(
    head: Text,
    m: Array,
    width: int,
    full: bool,
    styles: Mapping[tuple[int, int], str] | None = None,
    after: Array | None = None,
    after_styles: Mapping[tuple[int, int], str] | None = None,
) -> list[Text]:
    """A named matrix: one row per line when ``full`` and it has several
    columns, else on one line; with ``after``, ``before → after`` per row."""
    styles = styles or {}
    pad = Text(" " * head.cell_len)
    if full and m.ndim == 2 and m.shape[1] > 1:
        half = (width - head.cell_len - 3) // 2 if after is not None else width - head.cell_len
        lines = []
        rows, after_rows = by_row(styles), by_row(after_styles or {})
        for r in range(m.shape[0]):
            line = (head if r == 0 else pad).copy()
            line.append_text(vector(m[r], half, rows.get(r)))
            if after is not None:
                line.append(" → ").append_text(vector(after[r], half, after_rows.get(r)))
            lines.append(line)
        return lines
    if after is None:
        return [head.copy().append_text(inline(m, width - head.cell_len, styles))]
    old = inline(m, width, styles)
    new = inline(after, width, after_styles)
    if head.cell_len + old.cell_len + new.cell_len + 3 <= width:
        return [head.copy().append_text(old).append(" → ").append_text(new)]
    return [head.copy().append("→ ").append_text(
        inline(after, width - head.cell_len - 2, after_styles))]


def rows_needed(arrays: Sequence[Array]) -> int:
    """Lines that :func:`block` needs with ``full`` for these arrays."""
    return sum(a.shape[0] if a.ndim == 2 and a.shape[1] > 1 else 1 for a in arrays)
