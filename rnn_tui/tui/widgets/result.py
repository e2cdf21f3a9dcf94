"""Presenter mode's result: the step's main number in large type
(Textual's ``Digits``), for a projector, under a line saying what it is.

The number per phase: h_t in forward (its value when H = 1, else ‖h_t‖),
δ_t at the target in the output gradients, the size |term(t, k)| of a
BPTT term, and in the updates the entry of the parameter that moved most.
"""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Static

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView


def result(view: StepView) -> tuple[str, float]:
    """What the step computes, as (what it is, its value)."""
    f, t = view.fwd, view.focus_t
    if view.phase is Phase.FORWARD:
        h = f.h[t]
        if h.shape[0] == 1:
            return f"h_{t} = tanh(U x_{t} + W h_{t - 1} + b)", float(h[0])
        with np.errstate(all="ignore"):
            return f"‖h_{t}‖, h_{t} = tanh(U x_{t} + W h_{t - 1} + b)", float(np.sqrt(h @ h))
    if view.phase is Phase.OUTPUT:
        j = int(f.targets[t - 1])
        target = char(view.spec.alphabet[j])
        return f"δ_{t}[{target!r}] = ŷ_{t}[{target!r}] − 1, at the target", float(
            view.delta[t - 1, j])
    if view.phase is Phase.BPTT:
        tt, k = view.term
        row = view.row
        assert row is not None
        return f"|term({tt}, {k})| = |∂L_{tt}/∂a_{k}|", float(row.norms()[k - 1])
    name = UPDATE_ORDER[view.pos.index]
    step = view.update_step(name)
    with np.errstate(all="ignore"):
        at = np.unravel_index(int(np.nanargmax(np.abs(step))), step.shape) if np.isfinite(
            step).any() else (0,) * step.ndim
    new = view.params.get(name)
    label = ",".join(repr(char(view.spec.alphabet[i])) if n == 0 and name in ("E", "V", "c")
                     else str(i + 1) for n, i in enumerate(at))
    return f"{name}_new[{label}] = {name} − η·d{name}, the entry that moved most", float(new[at])


def digits(value: float) -> str:
    """The number as Digits draws it: 1.2E+06 (it has E, not e); "--" for
    NaN and inf, which it cannot draw (the label above still says what it is)."""
    text = fmt(value).upper()
    return text if all(c in "0123456789+-.E " for c in text) else "--"


class ResultPanel(Vertical):
    """Shown only in presenter mode (app.tcss); ``show(view)`` per step."""

    def compose(self) -> ComposeResult:
        self.border_title = "Result"
        yield Static(id="result-label")
        yield Digits(id="result-digits")

    def show(self, view: StepView) -> None:
        if not self.screen.has_class("-presenter"):
            return  # hidden outside presenter mode: no work per key
        label, value = result(view)
        self.query_one("#result-label", Static).update(label)
        self.query_one("#result-digits", Digits).update(digits(value))
