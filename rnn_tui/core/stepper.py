"""The stepping state machine: one ``next()`` is one step of the handout.

An epoch is laid out as
    forward t = 1..T                     (T steps)
    output gradients t = 1..T            (T steps)
    BPTT terms (t, k), t = 1..T, k = t..1 (T(T+1)/2 steps)
    updates V, c, W, U, b, E             (6 steps)
and a :class:`Position` names one of them. The position is the only mutable
state; everything shown at a position is a pure function of (model, mode,
position), which is why a position reached forwards and one reached
backwards hold bit-identical numbers.

Memory does not grow with the epochs run (apart from one float per epoch for
the loss history). Parameters at the start of an epoch come from
:class:`EpochCheckpoints`: a bounded set of sparse checkpoints whose stride
doubles when full, plus a small cache of recent epochs; any other epoch is
recomputed from the nearest checkpoint below it with the fast O(T) path,
the same function that produced it the first time.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from rnn_tui.core.maths import (
    PARAM_NAMES,
    Array,
    BpttRow,
    BpttSums,
    EmbeddingRows,
    Forward,
    Grads,
    Params,
    backward,
    bptt_norms,
    bptt_row,
    forward,
    output_delta,
    row_sums,
    sgd,
)
from rnn_tui.core.model_file import ModelSpec

MAX_EPOCH = 10_000_000


class StepError(ValueError):
    """An impossible position or jump, in words (never an IndexError)."""


class Cancelled(Exception):
    """A long run was asked to stop; the stepper is left where it was."""


class Phase(StrEnum):
    FORWARD = "forward"
    OUTPUT = "output gradients"
    BPTT = "BPTT"
    UPDATE = "update"


PHASES: tuple[Phase, ...] = tuple(Phase)


class Position(BaseModel):
    """Epoch (1-based), phase, and 0-based index of the step within the phase."""

    model_config = ConfigDict(frozen=True)

    epoch: int = Field(ge=1, le=MAX_EPOCH)
    phase: Phase
    index: int = Field(ge=0)


class Layout(BaseModel):
    """How many steps each phase has for a sequence of T steps."""

    model_config = ConfigDict(frozen=True)

    T: int = Field(ge=1)

    def count(self, phase: Phase) -> int:
        return {
            Phase.FORWARD: self.T,
            Phase.OUTPUT: self.T,
            Phase.BPTT: self.T * (self.T + 1) // 2,
            Phase.UPDATE: len(PARAM_NAMES),
        }[phase]

    @property
    def steps_per_epoch(self) -> int:
        return sum(self.count(ph) for ph in PHASES)

    def offset(self, phase: Phase) -> int:
        return sum(self.count(ph) for ph in PHASES[: PHASES.index(phase)])

    def check(self, pos: Position) -> Position:
        n = self.count(pos.phase)
        if pos.index >= n:
            raise StepError(
                f"{pos.phase.value} step {pos.index + 1} is out of range: "
                f"this phase has {n} steps (T = {self.T})"
            )
        return pos

    def step_of(self, pos: Position) -> int:
        """0-based index of the position within its epoch."""
        return self.offset(pos.phase) + self.check(pos).index

    def at(self, epoch: int, step: int) -> Position:
        if not 0 <= step < self.steps_per_epoch:
            raise StepError(f"step {step + 1} is out of range 1..{self.steps_per_epoch}")
        for ph in PHASES:
            if step < self.count(ph):
                return Position(epoch=epoch, phase=ph, index=step)
            step -= self.count(ph)
        raise AssertionError("unreachable")

    @staticmethod
    def term(index: int) -> tuple[int, int]:
        """BPTT step index -> (t, k): row t holds k = t, t-1, ..., 1."""
        t = int((1 + math.isqrt(1 + 8 * index)) // 2)
        while t * (t - 1) // 2 > index:
            t -= 1
        return t, t - (index - t * (t - 1) // 2)

    @staticmethod
    def term_index(t: int, k: int) -> int:
        return t * (t - 1) // 2 + (t - k)

    def label(self, pos: Position) -> str:
        """Header text such as ``BPTT t=3 k=2 (7/10)``."""
        n = self.count(pos.phase)
        if pos.phase is Phase.BPTT:
            t, k = self.term(pos.index)
            where = f"t={t} k={k}"
        elif pos.phase is Phase.UPDATE:
            where = PARAM_NAMES[pos.index]
        else:
            where = f"t={pos.index + 1}"
        return f"{pos.phase.value} {where} ({pos.index + 1}/{n})"


# ------------------------------------------------------------ one epoch


def _finite(*arrays: Array) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


class Epoch:
    """Everything one epoch computes from the parameters at its start.

    The canonical gradient (used for the update, for training and for
    jumps) is the O(T) recursion; the per-term partial sums shown while
    stepping through BPTT agree with it to ~1e-12 relative (tested).
    """

    # Memory budget for the row-start checkpoints of the BPTT partial sums.
    CHECKPOINT_BYTES = 32 * 2**20

    def __init__(self, number: int, params: Params, stepper: Stepper) -> None:
        self.number = number
        self.params = params
        self.mode: EmbeddingRows = stepper.mode
        self.lr = stepper.learning_rate
        self.fwd: Forward = forward(params, stepper.inputs, stepper.targets)
        self.delta: Array = output_delta(self.fwd)  # (T, K)
        self.grads: Grads = backward(params, self.fwd, self.mode)
        self.params_after: Params = sgd(params, self.grads, self.lr)
        T = self.fwd.T
        size = sum(params.get(n).size for n in ("W", "U", "b", "E")) * 8
        self._stride = max(1, math.ceil(T * size / self.CHECKPOINT_BYTES))
        self._row_start: dict[int, BpttSums] = {1: BpttSums.zeros(params)}
        self._rows: OrderedDict[int, BpttRow] = OrderedDict()
        self._norms: dict[int, Array] = {}

    @cached_property
    def total_loss(self) -> float:
        return self.fwd.total_loss

    @cached_property
    def all_correct(self) -> bool:
        return bool((self.fwd.predictions == self.fwd.targets).all())

    @cached_property
    def finite(self) -> bool:
        f = self.fwd
        return (
            _finite(f.x, f.h, f.omega, f.y_hat, f.loss)
            and self.grads.is_finite()
            and self.params_after.is_finite()
        )

    def row(self, t: int) -> BpttRow:
        """Row t of the BPTT triangle, from a small LRU cache."""
        if t in self._rows:
            self._rows.move_to_end(t)
            return self._rows[t]
        row = bptt_row(self.params, self.fwd, self.delta, t)
        self._rows[t] = row
        if len(self._rows) > 8:
            self._rows.popitem(last=False)
        return row

    def row_norms(self, rows: Iterable[int]) -> dict[int, Array]:
        """|term(t, k)| for k = 1..t of each row t (kept: T(T+1)/2 floats at
        most); the rows not computed yet are computed together."""
        wanted = list(rows)
        missing = [t for t in wanted if t not in self._norms]
        self._norms.update(bptt_norms(self.params, self.fwd, self.delta, missing))
        return {t: self._norms[t] for t in wanted}

    def row_start(self, t: int) -> BpttSums:
        """Sum of all terms of rows 1..t-1, from the nearest checkpoint below.

        Always the same chain of additions from row 1, so the result does
        not depend on how the position was reached."""
        base = max(r for r in self._row_start if r <= t)
        acc = self._row_start[base]
        for r in range(base, t):
            acc = acc + self._sums(r, 1, r)
            if r % self._stride == 0:
                self._row_start[r + 1] = acc
        return acc

    def _sums(self, t: int, k_lo: int, k_hi: int) -> BpttSums:
        return row_sums(self.params, self.fwd, self.row(t), k_lo, k_hi, self.mode)

    def bptt_sums(self, t: int, k: int) -> BpttSums:
        """Partial sums after term (t, k) in stepping order."""
        return self.row_start(t) + self._sums(t, k, t)

    def term(self, t: int, k: int) -> BpttSums:
        """The single term (t, k)'s contribution to dW, dU, db, dE."""
        return self._sums(t, k, k)

    def params_during_update(self, index: int) -> Params:
        """Parameters after the updates V, c, ... up to PARAM_NAMES[index]."""
        p = self.params
        for name in PARAM_NAMES[: index + 1]:
            p = p.replace(name, self.params_after.get(name))
        return p

    def output_sums(self, t: int) -> tuple[Array, Array]:
        """dV, dc after the output-gradient steps 1..t."""
        with np.errstate(all="ignore"):
            d = self.delta[:t]
            return d.T @ self.fwd.h[1 : t + 1], d.sum(axis=0)


# ---------------------------------------------------- epoch checkpoints


@dataclass
class EpochCheckpoints:
    """Parameters at the start of epochs, in bounded memory.

    ``sparse`` keeps epochs 1, 1+s, 1+2s, ... (s = stride); when it holds
    more than ``limit`` entries the stride doubles and every other one is
    dropped. ``recent`` keeps the last few epochs touched. ``losses`` keeps
    one float per epoch computed so far, for the loss plot.

    Unless given, ``limit`` (at most 64) and ``recent_size`` (at most 16)
    come from ``budget``, the bytes of parameters kept: three quarters for
    the sparse ones, a quarter for the recent ones. A small model keeps 80
    sets as before; K=64, D=32, H=128 (250 KB a set) keeps 16, about 4 MB
    instead of 20 MB, so a long jump leaves memory flat; the price is a
    longer recomputation when jumping far back (at most ``stride`` epochs).
    """

    first: Params
    limit: int = 0  # 0: from the budget
    recent_size: int = 0  # 0: from the budget
    stride: int = 16
    budget: int = 4 * 2**20
    sparse: dict[int, Params] = field(default_factory=dict)
    recent: OrderedDict[int, Params] = field(default_factory=OrderedDict)
    losses: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    first_nonfinite_epoch: int | None = None

    def __post_init__(self) -> None:
        size = max(1, sum(self.first.get(n).nbytes for n in PARAM_NAMES))
        if not self.limit:
            self.limit = max(8, min(64, self.budget * 3 // 4 // size))
        if not self.recent_size:
            self.recent_size = max(4, min(16, self.budget // 4 // size))
        self.sparse[1] = self.first

    @property
    def known(self) -> int:
        """Epochs 1..known have been computed at least once."""
        return len(self.losses)

    def nearest_below(self, epoch: int) -> tuple[int, Params]:
        cands = [e for e in self.sparse if e <= epoch] + [e for e in self.recent if e <= epoch]
        best = max(cands)
        return best, self.recent.get(best, self.sparse.get(best))  # type: ignore[return-value]

    def remember(self, epoch: int, params: Params) -> None:
        self.recent[epoch] = params
        self.recent.move_to_end(epoch)
        while len(self.recent) > self.recent_size:
            self.recent.popitem(last=False)
        if (epoch - 1) % self.stride == 0:
            self.sparse[epoch] = params
            if len(self.sparse) > self.limit:
                self.stride *= 2
                self.sparse = {e: p for e, p in self.sparse.items() if (e - 1) % self.stride == 0}

    def record(self, epoch: Epoch) -> None:
        """Loss history and first divergence, for epochs seen in order."""
        if epoch.number == self.known + 1:
            self.losses.append(epoch.total_loss)
            self.correct.append(epoch.all_correct)
            if self.first_nonfinite_epoch is None and not epoch.finite:
                self.first_nonfinite_epoch = epoch.number


# --------------------------------------------------------------- stepper

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class Stepper:
    """Walks one model through training, one handout step at a time."""

    def __init__(self, spec: ModelSpec, mode: EmbeddingRows | None = None) -> None:
        self.spec = spec
        self.mode: EmbeddingRows = mode or spec.bptt.embedding_rows
        self.learning_rate = spec.learning_rate
        self.inputs, self.targets = spec.indices()
        self.layout = Layout(T=spec.T)
        self._init = spec.initial_params()
        self._reset_caches()
        self.position = Position(epoch=1, phase=Phase.FORWARD, index=0)

    def _reset_caches(self) -> None:
        self._first_nonfinite: Position | None = None
        self.checkpoints = EpochCheckpoints(first=self._init)
        self._epoch = Epoch(1, self._init, self)
        self.checkpoints.record(self._epoch)
        # The epoch just left, kept whole: stepping back and forth across an
        # epoch boundary (the lecturer's "and once more") does not recompute
        # it, nor its BPTT rows. Two epochs at most, so memory stays bounded.
        self._previous: Epoch | None = None

    # ------------------------------------------------------------ epochs

    def epoch(self, number: int, progress: Progress | None = None,
              should_stop: ShouldStop | None = None) -> Epoch:
        """The epoch ``number``, recomputed from the nearest checkpoint."""
        if not 1 <= number <= MAX_EPOCH:
            raise StepError(f"epoch {number} is out of range 1..{MAX_EPOCH}")
        if self._epoch.number == number:
            return self._epoch
        if self._previous is not None and self._previous.number == number:
            return self._previous
        start, params = self.checkpoints.nearest_below(number)
        if start <= self._epoch.number < number:
            start, params = self._epoch.number + 1, self._epoch.params_after
        e = start
        while True:
            ep = Epoch(e, params, self)
            self.checkpoints.remember(e, params)
            self.checkpoints.record(ep)
            if e == number:
                return ep
            if progress is not None and e % 64 == 0:
                progress(e, number)
            if should_stop is not None and should_stop():
                raise Cancelled
            params, e = ep.params_after, e + 1

    @property
    def current(self) -> Epoch:
        return self._epoch

    def set_mode(self, mode: EmbeddingRows) -> None:
        """Switch the dE convention, keeping the position; later epochs change."""
        if mode != self.mode:
            self.mode = mode
            self._reset_caches()
            self._epoch = self.epoch(self.position.epoch)

    # ---------------------------------------------------------- stepping

    def goto(self, pos: Position, progress: Progress | None = None,
             should_stop: ShouldStop | None = None) -> Position:
        self.layout.check(pos)
        ep = self.epoch(pos.epoch, progress, should_stop)
        if ep is not self._epoch:
            self._previous, self._epoch = self._epoch, ep
        self.position = pos
        return pos

    def goto_step(self, epoch: int, step: int) -> Position:
        return self.goto(self.layout.at(epoch, step))

    def next(self) -> Position:
        step = self.layout.step_of(self.position) + 1
        epoch = self.position.epoch
        if step == self.layout.steps_per_epoch:
            epoch, step = epoch + 1, 0
        return self.goto_step(epoch, step)

    def prev(self) -> Position:
        """One step back; at the very first step, stay there."""
        step = self.layout.step_of(self.position) - 1
        epoch = self.position.epoch
        if step < 0:
            if epoch == 1:
                return self.position
            epoch, step = epoch - 1, self.layout.steps_per_epoch - 1
        return self.goto_step(epoch, step)

    def next_phase(self) -> Position:
        """First step of the next phase (or of the next epoch)."""
        i = PHASES.index(self.position.phase)
        if i + 1 < len(PHASES):
            return self.goto(Position(epoch=self.position.epoch, phase=PHASES[i + 1], index=0))
        return self.goto(Position(epoch=self.position.epoch + 1, phase=Phase.FORWARD, index=0))

    def prev_phase(self) -> Position:
        """First step of this phase, or of the previous phase if already there."""
        pos = self.position
        if pos.index > 0:
            return self.goto(pos.model_copy(update={"index": 0}))
        i = PHASES.index(pos.phase)
        if i > 0:
            return self.goto(Position(epoch=pos.epoch, phase=PHASES[i - 1], index=0))
        if pos.epoch > 1:
            return self.goto(Position(epoch=pos.epoch - 1, phase=Phase.UPDATE, index=0))
        return pos

    def end_of_phase(self) -> Position:
        pos = self.position
        last = self.layout.count(pos.phase) - 1
        return self.goto(pos.model_copy(update={"index": last}))

    def end_of_epoch(self) -> Position:
        return self.goto(Position(epoch=self.position.epoch, phase=Phase.UPDATE, index=5))

    def goto_epoch(self, n: int, progress: Progress | None = None,
                   should_stop: ShouldStop | None = None) -> Position:
        return self.goto(Position(epoch=n, phase=Phase.FORWARD, index=0), progress, should_stop)

    def reset(self) -> Position:
        return self.goto(Position(epoch=1, phase=Phase.FORWARD, index=0))

    # --------------------------------------------------------- run until

    def run_until(
        self,
        predicate: Callable[[Epoch], bool],
        max_epochs: int = 100_000,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> Position | None:
        """Go to the end of the forward pass of the first epoch from the
        current one on whose forward pass satisfies ``predicate`` (where its
        predictions and total loss are on screen). None if not found within
        ``max_epochs`` epochs; the position is then unchanged."""
        start = self.position.epoch
        for n in range(start, min(start + max_epochs, MAX_EPOCH + 1)):
            ep = self.epoch(n)
            if predicate(ep):
                return self.goto(Position(epoch=n, phase=Phase.FORWARD, index=self.layout.T - 1))
            if progress is not None and n % 64 == 0:
                progress(n - start, max_epochs)
            if should_stop is not None and should_stop():
                raise Cancelled
        return None

    def run_until_correct(self, **kw: object) -> Position | None:
        return self.run_until(lambda ep: ep.all_correct, **kw)  # type: ignore[arg-type]

    def run_until_loss_below(self, x: float, **kw: object) -> Position | None:
        return self.run_until(lambda ep: ep.total_loss < x, **kw)  # type: ignore[arg-type]

    def run_until_nonfinite(
        self,
        max_epochs: int = 100_000,
        progress: Progress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> Position | None:
        """The first step, from here on, at which a shown value is not finite."""
        if not self.view().finite:
            return self.position
        found = self.run_until(
            lambda ep: not ep.finite, max_epochs, progress, should_stop
        )
        if found is None:
            return None
        pos = self.first_nonfinite_in(self._epoch)
        return self.goto(pos) if pos is not None else found

    def first_nonfinite(self) -> Position | None:
        """Where the state first stopped being finite, among the epochs seen."""
        e = self.checkpoints.first_nonfinite_epoch
        if e is None:
            return None
        if self._first_nonfinite is None or self._first_nonfinite.epoch != e:
            self._first_nonfinite = self.first_nonfinite_in(self.epoch(e))
        return self._first_nonfinite

    def first_nonfinite_in(self, ep: Epoch) -> Position | None:
        """The earliest step of an epoch whose view is not finite."""
        e, f, T = ep.number, ep.fwd, self.layout.T
        if not ep.params.is_finite():
            return Position(epoch=e, phase=Phase.FORWARD, index=0)
        for t in range(T):
            if not _finite(f.x[t], f.h[t + 1], f.omega[t], f.y_hat[t], f.loss[t]):
                return Position(epoch=e, phase=Phase.FORWARD, index=t)
        for t in range(1, T + 1):
            if not _finite(*ep.output_sums(t)):
                return Position(epoch=e, phase=Phase.OUTPUT, index=t - 1)
        for t in range(1, T + 1):
            if not ep.bptt_sums(t, 1).is_finite():
                for k in range(t, 0, -1):
                    if not ep.bptt_sums(t, k).is_finite():
                        return Position(epoch=e, phase=Phase.BPTT,
                                        index=Layout.term_index(t, k))
        for i in range(len(PARAM_NAMES)):
            if not ep.params_during_update(i).is_finite():
                return Position(epoch=e, phase=Phase.UPDATE, index=i)
        return None

    # -------------------------------------------------------------- view

    def view(self) -> StepView:
        return StepView(self, self._epoch, self.position)

    def peek(self, pos: Position) -> StepView:
        """What the screen would show at ``pos``, without going there."""
        self.layout.check(pos)
        return StepView(self, self.epoch(pos.epoch), pos)


class StepView:
    """What the screen shows at one position: read-only, derived on demand.

    Widgets read these attributes and format them; they never compute.
    """

    def __init__(self, stepper: Stepper, epoch: Epoch, pos: Position) -> None:
        self.stepper = stepper
        self.spec = stepper.spec
        self.layout = stepper.layout
        self.epoch = epoch
        self.pos = pos
        self.mode = stepper.mode
        self.fwd = epoch.fwd
        self.delta = epoch.delta

    @property
    def phase(self) -> Phase:
        return self.pos.phase

    @property
    def label(self) -> str:
        return self.layout.label(self.pos)

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
    def correct_count(self) -> int:
        """How many of the forward steps taken so far predicted their target."""
        n = self.visible_t
        return int((self.fwd.predictions[:n] == self.fwd.targets[:n]).sum())

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
        n = self.visible_deltas
        return self.epoch.output_sums(n) if n else None

    @cached_property
    def bptt_sums(self) -> BpttSums | None:
        if self.phase is Phase.BPTT:
            return self.epoch.bptt_sums(*self.term)
        return None

    @cached_property
    def term_sums(self) -> BpttSums | None:
        """The current term's own contribution."""
        return self.epoch.term(*self.term) if self.phase is Phase.BPTT else None

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
        """-eta * dL/dtheta for one parameter: what its update adds."""
        with np.errstate(all="ignore"):
            return -self.epoch.lr * self.epoch.grads.get(name)

    @cached_property
    def dtanh(self) -> Array:
        """1 - h_t^2 for t = 0..T, the factors of the BPTT chain (T+1, H)."""
        with np.errstate(all="ignore"):
            return 1.0 - self.fwd.h**2

    @cached_property
    def updated(self) -> int:
        """How many of V, c, W, U, b, E have been updated (0..6)."""
        return self.pos.index + 1 if self.phase is Phase.UPDATE else 0

    @cached_property
    def params(self) -> Params:
        """The parameters as they stand at this step."""
        if self.updated:
            return self.epoch.params_during_update(self.updated - 1)
        return self.epoch.params

    def grad(self, name: str) -> Array | None:
        """The gradient of ``name`` as accumulated so far (None: not started)."""
        ph = self.phase
        if ph is Phase.FORWARD:
            return None
        if name in ("V", "c"):
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
        ok = self.params.is_finite() and _finite(
            f.x[:n], f.h[: n + 1], f.omega[:n], f.y_hat[:n], f.loss[:n]
        )
        if ok and self.output_sums is not None:
            ok = _finite(*self.output_sums)
        if ok and self.bptt_sums is not None:
            ok = self.bptt_sums.is_finite()
        if ok and self.phase is Phase.UPDATE:
            ok = self.epoch.grads.is_finite()
        return ok

    @property
    def loss_history(self) -> list[float]:
        """Total loss of epochs 1..current (the current one once its forward
        pass is complete)."""
        n = self.pos.epoch if self.visible_t == self.layout.T else self.pos.epoch - 1
        return self.stepper.checkpoints.losses[:n]

    @cached_property
    def first_nonfinite(self) -> str | None:
        """Where the state stopped being finite, e.g. ``epoch 2, update V (1/6)``."""
        pos = self.stepper.first_nonfinite()
        return None if pos is None else f"epoch {pos.epoch}, {self.layout.label(pos)}"
