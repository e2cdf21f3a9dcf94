"""The cells' long jobs where they differ from the RNN's (tui/jobs.py):
the gradient check of the current chunk, from its carried state s_0.

Go to epoch N, run until..., switching mode and cancelling are the RNN
app's own (LongJobs, a thread worker each): they drive the stepper through
Stepper's methods, which CellStepper inherits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rnn_tui.tui.jobs import Result, Work

if TYPE_CHECKING:
    from textual.app import App

    from rnn_tui.core.cells.stepper import CellStepper


def gradcheck(app: App[int], stepper: CellStepper) -> Work:
    """This chunk's gradients against central differences, shown in a report.
    With seq_length the chunk is checked from its carried s_0 = (h_0,) or
    (h_0, C_0), constants (as ``rnn-tui gradcheck`` does for the RNN); without
    it the chunk is the whole text from s_0 = 0. The gradient checked is the
    one the debugger shows (the raw backward pass, before clipping)."""
    def work(should_stop: Callable[[], bool], **kw: object) -> Result:
        from rnn_tui.core import gradcheck
        from rnn_tui.core.cells import forward
        from rnn_tui.tui.screens.report import ReportScreen

        ep, layout = stepper.current, stepper.layout
        h0 = ep.s0[0]  # (H,)
        C0 = ep.s0[1] if len(ep.s0) > 1 else None  # (H,), the LSTM's
        results = gradcheck.check(ep.params, ep.fwd.inputs, ep.fwd.targets, stepper.mode,
                                  should_stop=should_stop, h0=h0, C0=C0, grads=ep.grads)
        alphabet = getattr(stepper.spec, "alphabet", "")
        lines = partial(gradcheck.report, results, stepper.mode, alphabet)
        s0 = "h_0" if C0 is None else "h_0, C_0"
        where = ""
        if layout.chunks > 1:
            j = stepper.position.chunk
            where = (f", chunk {j + 1}/{layout.chunks} (text {layout.start(j) + 1}.."
                     f"{layout.start(j) + layout.size(j)}, its carried {s0})")
        s = (h0,) if C0 is None else (h0, C0)
        floor = gradcheck.resolution(forward(ep.params, ep.fwd.inputs, ep.fwd.targets,
                                             *s).total_loss)
        title = (f"Gradient check ({stepper.cell.upper()}), epoch {ep.number}{where}: central "
                 f"differences (eps 1e-5) vs backward, up to 64 entries per parameter, errors "
                 f"relative to max(|backward|, |numeric|, {floor:.1e})")
        return lambda: app.push_screen(ReportScreen(title, lines))

    return work
