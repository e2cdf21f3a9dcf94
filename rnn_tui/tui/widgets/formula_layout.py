"""Lays out formula lines in a box of (width, height) cells.

A formula is a list of :class:`Eq` (one equation each), an equation a list
of segments that stay on one row, and a segment a list of atoms: text,
:class:`Vec` (a vector, ``[ 0.8175  0.4613]``) or :class:`Mat` (a matrix,
rows stacked as the handout's bmatrix when they fit, else ``[a b; c d]``).

Rules: a row never exceeds the width; an equation that does not fit wraps
between segments (at an operator) onto an indented continuation row;
vectors and matrices elide as formula_cells.py says, never cut.

:func:`fit` degrades the tallest equations (stacked, full, elided, tiny)
until the formula fits the height; what still does not fit is hidden behind
one ``⋮ N more`` row whose place the caller's scroll offset moves. It
chooses by measures (formula_rows.py) and builds only the rows it shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rich.text import Text

from rnn_tui.tui.widgets.formula_cells import (
    MAX_STACK,
    Atom,
    Mat,
    Segment,
    Vec,
    matrix_rows,
    vector_row,
)
from rnn_tui.tui.widgets.formula_rows import (
    EMPTY,
    NUMBER,
    SHORT,
    Block,
    Memo,
    Row,
    beside,
    joins,
    key,
    padded,
    styles_key,
    widest,
)
from rnn_tui.tui.widgets.numbers import MUTED

__all__ = ["MAX_STACK", "Atom", "Eq", "Fitted", "Mat", "Segment", "Vec", "fit", "padded", "render",
           "widest"]

SCROLL_KEYS = "{ }"


@dataclass
class Eq:
    """One equation: its segments; ``lead`` pads its first row; ``cont`` is
    the indent of its continuation rows; ``pinned`` equations are never hidden
    while anything else can be; ``chain`` ones are hidden first, middle out."""

    segments: list[Segment]
    lead: int = 0
    cont: int = 2
    pinned: bool = False
    chain: bool = False  # the detail hidden first (a factor chain, a substitution)
    spare: bool = False  # intermediate values: elided as far as it takes before hiding
    style: str = ""
    beside: Text | None = None  # after the last row only where it fits (``≠ theirs at [i]``)


@dataclass
class Fitted:
    lines: list[Text]
    hidden: int  # formula rows behind the ⋮ marker
    scroll: int  # the scroll offset actually used (clamped)


# --------------------------------------------------------------- equations

# (stack matrices, vector budget as a share of the row) by level
LEVELS: tuple[tuple[bool, float], ...] = ((True, 1.0), (False, 1.0), (False, 0.5),
                                          (False, 0.25), (False, 0.0))

MANY = 12  # equations from which those alike (a chain, a table) are measured once
MAX_COST = 5  # numbers elided per row saved, at most (else the row scrolls)
FIT_LEVELS = 3  # fit() elides to half a row at most, then hides rows behind ⋮
# (pinned equations, which may not be hidden, to the last level)


def _budgets(seg: Segment, budget: int, stack: bool, avail: int,
             floor: bool) -> tuple[object, ...]:
    """Each atom's budget in the segment (what its layout depends on)."""
    out: list[object] = []
    for atom in seg:
        if isinstance(atom, Vec):
            out.append(max(budget, min(40, avail)) if atom.keep and floor else budget)
        elif isinstance(atom, Mat):
            out.append((max(budget, min(22, avail)) if atom.keep and floor else budget, stack))
        else:
            out.append(None)
    return tuple(out)


def _segment(seg: Segment, budget: int, stack: bool, avail: int, memo: Memo,
             floor: bool = True) -> Block:
    """The segment's atoms side by side (``seg`` stays alive during the fit)."""
    budgets = _budgets(seg, budget, stack, avail, floor)
    done = memo.segments.get((id(seg), budgets))
    if done is not None:
        return done
    block: Block | None = None  # the first atom's rows as they are (EMPTY beside b is b)
    for atom, b in zip(seg, budgets, strict=True):
        if isinstance(atom, Vec):
            v = atom
            k = (_numbers_key(v, memo), b)
            here = memo.atom(k, lambda v=v, b=b: [vector_row(v, b)])  # type: ignore[misc]
        elif isinstance(atom, Mat):
            a = atom
            k = (_numbers_key(a, memo), b)
            here = memo.atom(k, lambda a=a, b=b: matrix_rows(a, *b, memo))  # type: ignore[misc]
        elif isinstance(atom, Text):
            here = memo.atom(("t", id(atom)), lambda t=atom: [Row.of(t)])  # type: ignore[misc]
        else:
            here = memo.atom(("t", atom), lambda t=atom: [Row.of(Text(t))])  # type: ignore[misc]
        block = here if block is None and here.rows else beside(block or Block([EMPTY], 0), here)
    if block is None:
        block = Block([EMPTY], 0)
    memo.segments[id(seg), budgets] = block
    return block


def _numbers_key(atom: Vec | Mat, memo: Memo) -> tuple[object, ...]:
    """What the atom's layout depends on but its budget (the same for two
    atoms of the same numbers and styles); worked out once per atom and fit."""
    got = memo.keys.get(id(atom))
    if got is None:
        if isinstance(atom, Vec):
            v = atom
            got = ("v", key(v.values), styles_key(v.styles), v.focus, v.post, v.cell, v.cw)
        else:
            got = ("m", key(atom.m), styles_key(atom.styles), atom.post)
        memo.keys[id(atom)] = got
    return got


def _hard_split(text: Text, width: int) -> list[Text]:
    """A row wider than ``width`` in pieces (only text atoms get here)."""
    return [text[i:i + width] for i in range(0, max(1, text.cell_len), max(1, width))]


def _lstrip(seg: Segment, memo: Memo) -> Segment:
    """The segment without its leading blanks (one list per segment and fit)."""
    if not (seg and isinstance(seg[0], str)):
        return seg
    got = memo.lstripped.get(id(seg))
    if got is None:
        got = memo.lstripped[id(seg)] = [seg[0].lstrip(), *seg[1:]]
    return got  # type: ignore[return-value]


def _shrunk(seg: Segment, avail: int, stack: bool, share: float, memo: Memo) -> Block:
    """The segment at the level's budget, else elided until it fits ``avail``."""
    first = max(0, int(avail * share))
    for budget in (first, avail // 2, avail // 4, 14, 0):
        block = _segment(seg, max(0, min(budget, first)), stack and budget == first, avail,
                         memo)
        if block.width <= avail:
            return block
    return _segment(seg, 0, False, avail, memo, floor=False)  # even results elided


def _lay(eq: Eq, width: int, level: int, memo: Memo) -> tuple[list[Row], int]:
    """The equation's rows at a level of detail (see LEVELS), unbuilt, and
    the row of its last segment's one-row atoms (the result, ``= [...]``)."""
    done = memo.laid.get((id(eq), level))
    if done is not None:
        return done
    stack, share = LEVELS[level]
    lead, cont = min(eq.lead, width // 3), min(eq.cont, width // 3)
    out: list[Row] = []
    line: Block | None = None
    for n, seg in enumerate(eq.segments):
        if line is not None:
            room = width - line.width
            block = _segment(seg, int((width - cont) * share), stack, room, memo)
            if block.width <= room:
                line = beside(line, block)
                continue
            out += line.rows
            seg = _lstrip(seg, memo)
        indent = lead if n == 0 else cont
        block = _shrunk(seg, max(1, width - indent), stack, share, memo)
        line = Block([EMPTY.then(indent, r if r.length else None) for r in block.rows],
                     block.base)
    at = -1
    if line is not None:
        at = len(out) + line.base
        out += line.rows
    memo.laid[id(eq), level] = out, at
    return out, at


def render(eq: Eq, width: int, level: int, memo: Memo | None = None) -> list[Text]:
    """The equation's rows at a level of detail (see LEVELS)."""
    out, at = _lay(eq, width, level, memo or Memo())
    rows: list[Text] = []
    for r in map(Row.text, out):
        r.rstrip()
        if eq.style:
            r.stylize(eq.style)
        rows += _hard_split(r, width) if r.cell_len > width else [r]
    if eq.beside is not None and eq.beside.cell_len and rows:
        at = at if len(rows) == len(out) else -1  # (a row split: the last)
        if rows[at].cell_len + eq.beside.cell_len <= width:  # else the strip shows it
            rows[at] = rows[at] + eq.beside
    return rows or [Text("")]


def measure(eq: Eq, width: int, level: int, memo: Memo) -> tuple[int, int]:
    """(rows, numbers shown) of ``render(eq, width, level)``, mostly without
    building it: by the rows' measures unless a row is split or a number may
    run across two pieces of a row. Equations alike in everything measured
    (a chain of factors: the same matrix, vectors of one size and cell
    width, labels of one width) are measured once."""
    alike = (_signature(eq, memo), width, level) if memo.alike else None
    got = memo.measured.get(alike)
    if got is not None:
        return got
    out, at = _lay(eq, width, level, memo)
    extra = eq.beside if eq.beside is not None and eq.beside.cell_len else None
    if any(r.joined or r.end > width for r in out) or (
            extra is not None and out and joins(extra.plain[0])):
        rows = render(eq, width, level, memo)
        return len(rows), _numbers(rows)  # (by its text: not for the equations alike)
    numbers = sum(r.numbers for r in out)
    if extra is not None and out and out[at].end + extra.cell_len <= width:
        numbers += len(NUMBER.findall(extra.plain))
    got = max(1, len(out)), numbers
    if alike is not None:
        memo.measured[alike] = got
    return got


def _signature(eq: Eq, memo: Memo) -> tuple[object, ...]:
    """What _lay's rows' measures depend on: text by its measures, a vector
    of short numbers (every cell 7 wide) by its size, others by identity.
    Worked out once per equation and fit (it is the same at every level)."""
    got = memo.signatures.get(id(eq))
    if got is not None:
        return got
    out: list[object] = [eq.lead, eq.cont]
    for seg in eq.segments:
        if seg and isinstance(seg[0], str):  # (a continuation row starts it stripped)
            out.append(memo.measures(seg[0].lstrip()))
        for atom in seg:
            if isinstance(atom, Vec):
                v = atom
                focus = v.focus if v.focus is not None else (min(v.styles) if v.styles else 0)
                short = v.cell is padded and bool((np.abs(v.values) < SHORT).all())
                out.append(("v", len(v.values) if short else key(v.values), v.cell, focus,
                            v.post, v.cw, v.keep))
            elif isinstance(atom, Mat):
                out.append(("m", key(atom.m), atom.post, atom.keep))
            else:
                out.append(memo.measures(atom if isinstance(atom, str) else atom.plain))
        out.append(None)  # (segments end)
    if eq.beside is not None:
        b = Row.of(eq.beside)
        out.append(("beside", b.width, b.numbers, b.first))
    got = memo.signatures[id(eq)] = tuple(out)
    return got


# ----------------------------------------------------------------- fitting


def _stacks(eq: Eq) -> bool:
    """Whether a matrix of the equation may be stacked (see matrix())."""
    for seg in eq.segments:
        for atom in seg:
            if isinstance(atom, Mat):
                r, c = np.atleast_2d(atom.m).shape
                if 1 < r <= MAX_STACK and c > 1:
                    return True
    return False


def fit(eqs: list[Eq], width: int, height: int, scroll: int = 0, what: str = "lines") -> Fitted:
    """The rows of ``eqs`` in ``height`` rows of ``width`` cells.

    While the formula is too tall, the equation whose next less detailed
    level saves the most rows takes that level (stacked matrices go inline,
    vectors elide); an equation that no level shortens keeps its detail."""
    width, height = max(1, width), max(1, height)
    levels = [0] * len(eqs)
    cache: dict[tuple[int, int], tuple[int, int]] = {}
    memo = Memo()
    memo.alike = len(eqs) > MANY

    def size(i: int, level: int) -> tuple[int, int]:
        """(rows, numbers) of equation i at the level."""
        if (i, level) not in cache:
            if level == 1 and not _stacks(eqs[i]):  # levels 0 and 1 differ only in stacking
                cache[i, level] = size(i, 0)
            else:
                cache[i, level] = measure(eqs[i], width, level, memo)
        return cache[i, level]

    total = sum(size(i, 0)[0] for i in range(len(eqs)))
    while total > height:
        # the step that hides the fewest numbers per row it saves
        best: tuple[float, int, int, int] | None = None  # (cost, level, -i, new level)
        for i in range(len(eqs)):
            now = size(i, levels[i])
            free = eqs[i].pinned or eqs[i].spare  # pinned rows must fit
            top = len(LEVELS) if free else FIT_LEVELS
            for level in range(levels[i] + 1, top):
                new = size(i, level)
                saved = now[0] - new[0]
                if saved > 0:
                    cost = (now[1] - new[1]) / min(saved, total - height)
                    if cost > MAX_COST and not free:
                        break  # dearer than hiding the row behind ⋮, where a key shows it
                    cand = (cost, level, -i, level)
                    best = cand if best is None or cand < best else best
                    break
        if best is None:
            break
        i, level = -best[2], best[3]
        total -= size(i, levels[i])[0] - size(i, level)[0]
        levels[i] = level
    built: dict[int, list[Text]] = {}

    def row(i: int, y: int) -> Text:
        """Row y of equation i, built only if it is shown."""
        if i not in built:
            built[i] = render(eqs[i], width, levels[i], memo)
        return built[i][y]

    rows = [(functools.partial(row, i, y), e) for i, e in enumerate(eqs)
            for y in range(size(i, levels[i])[0])]
    if len(rows) <= height:
        return Fitted([r() for r, _ in rows], 0, 0)
    pinned = [(r, e) for r, e in rows if e.pinned]
    if len(pinned) >= height:  # not even the pinned rows fit: all scroll
        pinned = []
    free = [(r, e) for r, e in rows if not (pinned and e.pinned)]
    room = height - len(pinned)
    if scroll <= 0:
        shown, gap = _gap(free, room, what, width)
        return Fitted(shown + [r() for r, _ in pinned], gap, 0)
    # scrolled: a window of the free rows from row ``scroll``, a marker at each cut end
    start = min(scroll, max(1, len(free) - (room - 1)))
    body = max(0, room - 1 - (start + room - 1 < len(free)))
    end = start + body
    shown = [_marker(f"⋮ {start} more above", width)]
    shown += [r() for r, _ in free[start:end]]
    if end < len(free):
        shown.append(_marker(f"⋮ {len(free) - end} more below", width))
    return Fitted(shown[:room] + [r() for r, _ in pinned], len(free) - body, start)


def _numbers(rows: list[Text]) -> int:
    """How many numbers the rows show."""
    return sum(len(NUMBER.findall(r.plain)) for r in rows)


def _marker(text: str, width: int) -> Text:
    full = Text(f"{text}  ({SCROLL_KEYS} scroll)", style=MUTED)
    return full if full.cell_len <= width else Text(text, style=MUTED)[:width]


def _gap(rows: list[tuple[Callable[[], Text], Eq]], room: int, what: str,
         width: int) -> tuple[list[Text], int]:
    """``rows`` in ``room`` rows, one ⋮ row instead of those that do not fit:
    the middle of the chain (the factors, the substitutions) if there is one,
    else the end; the rows after it start an equation where they can."""
    n = len(rows)
    if n <= room:
        return [r() for r, _ in rows], 0
    room = max(1, room)
    gap = n - (room - 1)
    chain = [y for y, (_, e) in enumerate(rows) if e.chain]
    if chain:
        default = chain[0] + max(0, (len(chain) - gap + 1) // 2)
        default = min(default, n - gap)
        starts = [0] + [y for y in range(1, n) if rows[y][1] is not rows[y - 1][1]] + [n]
        run = [n] * (n + 1)  # run[y]: the first row from y on that is not in a chain
        for y in range(n - 1, -1, -1):
            run[y] = run[y + 1] if rows[y][1].chain else y
        # whole chain equations, as few rows more than needed as can be
        whole = [(e - s, abs(s - default), s) for s in starts for e in starts
                 if e - s >= gap and e <= run[s]]
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
    return [r() for r, _ in rows[:default]] + [marker] + [r() for r, _ in rows[default + gap:]], gap
