"""Each parameter before and after its SGD update; changed values marked."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.maths import PARAM_NAMES
from rnn_tui.stepper import StepView
from rnn_tui.widgets.numbers import CHANGED, CURRENT, LABEL, MUTED, inline
from rnn_tui.widgets.panel import Panel


class UpdatePanel(Panel):
    TITLE = "Updates θ ← θ − η·∂L/∂θ"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        if not view.updated:
            self.border_title = "Parameters (updated after BPTT)"
            return [Text.assemble((f"{n:<2}", LABEL)).append(" ").append_text(
                inline(view.params.get(n), width - 3)) for n in PARAM_NAMES]
        self.border_title = f"Updates θ ← θ − η·∂L/∂θ, η = {view.spec.learning_rate}"
        out: list[Text] = []
        for i, name in enumerate(PARAM_NAMES):
            before = view.epoch.params.get(name)
            mark = CURRENT if i == view.updated - 1 else LABEL
            line = Text.assemble((f"{name:<2}", mark)).append(" ")
            if i >= view.updated:
                out.append(line.append_text(inline(before, width - 13)).append(
                    " (pending)", style=MUTED))
                continue
            after = view.params.get(name)
            diff = np.atleast_2d(before) != np.atleast_2d(after)
            styles = {(int(r), int(c)): CHANGED for r, c in np.argwhere(diff)[:256]}
            old, new = inline(before, width), inline(after, width, styles)
            if old.cell_len + new.cell_len + 6 <= width:  # room for both
                out.append(line.append_text(old).append(" → ").append_text(new))
            else:
                out.append(line.append("→ ").append_text(inline(after, width - 5, styles)))
        return out
