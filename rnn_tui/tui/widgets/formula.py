"""The equation of the current step with the actual numbers substituted,
in the handout's notation (formula_lines.py says what, formula_layout.py
lays it out). A formula taller than the panel shows a ``⋮ N more`` row;
the scroll keys (keys.py: scroll_formula) move what it hides."""

from __future__ import annotations

from rich.text import Text

from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.formula_lines import formula
from rnn_tui.tui.widgets.panel import Panel


class FormulaPanel(Panel):
    TITLE = "Formula"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.scroll_by = 0  # rows scrolled down; reset by a new step
        self.hidden = 0  # rows behind the ⋮ marker as last shown
        self._step: tuple[object, ...] | None = None

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        step = (view.pos, view.mode)
        if step != self._step:
            self._step, self.scroll_by = step, 0
        shown = formula(view, width, height, self.scroll_by, self.marks)
        self.scroll_by = shown.scroll
        self.hidden = shown.hidden
        self.border_title = shown.title
        return shown.lines

    def scroll_formula(self, delta: int) -> None:
        """Show rows further down (delta > 0) or up of a formula taller than the panel."""
        if self.view is not None and (self.hidden or self.scroll_by):
            self.scroll_by = max(0, self.scroll_by + delta)
            self.show(self.view)
