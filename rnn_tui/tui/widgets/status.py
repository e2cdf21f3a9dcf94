"""The top line: model, epoch, phase and position, mode, and finiteness."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.worker import Worker, WorkerState, get_current_worker

from rnn_tui.core.divergence import diverging
from rnn_tui.core.epochs import Cancelled, Epoch
from rnn_tui.core.text import printable
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import LABEL, NONFINITE, RIGHT, WRONG
from rnn_tui.tui.widgets.panel import Panel


@dataclass(frozen=True)
class Count:
    """How many values differ from the active comparison's, in two lengths."""

    long: str = ""  # "compare: 3 differ here · 325 in all"
    short: str = ""  # "≠ 3/325", when the long one does not fit
    here: bool = False  # some differ at this step (drawn as wrong)


class StatusBar(Panel):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.activity = ""
        self.follow = ""
        self.follow_shorter: tuple[str, ...] = ()  # shorter forms of ``follow``, in order
        self.comparison = Count()  # the active comparison's (tui/comparison.py)
        self._finding: Epoch | None = None

    def set_follow(self, forms: tuple[str, ...]) -> None:
        """The follow note, longest first (tui/follow.py): the longest that fits is shown."""
        self.follow, self.follow_shorter = forms[0], forms[1:]

    def set_activity(self, text: str) -> None:
        self.activity = text
        self.forget()

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        sep = Text(" │ ", style=LABEL)
        mode = "handout dE" if view.mode == "x_t" else "exact"
        out = Text.assemble((printable(view.spec.name), "bold"))
        out.append_text(sep).append(f"epoch {view.pos.epoch}")
        out.append_text(sep).append(view.label)
        out.append_text(sep).append(mode)
        out.append_text(sep)
        why = diverging(view.loss_history, view.params) if view.finite else ""
        if why:  # the advice whole, in the longest words that fit (80 wide: the shortest)
            room = width - out.cell_len - sum(len(printable(t)) + 3
                                              for t in (self.follow, self.activity) if t)
            advice = (f"diverging ({why}): lower the learning rate",
                      f"diverging ({why}): lower η", "diverging: lower η", "diverging")
            out.append(next((a for a in advice if len(a) <= room), advice[-1]), style=WRONG)
        elif view.finite:
            out.append("finite ✓", style=RIGHT)
        else:
            out.append("NOT FINITE", style=NONFINITE)
            bad = view.nonfinite_epoch
            if bad is not None and (bad.first_nonfinite_known or bad.first_nonfinite_is_quick):
                where = f" since {view.first_nonfinite}"  # whole, in the longest words that fit
                room = width - out.cell_len - sum(len(printable(t)) + 3
                                                  for t in (self.follow, self.activity) if t)
                short = (where, re.sub(r" \(\d+/\d+\)$", "", where), f" since epoch {bad.number}",
                         f" epoch {bad.number}", "")
                out.append(next((w for w in short if len(w) <= room), short[-1]), style=WRONG)
            elif bad is not None:  # more than a key's work: found in a thread
                out.append(f" since epoch {bad.number} (finding the step…)", style=WRONG)
                self._find(bad)
        # The follow note (its longest form that fits, else its shortest) and a
        # job's progress come first: the comparison's count takes its long
        # form, else its short one, in what they leave.
        room = width - out.cell_len - (len(printable(self.activity)) + 3 if self.activity else 0)
        forms = [printable(t) for t in (self.follow, *self.follow_shorter) if t]
        follow = next((f for f in forms if len(f) + 3 <= room), forms[-1] if forms else "")
        tail = [t for t in (follow, printable(self.activity)) if t]
        room = width - out.cell_len - sum(len(t) + 3 for t in tail)
        count = self.comparison
        shown = next((c for c in (count.long, count.short) if c and len(c) + 3 <= room), "")
        if shown:
            out.append_text(sep).append(shown, style=WRONG if count.here else LABEL)
        for t in tail:
            out.append_text(sep).append(t, style="bold")
        out.truncate(width, overflow="ellipsis")
        return [out]

    def _find(self, epoch: Epoch) -> None:
        """Find the epoch's first non-finite step off the event loop (esc and
        q stay instant; quitting cancels it between passes)."""
        if self._finding is epoch:
            return
        self._finding = epoch

        def work() -> None:
            worker = get_current_worker()
            try:
                epoch.first_nonfinite(lambda: worker.is_cancelled)
            except Cancelled:
                pass

        self.run_worker(work, thread=True, exclusive=True, group="first-nonfinite")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "first-nonfinite" and event.state is WorkerState.SUCCESS:
            self.forget()
