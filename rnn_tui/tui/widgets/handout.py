"""The comparison strip: how this step's values compare with the active
comparison's (the handout's printed numbers, or a student's trace with
``--compare``): how many match, which differ, the first one's numbers and
why it differs (the handout's reason, or the trace's diagnosis)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from rnn_tui.core.compare import Comparison
from rnn_tui.core.text import fmt_apart
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import LABEL, RIGHT, WRONG
from rnn_tui.tui.widgets.panel import Panel


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


class HandoutStrip(Panel):
    """One strip for either comparison (its id and CSS name stay the
    handout's, where it started)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.here: ComparedHere | None = None

    def show_comparison(self, view: StepView, here: ComparedHere | None) -> None:
        self.here = here
        self.set_class(here is not None, "-shown")
        self.show(view)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        here = self.here
        if here is None:
            return []
        head = Text.assemble((f"{here.title} ", LABEL), (f"✓ {here.match} match", RIGHT))
        if not here.differ:
            return [head]
        c, *others = here.differences
        ours, theirs = fmt_apart(c.expected, c.got)
        first = Text(f"✗ {c.name} {here.theirs} {theirs}, ours {ours}", style=WRONG)
        if height == 1:  # 80x24: one line, the first difference first
            return [Text.assemble((f"{here.title} ", LABEL), first, ": ", (here.reason, LABEL))]
        head.append(f"  ✗ {here.differ} differ", style=WRONG)
        head.append("  (j: next difference)  ", style=LABEL).append_text(first)
        if others:
            more = ", …" if here.differ > len(here.differences) else ""
            head.append(f"; also {', '.join(o.name for o in others)}{more}", style=WRONG)
        return [head, Text(here.reason, style=LABEL)]
