"""Marks of the active comparison on the panels' cells: every value of the
current step where theirs (a student's trace, or the handout's printed
numbers) differs from ours gets the DIFFERS style, and a line that shows
the value puts their number beside ours (``≠ 0.0456 at [1,2]``).

A panel reads its marks by the field of the trace schema it draws
(:func:`rnn_tui.core.compare.value`'s names: ``h``, ``grad.W``,
``term.dW``...): fields belong to one phase each, so a field names one
value of the step on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.text import Text

from rnn_tui.core.compare import Block, Comparison
from rnn_tui.core.maths import Array
from rnn_tui.core.text import fmt_apart
from rnn_tui.tui.widgets import numbers as N

DIFFERS = N.DIFFERS  # the style of a marked cell (panel.palette)


def _cell(entry: tuple[int, ...]) -> tuple[int, int]:
    """An entry as block()'s (row, column): a vector's entries are row 0."""
    return (0, entry[0]) if len(entry) == 1 else (entry[0], entry[1]) if entry else (0, 0)


def _where(entry: tuple[int, ...]) -> str:
    return "[" + ",".join(str(i + 1) for i in entry) + "]" if entry else ""


class Marks:
    """The differences of one step, by field (at most LIMIT cells a block:
    a panel shows no more of a big matrix than that)."""

    LIMIT = 256

    def __init__(self, blocks: Iterable[Block] = ()) -> None:
        self.by_field: dict[str, list[Comparison]] = {}
        for b in blocks:
            if b.differ:
                self.by_field.setdefault(b.field, []).extend(b.differences(self.LIMIT))

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def of(self, *fields: str) -> list[Comparison]:
        return [c for f in fields for c in self.by_field.get(f, ())]

    def cells(self, *fields: str) -> dict[tuple[int, int], str]:
        """block()'s styles: each differing cell of the fields."""
        return {_cell(c.entry): DIFFERS for c in self.of(*fields)}

    def entries(self, *fields: str) -> dict[int, str]:
        """vector()'s styles, for a field that is a vector."""
        return {c.entry[-1] if c.entry else 0: DIFFERS for c in self.of(*fields)}

    def focus(self, *fields: str) -> int | None:
        """The first differing entry of a vector (kept in view when elided)."""
        found = self.of(*fields)
        return (found[0].entry[-1] if found[0].entry else 0) if found else None

    def beside(self, *fields: str) -> Text:
        """Their number beside ours for the first difference (``  ≠ 0.0456
        at [1,2]``; the others are marked cells), empty when nothing
        differs. The line must show ours of the same value: a term's share
        of dW where the term is shown, not the dW it adds to."""
        found = self.of(*fields)
        if not found:
            return Text("")
        c = found[0]
        _, theirs = fmt_apart(c.expected, c.got)
        return Text(f"  ≠ {theirs}" + (f" at {_where(c.entry)}" if c.entry else ""),
                    style=N.WRONG)


    def append_beside(self, line: Text, width: int, *fields: str) -> Text:
        """``line`` with :meth:`beside` appended when both fit ``width``
        (their number never pushes our cells off the line: the strip has it)."""
        after = self.beside(*fields)
        if after.cell_len and line.cell_len + after.cell_len <= width:
            line.append_text(after)
        return line


NO_MARKS = Marks()


def styled(base: Mapping[int, str] | None, marks: Marks, *fields: str) -> dict[int, str]:
    """A vector's styles with the differing entries marked over them."""
    return {**(base or {}), **marks.entries(*fields)}


def marked_vector(values: Array, width: int, marks: Marks, field: str,
                  styles: Mapping[int, str] | None = None, focus: int | None = None,
                  cw: int | None = None) -> Text:
    """vector() with the field's differences marked (elided around their
    first one unless ``focus`` says where), and their first one's number
    beside it when the line has room for both."""
    focus = marks.focus(field) if focus is None else focus
    if not marks.of(field):
        return N.vector(values, width, styles, focus=focus, cw=cw)
    out = N.vector(values, width, styled(styles, marks, field), focus=focus, cw=cw)
    return marks.append_beside(out, width, field)


def marked_block(head: Text, m: Array, width: int, full: bool, marks: Marks,
                 fields: tuple[str, ...], styles: Mapping[tuple[int, int], str] | None = None,
                 after: Array | None = None, after_fields: tuple[str, ...] = (),
                 after_styles: Mapping[tuple[int, int], str] | None = None,
                 labels: Sequence[str] | None = None) -> list[Text]:
    """numbers.block() with the fields' differences marked on the matrix (and
    ``after_fields``' on ``after``), their first one's number beside its row
    when it has room."""
    found = marks.of(*fields, *after_fields)
    if not found:
        return N.block(head, m, width, full, styles, after, after_styles, labels)
    lines = N.block(head, m, width, full, {**(styles or {}), **marks.cells(*fields)}, after,
                    {**(after_styles or {}), **marks.cells(*after_fields)}, labels)
    entry = found[0].entry
    row = entry[0] if len(entry) == 2 and len(lines) == m.shape[0] > 1 else len(lines) - 1
    marks.append_beside(lines[row], width, *fields, *after_fields)
    return lines
