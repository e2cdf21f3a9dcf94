"""The formula layout's fit as it was before it was made fast (commit
c979c93 of rnn_tui/tui/widgets/formula_layout.py): every equation rendered
at every level it tries, every cell formatted where it is measured. Kept
only here, as the reference tests/tui/test_formula_fast.py holds the fast
fit to: the same rows, spans included, at every width and height."""

# ruff: noqa

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from rich.text import Span, Text

from rnn_tui.core.maths import Array
from rnn_tui.tui.widgets.formula_layout import (FIT_LEVELS, LEVELS, MAX_COST, MAX_STACK,
                                                SCROLL_KEYS, Atom, Eq, Fitted, Mat, Segment,
                                                Vec, padded)
from rnn_tui.tui.widgets.numbers import ELLIPSIS, MUTED, NONFINITE


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


def vector(v: Vec, budget: int, cw: int | None = None) -> Text:
    """The vector in at most ``budget`` cells if it can be (else its least)."""
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
        cw = max(len(s) for s in _cells(values, p_lo, p_lo + probe, v.cell))
    if n * (cw + 1) - 1 <= room:
        lo, hi = 0, n
    else:
        k = max(1, (room - 4 + 1) // (cw + 1))  # "… " + cells + " …"
        lo = max(0, min(focus - (k - 1) // 2, n - k))
        hi = min(n, lo + k)
        if room < cw + 4:  # not even one cell: the whole vector elided
            return Text("[" + ELLIPSIS + "]" + post, style=MUTED)
    cells = _cells(values, lo, hi, v.cell)
    cw = max([cw, *map(len, cells)])
    out = Text("[")
    if lo > 0:
        out.append(ELLIPSIS + " ", style=MUTED)
    out.append_text(_styled(cells, cw, v.styles, lo, values))
    if hi < n:
        out.append(" " + ELLIPSIS, style=MUTED)
    return out.append("]" + post)


def matrix(a: Mat, budget: int, stack: bool) -> list[Text]:
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
    cw = max(len(padded(float(x))) for x in m[:shown, :cols].ravel())
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
        if i == 0:  # not even the first row: it elided
            inner = vector(Vec(m[0], rows.get(0, {})), room - 3, cw)
            out.append_text(inner[1:-1])
        out.append(("; " if out.cell_len > 1 else "") + ELLIPSIS, style=MUTED)
        break
    return [out.append("]" + a.post)]


# --------------------------------------------------------------- equations



@dataclass
class Block:
    rows: list[Text]
    base: int  # the row the one-row atoms sit on

    @property
    def width(self) -> int:
        return max(r.cell_len for r in self.rows)


def _beside(a: Block, b: Block) -> Block:
    top = max(a.base, b.base)
    bottom = max(len(a.rows) - a.base, len(b.rows) - b.base)
    wa = a.width
    out = []
    for y in range(top + bottom):
        ya, yb = y - (top - a.base), y - (top - b.base)
        left = a.rows[ya].copy() if 0 <= ya < len(a.rows) else Text("")
        left.pad_right(wa - left.cell_len)
        if 0 <= yb < len(b.rows):
            left.append_text(b.rows[yb])
        out.append(left)
    return Block(out, top)


def _segment(seg: Segment, budget: int, stack: bool, avail: int, floor: bool = True) -> Block:
    block = Block([Text("")], 0)
    for atom in seg:
        if isinstance(atom, Vec):
            rows = [vector(atom, max(budget, min(40, avail)) if atom.keep and floor else budget)]
        elif isinstance(atom, Mat):
            keep = atom.keep and floor
            rows = matrix(atom, max(budget, min(22, avail)) if keep else budget, stack)
        else:
            rows = [atom.copy() if isinstance(atom, Text) else Text(atom)]
        block = _beside(block, Block(rows, (len(rows) - 1) // 2))
    return block


def _hard_split(text: Text, width: int) -> list[Text]:
    """A row wider than ``width`` in pieces (only text atoms get here)."""
    return [text[i:i + width] for i in range(0, max(1, text.cell_len), max(1, width))]


def _lstrip(seg: Segment) -> Segment:
    return [seg[0].lstrip(), *seg[1:]] if seg and isinstance(seg[0], str) else seg


def _shrunk(seg: Segment, avail: int, stack: bool, share: float) -> Block:
    """The segment at the level's budget, else elided until it fits ``avail``."""
    first = max(0, int(avail * share))
    for budget in (first, avail // 2, avail // 4, 14, 0):
        block = _segment(seg, max(0, min(budget, first)), stack and budget == first, avail)
        if block.width <= avail:
            return block
    return _segment(seg, 0, False, avail, floor=False)  # even results elided


def render(eq: Eq, width: int, level: int) -> list[Text]:
    """The equation's rows at a level of detail (see LEVELS)."""
    stack, share = LEVELS[level]
    lead, cont = min(eq.lead, width // 3), min(eq.cont, width // 3)
    out: list[Text] = []
    line: Block | None = None
    for n, seg in enumerate(eq.segments):
        if line is not None:
            room = width - line.width
            block = _segment(seg, int((width - cont) * share), stack, room)
            if block.width <= room:
                line = _beside(line, block)
                continue
            out += line.rows
            seg = _lstrip(seg)
        indent = lead if n == 0 else cont
        block = _shrunk(seg, max(1, width - indent), stack, share)
        line = Block([Text(" " * indent) + r for r in block.rows], block.base)
    at = -1  # the row of the last segment's one-row atoms (the result, ``= [...]``)
    if line is not None:
        at = len(out) + line.base
        out += line.rows
    rows: list[Text] = []
    for r in out:
        r.rstrip()
        if eq.style:
            r.stylize(eq.style)
        rows += _hard_split(r, width) if r.cell_len > width else [r]
    if eq.beside is not None and eq.beside.cell_len and rows:
        at = at if len(rows) == len(out) else -1  # (a row split: the last)
        if rows[at].cell_len + eq.beside.cell_len <= width:  # else the strip shows it
            rows[at] = rows[at] + eq.beside
    return rows or [Text("")]


# ----------------------------------------------------------------- fitting


def fit(eqs: list[Eq], width: int, height: int, scroll: int = 0, what: str = "lines") -> Fitted:
    """The rows of ``eqs`` in ``height`` rows of ``width`` cells.

    While the formula is too tall, the equation whose next less detailed
    level saves the most rows takes that level (stacked matrices go inline,
    vectors elide); an equation that no level shortens keeps its detail."""
    width, height = max(1, width), max(1, height)
    levels = [0] * len(eqs)
    cache: dict[tuple[int, int], list[Text]] = {}

    def rows_of(i: int, level: int) -> list[Text]:
        if (i, level) not in cache:
            cache[i, level] = render(eqs[i], width, level)
        return cache[i, level]

    total = sum(len(rows_of(i, 0)) for i in range(len(eqs)))
    while total > height:
        # the step that hides the fewest numbers per row it saves
        best: tuple[float, int, int, int] | None = None  # (cost, level, -i, new level)
        for i in range(len(eqs)):
            now = rows_of(i, levels[i])
            free = eqs[i].pinned or eqs[i].spare  # pinned rows must fit
            top = len(LEVELS) if free else FIT_LEVELS
            for level in range(levels[i] + 1, top):
                new = rows_of(i, level)
                saved = len(now) - len(new)
                if saved > 0:
                    cost = (_numbers(now) - _numbers(new)) / min(saved, total - height)
                    if cost > MAX_COST and not free:
                        break  # dearer than hiding the row behind ⋮, where a key shows it
                    cand = (cost, level, -i, level)
                    best = cand if best is None or cand < best else best
                    break
        if best is None:
            break
        i, level = -best[2], best[3]
        total -= len(rows_of(i, levels[i])) - len(rows_of(i, level))
        levels[i] = level
    rows = [(r, e) for i, e in enumerate(eqs) for r in rows_of(i, levels[i])]
    if len(rows) <= height:
        return Fitted([r for r, _ in rows], 0, 0)
    pinned = [(r, e) for r, e in rows if e.pinned]
    if len(pinned) >= height:  # not even the pinned rows fit: all scroll
        pinned = []
    free = [(r, e) for r, e in rows if not (pinned and e.pinned)]
    room = height - len(pinned)
    if scroll <= 0:
        shown, gap = _gap(free, room, what, width)
        return Fitted(shown + [r for r, _ in pinned], gap, 0)
    # scrolled: a window of the free rows from row ``scroll``, a marker at each cut end
    start = min(scroll, max(1, len(free) - (room - 1)))
    body = max(0, room - 1 - (start + room - 1 < len(free)))
    end = start + body
    shown = [_marker(f"⋮ {start} more above", width)]
    shown += [r for r, _ in free[start:end]]
    if end < len(free):
        shown.append(_marker(f"⋮ {len(free) - end} more below", width))
    return Fitted(shown[:room] + [r for r, _ in pinned], len(free) - body, start)


NUMBER = re.compile(r"\d\.\d|NaN|inf")


def _numbers(rows: list[Text]) -> int:
    """How many numbers the rows show."""
    return sum(len(NUMBER.findall(r.plain)) for r in rows)


def _marker(text: str, width: int) -> Text:
    full = Text(f"{text}  ({SCROLL_KEYS} scroll)", style=MUTED)
    return full if full.cell_len <= width else Text(text, style=MUTED)[:width]


def _gap(rows: list[tuple[Text, Eq]], room: int, what: str, width: int) -> tuple[list[Text], int]:
    """``rows`` in ``room`` rows, one ⋮ row instead of those that do not fit:
    the middle of the chain (the factors, the substitutions) if there is one,
    else the end; the rows after it start an equation where they can."""
    n = len(rows)
    if n <= room:
        return [r for r, _ in rows], 0
    room = max(1, room)
    gap = n - (room - 1)
    chain = [y for y, (_, e) in enumerate(rows) if e.chain]
    if chain:
        default = chain[0] + max(0, (len(chain) - gap + 1) // 2)
        default = min(default, n - gap)
        starts = [0] + [y for y in range(1, n) if rows[y][1] is not rows[y - 1][1]] + [n]
        # whole chain equations, as few rows more than needed as can be
        whole = [(e - s, abs(s - default), s) for s in starts for e in starts
                 if e - s >= gap and all(rows[y][1].chain for y in range(s, e))]
        ends = [s - gap for s in starts if 0 <= s - gap <= default]  # rows after it whole
        if whole:
            gap, _, default = min(whole)
        elif ends:
            default = max(ends)
    else:
        default = n - gap
    hid = range(default, default + gap)
    whole = len({id(rows[y][1]) for y in hid}) == gap
    noun = "factors" if what == "factors" and whole and all(rows[y][1].chain for y in hid) \
        else "lines"
    marker = _marker(f"⋮ {gap} more {noun}", width)
    return [r for r, _ in rows[:default]] + [marker] + [r for r, _ in rows[default + gap:]], gap
