"""The triangle of BPTT terms (t, k): which are done, which is current, and
how big each one is, so vanishing or exploding products show at a glance."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from rnn_tui.core.maths import Array
from rnn_tui.core.stepper import Layout, Phase
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import CURRENT, DONE, LABEL, MUTED, NONFINITE, assembled, fmt
from rnn_tui.tui.widgets.panel import Panel

if TYPE_CHECKING:
    from rnn_tui.core.cells.view import CellView

SHADES = " ·░▒▓█"
LEGENDS = ("█ largest, each shade 10x smaller; ! not finite; · not yet",
           "█ largest, each shade ÷10; ! not finite; · not yet",
           "█ largest, each shade ÷10; ! NaN/inf",
           "█ max, each shade ÷10", "█ max, shade ÷10", "█ max")  # the widest that fits
TITLES = ("BPTT terms |∂L_t/∂a_k|", "BPTT terms", "BPTT")


def shade(size: float, top: float) -> str:
    """A glyph for |term| on a log scale: each step down is a factor of 10."""
    if not math.isfinite(size):
        return "!"
    if size <= 0 or top <= 0:
        return SHADES[0]
    decades = math.log10(top / size)
    level = len(SHADES) - 1 - int(decades)
    return SHADES[max(0, min(len(SHADES) - 1, level))]


@dataclass(frozen=True, slots=True)
class Window:
    """What both triangles (this panel and the cells', cells/panels.py) draw
    from: the current term (t, k) ((0, 0) outside BPTT), the index of the
    last term reached (-1 before BPTT, all after it), and the columns k_lo..k_hi
    that fit around k, each a number (cell_w 7: "0.1234 ") or a shade (1)."""

    t: int
    k: int
    upto: int
    label_w: int  # "t=12  "
    numeric: bool  # every term as a number, else a shade each
    cell_w: int
    k_lo: int
    k_hi: int

    @classmethod
    def of(cls, view: StepView | CellView, width: int) -> Window:
        T = view.layout.T
        if view.phase is Phase.BPTT:
            (t, k), upto = view.term, view.pos.index
        else:
            t, k = 0, 0
            upto = -1 if view.phase in (Phase.FORWARD, Phase.OUTPUT) else 10**9
        label_w = len(str(T)) + 4
        numeric = label_w + 7 * T <= width
        cell_w = 7 if numeric else 1
        cols_room = max(1, (width - label_w) // cell_w)
        k_lo = max(1, min((k or 1) - cols_room // 2, T - cols_room + 1))
        return cls(t, k, upto, label_w, numeric, cell_w, k_lo, min(T, k_lo + cols_room - 1))

    def done(self, rows: Iterable[int]) -> dict[int, int]:
        """How many terms of each row BPTT has reached (row t runs k = t..1).
        A term's size is shown once it is reached: rows not started are dots,
        so the forward pass of a big model computes no row at all."""
        return {t: min(t, max(0, self.upto - Layout.term_index(t, t) + 1)) for t in rows}


def largest(norms: Mapping[int, Array]) -> float:
    """The largest finite term size among the rows (0 without any): the
    shades' top."""
    return max((float(n.max()) for n in norms.values() if len(n) and math.isfinite(n.max())),
               default=0.0)


class BpttPanel(Panel):
    TITLE = "BPTT terms |∂L_t/∂a_k|"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        T = view.layout.T
        self.border_title = next((t for t in TITLES if len(t) <= width - 2), TITLES[-1])
        w = Window.of(view, width)
        t_cur, k_cur, label_w, numeric, cell_w = w.t, w.k, w.label_w, w.numeric, w.cell_w
        # rows t = lo..hi around the current one; a ⋮ line for the rows above
        # and below that have no room (never a row hidden without saying so)
        room = max(1, height - 1 - (0 if numeric else 1))
        center = t_cur or T
        k = room
        while True:
            lo = max(1, min(center - k // 2, T - k + 1))
            hi = min(T, lo + k - 1)
            if k <= 1 or k + (lo > 1) + (hi < T) <= room:
                break
            k -= 1
        rows = range(lo, hi + 1)
        k_lo, k_hi = w.k_lo, w.k_hi
        done = w.done(rows)
        norms = view.epoch.row_norms(t for t in rows if done[t])
        top = largest(norms)
        out: list[Text] = []
        head = Text(" " * label_w)
        for k in range(k_lo, k_hi + 1):
            if numeric:
                head.append(f"{'k=' + str(k):>{cell_w - 1}} ", style=LABEL)
            else:
                head.append(str(k % 10), style=LABEL)
        out.append(head)
        if lo > 1:
            out.append(Text(f"⋮ t=1{'–' + str(lo - 1) if lo > 2 else ''} above", style=MUTED))
        for t in rows:
            cur = k_cur if t == t_cur else 0
            out.append(self._row(t, k_lo, k_hi, cell_w, label_w, done[t], cur, norms.get(t), top))
        if hi < T:
            out.append(Text(f"⋮ t={hi + 1}{'–' + str(T) if hi + 1 < T else ''} below",
                            style=MUTED))
        if not numeric:
            out.append(Text(next((k for k in LEGENDS if len(k) <= width), LEGENDS[-1]),
                            style=MUTED))
        return out

    @staticmethod
    def _row(t: int, k_lo: int, k_hi: int, cell_w: int, label_w: int, done: int,
             k_cur: int, norms: Array | None, top: float) -> Text:
        """Row t of the triangle: terms k_lo..k_hi, the first ``done`` of the
        row (k = t, t-1, ...) with their size, the rest dots."""
        numeric = cell_w > 1
        line = [(f"t={t:<{label_w - 3}} ", LABEL)]
        for k in range(k_lo, k_hi + 1):
            if k > t:
                line.append((" " * cell_w, ""))
                continue
            if t - k >= done or norms is None:
                line.append((f"{'·':>{cell_w - 1}}" + (" " if numeric else ""), MUTED))
                continue
            size = float(norms[k - 1])
            style = CURRENT if k == k_cur else DONE
            if not math.isfinite(size):
                style = NONFINITE
            glyph = f"{fmt(size):>{cell_w - 1}}" if numeric else shade(size, top)
            line.append((glyph, style))
            if numeric:
                line.append((" ", ""))
        return assembled(line)
