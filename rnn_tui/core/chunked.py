"""One epoch of truncated BPTT as the stepper walks it (issue 16).

With ``[train] seq_length`` an epoch is a sequence of chunks (see
``tbptt.py`` for the equations): chunk j's numbers are an
:class:`~rnn_tui.core.epochs.Epoch` built from what chunk j-1 left (the
parameters, the optimizer state, and its last h as the carried h_0). An
:class:`EpochRun` holds the epoch's start and makes any chunk on demand,
always by the same chain of chunks from the epoch's start (or from a kept
chunk start on that chain), so a chunk reached forwards or backwards is
bit-identical.

Memory: the starts of chunks 0, s, 2s, ... are kept (s chosen so they fit
START_BYTES), plus the chunk last made; going to chunk j costs at most s
chunks' forward and backward passes.

:class:`BaseRun` is the epoch as a whole (total loss, all correct, finite,
what it leaves, its first non-finite step), shared with the cells' CellRun.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np

from rnn_tui.core.epochs import Epoch, ShouldStop, Training
from rnn_tui.core.maths import Array, Params
from rnn_tui.core.optim import OptimizerState
from rnn_tui.core.params import FILE_ORDER

Start = tuple[Params, OptimizerState, Array]  # parameters, optimizer state, h_0 (H,)


def _state_arrays(state: OptimizerState) -> int:
    return sum(isinstance(getattr(state, a, None), Params) for a in ("v", "m"))


class BaseRun:
    """An epoch of chunks as a whole, for the RNN's :class:`EpochRun` and the
    cells' CellRun: a subclass sets number, params, state_before and n_chunks,
    and gives ``chunk(j)`` and ``_after(chunk)`` (the parameters, optimizer
    state and carried state that chunk leaves to the next)."""

    number: int
    n_chunks: int

    def chunk(self, j: int) -> Any:
        raise NotImplementedError

    def _after(self, ch: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def _check_chunk(self, j: int) -> None:
        if not 0 <= j < self.n_chunks:
            raise IndexError(f"chunk {j + 1} is out of range 1..{self.n_chunks}")

    @cached_property
    def _walk(self) -> tuple[float, bool, int | None, tuple[Any, ...]]:
        """Every chunk once, in order: total loss (the chunks' losses added in
        order, as ``tbptt.train`` adds them), all predictions right, the first
        chunk that is not finite, and what the last chunk leaves."""
        total, correct, bad = 0.0, True, None
        for j in range(self.n_chunks):
            ch = self.chunk(j)
            with np.errstate(all="ignore"):
                total += ch.fwd.total_loss
            correct = correct and ch.all_correct
            if bad is None and not ch.finite:
                bad = j
        return total, correct, bad, self._after(self.chunk(self.n_chunks - 1))

    @property
    def total_loss(self) -> float:
        return self._walk[0]

    @property
    def all_correct(self) -> bool:
        return self._walk[1]

    @property
    def finite(self) -> bool:
        return self._walk[2] is None

    @property
    def params_after(self) -> Any:
        return self._walk[3][0]

    @property
    def state_after(self) -> OptimizerState:
        return self._walk[3][1]

    @cached_property
    def _bad_chunk(self) -> Any:
        bad = self._walk[2]
        return None if bad is None else self.chunk(bad)

    @property
    def first_nonfinite_known(self) -> bool:
        bad = self._bad_chunk
        return bad is None or bad.first_nonfinite_known

    @property
    def first_nonfinite_is_quick(self) -> bool:
        bad = self._bad_chunk
        return bad is None or bad.first_nonfinite_is_quick

    def first_nonfinite_at(self, should_stop: ShouldStop | None = None
                           ) -> tuple[int, str, int] | None:
        """(chunk, phase, index) of the first step that is not finite, or None."""
        bad = self._bad_chunk
        return None if bad is None else bad.first_nonfinite_at(should_stop)


class EpochRun(BaseRun):
    """One epoch of chunks, from the parameters and optimizer state at its start."""

    START_BYTES = 32 * 2**20

    def __init__(self, number: int, params: Params, state: OptimizerState,
                 training: Training, spans: list[tuple[int, int]]) -> None:
        self.number = number
        self.params = params
        self.state_before = state
        self.training = training
        self.spans = spans
        self.n_chunks = len(spans)
        size = sum(params.get(n).nbytes for n in FILE_ORDER) * (1 + _state_arrays(state))
        self._stride = max(1, math.ceil(self.n_chunks * size / self.START_BYTES))
        self._starts: dict[int, Start] = {0: (params, state, np.zeros(params.W.shape[0]))}
        self._last: Epoch | None = None

    def _make(self, j: int, start: Start) -> Epoch:
        p, s, h0 = start
        i, stop = self.spans[j]
        return Epoch(self.number, p, self.training.span(i, stop), state=s, h0=h0, j=j, start=i)

    def _after(self, ch: Epoch) -> Start:
        return ch.params_after, ch.state_after, ch.fwd.h[-1]

    def chunk(self, j: int) -> Epoch:
        """Chunk j (0-based) of this epoch."""
        self._check_chunk(j)
        last = self._last
        if last is not None and last.j == j:
            return last
        if last is not None and last.j == j - 1:
            base, start = j, self._after(last)
        else:
            base = max(k for k in self._starts if k <= j)
            start = self._starts[base]
        for i in range(base, j + 1):
            ch = self._make(i, start)
            start = self._after(ch)
            if (i + 1) % self._stride == 0 and i + 1 < self.n_chunks:
                self._starts.setdefault(i + 1, start)
        self._last = ch
        return ch
