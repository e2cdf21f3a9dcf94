"""The network, unrolled in time: the panel around :mod:`network_draw`.

The panel turns a StepView into a :class:`~network_draw.Scene` (labels for
every step, the phase, the step in focus) and draws it at its own size; the
drawing itself is the pure function :func:`~network_draw.draw`.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.network_draw import Scene, Step, draw
from rnn_tui.tui.widgets.panel import Panel


def h_label(h: np.ndarray) -> str:
    """h_t on a node: its value when H = 1, else its norm ``‖0.5124‖``."""
    if h.shape[0] == 1:
        return fmt(float(h[0]))
    with np.errstate(all="ignore"):
        return f"‖{fmt(float(np.sqrt(np.sum(h * h))))}‖"


def steps_of(view: StepView) -> tuple[Step, ...]:
    """The labels of every step of the view's epoch (they change per epoch)."""
    f, vocab = view.fwd, view.spec.alphabet
    preds, targets = f.predictions, f.targets
    return tuple(
        Step(
            x=char(vocab[int(f.inputs[i])]),
            y=char(vocab[int(preds[i])]),
            ok=bool(preds[i] == targets[i]),
            h=h_label(f.h[i + 1]),
            loss=fmt(float(f.loss[i])),
        )
        for i in range(f.T)
    )


def scene_of(view: StepView, steps: tuple[Step, ...] | None = None) -> Scene:
    """What the network picture shows at a view (``steps``: steps_of(view),
    if the caller kept it for the epoch)."""
    phase = view.phase
    t, k = view.term if phase is Phase.BPTT else (view.focus_t, 0)
    return Scene(
        steps=steps if steps is not None else steps_of(view),
        h0=h_label(view.fwd.h[0]),
        computed=view.visible_t,
        phase=phase,
        t=t,
        k=k,
        param=UPDATE_ORDER[view.pos.index] if phase is Phase.UPDATE else "",
        norm=view.fwd.h.shape[1] > 1,
        optimizer=view.epoch.options.optimizer,
        clipped=view.epoch.options.clip_value is not None
        or view.epoch.options.clip_norm is not None,
    )


class NetworkPanel(Panel):
    """x_t → h_t → ŷ_t → L_t for every t, h_{t−1} → h_t, the current step
    marked. Call ``show(view)`` on every step, like the other panels; it
    fits any size (one line of nodes at 1-3 rows, everything at 9)."""

    TITLE = "Network, unrolled in time"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._steps: tuple[object, tuple[Step, ...]] | None = None
        self._widths: dict[tuple[str, int, int, bool], int] = {}  # of the steps' labels

    def scene(self, view: StepView) -> Scene:
        """The scene at a view, its per-step labels (and their widths) built once per epoch."""
        if self._steps is None or self._steps[0] is not view.epoch:
            self._steps = (view.epoch, steps_of(view))
            self._widths = {}
        return scene_of(view, self._steps[1])

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        scene = self.scene(view)
        return draw(scene, width, height, self._widths)
