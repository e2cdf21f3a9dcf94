"""The atoms of a formula line: :class:`Vec` (a vector, ``[ 0.8175  0.4613]``)
and :class:`Mat` (a matrix, rows stacked as the handout's bmatrix when they
fit, else ``[a b; c d]``), laid out in a budget of cells.

A vector that does not fit is elided around its focus with its brackets
closed (``[… 0.2493 …]``) or as a whole (``[…]``), never cut; cells are
sign-padded and every cell of a vector or matrix has the same width, so
columns line up. Only cells that can be shown are formatted; a vector is
measured (:func:`vector_row`) before its Text is built.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from rich.cells import cell_len
from rich.text import Span, Text

from rnn_tui.core.maths import Array
from rnn_tui.tui.widgets.formula_rows import NUMBER, Memo, Row, padded, widest
from rnn_tui.tui.widgets.numbers import ELLIPSIS, MUTED, NONFINITE

MAX_STACK = 8  # a matrix with more rows than this is never stacked


@dataclass(frozen=True)
class Vec:
    values: Array  # (n,)
    styles: Mapping[int, str] = field(default_factory=dict)
    focus: int | None = None  # the entry that stays visible when elided
    post: str = ""  # after the closing bracket: "ᵀ", "²"
    cell: Callable[[float], str] = padded
    cw: int | None = None  # every cell this wide (a column of a table), else the widest
    keep: bool = False  # a result: at least its focus cell stays, never ``[…]`` whole


@dataclass(frozen=True)
class Mat:
    m: Array  # (r, c)
    styles: Mapping[tuple[int, int], str] = field(default_factory=dict)
    post: str = ""
    keep: bool = False  # a result: at least part of its first row stays


Atom = str | Text | Vec | Mat
Segment = list[Atom]


# ------------------------------------------------------------------ cells


def _cells(values: Array, lo: int, hi: int, cell: Callable[[float], str]) -> list[str]:
    return [cell(float(values[i])) for i in range(lo, hi)]


def _styled(cells: Sequence[str], width: int, styles: Mapping[int, str], lo: int,
            values: Array) -> Text:
    """Cells right-aligned to ``width``, one space apart, one span per styled cell."""
    parts: list[str] = []
    spans: list[Span] = []
    at = 0
    for n, raw in enumerate(cells):
        s = raw.rjust(width)
        i = lo + n
        style = styles.get(i, "")
        if style or not math.isfinite(float(values[i])):  # the number, not its padding
            start = at + len(s) - len(raw.lstrip())
            spans.append(Span(start, at + len(s), style if math.isfinite(float(values[i]))
                              else NONFINITE))
        parts.append(s)
        at += len(s) + 1
    return Text(" ".join(parts), spans=spans)


def _plan(v: Vec, budget: int, cw: int | None) -> tuple[int, int, int] | Text:
    """The cells of the vector shown in ``budget`` cells and their width
    (lo, hi, cw), or its whole Text where no cell is shown."""
    values, n = v.values, len(v.values)
    cw = v.cw if cw is None else cw
    post = v.post
    if n == 0:
        return Text("[]" + post)
    focus = v.focus if v.focus is not None else (min(v.styles) if v.styles else 0)
    focus = max(0, min(n - 1, focus))
    room = budget - 2 - len(post)
    # the cell width from the cells that can be shown (at most room/2 of them)
    probe = max(1, min(n, room // 2 + 1))
    p_lo = max(0, min(focus - probe // 2, n - probe))
    if cw is None:
        cw = (widest(values[p_lo:p_lo + probe]) if v.cell is padded
              else max(len(s) for s in _cells(values, p_lo, p_lo + probe, v.cell)))
    if n * (cw + 1) - 1 <= room:
        lo, hi = 0, n
    else:
        k = max(1, (room - 4 + 1) // (cw + 1))  # "… " + cells + " …"
        lo = max(0, min(focus - (k - 1) // 2, n - k))
        hi = min(n, lo + k)
        if room < cw + 4:  # not even one cell: the whole vector elided
            return Text("[" + ELLIPSIS + "]" + post, style=MUTED)
    if v.cell is padded:
        return lo, hi, max(cw, widest(values[lo:hi]))
    return lo, hi, max([cw, *map(len, _cells(values, lo, hi, v.cell))])


def vector(v: Vec, budget: int, cw: int | None = None) -> Text:
    """The vector in at most ``budget`` cells if it can be (else its least)."""
    plan = _plan(v, budget, cw)
    return plan if isinstance(plan, Text) else _vector_text(v, *plan)


def vector_row(v: Vec, budget: int) -> Row:
    """vector(v, budget) measured, built when its row is."""
    plan = _plan(v, budget, None)
    if isinstance(plan, Text):
        return Row.of(plan)
    lo, hi, cw = plan
    n = len(v.values)
    inner = (hi - lo) * (cw + 1) - 1 + 2 * (lo > 0) + 2 * (hi < n)  # ASCII but "…"
    length = 2 + inner + len(v.post)
    width = 2 + inner + cell_len(v.post) + ((lo > 0) + (hi < n)) * (cell_len(ELLIPSIS) - 1)
    numbers = hi - lo if v.cell is padded else sum(
        len(NUMBER.findall(c)) for c in _cells(v.values, lo, hi, v.cell))
    return Row(width, width, length, numbers, False, "[", (v.post or "]")[-1], False,
               (functools.partial(_vector_text, v, lo, hi, cw),))


def _vector_text(v: Vec, lo: int, hi: int, cw: int) -> Text:
    return _inside(v, lo, hi, cw, Text("[")).append("]" + v.post)


def _inside(v: Vec, lo: int, hi: int, cw: int, out: Text) -> Text:
    """``out`` with the vector's cells lo..hi-1 appended, without its brackets."""
    values, n = v.values, len(v.values)
    cells = _cells(values, lo, hi, v.cell)
    if lo > 0:
        out.append(ELLIPSIS + " ", style=MUTED)
    out.append_text(_styled(cells, cw, v.styles, lo, values))
    if hi < n:
        out.append(" " + ELLIPSIS, style=MUTED)
    return out


def matrix_rows(a: Mat, budget: int, stack: bool, memo: Memo) -> list[Row]:
    """matrix(a, budget, stack, memo) measured; its one-row form (the usual
    one: a matrix that does not fit elides) is built when its row is."""
    m = np.atleast_2d(a.m)
    r, c = m.shape
    shown = min(r, MAX_STACK + 1)
    cols = min(c, budget // 2 + 1)
    if c == 1 or r == 1 or a.post.rstrip() != a.post or (
            stack and r <= MAX_STACK
            and c * (memo.cw(m, shown, cols) + 1) + 1 + len(a.post) <= budget):
        return [Row.of(t) for t in matrix(a, budget, stack, memo)]
    cw = memo.cw(m, shown, cols)
    room = budget - 2 - len(a.post)
    row_w = c * (cw + 1) - 1
    length, numbers, ellipses = 1, 0, 0  # so far: "["
    for i in range(r):
        sep = 2 if i else 0
        tail = 3 if i < r - 1 else 0
        if length - 1 + sep + row_w + tail <= room:
            length += sep + row_w
            numbers += c
            continue
        if i == 0:  # the first row elided, as matrix() does
            first = Vec(m[0], {j: s for (i0, j), s in a.styles.items() if i0 == 0})
            plan = _plan(first, room - 3, cw)
            if isinstance(plan, Text):
                return [Row.of(t) for t in matrix(a, budget, stack, memo)]
            lo, hi, w = plan
            length += (hi - lo) * (w + 1) - 1 + 2 * (lo > 0) + 2 * (hi < c)
            numbers += hi - lo
            ellipses += (lo > 0) + (hi < c)
        length += 3 if length > 1 else 1  # "; …" or "…"
        ellipses += 1
        break
    length += 1 + len(a.post)  # "]" + post
    width = length - ellipses - len(a.post) + ellipses * cell_len(ELLIPSIS) + cell_len(a.post)
    return [Row(width, width, length, numbers, False, "[", (a.post or "]")[-1], False,
                (functools.partial(_one_row, a, budget, memo),))]


def _one_row(a: Mat, budget: int, memo: Memo) -> Text:
    return matrix(a, budget, False, memo)[0]


def matrix(a: Mat, budget: int, stack: bool, memo: Memo | None = None) -> list[Text]:
    """Rows stacked (⎡ ⎤ / ⎢ ⎥ / ⎣ ⎦) when ``stack`` and they fit, else one row."""
    m = np.atleast_2d(a.m)
    r, c = m.shape
    if c == 1 and r > 1:  # a column: its transpose on one line
        styles = {i: s for (i, _), s in a.styles.items()}
        post = "" if a.post == "ᵀ" else "ᵀ" + a.post
        return [vector(Vec(m[:, 0], styles, post=post), budget)]
    if r == 1:
        return [vector(Vec(m[0], {j: s for (_, j), s in a.styles.items()}, post=a.post),
                       budget)]
    shown = min(r, MAX_STACK + 1)
    cols = min(c, budget // 2 + 1)
    cw = (memo or Memo()).cw(m, shown, cols)
    full = c * (cw + 1) + 1 + len(a.post)
    rows: dict[int, dict[int, str]] = {}
    for (i, j), s in a.styles.items():
        rows.setdefault(i, {})[j] = s
    if stack and r <= MAX_STACK and full <= budget:
        out = []
        for i in range(r):
            left, right = ("⎡", "⎤") if i == 0 else ("⎣", "⎦") if i == r - 1 else ("⎢", "⎥")
            line = Text(left).append_text(
                _styled(_cells(m[i], 0, c, padded), cw, rows.get(i, {}), 0, m[i]))
            line.append(right + (a.post if i == 0 else " " * len(a.post)))
            out.append(line)
        return out
    # one row: [a b; c d; …]
    out = Text("[")
    room = budget - 2 - len(a.post)
    for i in range(r):
        row_w = c * (cw + 1) - 1
        sep = 2 if i else 0
        tail = 3 if i < r - 1 else 0  # room for "; …" after this row
        if out.cell_len - 1 + sep + row_w + tail <= room:
            if i:
                out.append("; ")
            out.append_text(_styled(_cells(m[i], 0, c, padded), cw, rows.get(i, {}), 0, m[i]))
            continue
        if i == 0:  # not even the first row: it elided, without its brackets
            first = Vec(m[0], rows.get(0, {}))
            plan = _plan(first, room - 3, cw)
            if isinstance(plan, Text):
                out.append_text(plan[1:-1])
            else:
                _inside(first, *plan, out)
        out.append(("; " if out.cell_len > 1 else "") + ELLIPSIS, style=MUTED)
        break
    return [out.append("]" + a.post)]
