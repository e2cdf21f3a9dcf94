"""Someone else's numbers against ours, value by value, in the handout's order.

The mechanism is one list of :class:`Block` s, each one quantity at one step
(a :class:`~rnn_tui.core.stepper.Position`): our values, theirs, and a
tolerance per value. Expanded, a block is a list of :class:`Comparison` s,
(position, quantity, entry, expected, got, tolerance), and a
:class:`Report` answers what a reader asks of them: the first difference,
named as the screen names it (``epoch 1, BPTT t=2 k=1, dW[1,2]: expected
0.0123, got 0.0456``), how many differ per quantity, and, for a step, which
values differ (what the debugger marks).

Two things build blocks: :func:`compare`, from a student's trace
(:mod:`rnn_tui.core.theirs`) with a tolerance of ``tol`` (relative above 1),
and the handout conformance (:mod:`rnn_tui.core.conformance`), from the
handout's printed numbers with half a unit of the 4th decimal.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.epochs import Epoch
from rnn_tui.core.maths import Array, EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import GATE_NAMES
from rnn_tui.core.params import FILE_ORDER, UPDATE_ORDER
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper
from rnn_tui.core.text import fmt_apart
from rnn_tui.core.theirs import (
    OUTPUT_FIELDS,
    STEP_FIELDS,
    TERM_FIELDS,
    InputError,
    Theirs,
)
from rnn_tui.core.theirs import load as load_theirs


def agree(expected: float, got: float, tolerance: float) -> bool:
    """Within the tolerance; NaN agrees with NaN only, inf with the same inf."""
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return expected == got
    return abs(expected - got) <= tolerance


def step_name(layout: Layout, pos: Position) -> str:
    """A step as the header names it, without the count: ``BPTT t=2 k=1``."""
    return layout.label(pos).rsplit(" (", 1)[0]


def entry_name(quantity: str, entry: tuple[int, ...]) -> str:
    """``dW[1,2]``: 1-based, as the handout numbers entries."""
    return quantity + (f"[{','.join(str(i + 1) for i in entry)}]" if entry else "")


@dataclass(frozen=True, slots=True)
class Comparison:
    position: Position
    quantity: str  # as the screen names it: "h_2", "dW", "E_new"
    entry: tuple[int, ...]  # 0-based index within the quantity; () for a number
    expected: float  # ours
    got: float  # theirs (or the handout's)
    tolerance: float
    step: str  # the position as the screen names it: "BPTT t=2 k=1"
    field: str = ""  # which value of the step: "h", "term.dW", "grad.W" (see value())

    @property
    def agrees(self) -> bool:
        return agree(self.expected, self.got, self.tolerance)

    @property
    def name(self) -> str:
        return entry_name(self.quantity, self.entry)

    @property
    def where(self) -> str:
        return f"epoch {self.position.epoch}, {self.step}"

    def describe(self) -> str:
        expected, got = fmt_apart(self.expected, self.got)
        return f"{self.where}, {self.name}: expected {expected}, got {got}"


@dataclass(frozen=True)
class Block:
    """One quantity at one step: every entry's expected and got value."""

    position: Position
    step: str  # the position as the screen names it
    quantity: str  # "h_2", "dW", "E_new"
    field: str  # what it is: "h", "term.dW", "grad.W", "new.W" (the summary's groups)
    expected: Array
    got: Array
    tolerance: Array  # same shape, or a scalar

    @cached_property
    def agrees(self) -> NDArray[np.bool_]:
        e, g = self.expected, self.got
        with np.errstate(all="ignore"):
            close = np.isfinite(e) & np.isfinite(g) & (np.abs(e - g) <= self.tolerance)
        return close | (np.isnan(e) & np.isnan(g)) | (np.isinf(e) & (e == g))

    @property
    def size(self) -> int:
        return int(self.expected.size)

    @cached_property
    def differ(self) -> int:
        return int(self.size - np.count_nonzero(self.agrees))

    def differences(self, limit: int | None = None) -> list[Comparison]:
        """The differing entries (the first ``limit``), without visiting the
        agreeing ones: what the debugger marks on a big matrix."""
        tol = np.broadcast_to(self.tolerance, self.expected.shape)
        return [Comparison(self.position, self.quantity, idx, float(self.expected[idx]),
                           float(self.got[idx]), float(tol[idx]), self.step, self.field)
                for idx in (tuple(int(i) for i in ix)
                            for ix in np.argwhere(~self.agrees)[:limit])]

    def comparisons(self, only_differences: bool = False) -> Iterator[Comparison]:
        tol = np.broadcast_to(self.tolerance, self.expected.shape)
        for idx in np.ndindex(self.expected.shape):
            if only_differences and self.agrees[idx]:
                continue
            yield Comparison(self.position, self.quantity, tuple(int(i) for i in idx),
                             float(self.expected[idx]), float(self.got[idx]), float(tol[idx]),
                             self.step, self.field)


def block(layout: Layout, pos: Position, quantity: str, field: str, expected: Array,
          got: Array, tolerance: Array | float) -> Block:
    expected = np.asarray(expected, dtype=float)
    got = np.reshape(np.asarray(got, dtype=float), expected.shape)
    return Block(pos, step_name(layout, pos), quantity, field, expected, got,
                 np.asarray(tolerance, dtype=float))


@dataclass(frozen=True)
class Summary:
    """How one kind of value compared: counts and where differences start."""

    field: str
    label: str
    compared: int
    differ: int
    first: str | None  # "epoch 1, BPTT t=1 k=1"


@dataclass
class Report:
    """Blocks in stepping order, and the questions asked of them."""

    layout: Layout
    blocks: list[Block]
    tolerance: float = 0.0
    epochs: tuple[int, ...] = ()
    first_epoch: Epoch | None = None  # ours, for the epoch of the first difference
    _by_position: dict[Position, list[Block]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for b in self.blocks:
            self._by_position.setdefault(b.position, []).append(b)

    @property
    def compared(self) -> int:
        return sum(b.size for b in self.blocks)

    @cached_property
    def differ(self) -> int:
        return sum(b.differ for b in self.blocks)

    @property
    def all_agree(self) -> bool:
        return self.differ == 0

    def first(self) -> Comparison | None:
        for b in self.blocks:
            if b.differ:
                return next(b.comparisons(only_differences=True))
        return None

    def at(self, pos: Position) -> list[Comparison]:
        """Every comparison shown at a step (what the debugger marks there)."""
        return [c for b in self._by_position.get(pos, []) for c in b.comparisons()]

    def blocks_at(self, pos: Position) -> list[Block]:
        """The blocks compared at a step, in order."""
        return self._by_position.get(pos, [])

    def differences_at(self, pos: Position) -> list[Comparison]:
        return [c for b in self._by_position.get(pos, []) if b.differ
                for c in b.comparisons(only_differences=True)]

    def positions(self) -> list[Position]:
        """Every step with something compared, in stepping order."""
        return list(self._by_position)

    def next_difference(self, after: Position | None = None) -> Position | None:
        """The first step after ``after`` (from the start when None) where a
        value differs."""
        here = (0, -1) if after is None else (after.epoch, self.layout.step_of(after))
        for pos, blocks in self._by_position.items():
            if (pos.epoch, self.layout.step_of(pos)) > here and any(b.differ for b in blocks):
                return pos
        return None

    def summary(self) -> list[Summary]:
        """One row per kind of value, in the order they first appear."""
        rows: dict[str, list] = {}
        for b in self.blocks:
            row = rows.setdefault(b.field, [0, 0, None])
            row[0] += b.size
            row[1] += b.differ
            if b.differ and row[2] is None:
                row[2] = f"epoch {b.position.epoch}, {b.step}"
        return [Summary(f, FIELD_LABELS.get(f, f), *r) for f, r in rows.items()]


# ------------------------------------------------------ our values, by name

FIELD_LABELS = {
    "x": "x", "h": "h", "omega": "Omega", "y_hat": "y_hat", "loss": "L",
    "total_loss": "total loss", "delta": "delta", "out.dV": "dV per output step",
    "out.dc": "dc per output step", "term": "term", "min_total_loss": "min total loss",
    **{f"term.d{n}": f"d{n} per BPTT term" for n in ("W", "U", "b", "E")},
    **{f"param.{n}": f"{n} at the start" for n in UPDATE_ORDER},
    **{f"grad.{n}": f"d{n}" for n in UPDATE_ORDER},
    **{f"new.{n}": f"{n}_new" for n in UPDATE_ORDER},
    # a GRU's and an LSTM's (cell_trace_compare.py): gates, C, dL_t/dh_k, dL_t/dC_k, gate parameters
    "h_tilde": "h~", "dh": "dh per BPTT term", "dC": "dC per BPTT term",
    **{f"term.d{n}": f"d{n} per BPTT term" for n in GATE_NAMES},
    **{f"param.{n}": f"{n} at the start" for n in GATE_NAMES},
    **{f"grad.{n}": f"d{n}" for n in GATE_NAMES},
    **{f"new.{n}": f"{n}_new" for n in GATE_NAMES},
}
STEP_LABELS = {"x": "x_{t}", "h": "h_{t}", "omega": "Omega_{t}", "y_hat": "y_hat_{t}",
               "loss": "L_{t}", "delta": "delta_{t}"}


def value(ep: Epoch, field: str, t: int = 0, k: int = 0) -> Array:
    """Our value of a field of the trace schema at step t (and term k),
    1-based: the one lookup behind compare and the handout marks."""
    f = ep.fwd
    if field in ("x", "omega", "y_hat", "loss"):
        return getattr(f, field)[t - 1]
    if field == "h":
        return f.h[t]
    if field == "total_loss":
        return np.asarray(ep.total_loss)
    if field in ("delta", "out.dc"):
        return ep.delta[t - 1]
    if field == "out.dV":
        with np.errstate(all="ignore"):
            return np.outer(ep.delta[t - 1], f.h[t])  # delta_t h_t^T  (K, H)
    if field == "term":
        return ep.row(t).da[k - 1]  # dL_t/da_k  (H,)
    group, _, name = field.partition(".")
    if group == "term":
        return getattr(ep.term(t, k), name[1:])  # what term (t, k) adds to dW, ...
    params = {"param": ep.params, "grad": ep.grads, "new": ep.params_after}[group]
    return params.get(name)


# ------------------------------------------------------- a student's trace


def relative(tol: float):
    """``tol`` absolute up to 1, relative above: |ours - theirs| <= tol max(1, |ours|)."""
    def tolerance(expected: Array) -> Array:
        with np.errstate(all="ignore"):
            return tol * np.maximum(1.0, np.abs(expected))
    return tolerance


def compare(spec: ModelSpec, theirs: Theirs, tol: float = 1e-6,
            mode: EmbeddingRows | None = None, epochs: int | None = None) -> Report:
    """Every value of theirs against ours, epochs 1..``epochs`` (default: all
    of theirs), in stepping order."""
    stepper = Stepper(spec, mode)
    lay, tolerance = stepper.layout, relative(tol)
    wanted = {e.number: e for e in theirs.epochs if epochs is None or e.number <= epochs}
    blocks: list[Block] = []
    first_epoch = None
    ep = stepper.epoch(1)
    for number in range(1, max(wanted, default=0) + 1):
        if number > 1:
            ep = Epoch(number, ep.params_after, stepper.training)
        if number not in wanted:
            continue
        new = list(epoch_blocks(lay, ep, wanted[number], tolerance))
        if first_epoch is None and any(b.differ for b in new):
            first_epoch = ep
        blocks += new
    return Report(lay, blocks, tol, tuple(wanted), first_epoch)


def compare_file(spec: ModelSpec, path: Path, tol: float = 1e-6,
                 mode: EmbeddingRows | None = None, epochs: int | None = None) -> Report:
    """Read a student's trace and compare it: what ``rnn-tui compare`` and
    the debugger's ``--compare`` start from. InputError (one line) when the
    file cannot be compared."""
    return compare_theirs(spec, load_theirs(path, spec), tol, mode, epochs)


def compare_theirs(spec: ModelSpec, theirs: Theirs, tol: float = 1e-6,
                   mode: EmbeddingRows | None = None, epochs: int | None = None) -> Report:
    """:func:`compare` with :func:`compare_file`'s checks (the debugger keeps
    ``theirs`` to compare again in the other mode)."""
    if epochs is not None and theirs.epochs and theirs.epochs[0].number > epochs:
        raise InputError(f"{theirs.source}: no epoch in 1..{epochs} (--epochs)")
    report = compare(spec, theirs, tol, mode, epochs)
    if report.compared == 0:
        raise InputError(f"{theirs.source}: no numbers to compare (the schema is that of "
                         "rnn-tui trace --format json)")
    return report


def epoch_blocks(lay: Layout, ep: Epoch, theirs, tolerance) -> Iterator[Block]:
    """The blocks of one epoch in the handout's order: the parameters at the
    start, forward t = 1..T (and the total loss), output gradients, BPTT
    terms, then per update dX and X_new."""
    e, T = ep.number, lay.T

    def make(pos: Position, quantity: str, field: str, got: Array, t: int = 0,
             k: int = 0) -> Block:
        expected = value(ep, field, t, k)
        return block(lay, pos, quantity, field, expected, got, tolerance(expected))

    start = Position(epoch=e, phase=Phase.FORWARD, index=0)
    for name, got in sorted(theirs.groups.get("params", {}).items(),
                            key=lambda kv: FILE_ORDER.index(kv[0])):
        yield make(start, name, f"param.{name}", got)
    for t in range(1, T + 1):
        pos = Position(epoch=e, phase=Phase.FORWARD, index=t - 1)
        step = theirs.steps.get(t, {})
        for name in STEP_FIELDS:
            if name in step:
                yield make(pos, STEP_LABELS[name].format(t=t), name, step[name], t)
        if t == T and theirs.total_loss is not None:
            yield make(pos, "total loss", "total_loss", theirs.total_loss)
    for t in range(1, T + 1):
        pos = Position(epoch=e, phase=Phase.OUTPUT, index=t - 1)
        out = theirs.outputs.get(t, {})
        for name in OUTPUT_FIELDS:
            if name in out:
                field = "delta" if name == "delta" else f"out.{name}"
                label = STEP_LABELS["delta"].format(t=t) if name == "delta" else name
                yield make(pos, label, field, out[name], t)
    for t, k in sorted(theirs.terms, key=lambda tk: Layout.term_index(*tk)):
        pos = Position(epoch=e, phase=Phase.BPTT, index=Layout.term_index(t, k))
        for name in TERM_FIELDS:
            if name in theirs.terms[t, k]:
                field = "term" if name == "term" else f"term.{name}"
                yield make(pos, name, field, theirs.terms[t, k][name], t, k)
    grads, after = theirs.groups.get("grads", {}), theirs.groups.get("params_after", {})
    for i, name in enumerate(UPDATE_ORDER):
        pos = Position(epoch=e, phase=Phase.UPDATE, index=i)
        if name in grads:
            yield make(pos, f"d{name}", f"grad.{name}", grads[name])
        if name in after:
            yield make(pos, f"{name}_new", f"new.{name}", after[name])
