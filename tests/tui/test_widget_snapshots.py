"""Snapshot tests of the network picture and the loss chart, each in a tiny
app of its own (the main app's layout is pinned in test_snapshots.py).

Review a changed snapshot by eye (render the SVG to PNG) before accepting it
with ``pytest --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

import rnn_tui.tui.app
from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper
from rnn_tui.tui.widgets.loss_chart import LossChart
from rnn_tui.tui.widgets.network import NetworkPanel
from rnn_tui.tui.widgets.panel import Panel


class OnePanel(App[None]):
    """A panel alone on the screen, showing one position of the hello model."""

    CSS_PATH = Path(rnn_tui.tui.app.__file__).with_name("app.tcss")  # the panels' styles
    CSS = "Screen { layout: vertical; } Panel { height: 1fr; }"

    def __init__(self, panel: Panel, position: Position) -> None:
        super().__init__()
        self.theme = "textual-dark"
        self.panel = panel
        self.stepper = Stepper(load("hello")[0])
        self.position = position

    def compose(self) -> ComposeResult:
        yield self.panel

    def on_mount(self) -> None:
        self.stepper.goto(self.position)
        self.panel.show(self.stepper.view())


def test_network_bptt_term(snap_compare) -> None:
    """Term (4, 2): the path L_4 → h_4 → h_3 → h_2 ← U x_2 drawn heavy."""
    pos = Position(epoch=1, phase=Phase.BPTT, index=Layout.term_index(4, 2))
    assert snap_compare(OnePanel(NetworkPanel(), pos), terminal_size=(120, 11))


def test_loss_chart_after_50_epochs(snap_compare) -> None:
    """50 epochs of the hello model: axes, ticks, the minimum marked."""
    pos = Position(epoch=51, phase=Phase.FORWARD, index=0)
    assert snap_compare(OnePanel(LossChart(), pos), terminal_size=(60, 14))
