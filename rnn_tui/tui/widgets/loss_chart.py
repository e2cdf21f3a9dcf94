"""Total loss per epoch as a chart with axes: epochs along x (1..N), the loss
range up y with 2-3 ticks formatted by ``fmt``, the minimum marked ``●`` and
labelled (``min 2.8395 at epoch 50``), non-finite losses marked ``×`` on the
top row with a note. A single epoch is one point and its value, not a line.

Drawn here with braille dots (2 x 4 per cell) rather than with
``textual-plotext``: its latest release (1.0.1) requires ``plotext<6``
while plotext is at 6.1.0, it reaches into plotext's private modules
(``plotext._dict``) and has a known resize quirk, its tick labels are
plotext's own (we format every number with ``fmt``), and it paints in
plotext's colours through ANSI text, so the theme's semantic styles (and the
monochrome palette) would not apply. What this chart needs (one series, a
marked minimum, markers for NaN) is about 150 lines of NumPy and Rich, and
it is a pure function of (history, width, height), tested without an app.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from rnn_tui.core.stepper import StepView
from rnn_tui.tui.widgets.numbers import ARGMAX, DONE, LABEL, MUTED, NONFINITE, fmt
from rnn_tui.tui.widgets.panel import Panel

# Braille dot bits by (row 0..3, column 0..1) inside a cell (Unicode U+2800).
DOTS = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])
LOG_RATIO = 100.0  # a positive range wider than this is drawn on a log scale


def _first_fit(candidates: Sequence[str], width: int) -> str:
    """The first candidate that fits whole, or "" (a label is never cut)."""
    return next((c for c in candidates if cell_len(c) <= width), "")


def summary(history: Sequence[float], width: int, log: bool = False) -> list[Text]:
    """The minimum (and a note on non-finite losses), each line whole."""
    loss = np.asarray(history, dtype=float)
    ok = np.isfinite(loss)
    lines = []
    if ok.any():
        at = int(np.argmin(np.where(ok, loss, np.inf)))
        best = fmt(float(loss[at]))
        scale = " · log scale" if log else ""
        text = _first_fit([f"min {best} at epoch {at + 1}{scale}", f"min {best} at epoch {at + 1}",
                           f"min {best} (ep {at + 1})", f"min {best}", best], width)
        line = Text(text, style=LABEL)
        if text.startswith("min"):
            line.stylize(ARGMAX, 4, 4 + len(best))
        lines.append(line)
    else:
        lines.append(Text(_first_fit(["no finite loss yet", "no finite loss", "none"], width),
                          style=NONFINITE))
    bad = int((~ok).sum())
    if bad:
        first = int(np.argmin(ok)) + 1
        note = _first_fit([
            f"× {bad} non-finite (NaN/inf), first at epoch {first}: marked on the top row",
            f"× {bad} non-finite, first at epoch {first}", f"× {bad} non-finite", "× NaN"], width)
        lines.append(Text(note, style=NONFINITE))
    return lines


def _ticks(lo: float, hi: float, rows: int, log: bool) -> dict[int, str]:
    """Tick labels by plot row: the top, the bottom, and the middle if tall."""
    if hi == lo:
        return {rows // 2: fmt(lo)}
    out = {0: fmt(hi), rows - 1: fmt(lo)}
    if rows >= 5:
        m = rows // 2
        g_lo, g_hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        g = g_hi - (4 * m + 1.5) / (4 * rows - 1) * (g_hi - g_lo)  # the row's middle dot
        mid = fmt(10**g if log else g)
        if mid not in out.values():
            out[m] = mid
    return out


def _dots(loss: np.ndarray, cols: np.ndarray, ys: np.ndarray, X: int, Y: int) -> np.ndarray:
    """The dot grid (Y, X) of the line through the finite points (cols, ys),
    broken where a loss is not finite. Epochs that share a dot column are
    drawn as the column's range, joined to the next column's."""
    grid = np.zeros((Y, X), dtype=bool)
    y = np.where(np.isfinite(loss), ys, np.nan)
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    ends = np.r_[starts[1:], len(cols)] - 1
    with np.errstate(all="ignore"):
        lo_y = np.fmin.reduceat(y, starts)
        hi_y = np.fmax.reduceat(y, starts)
    prev: tuple[int, float] | None = None
    for j, s in enumerate(starts):
        c = int(cols[s])
        if math.isnan(lo_y[j]) or not np.isfinite(loss[s:ends[j] + 1]).all():
            prev = None if math.isnan(lo_y[j]) else prev
            if math.isnan(lo_y[j]):
                continue
        first = y[s] if not math.isnan(y[s]) else lo_y[j]
        last = y[ends[j]] if not math.isnan(y[ends[j]]) else hi_y[j]
        if prev is not None:  # join the previous column's last point to this one's first
            pc, py = prev
            for x in range(pc + 1, c + 1):
                a = float(py + (first - py) * (x - 1 - pc) / (c - pc))
                b = float(py + (first - py) * (x - pc) / (c - pc))
                grid[round(min(a, b)):round(max(a, b)) + 1, x] = True
        grid[round(float(lo_y[j])):round(float(hi_y[j])) + 1, c] = True
        prev = (c, float(last))
    return grid


def chart(history: Sequence[float], width: int, height: int) -> list[Text]:
    """The loss chart in at most ``height`` lines of at most ``width`` cells."""
    width, height = max(1, width), max(1, height)
    N = len(history)
    if N == 0:
        return [Text(_first_fit(["after the first forward pass", "none yet"], width),
                     style=MUTED)]
    loss = np.asarray(history, dtype=float)
    ok = np.isfinite(loss)
    lo = float(loss[ok].min()) if ok.any() else 0.0
    hi = float(loss[ok].max()) if ok.any() else 0.0
    log = lo > 0 and hi / lo >= LOG_RATIO
    notes = summary(history, width, log)
    rows = height - 2 - len(notes)  # plot rows; then the axis, its labels, the notes
    ticks = _ticks(lo, hi, max(rows, 1), log) if ok.any() else {}
    lw = max((cell_len(t) for t in ticks.values()), default=1)
    pw = width - lw - 2  # plot cells; the axis takes one, one spare at the right
    if rows < 2 or pw < 6:
        last = Text(_first_fit([f"epoch {N}: {fmt(float(loss[-1]))}", fmt(float(loss[-1]))],
                               width), style=LABEL)
        return ([*notes, last] if height > len(notes) else notes)[:height]
    X, Y = 2 * pw, 4 * rows
    cols = (np.arange(N, dtype=np.int64) * (X - 1) // (N - 1)) if N > 1 else np.zeros(1, int)
    with np.errstate(all="ignore"):
        g = np.log10(loss) if log else loss
        g_lo, g_hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        span = g_hi - g_lo
        ys = np.full(N, (Y - 1) / 2) if span == 0 else (g_hi - g) / span * (Y - 1)
    ys = np.clip(np.nan_to_num(ys, nan=0.0), 0, Y - 1)
    grid = _dots(loss, cols, ys, X, Y)
    code = (grid.reshape(rows, 4, pw, 2) * DOTS[None, :, None, :]).sum(axis=(1, 3))
    cells = [[chr(0x2800 + int(v)) if v else " " for v in row] for row in code]
    styles = [[DONE if v else "" for v in row] for row in code]
    marks: dict[tuple[int, int], tuple[str, str]] = {}
    for i in np.flatnonzero(~ok)[:: max(1, (~ok).sum() // X + 1)]:
        marks[(0, int(cols[i]) // 2)] = ("×", NONFINITE)
    if ok.any():
        best = int(np.argmin(np.where(ok, loss, np.inf)))
        marks[(round(float(ys[best])) // 4, int(cols[best]) // 2)] = ("●", ARGMAX)
    if N == 1 and ok[0]:  # one point: its value beside it
        for i, ch in enumerate(f" {fmt(float(loss[0]))} (epoch 1)"[: pw - 1]):
            marks[(round(float(ys[0])) // 4, 1 + i)] = (ch, LABEL)
    for (r, c), (ch, style) in marks.items():
        cells[r][c], styles[r][c] = ch, style
    out: list[Text] = []
    for r in range(rows):
        line = Text(f"{ticks.get(r, ''):>{lw}}", style=LABEL)
        line.append("┤" if r in ticks else "│", style=LABEL)
        for ch, style in zip(cells[r], styles[r], strict=True):
            line.append(ch, style=style)
        out.append(line)
    out += _x_axis(N, cols, lw, pw, width)
    out += notes
    for line in out:
        line.rstrip()
    return out[:height]


def _x_axis(N: int, cols: np.ndarray, lw: int, pw: int, width: int) -> list[Text]:
    """The axis line with ticks at epochs 1, the middle and N, and their labels."""
    axis = [" "] * lw + ["└"] + ["─"] * pw
    labels = [" "] * width
    picks = [1, N] if N > 1 else [1]
    if N > 2:
        picks.insert(1, (N + 1) // 2)
    taken = -1
    for e in picks:
        x = lw + 1 + int(cols[e - 1]) // 2
        text = str(e)
        start = min(max(x - len(text) // 2, lw + 1), width - len(text))
        if start <= taken + 1 or (e != N and start + len(text) + 2 > width - len(str(N))):
            continue
        axis[x] = "┴"
        labels[start:start + len(text)] = text
        taken = start + len(text)
    tail = "".join(labels).rstrip()
    if cell_len(tail) + len(" epoch") <= width:
        tail += " epoch"
    elif lw >= len("epoch"):
        tail = f"{'epoch':>{lw}}" + tail[lw:]
    return [Text("".join(axis), style=LABEL), Text(tail, style=LABEL)]


class LossChart(Panel):
    """The chart of ``view.loss_history`` (the total loss of every epoch run
    so far). Call ``show(view)`` on every step; it redraws only when the
    history grows or the size changes."""

    TITLE = "Total loss per epoch"

    def memo(self, view: StepView) -> object:
        history = view.loss_history
        return (len(history), history[-1] if history else None, view.epoch)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        return chart(view.loss_history, width, height)
