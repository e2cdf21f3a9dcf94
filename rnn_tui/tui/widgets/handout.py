"""The strip under the text: what is going on (a long run's progress, with
"esc cancels"), the marks against the handout (which printed numbers of
this step match ours at the printed precision, and why the others differ),
and otherwise what the mode means. It is always there, two rows high, and
wraps rather than cuts: the handout's reason is said nowhere else."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from rnn_tui.core.conformance import Mark, figure_label
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import LABEL, RIGHT, WRONG, fmt
from rnn_tui.tui.widgets.panel import Panel

_CONSOLE = Console(width=400, color_system=None)  # for Text.wrap only: nothing is printed

MODES = {
    "x_k": "exact dE: term (t, k) goes into the row of x_k (m: the handout's dE)",
    "x_t": "the handout's dE: term (t, k) goes into the row of x_t (m: exact dE)",
}


def _where(m: Mark) -> str:
    return figure_label(m.figure) + ("[" + ",".join(str(i + 1) for i in m.index) + "]"
                                     if m.index else "")


def wrap(text: Text, width: int) -> list[Text]:
    """``text`` in lines of at most ``width`` cells, broken between words."""
    return list(text.wrap(_CONSOLE, max(1, width)))


class HandoutStrip(Panel):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.marks: list[Mark] = []
        self.activity = ""

    def show_marks(self, view: StepView, marks: list[Mark]) -> None:
        self.marks = marks
        self.show(view)

    def set_activity(self, text: str) -> None:
        self.activity = text
        if self.view is not None:
            self.show(self.view)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        out = wrap(Text(self.activity, style="bold"), width) if self.activity else []
        if self.marks:
            out += wrap(self.judged(), width)
        elif not out:
            out = wrap(Text(MODES.get(view.mode, ""), style=LABEL), width)
        return out[:height]

    def judged(self) -> Text:
        """The marks as one line (wrapped by the caller): the first
        difference and its reason first, then the count of matches."""
        ok = sum(m.ok for m in self.marks)
        bad = [m for m in self.marks if not m.ok]
        line = Text("handout ", style=LABEL)
        if bad:
            m = bad[0]
            line.append(f"✗ {_where(m)} printed {fmt(m.printed)}, ours {fmt(m.ours)}: ",
                        style=WRONG)
            line.append(m.reason, style=LABEL)
            if len(bad) > 1:
                line.append(f"  (+{len(bad) - 1} more; j: next difference)", style=LABEL)
            else:
                line.append("  (j: next difference)", style=LABEL)
            line.append("  ")
        line.append(f"✓ {ok} match", style=RIGHT)
        return line
