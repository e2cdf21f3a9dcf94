"""The strip under the text, always there and two rows high: what is going
on (a long run's progress, with "esc cancels"), else how this step's values
compare with the active comparison's (the handout's printed numbers, or a
student's trace with ``--compare``: how many match, the first difference
with both numbers and why it differs), else what the mode means. It wraps
rather than cuts: the handout's reason is said nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from rnn_tui.core.compare import Comparison
from rnn_tui.core.text import fmt_apart
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import LABEL, RIGHT, WRONG
from rnn_tui.tui.widgets.panel import Panel

_CONSOLE = Console(width=400, color_system=None)  # for Text.wrap only: nothing is printed

MODES = {
    "x_k": "exact dE: term (t, k) goes into the row of x_k (m: the handout's dE)",
    "x_t": "the handout's dE: term (t, k) goes into the row of x_t (m: exact dE)",
}


@dataclass(frozen=True)
class ComparedHere:
    """What the active comparison says about one step."""

    title: str  # "handout", "compare theirs.json"
    theirs: str  # their number's name: "printed", "theirs"
    compared: int
    differ: int
    differences: list[Comparison]  # the first few
    reason: str  # why the first differs

    @property
    def match(self) -> int:
        return self.compared - self.differ


def wrap(text: Text, width: int) -> list[Text]:
    """``text`` in lines of at most ``width`` cells, broken between words."""
    return list(text.wrap(_CONSOLE, max(1, width)))


def judged(here: ComparedHere) -> Text:
    """The comparison as one line (wrapped by the caller), most important
    first: the counts, the first difference with both numbers and why it
    differs, then the names of the other differences."""
    line = Text(f"{here.title} ", style=LABEL)
    if here.differ:
        line.append(f"✗ {here.differ} differ  ", style=WRONG)
    line.append(f"✓ {here.match} match", style=RIGHT)
    if here.differ:
        c, *others = here.differences
        ours, theirs = fmt_apart(c.expected, c.got)
        line.append(f"  ✗ {c.name} {here.theirs} {theirs}, ours {ours}: ", style=WRONG)
        line.append(here.reason, style=LABEL)
        line.append("  (j: next difference)", style=LABEL)
        if others:
            more = ", …" if here.differ > len(here.differences) else ""
            line.append(f"  also {', '.join(o.name for o in others)}{more}", style=WRONG)
    return line


class HandoutStrip(Panel):
    """One strip for either comparison (its id and CSS name stay the
    handout's, where it started)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.here: ComparedHere | None = None
        self.activity = ""

    def show_comparison(self, view: StepView, here: ComparedHere | None) -> None:
        self.here = here
        self.show(view)

    def set_activity(self, text: str) -> None:
        self.activity = text
        if self.view is not None:
            self.show(self.view)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        out = wrap(Text(self.activity, style="bold"), width) if self.activity else []
        if self.here is not None:
            out += wrap(judged(self.here), width)
        elif not out:
            out = wrap(Text(MODES.get(view.mode, ""), style=LABEL), width)
        return out[:height]
