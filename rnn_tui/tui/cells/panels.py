"""The GRU/LSTM debugger's other panels: the status line, the BPTT triangle
‖∂L_t/∂s_k‖, the states h_t (and C_t) so far, the gradient sums so far."""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.core.cells.epochs import CellEpoch, CellRun
from rnn_tui.core.cells.view import CellView
from rnn_tui.core.divergence import diverging
from rnn_tui.core.epochs import Cancelled, ShouldStop
from rnn_tui.core.maths import Array
from rnn_tui.core.stepper import Layout, Phase, Position
from rnn_tui.core.text import fmt, printable
from rnn_tui.tui.cells.step import mat_inline
from rnn_tui.tui.widgets import numbers as N
from rnn_tui.tui.widgets.bptt import Window, largest, shade
from rnn_tui.tui.widgets.panel import Panel


class CellStatus(Panel):
    """Model, cell, epoch, the step, the loss so far (Σ L_t of the steps
    shown), finiteness (where it first failed, as the RNN's status bar names
    it; "diverging" as the RNN's when the loss grows or a parameter explodes),
    mode, a job's progress, the quiz's score."""

    activity = ""
    _since: tuple[object, str] | None = None  # (the non-finite epoch, where it failed)
    _finding: object = None

    def lines(self, view: CellView, width: int, height: int) -> list[Text]:  # type: ignore[override]
        out = self._line(view, width, loss=True)  # the loss only where all else fits
        if out.cell_len > width:
            out = self._line(view, width, loss=False)
        out.truncate(width, overflow="ellipsis")
        return [out]

    def _line(self, view: CellView, width: int, loss: bool) -> Text:
        sep = Text(" │ ", style=N.LABEL)
        name = printable(getattr(view.spec, "name", "") or "")
        out = Text.assemble((name, "bold"))
        if name:
            out.append_text(sep)
        out.append(view.cell.upper(), style="bold" if not name else "")
        out.append_text(sep).append(f"epoch {view.pos.epoch}")
        out.append_text(sep).append(view.label)
        if loss:
            out.append_text(sep).append(f"Σ L = {fmt(view.running_loss)}")
        out.append_text(sep)
        mode = "handout dE" if view.mode == "x_t" else "exact"
        activity = [printable(self.activity)] if self.activity else []
        tail = [mode, *activity]
        why = diverging(view.loss_history, view.params) if view.finite else ""
        if why:  # the advice whole, in the longest words that fit (80 wide: the shortest)
            room = width - out.cell_len - sum(len(t) + 3 for t in tail)
            advice = (f"diverging ({why}): lower the learning rate",
                      f"diverging ({why}): lower η", "diverging: lower η", "diverging")
            out.append(next((a for a in advice if len(a) <= room), advice[-1]), style=N.WRONG)
        elif view.finite:
            out.append("finite ✓", style=N.RIGHT)
        else:  # a job's progress first, then where, then the mode: the words that fit
            out.append("NOT FINITE", style=N.NONFINITE)
            since = self.since(view)
            lower = ": lower the learning rate"
            short = since.rsplit(" (", 1)[0] if since.endswith(")") else since  # no (3/15)
            choices = [(f" since {since}{lower}", tail), (f" since {since}", tail),
                       (f" since {short}", tail), (f" since {since}", activity),
                       (f" since {short}", activity)] if since else [(lower, tail)]
            if since and not loss:  # last resort: the epoch alone, then NOT FINITE alone
                epoch = since.split(",")[0]
                choices += [(f" since {epoch}", activity), (f" {epoch}", activity), ("", activity)]
            choices.append(choices[-1])  # when nothing fits: cut at the end (…)
            for words, kept in choices:  # the last one if none fits
                if out.cell_len + len(words) + sum(len(t) + 3 for t in kept) <= width:
                    break
            out.append(words, style=N.WRONG)
            tail = kept
        for t in tail:
            out.append_text(sep).append(t, style="bold" if t is not mode else "")
        return out

    def since(self, view: CellView) -> str:
        """Where the numbers first stopped being finite, e.g. ``epoch 2, forward
        t=1 (1/4)``, among the epochs seen; found once per model in a thread
        (the BPTT terms are searched one by one when the gradients are not
        finite), on copies of the epoch's chunks (the stepper's caches are
        the event loop's)."""
        bad = view.stepper.checkpoints.nonfinite
        if bad is None:
            return ""
        if self._since is not None and self._since[0] is bad:
            return self._since[1]
        if self._finding is not bad:
            self._finding = bad
            layout = view.stepper.layout

            def find() -> tuple[object, str] | None:
                worker = get_current_worker()  # quitting cancels it between BPTT rows
                try:
                    return bad, first_nonfinite(bad, layout, lambda: worker.is_cancelled)
                except Cancelled:
                    return None

            self.run_worker(find, thread=True, exclusive=True, group="first-nonfinite",
                            exit_on_error=False)
        return f"epoch {bad.number} (finding the step…)"

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if (event.worker.group == "first-nonfinite" and event.state is WorkerState.SUCCESS
                and event.worker.result is not None):
            self._since = event.worker.result  # type: ignore[assignment]
            self.forget()


def first_nonfinite(run: CellRun, layout: Layout, should_stop: ShouldStop) -> str:
    """``epoch N, <step>`` of the first step of ``run`` that is not finite
    (core's Cancelled when ``should_stop()``)."""
    for ch in run.chunks:
        if not ch.finite:
            found = CellEpoch(ch.number, ch.record, ch.mode).first_nonfinite(should_stop)
            if found is not None:
                pos = Position(epoch=run.number, phase=Phase(found[0]), index=found[1],
                               chunk=ch.j)
                return f"epoch {run.number}, {layout.label(pos)}"
    return f"epoch {run.number}"


class CellTriangle(Panel):
    """Row t, column k: ‖∂L_t/∂s_k‖ of every term reached (a number when the
    row fits, else a shade per decade as the RNN's BPTT panel)."""

    TITLE = "BPTT ‖∂L_t/∂s_k‖"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._norms: dict[int, Array] = {}
        self._of: object = None

    def norms(self, view: CellView, rows: list[int]) -> dict[int, Array]:
        """Row norms, kept for the epoch's chunk on screen (the current row
        comes from the row BPTT is walking; others are computed together)."""
        if self._of is not view.epoch:
            self._of, self._norms = view.epoch, {}
        if view.phase is Phase.BPTT and view.term[0] not in self._norms:
            self._norms[view.term[0]] = view.epoch.row(view.term[0]).norms()
        missing = [t for t in rows if t not in self._norms]
        if missing:
            self._norms.update(view.epoch.row_norms(missing))
        return {t: self._norms[t] for t in rows}

    def lines(self, view: CellView, width: int, height: int) -> list[Text]:  # type: ignore[override]
        T = view.layout.T
        w = Window.of(view, width)
        t_cur, k_cur, label_w, numeric, cell_w = w.t, w.k, w.label_w, w.numeric, w.cell_w
        rows_room = max(1, height - 1)
        center = t_cur or T
        lo = max(1, min(center - rows_room // 2, T - rows_room + 1))
        rows = list(range(lo, min(T, lo + rows_room - 1) + 1))
        k_lo, k_hi = w.k_lo, w.k_hi
        done = w.done(rows)
        norms = self.norms(view, [t for t in rows if done[t]])
        top = largest(norms)
        head = Text(" " * label_w)
        for k in range(k_lo, k_hi + 1):
            head.append(f"{'k=' + str(k):<7}" if numeric else ("k" if k == k_lo else " "),
                        style=N.LABEL)
        out = [head]
        for t in rows:
            cells: list[tuple[str, str]] = []  # (text, style) per k
            for k in range(k_lo, k_hi + 1):
                if k > t:
                    cells.append((" " * cell_w, ""))
                    continue
                reached = t - k < done[t]
                style = N.CURRENT if (t, k) == (t_cur, k_cur) else (N.DONE if reached else N.MUTED)
                if not reached:
                    cells.append((f"{'·':<{cell_w}}", style))
                    continue
                size = float(norms[t][k - 1])
                if not math.isfinite(size):
                    style = N.NONFINITE
                cells.append((f"{N.fmt(size):<6}"[:6] + " " if numeric else shade(size, top),
                              style))
            out.append(_runs(Text(f"t={t:<{label_w - 2}}", style=N.LABEL), cells))
        return out


def _runs(line: Text, cells: list[tuple[str, str]]) -> Text:
    """Append the cells, one span per run of one style (a span per cell costs)."""
    text, style = "", None
    for piece, s in cells:
        if s != style and text:
            line.append(text, style=style or "")
            text = ""
        text, style = text + piece, s
    if text:
        line.append(text, style=style or "")
    return line


class CellStates(Panel):
    """x°_t, h_t (C_t for the LSTM) and the prediction, t = 1..visible."""

    TITLE = "states"

    def lines(self, view: CellView, width: int, height: int) -> list[Text]:  # type: ignore[override]
        f, n = view.fwd, view.visible_t
        lstm = view.cell == "lstm"
        per = 2 if lstm else 1
        room = max(1, height // per)
        lo = max(1, min(view.focus_t - room // 2, n - room + 1))
        out: list[Text] = []
        for t in range(lo, min(n, lo + room - 1) + 1):
            head = f"h_{t:<{len(str(view.layout.T))}} = "
            style = N.CURRENT if t == view.focus_t else ""
            out.append(Text(head, style=style).append_text(N.vector(f.h[t], width - len(head))))
            if lstm:
                head_c = f"C_{t:<{len(str(view.layout.T))}} = "
                out.append(Text(head_c, style=style).append_text(
                    N.vector(f.C[t], width - len(head_c))))
        return out


class CellSums(Panel):
    """dV, dc and the BPTT sums of every parameter so far."""

    TITLE = "gradients so far"

    def lines(self, view: CellView, width: int, height: int) -> list[Text]:  # type: ignore[override]
        out: list[Text] = []
        sums: dict[str, Array] = {}
        if view.output_sums is not None:
            sums["V"], sums["c"] = view.output_sums
        sums.update(view.bptt_sums or {})
        if not sums:
            return [Text("(none yet: forward pass)", style=N.MUTED)]
        for n, a in sums.items():
            head = f"d{n} = "
            out.append(Text(head).append_text(mat_inline(np.asarray(a), width - len(head))))
        if len(out) > height:
            rest = len(out) - height + 1
            out = [*out[:height - 1], Text(f"⋮ {rest} more", style=N.MUTED)]
        return out
