"""The stepping state machine: one ``next()`` is one step of the handout.

An epoch is laid out as
    forward t = 1..T                     (T steps)
    output gradients t = 1..T            (T steps)
    BPTT terms (t, k), t = 1..T, k = t..1 (T(T+1)/2 steps)
    updates V, c, W, U, b, E             (6 steps)
and a :class:`Position` names one of them. With ``[train] seq_length`` N an
epoch is chunks of N steps (the last may be shorter), each laid out as above
over its own steps (t = 1..N within the chunk), with the carried h_0 and one
optimizer update per chunk (chunked.py, tbptt.py). The position is the only mutable
state; everything shown at a position is a pure function of (model, mode,
position), which is why a position reached forwards and one reached
backwards hold bit-identical numbers.

The numbers of an epoch come from :class:`~rnn_tui.core.epochs.Epoch`, the
parameters at its start from :class:`~rnn_tui.core.checkpoints.EpochCheckpoints`
(epochs.py lists all the caching); what a position shows is a
:class:`~rnn_tui.core.view.StepView`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from rnn_tui.core.checkpoints import EpochCheckpoints
from rnn_tui.core.chunked import EpochRun
from rnn_tui.core.epochs import Cancelled as Cancelled  # raised here too
from rnn_tui.core.epochs import Epoch, ShouldStop, Training
from rnn_tui.core.maths import EmbeddingRows, Params
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.optim import OptimizerState, SgdState, initial_state
from rnn_tui.core.params import UPDATE_ORDER

if TYPE_CHECKING:
    from rnn_tui.core.view import StepView

MAX_EPOCH = 10_000_000
Run = Epoch | EpochRun
"""An epoch as a whole: an Epoch (one chunk) or an EpochRun (seq_length's chunks)."""


class StepError(ValueError):
    """An impossible position or jump, in words (never an IndexError)."""


class Phase(StrEnum):
    FORWARD = "forward"
    OUTPUT = "output gradients"
    BPTT = "BPTT"
    UPDATE = "update"


PHASES: tuple[Phase, ...] = tuple(Phase)


class Position(BaseModel):
    """Epoch (1-based), chunk (0-based; always 0 without ``[train] seq_length``),
    phase, and 0-based index of the step within the phase."""

    model_config = ConfigDict(frozen=True)

    epoch: int = Field(ge=1, le=MAX_EPOCH)
    phase: Phase
    index: int = Field(ge=0)
    chunk: int = Field(default=0, ge=0)


class Layout(BaseModel):
    """How many steps each phase has for a sequence of T steps, cut into
    chunks of ``seq_length`` steps (the last may be shorter; one chunk of T
    steps when unset). Each chunk has the four phases over its own steps."""

    model_config = ConfigDict(frozen=True)

    T: int = Field(ge=1)
    seq_length: int | None = Field(default=None, ge=1)

    @property
    def N(self) -> int:
        """Steps of a full chunk."""
        return self.T if self.seq_length is None else min(self.seq_length, self.T)

    @property
    def chunks(self) -> int:
        return -(-self.T // self.N)

    def size(self, chunk: int = 0) -> int:
        """Steps of chunk ``chunk`` (0-based)."""
        return min(self.N, self.T - chunk * self.N)

    def start(self, chunk: int) -> int:
        """Text position of the chunk's first input."""
        return chunk * self.N

    def spans(self) -> list[tuple[int, int]]:
        return [(self.start(j), self.start(j) + self.size(j)) for j in range(self.chunks)]

    def chunk_layout(self, chunk: int) -> Layout:
        """The layout of one chunk on its own (T = its steps, one chunk)."""
        return self if self.chunks == 1 else Layout(T=self.size(chunk))

    def count(self, phase: Phase, chunk: int = 0) -> int:
        n = self.size(chunk)
        return {
            Phase.FORWARD: n,
            Phase.OUTPUT: n,
            Phase.BPTT: n * (n + 1) // 2,
            Phase.UPDATE: len(UPDATE_ORDER),
        }[phase]

    def steps_in_chunk(self, chunk: int = 0) -> int:
        return sum(self.count(ph, chunk) for ph in PHASES)

    @property
    def steps_per_epoch(self) -> int:
        full = self.steps_in_chunk(0)
        return (self.chunks - 1) * full + self.steps_in_chunk(self.chunks - 1)

    def offset(self, phase: Phase, chunk: int = 0) -> int:
        """Steps before ``phase`` within its chunk."""
        return sum(self.count(ph, chunk) for ph in PHASES[: PHASES.index(phase)])

    def check(self, pos: Position) -> Position:
        if pos.chunk >= self.chunks:
            raise StepError(f"chunk {pos.chunk + 1} is out of range: this epoch has "
                            f"{self.chunks} chunks (T = {self.T}, seq_length = {self.N})")
        n = self.count(pos.phase, pos.chunk)
        if pos.index >= n:
            raise StepError(
                f"{pos.phase.value} step {pos.index + 1} is out of range: "
                f"this phase has {n} steps (T = {self.size(pos.chunk)})"
            )
        return pos

    def step_of(self, pos: Position) -> int:
        """0-based index of the position within its epoch."""
        self.check(pos)
        return pos.chunk * self.steps_in_chunk(0) + self.offset(pos.phase, pos.chunk) + pos.index

    def at(self, epoch: int, step: int) -> Position:
        if not 0 <= step < self.steps_per_epoch:
            raise StepError(f"step {step + 1} is out of range 1..{self.steps_per_epoch}")
        chunk = min(step // self.steps_in_chunk(0), self.chunks - 1)
        step -= chunk * self.steps_in_chunk(0)
        for ph in PHASES:
            if step < self.count(ph, chunk):
                return Position(epoch=epoch, phase=ph, index=step, chunk=chunk)
            step -= self.count(ph, chunk)
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
        """Header text such as ``BPTT t=3 k=2 (7/10)``; with seq_length
        ``chunk 2/12 · BPTT t=3 k=2 (7/10)`` (t, k within the chunk)."""
        n = self.count(pos.phase, pos.chunk)
        if pos.phase is Phase.BPTT:
            t, k = self.term(pos.index)
            where = f"t={t} k={k}"
        elif pos.phase is Phase.UPDATE:
            where = UPDATE_ORDER[pos.index]
        else:
            where = f"t={pos.index + 1}"
        text = f"{pos.phase.value} {where} ({pos.index + 1}/{n})"
        if self.seq_length is None:
            return text
        return f"chunk {pos.chunk + 1}/{self.chunks} · {text}"


# --------------------------------------------------------------- stepper

Progress = Callable[[int, int], None]


class Stepper:
    """Walks one model through training, one handout step at a time."""

    checkpoints_class = EpochCheckpoints  # the cells' are sized by their own names

    def __init__(self, spec: ModelSpec, mode: EmbeddingRows | None = None) -> None:
        self.spec = spec
        self.mode: EmbeddingRows = mode or spec.bptt.embedding_rows
        self.learning_rate = spec.learning_rate
        self.options = spec.train
        self.inputs, self.targets = spec.indices()
        self.layout = Layout(T=spec.T, seq_length=spec.train.seq_length)
        self._init = spec.initial_params()
        self._init_state = initial_state(self.options.optimizer, self._init)
        self._reset_caches()
        self.position = Position(epoch=1, phase=Phase.FORWARD, index=0)

    def _reset_caches(self) -> None:
        self.checkpoints = self.checkpoints_class(first=self._init)
        if not isinstance(self._init_state, SgdState):
            self.checkpoints.states[1] = self._init_state
        self._run = self._new_epoch(1, self._init, self._init_state)
        self._epoch = self._run.chunk(0)
        self.checkpoints.record(self._run)

    # ------------------------------------------------------------ epochs

    @property
    def training(self) -> Training:
        """What every epoch trains on (the mode as it stands)."""
        return Training(self.inputs, self.targets, self.mode, self.learning_rate, self.options)

    def _new_epoch(self, number: int, params: Params, state: OptimizerState) -> Run:
        if self.layout.seq_length is None:  # the whole text is one chunk
            return Epoch(number, params, self.training, state=state)
        return EpochRun(number, params, state, self.training, self.layout.spans())

    def _state_at(self, epoch: int) -> OptimizerState:
        state = self.checkpoints.state(epoch)
        return self._init_state if state is None else state  # None: SGD keeps nothing

    def epoch(self, number: int, progress: Progress | None = None,
              should_stop: ShouldStop | None = None) -> Run:
        """The epoch ``number`` (an :class:`Epoch`, or an :class:`EpochRun` of
        chunks with seq_length), recomputed from the nearest checkpoint."""
        if not 1 <= number <= MAX_EPOCH:
            raise StepError(f"epoch {number} is out of range 1..{MAX_EPOCH}")
        if self._run.number == number:
            return self._run
        start, params = self.checkpoints.nearest_below(number)
        state = self._state_at(start)
        if start <= self._run.number < number:
            start, params = self._run.number + 1, self._run.params_after
            state = self._run.state_after
        e = start
        while True:
            ep = self._new_epoch(e, params, state)
            self.checkpoints.remember(e, params, state)
            self.checkpoints.record(ep)
            if e == number:
                return ep
            if progress is not None and e % 64 == 0:
                progress(e, number)
            if should_stop is not None and should_stop():
                raise Cancelled
            params, state, e = ep.params_after, ep.state_after, e + 1

    @property
    def current(self) -> Epoch:
        """The numbers of the current chunk (the whole epoch without seq_length)."""
        return self._epoch

    @property
    def run(self) -> Run:
        """The current epoch as a whole."""
        return self._run

    def set_mode(self, mode: EmbeddingRows) -> None:
        """Switch the dE convention, keeping the position; later epochs change."""
        if mode != self.mode:
            self.mode = mode
            self._reset_caches()
            self._run = self.epoch(self.position.epoch)
            self._epoch = self._run.chunk(self.position.chunk)

    # ---------------------------------------------------------- stepping

    def goto(self, pos: Position, progress: Progress | None = None,
             should_stop: ShouldStop | None = None) -> Position:
        self.layout.check(pos)
        run = self.epoch(pos.epoch, progress, should_stop)
        self._run, self._epoch = run, run.chunk(pos.chunk)
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
        """First step of the next phase (or of the next chunk, or epoch)."""
        pos = self.position
        i = PHASES.index(pos.phase)
        if i + 1 < len(PHASES):
            return self.goto(Position(epoch=pos.epoch, phase=PHASES[i + 1], index=0,
                                      chunk=pos.chunk))
        if pos.chunk + 1 < self.layout.chunks:
            return self.goto(Position(epoch=pos.epoch, phase=Phase.FORWARD, index=0,
                                      chunk=pos.chunk + 1))
        return self.goto(Position(epoch=pos.epoch + 1, phase=Phase.FORWARD, index=0))

    def prev_phase(self) -> Position:
        """First step of this phase, or of the previous phase if already there."""
        pos = self.position
        if pos.index > 0:
            return self.goto(pos.model_copy(update={"index": 0}))
        i = PHASES.index(pos.phase)
        if i > 0:
            return self.goto(Position(epoch=pos.epoch, phase=PHASES[i - 1], index=0,
                                      chunk=pos.chunk))
        if pos.chunk > 0:
            return self.goto(Position(epoch=pos.epoch, phase=Phase.UPDATE, index=0,
                                      chunk=pos.chunk - 1))
        if pos.epoch > 1:
            return self.goto(Position(epoch=pos.epoch - 1, phase=Phase.UPDATE, index=0,
                                      chunk=self.layout.chunks - 1))
        return pos

    def end_of_phase(self) -> Position:
        pos = self.position
        last = self.layout.count(pos.phase, pos.chunk) - 1
        return self.goto(pos.model_copy(update={"index": last}))

    def end_of_epoch(self) -> Position:
        return self.goto(Position(epoch=self.position.epoch, phase=Phase.UPDATE, index=5,
                                  chunk=self.layout.chunks - 1))

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
                last = self.layout.chunks - 1
                return self.goto(Position(epoch=n, phase=Phase.FORWARD,
                                          index=self.layout.size(last) - 1, chunk=last))
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
        pos = self.first_nonfinite_in(self._run, should_stop)
        return self.goto(pos) if pos is not None else found

    def first_nonfinite(self) -> Position | None:
        """Where the state first stopped being finite, among the epochs seen."""
        ep = self.checkpoints.nonfinite
        return None if ep is None else self.first_nonfinite_in(ep)

    def first_nonfinite_in(
        self, ep: Run, should_stop: ShouldStop | None = None
    ) -> Position | None:
        """The earliest step of an epoch whose view is not finite (found once
        per epoch, see :meth:`Epoch.first_nonfinite`)."""
        found = ep.first_nonfinite_at(should_stop)
        if found is None:
            return None
        chunk, phase, index = found
        return Position(epoch=ep.number, phase=Phase(phase), index=index, chunk=chunk)

    # -------------------------------------------------------------- view

    def view(self) -> StepView:
        from rnn_tui.core.view import StepView

        return StepView(self, self._epoch, self.position)

    def peek(self, pos: Position) -> StepView:
        """What the screen would show at ``pos``, without going there."""
        from rnn_tui.core.view import StepView

        self.layout.check(pos)
        return StepView(self, self.epoch(pos.epoch).chunk(pos.chunk), pos)
