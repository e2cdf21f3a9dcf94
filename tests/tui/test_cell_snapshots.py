"""Snapshots of the GRU/LSTM debugger (tui/cells/): an LSTM's forward step,
a BPTT term with its factor chain, and an update (no cursor blink, a fixed
theme, as helpers.scenarios.make_app does for the RNN's)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.model_file import parse_bytes
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.cells.app import CellApp

from helpers.marks import slow_after

LSTM_FILE = b"""name = "lstm"
text = "hello"
cell = "lstm"
embedding_dim = 2
hidden_size = 3
learning_rate = 0.1

[init]
seed = 7
"""


def lstm_app() -> CellApp:
    """An LSTM model file as a student writes one: rows named by character."""
    spec = parse_bytes(LSTM_FILE, "lstm.toml")
    return CellApp(CellStepper.from_spec(spec), cursor_blink=False, theme="dark")


def at(phase: Phase, index: int):
    async def run(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, CellApp)
        st = app.stepper
        for _ in range(st.layout.offset(phase) + index):
            await pilot.press("space")
        await pilot.pause()
    return run


CASES = {
    "lstm_forward_160x50": (at(Phase.FORWARD, 2), (160, 50)),
    "lstm_bptt_term_160x50": (at(Phase.BPTT, 4), (160, 50)),  # term (t=3, k=2)
    "lstm_bptt_term_80x24": (at(Phase.BPTT, 4), (80, 24)),
    "lstm_update_120x34": (at(Phase.UPDATE, 2), (120, 34)),  # W_i
}


@pytest.mark.parametrize("case", slow_after(1, list(CASES)))
def test_cell_screen(snap_compare, case: str) -> None:
    run, size = CASES[case]
    assert snap_compare(lstm_app(), terminal_size=size, run_before=run)
