"""Row heights of the wide layout, sized to what the panels show.

The panels must not move when the phase changes, so the heights depend on
the model, the mode and the terminal's size, never on the step: each
panel's natural height is the most lines it shows at any step of the
epoch (a sample of steps for long sequences), measured at the width it
gets. The network and the panels take what they show; the loss chart (the
only panel that uses any height well) takes the rest. When the terminal is
short, the network shrinks first (it draws in 3 to 9 rows), then the
formula and the panels share what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rnn_tui.core.stepper import PHASES, Position, Stepper
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.panel import Panel

if TYPE_CHECKING:
    from rnn_tui.tui.app import RnnApp

TALL = 400  # the height a panel is measured at: more than any shows
NETWORK = 11  # the network's natural height (9 rows and the border)
NETWORK_MIN = 5  # 3 rows: the chain of h_t and its two neighbours
LOSS_MIN = 8  # a row of its own for the chart needs 6 lines; else it goes beside the panels
PANEL_MIN = 5  # 3 lines and the border
SAMPLE = 3  # steps measured per phase: first, middle, last (the last BPTT term is the longest)


@dataclass(frozen=True)
class Rows:
    """The wide layout's heights in rows, borders included."""

    network: int
    upper: int  # the formula and the forward panel
    lower: int  # BPTT terms, gradients, parameters
    loss: int


def sample(stepper: Stepper, epoch: int) -> list[StepView]:
    """Views of every phase's steps (evenly spread when there are many)."""
    views = []
    for phase in PHASES:
        n = stepper.layout.count(phase)
        picks = range(n) if n <= SAMPLE else sorted({i * (n - 1) // (SAMPLE - 1)
                                                    for i in range(SAMPLE)})
        views += [stepper.peek(Position(epoch=epoch, phase=phase, index=i)) for i in picks]
    return views


def natural(panel: Panel, views: list[StepView], width: int) -> int:
    """The most lines ``panel`` shows at any of ``views`` at content width
    ``width``; its title is left as it was (lines() may set it)."""
    title = panel.border_title
    panel._building = True  # a title set while measuring repaints nothing
    try:
        return max((len(panel.lines(v, width, TALL)) for v in views), default=1)
    finally:
        panel._building = False
        panel.border_title = title


def wide_rows(avail: int, upper: int, lower: int) -> Rows:
    """Split ``avail`` rows between the network, the upper and lower rows of
    panels (natural heights, borders included) and the loss chart (0: the
    chart goes beside the lower panels, in their row)."""
    # Panels that could show more at any height (stacked matrices) get at
    # most their share; the network keeps its picture before they do.
    upper = max(PANEL_MIN, min(upper, max(12, avail * 45 // 100)))
    lower = max(PANEL_MIN, min(lower, max(9, avail * 30 // 100)))
    network = NETWORK
    short = network + upper + lower - avail
    if short > 0:  # the network gives up to 6 rows first
        network -= min(short, NETWORK - NETWORK_MIN)
        short = network + upper + lower - avail
    if short > 0:  # then the two rows of panels, in proportion
        cut_up = min(upper - PANEL_MIN, round(short * upper / (upper + lower)))
        upper -= cut_up
        lower = max(PANEL_MIN, lower - (short - cut_up))
    spare = avail - network - upper - lower
    if spare < LOSS_MIN:  # no room for a row: the chart joins the lower row
        return Rows(network, upper + max(spare, 0), lower, 0)
    return Rows(network, upper, lower, spare)


def panel_heights(app: RnnApp, width: int) -> tuple[int, int]:
    """The natural heights (borders included) of the wide layout's upper
    row (the formula, 2 of 3 columns, and the forward panel) and lower row
    (BPTT terms, gradients, parameters), at a terminal ``width`` wide."""
    views = sample(app.stepper, app.stepper.position.epoch)
    ends = [views[0], views[-1]]  # the other panels' line counts are structural
    third = width // 3 - 4  # a column of the grid, less border and padding
    upper = max(natural(app.query_one("#formula", Panel), views, width * 2 // 3 - 4),
                natural(app.query_one("#forward", Panel), ends, third))
    lower = max(natural(app.query_one(f"#{name}", Panel), ends,
                        third) for name in ("bptt", "gradients", "update"))
    return upper + 2, lower + 2
