"""One epoch of a GRU or an LSTM as the stepper walks it (issue 17).

The cells' counterpart of core/epochs.py and core/chunked.py: a
:class:`CellEpoch` is one chunk's numbers (the whole text without
``[train] seq_length``), built by cells.tbptt.chunk_step from the parameters,
the optimizer state and the carried state s_0 = (h_0,) or (h_0, C_0) at its
start; a :class:`CellRun` is one epoch of such chunks. Every number shown at
a step is a pure function of those, computed by the same chain of additions
however the step is reached, so stepping back is bit-identical.

The BPTT partial sums after term (t, k) are the sums of rows 1..t−1 plus the
terms k..t of row t, for every parameter but V and c (those come from the
output gradients: Σ δ_t h_t^T, Σ δ_t); the row-start sums are kept every
``stride`` rows (CHECKPOINT_BYTES), as Epoch does for the RNN.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.bptt import CellRow, bptt_norms, bptt_row, jacobian, row_sums
from rnn_tui.core.cells.common import gate_sums_finite
from rnn_tui.core.cells.optim import initial_state
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.cells.tbptt import CellChunk, chunk_step
from rnn_tui.core.chunked import BaseRun
from rnn_tui.core.epochs import BaseEpoch, Cancelled, ShouldStop, Training, finite
from rnn_tui.core.maths import Array, EmbeddingRows, output_delta
from rnn_tui.core.optim import OptimizerState
from rnn_tui.core.train_options import TrainOptions

Sums = dict[str, Array]  # parameter name -> partial sum (every name but V and c)


def add(a: Sums, b: Sums) -> Sums:
    """a + b name by name (a's order)."""
    with np.errstate(all="ignore"):
        return {n: a[n] + b[n] for n in a}


def sums_finite(s: Sums) -> bool:
    return finite(*s.values())


class CellEpoch(BaseEpoch):
    """One chunk of an epoch (the whole epoch without seq_length): forward,
    δ_t, gradients, clipping and the update, and the BPTT terms on demand
    (caches: core/epochs.py's docstring)."""

    _add = staticmethod(add)
    first_nonfinite_known = first_nonfinite_is_quick = True  # the status bar asks it at once

    def __init__(self, number: int, chunk: CellChunk, mode: EmbeddingRows) -> None:
        self.number = number
        self.j = chunk.j
        self.start = chunk.start
        self.record = chunk
        self.mode: EmbeddingRows = mode
        self.params: CellParams = chunk.params
        self.fwd = chunk.fwd
        self.s0 = chunk.s0
        self.delta: Array = output_delta(chunk.fwd)  # type: ignore[arg-type]  # (T, K)
        self.grads: CellParams = chunk.grads
        self.clipped = chunk.clipped
        self.params_after: CellParams = chunk.after
        self.state_before: OptimizerState = chunk.state_before
        self.state_after: OptimizerState = chunk.state
        self.update_order = self.params.names
        self.bptt_names = tuple(n for n in self.params.names if n not in ("V", "c"))
        self._start_triangle(sum(self.params[n].nbytes for n in self.bptt_names),
                             {n: np.zeros_like(self.params[n]) for n in self.bptt_names})
        self._jnorms: dict[int, float] = {}
        self._outputs: dict[int, tuple[Array, Array]] = {}

    @property
    def T(self) -> int:
        return self.fwd.T

    @cached_property
    def finite(self) -> bool:
        f = self.fwd
        return (finite(f.x, f.h, f.omega, f.y_hat, f.loss, *f.states)
                and bool(self.gates_finite.all())
                and self.grads.is_finite() and self.params_after.is_finite())

    @cached_property
    def gates_finite(self) -> NDArray[np.bool_]:
        """Per step (T,): every gate's U x, W (input) and their sum finite."""
        return gate_sums_finite(self.params, self.fwd)

    # ------------------------------------------------------------- BPTT

    def row(self, t: int) -> CellRow:
        """Row t of the triangle (BaseEpoch keeps the last one asked)."""
        return super().row(t)  # type: ignore[no-any-return]

    def _new_row(self, t: int) -> CellRow:
        return bptt_row(self.params, self.fwd, self.delta, t)

    def row_norms(self, rows: Iterable[int]) -> dict[int, Array]:
        """‖∂L_t/∂s_k‖ for k = 1..t of each row t."""
        return bptt_norms(self.params, self.fwd, self.delta, list(rows))

    def _terms(self, row: CellRow, k_lo: int, k_hi: int) -> Sums:
        return row_sums(self.params, self.fwd, row, k_lo, k_hi, self.mode)

    def jacobian_norm(self, j: int) -> float:
        """‖∂s_{j+1}/∂s_j‖_F (kept: the same factor appears in every row's chain)."""
        if j not in self._jnorms:
            with np.errstate(all="ignore"):
                J = jacobian(self.params, self.fwd, j)
                self._jnorms[j] = float(np.sqrt(np.sum(J * J)))
        return self._jnorms[j]

    def output_sums(self, t: int) -> tuple[Array, Array]:
        """BaseEpoch's dV, dc after the output steps 1..t, a few kept (every BPTT
        and update step shows those at t = T)."""
        if t not in self._outputs:
            if len(self._outputs) > 4:
                self._outputs = {T: v for T, v in self._outputs.items() if T == self.T}
            self._outputs[t] = super().output_sums(t)
        return self._outputs[t]

    # --------------------------------------------------- first non-finite

    def first_nonfinite(self, should_stop: ShouldStop | None = None) -> tuple[str, int] | None:
        """(phase, 0-based index) of the first step whose numbers are not finite.
        BPTT is located row by row only when the gradients are not finite
        (``should_stop`` is asked before each row: Cancelled if it says so)."""
        f, T = self.fwd, self.T
        if not self.params.is_finite():
            return ("forward", 0)
        for t in range(T):
            if not (finite(f.x[t], f.omega[t], f.y_hat[t], f.loss[t], *(s[t + 1] for s in f.states))
                    and self.gates_finite[t]):
                return ("forward", t)
        for t in range(1, T + 1):
            if not finite(*self.output_sums(t)):
                return ("output gradients", t - 1)
        if not self.grads.is_finite():
            for t in range(1, T + 1):
                if should_stop is not None and should_stop():
                    raise Cancelled
                for k in range(t, 0, -1):
                    if not sums_finite(self.bptt_sums(t, k)):
                        return ("BPTT", t * (t - 1) // 2 + (t - k))
        for i in range(len(self.params.names)):
            if not self.params_during_update(i).is_finite():
                return ("update", i)
        return None


class CellRun(BaseRun):
    """One epoch: its chunks made in order from the parameters, optimizer
    state and s_0 = 0 at its start (one chunk without seq_length), all kept."""

    def __init__(self, number: int, params: CellParams, state: OptimizerState,
                 training: Training, spans: list[tuple[int, int]]) -> None:
        self.number = number
        self.params = params
        self.state_before = state
        self.n_chunks = len(spans)
        chunks: list[CellEpoch] = []
        p, s = params, state
        s0: tuple[Array, ...] = tuple(np.zeros(params.H) for _ in range(
            2 if params.cell == "lstm" else 1))
        for j, (i, stop) in enumerate(spans):
            text = training.span(i, stop)
            ch = chunk_step(p, s, s0, text.inputs, text.targets, training.learning_rate,
                            training.options, training.mode, epoch=number, j=j, start=i)
            chunks.append(CellEpoch(number, ch, training.mode))
            p, s, s0 = self._after(chunks[-1])
        self.chunks = chunks

    def _after(self, ch: CellEpoch) -> tuple[CellParams, OptimizerState, tuple[Array, ...]]:
        """The parameters, optimizer state and s_0 = (h,) or (h, C) a chunk leaves."""
        return ch.params_after, ch.state_after, tuple(st[-1] for st in ch.fwd.states)

    def chunk(self, j: int) -> CellEpoch:
        self._check_chunk(j)
        return self.chunks[j]


def first_state(options: TrainOptions, p: CellParams) -> OptimizerState:
    return initial_state(options.optimizer, p)
