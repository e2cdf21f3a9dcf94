"""One epoch's numbers: :class:`Epoch` (the RNN), its base :class:`BaseEpoch`
(shared with the cells' CellEpoch), and :class:`Training` (what epochs train on).

All the numeric caching of the stepper is listed here, so that everything
else (stepper.py, view.py, the panels) is plain functions of a position. Every
cache below holds values that are recomputed bit-for-bit identically when
missing: a cache changes how fast a number appears, never which number.

:class:`Epoch` (built from the parameters at an epoch's start):
    fwd, delta, grads, params_after
        The O(T) forward and backward passes and the update, computed once
        when the epoch is built: every step of the epoch shows one of them.
    _row_start (row-start sums of the BPTT triangle, byte-budgeted; BaseEpoch's)
        Stepping to term (t, k) shows the sum of all terms of rows 1..t-1
        plus part of row t, always added in the same order from row 1. The
        sums at the start of rows 1, 1+s, 1+2s, ... are kept (s chosen so
        they fit CHECKPOINT_BYTES), so a key costs at most s rows. Without
        them a BPTT key at t = 200 of K64 D32 H128 T200 rebuilds 199 rows,
        about 300 ms (what the first visit there costs) on every key instead
        of 2-12 ms: the latency bench's walk stops at t = 8, so it cannot
        show this; measured directly.
    _row, _last_start (BaseEpoch's, so the cells' CellEpoch has them too)
        The last row asked and the row-start sums of the last t asked: each
        key of a row shows the row, its term and the partial sums, which
        without them rebuild the row's chain three times. Late BPTT rows of
        K64 D32 H128 T200 (t = 150; in process, CPU per key, median of 100):
        20.9 ms without, 17.9 ms with (status bar 3.0 -> 1.3 ms).
    _norms
        The term sizes of the rows the BPTT panel asked last (core/batched.py):
        it asks the same rows on every key of a row. Late BPTT rows as above:
        the panel 1.9 -> 0.4 ms, CPU per key 17.9 -> 16.6 ms.
    first_nonfinite
        Where the epoch's numbers stop being finite, found once (see
        :meth:`Epoch.first_nonfinite`): asked on every key once a model
        diverges, and O(T H^2 log T) to find.

Removed because ``python -m bench --only latency`` showed no difference on
K64 D32 H128 T200 (median key to repaint 14.4 ms with them, 11.0 ms and
24.0 ms in two runs without, where the hello model moved the same way;
CPU time per key 8.0 ms with, 7.6 and 8.2 ms without): an LRU of 8 BPTT
rows, the norms of every row drawn (cf. _norms), and the stepper
keeping the epoch just left (stepping back over an epoch boundary rebuilds
that epoch from the checkpoints' recent parameters: one forward and
backward pass, 25 ms median on that bench run). Measured directly on that
model, the row norms now cost 0.3 ms per BPTT key at t = 20 and 3 ms at
t = 200.

:class:`~rnn_tui.core.cells.epochs.CellEpoch` (a GRU's or an LSTM's chunk), besides
the RNN's fwd, delta, grads, params_after, _row_start, _row and _last_start:
    _jnorms
        The norms of the factors d s_{j+1} / d s_j, per j: the same factor
        stands in every row's chain.
    _outputs
        dV, dc after the output steps 1..t for a few t (always t = T): every
        BPTT and update step shows those at t = T.

:class:`~rnn_tui.core.checkpoints.EpochCheckpoints` (the parameters at the
start of epochs, core/checkpoints.py; the cells' are sized by their names):
    A bounded set of sparse checkpoints whose stride doubles when full, plus
    the most recent epochs; any other epoch is recomputed from the nearest
    checkpoint below it, by the same function that produced it the first
    time. Memory stays flat however far a jump goes; one float per epoch is
    kept for the loss plot, and the first epoch that is not finite is kept
    whole (the status bar names its first non-finite step on every key).

:class:`~rnn_tui.core.chunked.EpochRun` and the cells' CellRun (an epoch of
chunks with seq_length): the starts of chunks 0, s, 2s, ... and the chunk
last made (EpochRun; see core/chunked.py), or every chunk (CellRun).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.batched import bptt_norms
from rnn_tui.core.maths import (
    Array,
    BpttRow,
    BpttSums,
    EmbeddingRows,
    Forward,
    Grads,
    Params,
    backward,
    bptt_row,
    forward,
    output_delta,
    row_sums,
    sgd,
)
from rnn_tui.core.optim import Clipped, OptimizerState, SgdState, clip, initial_state, step
from rnn_tui.core.params import BPTT_PARAMS, UPDATE_ORDER
from rnn_tui.core.train_options import TrainOptions

ShouldStop = Callable[[], bool]
_UNKNOWN = object()


class Cancelled(Exception):
    """A long run was asked to stop; the stepper is left where it was."""


def _check(stop: ShouldStop) -> None:
    if stop():
        raise Cancelled


def finite(*arrays: Array) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


def _first(n: int, ok: Callable[[int], bool]) -> int:
    """The smallest i in 1..n with ``not ok(i)`` (n + 1 if none), by bisection:
    ``ok`` is true up to some i and false from there on (a sum that has
    taken in an inf or a NaN never becomes finite again)."""
    lo, hi = 1, n + 1  # ok(i) for i < lo; not ok(hi) or hi == n + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid + 1
        else:
            hi = mid
    return lo


@dataclass(frozen=True, eq=False)
class Training:
    """What every epoch of a model trains on: the text as indices, the rows of E
    that get gradients, eta and the ``[train]`` options."""

    inputs: NDArray[np.intp]  # (T,) the x_t's indices
    targets: NDArray[np.intp]  # (T,) the y_t's indices
    mode: EmbeddingRows
    learning_rate: float
    options: TrainOptions = field(default_factory=TrainOptions)

    def span(self, i: int, stop: int) -> Training:
        """The chunk of the text from position i (0-based) to stop."""
        return replace(self, inputs=self.inputs[i:stop], targets=self.targets[i:stop])


class BaseEpoch:
    """What :class:`Epoch` (the RNN) and the cells' CellEpoch (GRU, LSTM,
    core/cells/epochs.py) share: one chunk's numbers as the stepper walks them.

    A subclass sets number, j, params, fwd, delta, params_after and
    update_order, calls :meth:`_start_triangle`, and gives ``_new_row(t)``
    (row t of the triangle, computed), ``_terms(row, k_lo, k_hi)`` (terms
    k_lo..k_hi of a row summed) and ``first_nonfinite``; ``_add`` adds two
    partial sums.
    """

    # Memory budget for the row-start sums of the BPTT triangle.
    CHECKPOINT_BYTES = 32 * 2**20

    number: int
    j: int  # 0-based chunk within the epoch
    params: Any
    params_after: Any
    fwd: Any  # T steps
    delta: Array  # (T, K)
    update_order: tuple[str, ...]

    def _start_triangle(self, sum_bytes: int, zeros: Any) -> None:
        """Row-start sums every ``_stride`` rows, to fit CHECKPOINT_BYTES
        (``sum_bytes``: one set of partial sums; ``zeros``: those before row 1)."""
        self._stride = max(1, math.ceil(self.fwd.T * sum_bytes / self.CHECKPOINT_BYTES))
        self._row_start: dict[int, Any] = {1: zeros}
        self._row: Any = None  # the last row asked
        self._last_start: tuple[int, Any] | None = None  # row_start of the last t asked

    @staticmethod
    def _add(a: Any, b: Any) -> Any:
        return a + b

    def _new_row(self, t: int) -> Any:
        raise NotImplementedError

    def _terms(self, row: Any, k_lo: int, k_hi: int) -> Any:
        raise NotImplementedError

    def row(self, t: int) -> Any:
        """Row t of the BPTT triangle (the last one asked is kept: a row is stepped k by k)."""
        if self._row is None or self._row.t != t:
            self._row = self._new_row(t)
        return self._row

    def _sums(self, t: int, k_lo: int, k_hi: int) -> Any:
        """The terms k_lo..k_hi of row t summed."""
        return self._terms(self.row(t), k_lo, k_hi)

    def _row_sums(self, t: int) -> Any:
        """All of row t, without replacing the row kept for stepping."""
        row = self._row if self._row is not None and self._row.t == t else self._new_row(t)
        return self._terms(row, 1, t)

    def first_nonfinite(self, should_stop: ShouldStop | None = None) -> tuple[str, int] | None:
        raise NotImplementedError

    def first_nonfinite_at(self, should_stop: ShouldStop | None = None
                           ) -> tuple[int, str, int] | None:
        """(chunk, phase, index) of the first step that is not finite, or None."""
        found = self.first_nonfinite(should_stop)
        return None if found is None else (self.j, *found)

    @cached_property
    def total_loss(self) -> float:
        return self.fwd.total_loss  # type: ignore[no-any-return]

    @cached_property
    def all_correct(self) -> bool:
        return bool((self.fwd.predictions == self.fwd.targets).all())

    def row_start(self, t: int) -> Any:
        """Sum of all terms of rows 1..t-1, from the nearest checkpoint below
        (the last t asked is kept: a row is stepped k by k).

        Always the same chain of additions from row 1, so the result does
        not depend on how the position was reached."""
        if self._last_start is not None and self._last_start[0] == t:
            return self._last_start[1]
        base = max(r for r in self._row_start if r <= t)
        acc = self._row_start[base]
        for r in range(base, t):
            acc = self._add(acc, self._row_sums(r))
            if r % self._stride == 0:
                self._row_start[r + 1] = acc
        self._last_start = (t, acc)
        return acc

    def bptt_sums(self, t: int, k: int) -> Any:
        """Partial sums after term (t, k) in stepping order."""
        return self._add(self.row_start(t), self._sums(t, k, t))

    def term(self, t: int, k: int) -> Any:
        """The single term (t, k)'s contribution to every parameter but V and c."""
        return self._sums(t, k, k)

    def params_during_update(self, index: int) -> Any:
        """Parameters after the updates update_order[0..index] (V, c, ...)."""
        p = self.params
        for name in self.update_order[: index + 1]:
            p = p.replace(name, self.params_after.get(name))
        return p

    def output_sums(self, t: int) -> tuple[Array, Array]:
        """dV (K, H), dc (K,) after the output-gradient steps 1..t."""
        with np.errstate(all="ignore"):
            d = self.delta[:t]  # (t, K)
            return d.T @ self.fwd.h[1 : t + 1], d.sum(axis=0)


class Epoch(BaseEpoch):
    """Everything one epoch computes from the parameters at its start.

    The canonical gradient (used for the update, for training and for
    jumps) is the O(T) recursion; the per-term partial sums shown while
    stepping through BPTT agree with it to ~1e-12 relative (tested).

    With truncated BPTT (issue 16) the same object is one chunk ``j`` of an
    epoch (see :class:`~rnn_tui.core.chunked.EpochRun`): its own span of the
    text from position ``start``, the carried ``h0``, and the optimizer
    state before and after its update. The defaults (chunk 0, h_0 = 0,
    SGD, no clipping) are the handout's epoch, bit for bit.
    """

    update_order = UPDATE_ORDER

    def __init__(self, number: int, params: Params, training: Training, *,
                 state: OptimizerState | None = None, h0: Array | None = None,
                 j: int = 0, start: int = 0) -> None:
        self.number = number
        self.j = j  # 0-based chunk within the epoch
        self.start = start  # text position of the chunk's first input
        self.params = params
        self.mode: EmbeddingRows = training.mode
        self.lr = training.learning_rate
        self.options = training.options
        self.state_before: OptimizerState = (
            initial_state(self.options.optimizer, params) if state is None else state)
        self.h0: Array = np.zeros(params.W.shape[0]) if h0 is None else h0  # (H,)
        self.fwd: Forward = forward(params, training.inputs, training.targets, h0)
        self.delta: Array = output_delta(self.fwd)  # (T, K)
        self.grads: Grads = backward(params, self.fwd, self.mode)  # raw, before clipping
        self.clipped: Clipped = clip(self.options, self.grads)
        self.params_after: Params
        self.state_after: OptimizerState
        if isinstance(self.state_before, SgdState):  # the handout's theta - eta g
            self.params_after = sgd(params, self.clipped.grads, self.lr)
            self.state_after = self.state_before
        else:
            self.params_after, self.state_after = step(
                self.options, params, self.clipped.grads, self.state_before, self.lr)
        self._start_triangle(sum(params.get(n).size for n in BPTT_PARAMS) * 8,
                             BpttSums.zeros(params))
        self._first_nonfinite: object = _UNKNOWN
        self._norms: tuple[tuple[int, ...], dict[int, Array]] | None = None

    n_chunks = 1

    def chunk(self, j: int) -> Epoch:
        """The epoch as chunks (an epoch of one chunk is its own chunk 0)."""
        if j != self.j:
            raise IndexError(f"chunk {j + 1} of a single-chunk epoch")
        return self

    @cached_property
    def finite(self) -> bool:
        f = self.fwd
        return (
            finite(f.x, f.h, f.omega, f.y_hat, f.loss)
            and self.grads.is_finite()
            and self.clipped.grads.is_finite()
            and self.params_after.is_finite()
        )

    def _new_row(self, t: int) -> BpttRow:
        return bptt_row(self.params, self.fwd, self.delta, t)

    def row_norms(self, rows: Iterable[int]) -> dict[int, Array]:
        """|term(t, k)| for k = 1..t of each row t, the rows computed together
        (those of the last rows asked are kept: the BPTT panel asks the same
        rows on every key of a row)."""
        asked = tuple(rows)
        if self._norms is None or self._norms[0] != asked:
            self._norms = (asked, bptt_norms(self.params, self.fwd, self.delta, list(asked)))
        return dict(self._norms[1])

    def _terms(self, row: BpttRow, k_lo: int, k_hi: int) -> BpttSums:
        return row_sums(self.params, self.fwd, row, k_lo, k_hi, self.mode)

    # ------------------------------------------------ first non-finite step

    @property
    def first_nonfinite_known(self) -> bool:
        return self._first_nonfinite is not _UNKNOWN

    @property
    def first_nonfinite_is_quick(self) -> bool:
        """Finding it costs less than about a millisecond's arithmetic
        (2^22 multiply-adds): done at once rather than in the background."""
        T, H = self.fwd.T, self.params.W.shape[0]
        return T * H * H * (T.bit_length() + 4) < 2**22

    def first_nonfinite(self, should_stop: ShouldStop | None = None) -> tuple[str, int] | None:
        """(phase, 0-based step index in it) of the first step of this epoch
        whose numbers are not all finite, or None; the phase is named by its
        value ("forward", "output gradients", "BPTT", "update").

        Found once per epoch without stepping through the BPTT triangle
        (which costs O(T^2 H^2)): a sum that has taken in an inf or a NaN
        stays non-finite, so each phase is checked at its end and bisected
        only if that is not finite. For BPTT, "rows 1..t are all finite" is
        asked of the O(T) recursion run on the losses L_1..L_t (the same
        terms, summed per step k instead of per row), about log2(T) times,
        then rows are added one by one from a little before the first that
        failed, as stepping adds them: O(T H^2 log T) in all, instead of
        O(T^2 H^2). Tested against stepping through every term.

        ``should_stop`` is asked between passes (each at most one pass of
        the recursion); when it says yes, :class:`Cancelled` is raised and
        the next call starts again."""
        if self._first_nonfinite is _UNKNOWN:
            self._first_nonfinite = self._find_first_nonfinite(should_stop or (lambda: False))
        return self._first_nonfinite  # type: ignore[return-value]

    def _find_first_nonfinite(self, stop: ShouldStop) -> tuple[str, int] | None:
        f, T = self.fwd, self.fwd.T
        if not self.params.is_finite():
            return ("forward", 0)
        for t in range(T):
            if not finite(f.x[t], f.h[t + 1], f.omega[t], f.y_hat[t], f.loss[t]):
                return ("forward", t)
        if not finite(*self.output_sums(T)):
            t = _first(T - 1, lambda t: finite(*self.output_sums(t)))
            return ("output gradients", t - 1)
        term = self._first_nonfinite_term(stop)
        if term is not None:
            t, k = term
            return ("BPTT", t * (t - 1) // 2 + (t - k))
        for i in range(len(UPDATE_ORDER)):
            if not self.params_during_update(i).is_finite():
                return ("update", i)
        return None

    def _first_nonfinite_term(self, stop: ShouldStop) -> tuple[int, int] | None:
        """The first BPTT term (t, k), in stepping order, after which the
        partial sums are not finite; None if they all are."""
        T, g = self.fwd.T, self.grads
        if finite(g.W, g.U, g.b, g.E):  # rows 1..T, summed by the recursion
            return None
        # Rows 1..T are not all finite: bisect on rows 1..t (log2 T recursions).
        t_lo = _first(T - 1, lambda t: self._head(t, stop).is_finite())
        # Where sums of finite terms overflow, the recursion's order and
        # the rows' order can disagree by a few rows: go back to a row whose
        # own sum is far from overflowing (the rows grow towards the
        # overflow), then add rows one by one from there, as stepping does.
        rows: dict[int, BpttSums] = {}
        while t_lo > 1:
            _check(stop)
            rows[t_lo - 1] = self._sums(t_lo - 1, 1, t_lo - 1)
            if rows[t_lo - 1].is_small():
                break
            t_lo -= 1
        acc = self._head(t_lo - 1, stop)
        for t in range(t_lo, T + 1):
            _check(stop)
            row = rows.pop(t, None) or self._sums(t, 1, t)
            if not (acc + row).is_finite():
                return t, self._first_nonfinite_k(acc, t)
            acc = acc + row
        return T, 1  # not reached: the rows' sum is not finite

    def _first_nonfinite_k(self, start: BpttSums, t: int) -> int:
        """In row t, stepped k = t, t-1, ..., 1 from the sums ``start``: the
        first k after which the sums are not finite (they are at k = 1). A
        sum that takes in a non-finite term is not finite, so the first
        such term bounds the search; the terms before it are checked once
        and bisected only if their sum overflowed."""
        row = self.row(t)
        bad = np.flatnonzero(~np.isfinite(row.da).all(axis=1))  # k - 1 of bad terms
        n_max = t if bad.size == 0 else t - int(bad[-1])  # terms k = t..k_bad

        def ok(n: int) -> bool:  # after the n terms k = t, ..., t + 1 - n
            part = row_sums(self.params, self.fwd, row, t + 1 - n, t, self.mode)
            return (start + part).is_finite()

        n = n_max if n_max == 1 or ok(n_max - 1) else _first(n_max - 1, ok)
        return t + 1 - n

    def _head(self, t: int, stop: ShouldStop) -> BpttSums:
        """The terms of rows 1..t summed by the O(T) recursion on the losses
        L_1..L_t: the BPTT sums at the end of row t, in another order."""
        if t == 0:
            return BpttSums.zeros(self.params)
        _check(stop)
        f = self.fwd
        head = replace(
            f, inputs=f.inputs[:t], targets=f.targets[:t], x=f.x[:t], Ux=f.Ux[:t],
            Wh=f.Wh[:t], h=f.h[: t + 1], omega=f.omega[:t], y_hat=f.y_hat[:t], loss=f.loss[:t],
        )
        g = backward(self.params, head, self.mode)
        return BpttSums(W=g.W, U=g.U, b=g.b, E=g.E)
