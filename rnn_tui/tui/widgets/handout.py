"""Marks against the handout: which printed numbers of this step match ours
at the printed precision, and why the others differ."""

from __future__ import annotations

from rich.text import Text

from rnn_tui.core.conformance import Mark
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import LABEL, RIGHT, WRONG, fmt
from rnn_tui.tui.widgets.panel import Panel


def _where(m: Mark) -> str:
    return m.figure + ("[" + ",".join(str(i + 1) for i in m.index) + "]" if m.index else "")


class HandoutStrip(Panel):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.marks: list[Mark] = []

    def show_marks(self, view: StepView, marks: list[Mark]) -> None:
        self.marks = marks
        self.set_class(bool(marks), "-shown")
        self.show(view)

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        if not self.marks:
            return []
        ok = sum(m.ok for m in self.marks)
        bad = [m for m in self.marks if not m.ok]
        head = Text.assemble(("handout ", LABEL), (f"✓ {ok} match", RIGHT))
        if bad:
            head.append(f"  ✗ {len(bad)} differ", style=WRONG)
            head.append("  (j: next difference)", style=LABEL)
        if not bad:
            return [head]
        m = bad[0]
        detail = Text.assemble((f"✗ {_where(m)} printed {fmt(m.printed)}, ours "
                                f"{fmt(m.ours)}: ", WRONG), (m.reason, LABEL))
        if len(bad) > 1:
            detail.append(f"  (+{len(bad) - 1} more)", style=LABEL)
        if height == 1:  # 80x24: one line, the first difference first
            return [Text.assemble(("handout ", LABEL), detail, (f"  ✓ {ok} match", RIGHT))]
        return [head, detail]
