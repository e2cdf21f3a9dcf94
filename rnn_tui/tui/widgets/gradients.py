"""dV, dc, dW, dU, db, dE as they accumulate; the current step's cells marked."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.maths import Array
from rnn_tui.core.params import BPTT_PARAMS, OUTPUT_PARAMS, UPDATE_ORDER, by_char
from rnn_tui.core.stepper import Phase
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import marked_block
from rnn_tui.tui.widgets.numbers import CHANGED, LABEL, MUTED, stacking
from rnn_tui.tui.widgets.panel import Panel


def touched(view: StepView, name: str, g: Array) -> dict[tuple[int, int], str]:
    """Cells the current step added to: all of dV/dc in the output phase, the
    nonzero cells of the current term in BPTT."""
    ph = view.phase
    if ph is Phase.OUTPUT and name in OUTPUT_PARAMS:
        cells = np.ndindex(g.shape) if g.size <= 256 else iter(())
    elif ph is Phase.BPTT and name in BPTT_PARAMS and view.term_sums is not None:
        part = getattr(view.term_sums, name)
        first = np.flatnonzero(part)[:256].tolist()  # the first 256 nonzero, row by row
        if part.ndim == 1:
            return {(0, i): CHANGED for i in first}
        return {divmod(i, part.shape[1]): CHANGED for i in first}
    else:
        return {}
    out = {}
    for c in cells:
        out[(0, c[0]) if len(c) == 1 else (c[0], c[1])] = CHANGED
    return out


class GradientsPanel(Panel):
    TITLE = "Gradients ∂L/∂θ"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        grads = {n: view.grad(n) for n in UPDATE_ORDER}
        shown = [n for n in UPDATE_ORDER if grads[n] is not None]
        room = height - (len(UPDATE_ORDER) - len(shown))  # a "not yet" line each
        full = dict(zip(shown, stacking([grads[n] for n in shown], [by_char(n) for n in shown],
                                        room), strict=True))
        vocab = view.spec.alphabet
        out: list[Text] = []
        for name in UPDATE_ORDER:
            g = grads[name]
            head = Text.assemble((f"d{name:<2}", LABEL))
            if g is None:
                out.append(head.append("not yet", style=MUTED))
            else:
                # marked where theirs differs: dX itself (update, with their
                # number), or what this output step or BPTT term adds to it
                # (the cell only: the formula shows the share and theirs)
                shares = self.marks.cells(f"out.d{name}", f"term.d{name}")
                out += marked_block(head, g, width, full[name], self.marks, (f"grad.{name}",),
                                    {**touched(view, name, g), **shares},
                                    labels=vocab if by_char(name) else None)
        return out
