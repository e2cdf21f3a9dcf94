"""Each parameter before and after its SGD update; changed values marked."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import marked_block
from rnn_tui.tui.widgets.numbers import CHANGED, CURRENT, LABEL, MUTED, block, rows_needed
from rnn_tui.tui.widgets.panel import Panel


class UpdatePanel(Panel):
    TITLE = "Updates θ ← θ − η·∂L/∂θ"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        params = [view.epoch.params.get(n) for n in UPDATE_ORDER]
        full = rows_needed(params) <= height
        out: list[Text] = []
        if not view.updated:
            self.border_title = "Parameters (updated after BPTT)"
            for name, p in zip(UPDATE_ORDER, params, strict=True):
                out += marked_block(Text.assemble((f"{name:<3}", LABEL)), p, width, full,
                                    self.marks, (f"param.{name}",))
            return out
        self.border_title = f"Updates θ ← θ − η·∂L/∂θ, η = {view.spec.learning_rate}"
        for i, (name, before) in enumerate(zip(UPDATE_ORDER, params, strict=True)):
            head = Text.assemble((f"{name:<2}", CURRENT if i == view.updated - 1 else LABEL), " ")
            if i >= view.updated:
                lines = block(head, before, width - 10, full)
                lines[-1].append(" (pending)", style=MUTED)
                out += lines
                continue
            after = view.params.get(name)
            diff = np.atleast_2d(before) != np.atleast_2d(after)
            styles = {(r, c): CHANGED for r, c in np.argwhere(diff)[:256].tolist()}
            out += marked_block(head, before, width, full, self.marks, (), after=after,
                                after_fields=(f"new.{name}",), after_styles=styles)
        return out
