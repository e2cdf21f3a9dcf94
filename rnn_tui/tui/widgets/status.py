"""The top line: model, epoch, phase and position, mode, and finiteness."""

from __future__ import annotations

from rich.text import Text

from rnn_tui.core.stepper import StepView
from rnn_tui.tui.widgets.numbers import LABEL, NONFINITE, RIGHT, WRONG
from rnn_tui.tui.widgets.panel import Panel


class StatusBar(Panel):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.activity = ""
        self.follow = ""

    def set_activity(self, text: str) -> None:
        self.activity = text
        self.forget()

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        sep = Text(" │ ", style=LABEL)
        mode = "handout dE" if view.mode == "x_t" else "exact"
        out = Text.assemble((view.spec.name, "bold"))
        out.append_text(sep).append(f"epoch {view.pos.epoch}")
        out.append_text(sep).append(view.label)
        out.append_text(sep).append(mode)
        out.append_text(sep)
        if view.finite:
            out.append("finite ✓", style=RIGHT)
        else:
            out.append("NOT FINITE", style=NONFINITE)
            first = view.first_nonfinite
            if first is not None:
                out.append(f" since {first}", style=WRONG)
        if self.follow:
            out.append_text(sep).append(self.follow, style="bold")
        if self.activity:
            out.append_text(sep).append(self.activity, style="bold")
        out.truncate(width, overflow="ellipsis")
        return [out]
