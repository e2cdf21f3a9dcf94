"""Total loss per epoch across every epoch run so far, with the minimum."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static

from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import fmt

MAX_POINTS = 2000


class LossPanel(Vertical):
    def compose(self) -> ComposeResult:
        self.border_title = "Total loss per epoch"
        yield Static(id="loss-stats")
        yield Sparkline([], id="loss-spark", summary_function=max)

    def show(self, view: StepView) -> None:
        history = view.loss_history
        key = (len(history), history[-1] if history else None)
        if key == getattr(self, "_shown", None):
            return  # nothing new: leave the layout alone (this runs on every key)
        self._shown = key
        finite = [v for v in history if math.isfinite(v)]
        stats = Text()
        if history:
            best = min(finite) if finite else math.nan
            at = history.index(best) + 1 if finite else 0
            stats.append(f"epoch {len(history)}: {fmt(history[-1])}")
            stats.append(f"   min {fmt(best)} (epoch {at})" if finite else "   no finite value")
        else:
            stats.append("epoch 1: after the forward pass", style="dim")
        # One line whatever it says: no layout pass (it would be the whole screen's).
        self.query_one("#loss-stats", Static).update(stats, layout=False)
        # Sparkline scales to min..max; non-finite points are drawn at the top.
        top = max(finite) if finite else 1.0
        data = [v if math.isfinite(v) else top for v in history[-MAX_POINTS:]]
        if len(data) < 2:  # one point is no curve; Sparkline would fill the box
            data = []
        self.query_one("#loss-spark", Sparkline).data = data
