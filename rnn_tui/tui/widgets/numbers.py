"""Numbers to Rich Text, fitted to a width.

Only the cells that will be shown are ever formatted: a 64 x 128 matrix is
never turned into a string whole. Vectors and matrix rows that do not fit
are elided with an ellipsis around the cell that matters (the argmax, the
target, a changed entry) instead of wrapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from rich.text import Span, Text

from rnn_tui.core.maths import Array
from rnn_tui.core.text import PLACES, aligned, char, fmt, padded  # noqa: F401  (PLACES: re-exported)

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


def assembled(pieces: Sequence[tuple[str, str]]) -> Text:
    """Text.assemble(*pieces) in one go: a strip of hundreds of one-character
    pieces is built in a fraction of the time of appending them one by one."""
    plain: list[str] = []
    spans: list[Span] = []
    at = 0
    for piece, style in pieces:
        if piece and style:
            spans.append(Span(at, at + len(piece), style))
        plain.append(piece)
        at += len(piece)
    return Text("".join(plain), spans=spans)


def cell(x: float, style: str = "") -> Text:
    text = fmt(float(x))
    if not math.isfinite(x):
        return Text(text, style=NONFINITE)
    return Text(text, style=style)


def cell_width(values: Array, width: int, focus: int = 0) -> int:
    """The widest cell (:func:`padded`: with its sign or a space) among the
    cells of ``values`` that a line ``width`` wide can show around
    ``focus``: a bounded sample, so a long row is never formatted whole."""
    flat = np.ravel(values)
    n = len(flat)
    if n == 0:
        return 1
    probe = max(1, min(n, width // 2 + 1))
    lo = max(0, min(focus - probe // 2, n - probe))
    return max(len(padded(float(v))) for v in flat[lo:lo + probe])


def span(n: int, width: int, cw: int, focus: int) -> tuple[int, int]:
    """The cells [lo, hi) of an n-cell vector (cells ``cw`` wide, one space
    apart) that ``[...]`` in ``width`` shows around ``focus``, leaving room
    for ``… `` and `` …`` when it elides."""
    room = max(cw + 4, width - 2)
    if n * (cw + 1) - 1 <= room:
        return 0, n
    k = max(1, (room - 4 + 1) // (cw + 1))
    lo = max(0, min(focus - (k - 1) // 2, n - k))
    return lo, min(n, lo + k)


def vector(
    values: Array,
    width: int = 10_000,
    styles: Mapping[int, str] | None = None,
    focus: int | None = None,
    brackets: str = "[]",
    cw: int | None = None,
) -> Text:
    """``[ a -b  c]``: cells right-aligned to one width (``cw``, else the
    widest shown; a column of a table shares it), elided to ``width`` cells
    around ``focus``."""
    styles = styles or {}
    n = len(values)
    out = Text(brackets[:1])
    if n == 0:
        return out.append(brackets[1:2])
    if focus is None:
        focus = min(styles) if styles else 0
    focus = max(0, min(n - 1, focus))
    if cw is None:
        cw = cell_width(values, width, focus)
    lo, hi = span(n, width, cw, focus)
    if lo > 0:
        out.append(ELLIPSIS + " ", style=MUTED)
    # The cells as one string and a span per styled cell (on the number, not
    # its padding): what appending a cell() at a time makes, without a Text
    # per cell (a 128-wide gradient row is built on every key).
    parts: list[str] = []
    spans: list[Span] = []
    at = 0  # offsets within the cells; append_text shifts them
    for i, text in zip(range(lo, hi), aligned(values[lo:hi], cw), strict=True):
        x = float(values[i])
        style = styles.get(i, "") if math.isfinite(x) else NONFINITE
        if style:
            spans.append(Span(at + len(text) - len(text.lstrip()), at + len(text), style))
        parts.append(text)
        at += len(text) + 1
    out.append_text(Text(" ".join(parts), spans=spans))
    if hi < n:
        out.append(" " + ELLIPSIS, style=MUTED)
    out.append(brackets[1:2])
    return out


def tag(c: str) -> str:
    """A row or entry named by its character, as the formula panel names it: ``'e'``."""
    return repr(char(c))


def heading(labels: Sequence[str], lead: int, width: int, cw: int, focus: int = 0) -> Text:
    """The characters over the cells of a vector that :func:`vector` draws
    with the same ``width``, ``cw`` and ``focus`` after ``lead`` columns."""
    n = len(labels)
    lo, hi = span(n, width, cw, max(0, min(n - 1, focus)))
    out = Text(" " * (lead + 1 + (2 if lo > 0 else 0)))
    out.append(" ".join(tag(labels[i])[:cw].rjust(cw) for i in range(lo, hi)), style=LABEL)
    return out


def by_row(styles: Mapping[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    """{(r, c): style} as {r: {c: style}}, in one pass over the cells."""
    rows: dict[int, dict[int, str]] = {}
    for (r, c), style in styles.items():
        rows.setdefault(r, {})[c] = style
    return rows


def inline(m: Array, width: int, styles: Mapping[tuple[int, int], str] | None = None) -> Text:
    """A matrix on one line: a column as ``[..]ᵀ``, else rows split by ``;``
    (its cells sign-padded to one width)."""
    styles = styles or {}
    if m.ndim == 1:
        return vector(m, width, {c: s for (_, c), s in styles.items()})
    if m.shape[1] == 1 and m.shape[0] > 1:
        t = vector(m[:, 0], width - 1, {r: s for (r, _), s in styles.items()})
        return t.append("ᵀ")
    if m.shape[0] == 1:
        return vector(m[0], width, {c: s for (_, c), s in styles.items()})
    out = Text("[")
    rows = by_row(styles)
    n, k = m.shape
    cw = cell_width(m[:8], width - 2)
    whole = k * cw + k - 1  # a row's cells, one space apart
    more = "; " + ELLIPSIS
    for r in range(n):
        sep = "; " if r else ""
        room = width - out.cell_len - len(sep) - 1 - (len(more) if r < n - 1 else 0)  # 1: "]"
        if whole > room:  # rows are shown whole, or only the first, elided, and "; …"
            if r == 0:
                out.append_text(vector(m[0], room + 2, rows.get(0), brackets="", cw=cw))
            out.append(more, style=MUTED)
            break
        out.append(sep).append_text(vector(m[r], whole + 2, rows.get(r), brackets="", cw=cw))
    out.append("]")
    return out


def _column(m: Array) -> Array | None:
    """A vector, or a matrix of one column, as a flat vector; else None."""
    if m.ndim == 1:
        return m
    return m[:, 0] if m.shape[1] == 1 else None


def block(
    head: Text,
    m: Array,
    width: int,
    full: bool,
    styles: Mapping[tuple[int, int], str] | None = None,
    after: Array | None = None,
    after_styles: Mapping[tuple[int, int], str] | None = None,
    labels: Sequence[str] | None = None,
) -> list[Text]:
    """A named matrix: one row per line when ``full`` and it has several
    columns (its columns aligned; each row named by its character when
    ``labels`` names them), else on one line (under a line of ``labels``
    when ``full``, for a vector or a column); with ``after``, ``before →
    after`` per row."""
    styles = styles or {}
    if full and m.ndim == 2 and m.shape[1] > 1 and m.shape[0] > 1:
        tags = [tag(c) for c in labels] if labels is not None else []
        tw = max(map(len, tags)) + 1 if tags else 0
        lead = head.cell_len + tw
        room = width - lead
        cw = cell_width(m[:64], room)
        before_w = room
        if after is not None:
            cw_after = cell_width(after[:64], room)
            need = m.shape[1] * (cw + 1) + 1
            # before → after when both fit whole, else only → after (as on one line)
            both = need + 3 + after.shape[1] * (cw_after + 1) + 1 <= room
            before_w = need if both else 0
            room -= before_w + (1 if both else 0) + 2
        pad = Text(" " * head.cell_len)
        lines = []
        rows, after_rows = by_row(styles), by_row(after_styles or {})
        for r in range(m.shape[0]):
            line = (head if r == 0 else pad).copy()
            if tags:
                line.append(f"{tags[r]:<{tw}}", style=LABEL)
            if before_w:
                line.append_text(vector(m[r], before_w, rows.get(r), cw=cw))
            if after is not None:
                line.append(" → " if before_w else "→ ").append_text(
                    vector(after[r], room, after_rows.get(r), cw=cw_after))
            lines.append(line)
        return lines
    flat = _column(m)
    named = full and labels is not None and flat is not None and len(flat) > 1
    if after is None:
        lines = [head.copy().append_text(inline(m, width - head.cell_len, styles))]
        at, shown, shown_styles, room = head.cell_len, m, styles, width - head.cell_len
    else:
        old = inline(m, width, styles)
        new = inline(after, width, after_styles)
        if head.cell_len + old.cell_len + new.cell_len + 3 <= width:
            lines = [head.copy().append_text(old).append(" → ").append_text(new)]
            at, shown, shown_styles, room = head.cell_len, m, styles, width
        else:
            room = width - head.cell_len - 2
            lines = [head.copy().append("→ ").append_text(inline(after, room, after_styles))]
            at, shown, shown_styles = head.cell_len + 2, after, after_styles or {}
    if named and labels is not None:
        lines.insert(0, _heading_over(labels, at, shown, room, shown_styles))
    return lines


def _heading_over(labels: Sequence[str], lead: int, m: Array, width: int,
                  styles: Mapping[tuple[int, int], str]) -> Text:
    """:func:`heading` over the vector or column that :func:`inline` draws."""
    flat = _column(m)
    assert flat is not None
    if m.ndim == 2:  # a column: inline() leaves room for its ᵀ
        width -= 1
        entries = {r: s for (r, _), s in styles.items()}
    else:
        entries = {c: s for (_, c), s in styles.items()}
    focus = min(entries) if entries else 0
    return heading(labels, lead, width, cell_width(flat, width, focus), focus)


def rows_needed(arrays: Sequence[Array], named: Sequence[bool] = ()) -> int:
    """Lines that :func:`block` needs with ``full`` for these arrays (one
    more for a vector or column whose entries are named)."""
    named = list(named) + [False] * (len(arrays) - len(named))
    return sum(a.shape[0] if a.ndim == 2 and a.shape[1] > 1 and a.shape[0] > 1
               else 1 + (n and (a.ndim == 1 or a.shape[1] == 1) and a.shape[0] > 1)
               for a, n in zip(arrays, named, strict=True))


def stacking(arrays: Sequence[Array], named: Sequence[bool], room: int,
             first: int | None = None) -> list[bool]:
    """Which arrays :func:`block` shows ``full`` in ``room`` lines: each on one
    line at least, then stacked one by one (``first`` first, then in order)
    while the whole still fits; so a taller panel never shows less."""
    need = [rows_needed([a], [n]) for a, n in zip(arrays, named, strict=True)]
    used = len(arrays)
    full = [False] * len(arrays)
    order = [first] if first is not None else []
    for i in [*order, *(i for i in range(len(arrays)) if i != first)]:
        if used + need[i] - 1 <= room:
            full[i] = True
            used += need[i] - 1
    return full
