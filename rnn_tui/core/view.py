"""What the screen shows at one position: :class:`StepView`, read-only.

A view is a pure function of (model, mode, position): it reads the
:class:`~rnn_tui.core.epochs.Epoch` of its position and derives what the
panels show, on demand. Widgets read its attributes and format them.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_tui.core.epochs import Epoch, finite
from rnn_tui.core.maths import Array, BpttRow, BpttSums, Forward, Params
from rnn_tui.core.params import OUTPUT_PARAMS
from rnn_tui.core.stepper import Layout, Phase, Position

if TYPE_CHECKING:
    from rnn_tui.core.stepper import Stepper


class PositionView:
    """Where a position stands in its epoch, and the sums shown there: what the
    RNN's :class:`StepView` and the cells' CellView (core/cells/view.py) share.

    ``epoch`` is an :class:`~rnn_tui.core.epochs.Epoch` or a CellEpoch (both
    have output_sums, bptt_sums, term and params_during_update).
    """

    def __init__(self, stepper: Stepper, epoch: Any, pos: Position) -> None:
        self.stepper = stepper
        self.spec = stepper.spec
        # The chunk's own layout (T = its steps); the whole epoch's is stepper.layout.
        self.layout = stepper.layout.chunk_layout(pos.chunk)
        self.epoch = epoch
        self.pos = pos
        self.mode = stepper.mode
        self.fwd = epoch.fwd
        self.delta: Array = epoch.delta  # (T, K)

    @property
    def phase(self) -> Phase:
        return self.pos.phase

    @property
    def label(self) -> str:
        return self.stepper.layout.label(self.pos)

    @cached_property
    def visible_t(self) -> int:
        """How many forward steps have been taken (1..T)."""
        return self.pos.index + 1 if self.pos.phase is Phase.FORWARD else self.layout.T

    @cached_property
    def focus_t(self) -> int:
        """The timestep the current step is about (1-based)."""
        if self.phase in (Phase.FORWARD, Phase.OUTPUT):
            return self.pos.index + 1
        if self.phase is Phase.BPTT:
            return self.term[0]
        return self.layout.T

    @cached_property
    def term(self) -> tuple[int, int]:
        return Layout.term(self.pos.index) if self.phase is Phase.BPTT else (0, 0)

    @cached_property
    def running_loss(self) -> float:
        """L_1 + ... + L_t for the forward steps taken so far."""
        with np.errstate(all="ignore"):
            return float(self.fwd.loss[: self.visible_t].sum())

    @cached_property
    def visible_deltas(self) -> int:
        """How many delta_t have been computed (0..T)."""
        if self.phase is Phase.FORWARD:
            return 0
        if self.phase is Phase.OUTPUT:
            return self.pos.index + 1
        return self.layout.T

    @cached_property
    def output_sums(self) -> tuple[Array, Array] | None:
        """dV (K, H), dc (K,) after the output-gradient steps taken (from OUTPUT on)."""
        n = self.visible_deltas
        return self.epoch.output_sums(n) if n else None  # type: ignore[no-any-return]

    @cached_property
    def bptt_sums(self) -> Any:
        """The BPTT partial sums after the current term (None outside BPTT)."""
        if self.phase is Phase.BPTT:
            return self.epoch.bptt_sums(*self.term)
        return None

    @cached_property
    def term_sums(self) -> Any:
        """The current term's own contribution (None outside BPTT)."""
        return self.epoch.term(*self.term) if self.phase is Phase.BPTT else None

    @cached_property
    def updated(self) -> int:
        """How many parameters have been updated at this step (0 before UPDATE)."""
        return self.pos.index + 1 if self.phase is Phase.UPDATE else 0

    @cached_property
    def params(self) -> Any:
        """The parameters as they stand at this step."""
        if self.updated:
            return self.epoch.params_during_update(self.updated - 1)
        return self.epoch.params

    @property
    def loss_history(self) -> list[float]:
        """Total loss of epochs 1..current (the current one once its forward
        pass is complete: of its last chunk with seq_length)."""
        done = (self.visible_t == self.layout.T
                and self.pos.chunk == self.stepper.layout.chunks - 1)
        n = self.pos.epoch if done else self.pos.epoch - 1
        return self.stepper.checkpoints.losses[:n]


class StepView(PositionView):
    """What the screen shows at one position: read-only, derived on demand.

    Widgets read these attributes and format them; they never compute.
    """

    epoch: Epoch
    fwd: Forward
    bptt_sums: BpttSums | None  # type: ignore[assignment]
    term_sums: BpttSums | None  # type: ignore[assignment]
    params: Params  # type: ignore[assignment]

    @cached_property
    def correct_count(self) -> int:
        """How many of the forward steps taken so far predicted their target."""
        n = self.visible_t
        return int((self.fwd.predictions[:n] == self.fwd.targets[:n]).sum())

    @cached_property
    def row(self) -> BpttRow | None:
        return self.epoch.row(self.term[0]) if self.phase is Phase.BPTT else None

    def preactivation(self, t: int) -> Array:
        """a_t = U x_t + W h_{t-1} + b, the argument of the tanh."""
        with np.errstate(all="ignore"):
            return self.fwd.Ux[t - 1] + self.fwd.Wh[t - 1] + self.epoch.params.b

    def output_term(self, t: int) -> tuple[Array, Array]:
        """delta_t's own contribution to dV (delta_t h_t^T) and to dc."""
        with np.errstate(all="ignore"):
            d = self.delta[t - 1]
            return np.outer(d, self.fwd.h[t]), d

    def update_step(self, name: str) -> Array:
        """What the update adds to one parameter: -eta * dL/dtheta for the
        handout's SGD; with clipping or another optimizer, theta_new - theta."""
        ep = self.epoch
        with np.errstate(all="ignore"):
            if ep.options.optimizer == "sgd" and ep.clipped.grads is ep.grads:
                return -ep.lr * ep.grads.get(name)
            return ep.params_after.get(name) - ep.params.get(name)

    @cached_property
    def dtanh(self) -> Array:
        """1 - h_t^2 for t = 0..T, the factors of the BPTT chain (T+1, H)."""
        with np.errstate(all="ignore"):
            return 1.0 - self.fwd.h**2

    def grad(self, name: str) -> Array | None:
        """The gradient of ``name`` as accumulated so far (None: not started)."""
        ph = self.phase
        if ph is Phase.FORWARD:
            return None
        if name in OUTPUT_PARAMS:
            sums = self.output_sums
            assert sums is not None
            return sums[0] if name == "V" else sums[1]
        if ph is Phase.OUTPUT:
            return None
        if ph is Phase.BPTT:
            assert self.bptt_sums is not None
            return getattr(self.bptt_sums, name)
        return self.epoch.grads.get(name)

    @cached_property
    def finite(self) -> bool:
        """Every number shown at this step is finite."""
        f, n = self.fwd, self.visible_t
        ok = self.params.is_finite() and finite(
            f.x[:n], f.h[: n + 1], f.omega[:n], f.y_hat[:n], f.loss[:n]
        )
        if ok and self.output_sums is not None:
            ok = finite(*self.output_sums)
        if ok and self.bptt_sums is not None:
            ok = self.bptt_sums.is_finite()
        if ok and self.phase is Phase.UPDATE:
            ok = self.epoch.grads.is_finite()
        return ok

    @property
    def nonfinite_epoch(self) -> Epoch | None:
        """The first epoch seen whose numbers are not all finite."""
        return self.stepper.checkpoints.nonfinite

    @cached_property
    def first_nonfinite(self) -> str | None:
        """Where the state stopped being finite, e.g. ``epoch 2, update V (1/6)``."""
        pos = self.stepper.first_nonfinite()
        return None if pos is None else f"epoch {pos.epoch}, {self.stepper.layout.label(pos)}"
