"""Formula rows measured before they are built, for formula_layout.fit.

fit() tries each equation at several levels of detail and keeps one. To
choose, it needs only each row's width, where its text ends and how many
numbers it shows: a :class:`Row` knows those and the pieces its Text is made
of, so only the levels fit() keeps are built into Text. Cell widths come
from the numbers (:func:`widths`): a column of numbers under 9.99 in size is
7 cells wide without formatting one; others are measured with core/text.fmt.

A :class:`Memo` holds what one fit() works out once and uses at every level
it tries (a factor chain repeats one matrix in every equation). It lives for
one fit(): its keys are the memory of that fit's arrays, alive meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from rnn_tui.core.maths import Array
from rnn_tui.core.text import (  # the one sign-padded cell (formula_cells imports it from here)
    padded,
)

NUMBER = re.compile(r"\d\.\d|NaN|inf")  # what fit() counts as a number shown
SHORT = 9.99  # |x| below this: fmt writes d.dddd, so padded() is 7 cells (" 0.1234")


def widths(a: Array) -> list[int]:
    """The widest padded() cell of each column of ``a`` (r, c), r >= 1."""
    short = (np.abs(a) < SHORT).all(axis=0)  # (c,); NaN is not short
    if short.all():
        return [7] * a.shape[1]
    return [7 if s else max(len(padded(x)) for x in a[:, j].tolist())
            for j, s in enumerate(short.tolist())]


def widest(a: Array) -> int:
    """The widest padded() cell of ``a`` (any shape, not empty)."""
    if (np.abs(a) < SHORT).all():  # the usual case, in one pass
        return 7
    return max(widths(a.reshape(1, -1)))


def joins(ch: str) -> bool:
    """Whether a NUMBER match could run through this character."""
    return ch.isalnum() or ch == "."


def _joining(ch: str) -> str:
    """The character's class as far as Row.then looks at it ("" stays "")."""
    return ("0" if joins(ch) else " ") if ch else ""


class Row(NamedTuple):
    """A row as pieces of Text (or an int: that many spaces). A named tuple,
    not a frozen dataclass: a fit makes thousands, and a tuple is made 5x as fast."""

    width: int  # cells
    end: int  # cells up to its last non-blank character (what rstrip() keeps)
    length: int  # characters
    numbers: int  # NUMBER matches in its text
    blank: bool  # nothing but spaces (or nothing)
    first: str  # its first and last character ("" if empty)
    last: str
    joined: bool  # a NUMBER match may run across two pieces: ``numbers`` unsure
    pieces: tuple[Text | int | Callable[[], Text], ...]  # (a callable: the Text when built)

    @staticmethod
    def of(text: Text) -> Row:
        plain = text.plain
        stripped = plain.rstrip()
        width = text.cell_len
        end = width if len(stripped) == len(plain) else cell_len(stripped)
        return Row(width, end, len(plain), len(NUMBER.findall(plain)), not stripped,
                   plain[:1], plain[-1:], False, (text,))

    def then(self, pad: int, other: Row | None) -> Row:
        """This row, ``pad`` spaces, then ``other`` (as Text.pad_right, append_text)."""
        width, length = self.width + pad, self.length + pad
        last = " " if pad else self.last
        first = self.first or (" " if pad else "")
        if other is None or (other.length == 0 and not other.pieces):
            return Row(width, self.end, length, self.numbers, self.blank, first, last,
                       self.joined, self.pieces + ((pad,) if pad else ()))
        joined = self.joined or other.joined or (
            joins(last) and joins(other.first) if last and other.first else False)
        end = self.end if other.blank else width + other.end
        return Row(width + other.width, end, length + other.length,
                   self.numbers + other.numbers, self.blank and other.blank, first or other.first,
                   other.last or last, joined,
                   self.pieces + ((pad,) if pad else ()) + other.pieces)

    @property
    def measures(self) -> tuple[object, ...]:
        """What the layout of a row depends on (all but its pieces)."""
        return self[:8]  # (width, end, length, numbers, blank, first, last, joined)

    def text(self) -> Text:
        out = Text("")
        for p in self.pieces:
            if isinstance(p, int):
                out.pad_right(p)
            else:
                out.append_text(p if isinstance(p, Text) else p())
        return out


EMPTY = Row(0, 0, 0, 0, True, "", "", False, ())


class Block:
    """Rows side by side with others; ``base``: the row the one-row atoms sit on."""

    __slots__ = ("base", "rows", "width")

    def __init__(self, rows: list[Row], base: int) -> None:
        self.rows, self.base = rows, base
        self.width = max([r.width for r in rows], default=0)


def beside(a: Block, b: Block) -> Block:
    """``b`` to the right of ``a``, their base rows level."""
    if len(a.rows) == len(b.rows) == 1 and a.base == b.base == 0:  # the usual case
        left = a.rows[0]
        return Block([left.then(a.width - left.width, b.rows[0])], 0)
    top = max(a.base, b.base)
    bottom = max(len(a.rows) - a.base, len(b.rows) - b.base)
    wa = a.width
    out = []
    for y in range(top + bottom):
        ya, yb = y - (top - a.base), y - (top - b.base)
        left = a.rows[ya] if 0 <= ya < len(a.rows) else EMPTY
        out.append(left.then(wa - left.width, b.rows[yb] if 0 <= yb < len(b.rows) else None))
    return Block(out, top)


def key(a: Array) -> tuple[object, ...]:
    """Which numbers ``a`` holds while the fit's arrays are alive (views of the
    same memory, ``p.W.T`` taken twice, have the same key)."""
    return a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str


def styles_key(styles: Mapping[object, str]) -> tuple[object, ...]:
    return tuple(styles.items()) if styles else ()


class Memo:
    """One fit()'s matrix cell widths, atoms, text pieces and segments."""

    def __init__(self) -> None:
        self.atoms: dict[tuple[object, ...], Block] = {}
        self.widths: dict[tuple[object, ...], list[int]] = {}
        self.segments: dict[tuple[object, ...], Block] = {}
        self.keys: dict[int, tuple[object, ...]] = {}  # an atom's numbers, by the atom's id
        self.lstripped: dict[int, list[object]] = {}  # by the segment's id
        self.laid: dict[tuple[int, int], tuple[list[Row], int]] = {}  # by (id(eq), level)
        self.measured: dict[tuple[object, ...] | None, tuple[int, int]] = {}  # equations alike
        self.signatures: dict[int, tuple[object, ...]] = {}  # by the equation's id
        self.texts: dict[str, tuple[object, ...]] = {}  # a text's measures, by its text
        self.alike = False  # many equations: look for those alike

    def cw(self, m: Array, shown: int, cols: int) -> int:
        """The widest padded cell of ``m[:shown, :cols]`` (cols >= 1)."""
        upto = self.widths.setdefault((key(m), shown), [])  # upto[j]: widest of 0..j
        if len(upto) < cols:
            most = upto[-1] if upto else 0
            for w in widths(m[:shown, len(upto):cols]):
                most = max(most, w)
                upto.append(most)
        return upto[cols - 1]

    def measures(self, text: str) -> tuple[object, ...]:
        """What a text atom's layout depends on: its measures, its first and
        last character only as far as a number could run through them (two
        labels alike but for their last digit, ``∂L_150/∂h_148``, lay out alike)."""
        got = self.texts.get(text)
        if got is None:
            r = Row.of(Text(text))
            got = self.texts[text] = (*r[:5], _joining(r.first), _joining(r.last), r.joined)
        return got

    def atom(self, k: tuple[object, ...], make: Callable[[], list[Row]]) -> Block:
        """The atom's rows as a block, its base the middle row."""
        got = self.atoms.get(k)
        if got is None:
            rows = make()
            got = self.atoms[k] = Block(rows, (len(rows) - 1) // 2)
        return got
