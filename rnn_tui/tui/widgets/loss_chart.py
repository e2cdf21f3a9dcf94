"""Total loss per epoch as a chart with axes: epochs along x (1..N), the loss
range up y with 2-3 ticks formatted by ``fmt``, a bar per epoch (or per run
of epochs, their smallest, when there are more epochs than columns) drawn with
eighth blocks ``▁▂▃▄▅▆▇█``, the minimum's bar coloured and marked ``●`` and
labelled (``min 2.8395 at epoch 50``), non-finite losses marked ``×`` on the
top row with a note. One epoch is one point and its value, not a flat line.
A range over 100x wide (a diverging run) is drawn on a log scale, and says so.

Our own drawing rather than ``textual-plotext``: its latest release (1.0.1)
requires ``plotext<6`` while plotext is at 6.1.0, it reaches into plotext's
private modules (``plotext._dict``) and has a known resize quirk, its tick
labels are plotext's own (we format every number with ``fmt``), and it
paints in plotext's colours through ANSI text, so the theme's semantic
styles (and the monochrome palette) would not apply. What this chart needs
(one series, a marked minimum, markers for NaN) is ~150 lines of NumPy and
Rich, a pure function of (history, width, height) tested without an app.
Blocks rather than braille dots: braille is missing from common monospace
fonts (DejaVu Sans Mono) and its dots wash out on a projector.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.cells import cell_len
from rich.text import Text

from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import ARGMAX, DONE, LABEL, MUTED, NONFINITE, fmt
from rnn_tui.tui.widgets.panel import Panel

BLOCKS = " ▁▂▃▄▅▆▇█"  # a bar's top cell by eighths
LOG_RATIO = 100.0  # a positive range wider than this is drawn on a log scale


def _first_fit(candidates: Sequence[str], width: int) -> str:
    """The first candidate that fits whole, or "" (a label is never cut)."""
    return next((c for c in candidates if cell_len(c) <= width), "")


def summary(history: Sequence[float], width: int, log: bool = False,
            unit: str = "epoch") -> list[Text]:
    """The minimum (and a note on non-finite losses), each line whole."""
    loss = np.asarray(history, dtype=float)
    ok = np.isfinite(loss)
    lines = []
    if ok.any():
        at = int(np.argmin(np.where(ok, loss, np.inf)))
        best = fmt(float(loss[at]))
        scale = " · log scale" if log else ""
        at_ = f"at {unit} {at + 1}"
        text = _first_fit([f"min {best} {at_}{scale}", f"min {best} {at_}",
                           f"min {best} ({unit[:2]} {at + 1})", f"min {best}", best], width)
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
            f"× {bad} non-finite (NaN/inf), first at {unit} {first}: marked on the top row",
            f"× {bad} non-finite, first at {unit} {first}", f"× {bad} non-finite", "× NaN"], width)
        lines.append(Text(note, style=NONFINITE))
    return lines


def _ticks(g_lo: float, g_hi: float, rows: int, log: bool) -> dict[int, str]:
    """Tick labels by plot row: the top (the largest loss: a full bar), the
    bottom (the smallest: ▁), and the middle if tall."""
    levels = 8 * rows
    back = (lambda g: 10**g) if log else (lambda g: g)
    if g_hi == g_lo:
        return {_top_row(levels // 2, rows): fmt(back(g_lo))}
    out = {0: fmt(back(g_hi)), rows - 1: fmt(back(g_lo))}
    if rows >= 5:
        m = rows // 2
        level = 8 * (rows - 1 - m) + 4  # the middle of row m
        mid = fmt(back(g_lo + (level - 1) / (levels - 1) * (g_hi - g_lo)))
        if mid not in out.values():
            out[m] = mid
    return out


def _top_row(height: int, rows: int) -> int:
    """The row holding the top of a bar ``height`` eighths tall (1..8*rows)."""
    return rows - 1 - (height - 1) // 8


def _columns(g: np.ndarray, ok: np.ndarray, pw: int) -> tuple[np.ndarray, ...]:
    """Per cell column: the value drawn (NaN: no bar) and whether a loss in
    it is not finite; per epoch: its column. More epochs than columns: a
    column shows the smallest loss of its epochs (the lowest bar is still
    the minimum; spikes within a column do not show); fewer: an epoch is a bar several
    columns wide (1 to 3 columns and a gap when there is room)."""
    N = len(g)
    if N > pw:
        starts = (np.arange(pw) * N) // pw
        with np.errstate(all="ignore"):
            value = np.fmin.reduceat(np.where(ok, g, np.nan), starts)  # NaN: none finite
        return value, np.logical_or.reduceat(~ok, starts), np.arange(N) * pw // N
    idx = np.arange(pw) * N // pw
    value = np.where(ok[idx], g[idx], np.nan)
    bad = ~ok[idx]
    first = -(-np.arange(N) * pw // N)  # ceil(i pw / N): the epoch's first column
    last = -(-(np.arange(N) + 1) * pw // N) - 1
    where = (first + last) // 2
    if N == 1:  # one point, drawn by chart()
        value[:], bad[1:] = np.nan, False
        return value, bad, np.zeros(1, dtype=np.int64)
    if pw >= 3 * N:  # room to spare: bars 1-3 columns wide, apart
        narrow = np.abs(np.arange(pw) - where[idx]) > min(1, (pw // N - 2) // 2)
        value[narrow], bad[narrow] = np.nan, False
    return value, bad, where


def chart(history: Sequence[float], width: int, height: int, unit: str = "epoch") -> list[Text]:
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
    with np.errstate(all="ignore"):
        g = np.log10(loss) if log else loss
    g_lo, g_hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
    notes = summary(history, width, log, unit)
    rows = height - 2 - len(notes)  # plot rows; then the axis, its labels, the notes
    ticks = _ticks(g_lo, g_hi, max(rows, 1), log) if ok.any() else {}
    lw = max((cell_len(t) for t in ticks.values()), default=1)
    pw = width - lw - 2  # plot cells; the axis takes one, one spare at the right
    if rows < 2 or pw < 6:
        last = Text(_first_fit([f"{unit} {N}: {fmt(float(loss[-1]))}", fmt(float(loss[-1]))],
                               width), style=LABEL)
        return ([*notes, last] if height > len(notes) else notes)[:height]
    levels = 8 * rows
    value, bad, where = _columns(g, ok, pw)
    if N > pw and ok.any():  # the tallest bar is the top tick
        g_hi = float(np.nanmax(value))
        ticks = {r: t for r, t in _ticks(g_lo, g_hi, rows, log).items() if cell_len(t) <= lw}
    span = g_hi - g_lo
    with np.errstate(all="ignore"):
        tall = np.full(pw, levels // 2) if span == 0 else (
            1 + np.rint((np.nan_to_num(value, nan=g_lo) - g_lo) / span * (levels - 1)))
    tall = np.where(np.isnan(value), 0, np.clip(tall, 1, levels)).astype(np.int64)
    fill = np.clip(tall[None, :] - 8 * (rows - 1 - np.arange(rows))[:, None], 0, 8)  # (rows, pw)
    cells = [[BLOCKS[v] for v in row] for row in fill]
    styles = [[DONE if v else "" for v in row] for row in fill]
    for x in np.flatnonzero(bad):
        cells[0][x], styles[0][x] = "×", NONFINITE
    if N == 1 and ok[0]:  # one point and its value, not a bar
        r = _top_row(levels // 2, rows)
        cells[r][0], styles[r][0] = "●", ARGMAX
        note = _first_fit([f" {fmt(float(loss[0]))} ({unit} 1)", f" {fmt(float(loss[0]))}"],
                          pw - 1)  # whole, or not at all (the summary has it)
        for i, ch in enumerate(note):
            cells[r][1 + i], styles[r][1 + i] = ch, LABEL
    elif ok.any():  # the lowest bar in the minimum's colour, ● just above it
        best = int(np.argmin(np.where(ok, loss, np.inf)))
        x = int(where[best])
        bar = np.flatnonzero(tall == tall[x]) if N <= pw else np.array([x])
        for c in bar[np.abs(bar - x) <= 1]:  # the bar's columns (1-3 wide)
            for r in range(rows):
                styles[r][c] = ARGMAX if fill[r][c] else styles[r][c]
        top = _top_row(max(1, int(tall[x])), rows)
        cells[max(0, top - 1)][x], styles[max(0, top - 1)][x] = "●", ARGMAX
    out: list[Text] = []
    for r in range(rows):
        line = Text(f"{ticks.get(r, ''):>{lw}}", style=LABEL)
        line.append("┤" if r in ticks else "│", style=LABEL)
        for ch, style in zip(cells[r], styles[r], strict=True):
            line.append(ch, style=style)
        out.append(line)
    out += _x_axis(N, where, lw, pw, width, unit)
    out += notes
    for line in out:
        line.rstrip()
    return out[:height]


def _x_axis(N: int, where: np.ndarray, lw: int, pw: int, width: int,
            unit: str = "epoch") -> list[Text]:
    """The axis line with ticks at epochs 1, the middle and N, and their labels."""
    axis = [" "] * lw + ["└"] + ["─"] * pw
    labels = [" "] * width
    picks = [1, N] if N > 1 else [1]
    if N > 2:
        picks.insert(1, (N + 1) // 2)
    taken = -1
    for e in picks:
        x = lw + 1 + int(where[e - 1])
        text = str(e)
        start = min(max(x - len(text) // 2, lw + 1), width - len(text))
        if start <= taken + 1 or (e != N and start + len(text) + 2 > width - len(str(N))):
            continue
        axis[x] = "┴"
        labels[start:start + len(text)] = text
        taken = start + len(text)
    tail = "".join(labels).rstrip()
    if cell_len(tail) + len(unit) + 1 <= width:
        tail += " " + unit
    elif lw >= len(unit):
        tail = f"{unit:>{lw}}" + tail[lw:]
    return [Text("".join(axis), style=LABEL), Text(tail, style=LABEL)]


class LossChart(Panel):
    """The chart of ``view.loss_history`` (the total loss of every epoch run
    so far). Call ``show(view)`` on every step; it redraws only when the
    history grows or the size changes."""

    TITLE = "Total loss per epoch"

    def memo(self, view: StepView) -> object:
        history = view.loss_history  # (the chart of the history; before it, of the L_t so far)
        return tuple(history) if history else (view.epoch, view.visible_t)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        room = width - 2  # the top border's room for a title (two cells less than inside)
        if view.loss_history:
            self.border_title = _first_fit(TITLES, room) or "Loss"
            return chart(view.loss_history, width, height)
        # Epoch 1 before its total exists: its steps' losses L_t so far
        self.border_title = _first_fit(STEP_TITLES, room) or "L_t"
        return chart(view.fwd.loss[: view.visible_t].tolist(), width, height, unit="t")


# The panel's titles, longest first: the first that fits whole (never cut mid-word).
TITLES = ("Total loss per epoch", "Loss per epoch", "Loss")
STEP_TITLES = ("Loss L_t per step of epoch 1 (the total comes after t = T)",
               "Loss L_t per step of epoch 1 (total after t = T)",
               "Loss L_t per step of epoch 1", "L_t per step, epoch 1", "L_t, epoch 1", "L_t")
