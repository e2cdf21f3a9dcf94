"""`rnn-tui compare` for a GRU or an LSTM: a student's trace against ours.

The student's file has the schema ``rnn-tui trace`` writes for the cell
(cell_report.py): per step x, the gates (GRU z, r, h_tilde; LSTM i, f, o,
g, C), h, omega, y_hat, loss; per epoch total_loss and params, grads,
params_after by the cell's names; with ``--terms`` each output step's delta,
dV, dc and each BPTT term's dh (dC) and share of every gradient. theirs.py
reads it (with :func:`cell_fields`); here it becomes compare.py's blocks, in
stepping order, so the report, its summary and the CLI's output are the RNN's.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import numpy as np

from rnn_tui.core.cell_report import STEP_KEYS
from rnn_tui.core.cells import bptt
from rnn_tui.core.compare import Block, Report, relative
from rnn_tui.core.diagnosis import Diagnosis
from rnn_tui.core.maths import Array, EmbeddingRows, output_delta
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order, size_label
from rnn_tui.core.report import EpochResult as CellEpoch
from rnn_tui.core.report import training
from rnn_tui.core.stepper import Layout, Phase, Position
from rnn_tui.core.theirs import OUTPUT_FIELDS, InputError, TheirEpoch, Theirs

Shapes = dict[str, tuple[str, ...]]


def cell_fields(cell: str) -> tuple[Shapes, Shapes, Shapes]:
    """(step fields, parameter shapes, term fields) of a cell's trace, by size letters."""
    step: Shapes = {"x": ("D",), **{k: ("H",) for k in STEP_KEYS[cell]}, "h": ("H",),
                    "omega": ("K",), "y_hat": ("K",), "loss": ()}
    params: Shapes = {n: tuple(size_label(n).split(" x ")) for n in file_order(cell)}
    term: Shapes = {"dh": ("H",), **({"dC": ("H",)} if cell == "lstm" else {}),
                    **{f"d{n}": s for n, s in params.items() if n not in ("V", "c")}}
    return step, params, term


LABELS = {"omega": "Omega_{t}", "y_hat": "y_hat_{t}", "loss": "L_{t}", "delta": "delta_{t}"}


def compare(spec: ModelSpec, theirs: Theirs, tol: float = 1e-6,
            mode: EmbeddingRows | None = None, epochs: int | None = None) -> Report:
    """Every value of theirs against ours, epochs 1..``epochs`` (default: all
    of theirs), in stepping order (compare.compare for a cell)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    wanted = {e.number: e for e in theirs.epochs if epochs is None or e.number <= epochs}
    if epochs is not None and theirs.epochs and theirs.epochs[0].number > epochs:
        raise InputError(f"{theirs.source}: no epoch in 1..{epochs} (--epochs)")
    blocks: list[Block] = []
    for r in islice(training(spec, emb), max(wanted, default=0)):
        if r.number in wanted:
            blocks += epoch_blocks(r, wanted[r.number], relative(tol), emb)
    report = Report(Layout(T=spec.T), blocks, tol, tuple(wanted), None)
    if report.compared == 0:
        raise InputError(f"{theirs.source}: no numbers to compare (the schema is that of "
                         "rnn-tui trace --format json)")
    return report


def epoch_blocks(r: CellEpoch, theirs: TheirEpoch, tolerance, mode: EmbeddingRows
                 ) -> Iterator[Block]:
    """One epoch's blocks: the parameters at the start, forward t = 1..T (and
    the total loss), output gradients, BPTT terms, then per update dX and X_new."""
    e, f, p = r.number, r.fwd, r.params
    T, cell, names = f.T, p.cell, file_order(p.cell)

    def make(pos: Position, step: str, quantity: str, field: str, expected: Array,
             got: Array) -> Block:
        expected = np.asarray(expected, dtype=float)
        got = np.reshape(np.asarray(got, dtype=float), expected.shape)
        return Block(pos, step, quantity, field, expected, got,
                     np.asarray(tolerance(expected), dtype=float))

    start = Position(epoch=e, phase=Phase.FORWARD, index=0)
    given = theirs.groups.get("params", {})
    for name in (n for n in names if n in given):
        yield make(start, "forward t=1", name, f"param.{name}", p[name], given[name])
    for t in range(1, T + 1):
        pos = Position(epoch=e, phase=Phase.FORWARD, index=t - 1)
        step = theirs.steps.get(t, {})
        ours: dict[str, Array] = {"x": f.x[t - 1], "h": f.h[t], "omega": f.omega[t - 1],
                                  "y_hat": f.y_hat[t - 1], "loss": f.loss[t - 1]}
        for key in STEP_KEYS[cell]:
            ours[key] = f.C[t] if key == "C" else getattr(f, key)[t - 1]  # type: ignore[union-attr]
        for name in (n for n in ("x", *STEP_KEYS[cell], "h", "omega", "y_hat", "loss")
                     if n in step):
            label = LABELS.get(name, name + "_{t}").format(t=t)
            yield make(pos, f"forward t={t}", label, name, ours[name], step[name])
        if t == T and theirs.total_loss is not None:
            yield make(pos, f"forward t={t}", "total loss", "total_loss",
                       np.asarray(f.total_loss), theirs.total_loss)
    delta = output_delta(f)  # type: ignore[arg-type]  # (T, K)
    for t in range(1, T + 1):
        pos = Position(epoch=e, phase=Phase.OUTPUT, index=t - 1)
        out = theirs.outputs.get(t, {})
        ours = {"delta": delta[t - 1], "dV": np.outer(delta[t - 1], f.h[t]),
                "dc": delta[t - 1]}
        for name in (n for n in OUTPUT_FIELDS if n in out):
            field = "delta" if name == "delta" else f"out.{name}"
            label = LABELS["delta"].format(t=t) if name == "delta" else name
            yield make(pos, f"output gradients t={t}", label, field, ours[name], out[name])
    rows: dict[int, bptt.CellRow] = {}
    for t, k in sorted(theirs.terms, key=lambda tk: Layout.term_index(*tk)):
        pos = Position(epoch=e, phase=Phase.BPTT, index=Layout.term_index(t, k))
        row = rows.setdefault(t, bptt.bptt_row(p, f, delta, t))
        sums = bptt.row_sums(p, f, row, k, k, mode)
        ours = {"dh": row.ds[0][k - 1], **({"dC": row.ds[1][k - 1]} if cell == "lstm" else {}),
                **{f"d{n}": a for n, a in sums.items()}}
        for name in (n for n in ours if n in theirs.terms[t, k]):
            field = name if name in ("dh", "dC") else f"term.{name}"
            yield make(pos, f"BPTT t={t} k={k}", name, field, ours[name],
                       theirs.terms[t, k][name])
    grads, after = theirs.groups.get("grads", {}), theirs.groups.get("params_after", {})
    for i, name in enumerate(p.names):  # the handout's update order
        pos = Position(epoch=e, phase=Phase.UPDATE, index=i)
        if name in grads:
            yield make(pos, f"update {name}", f"d{name}", f"grad.{name}", r.grads[name],
                       grads[name])
        if name in after:
            yield make(pos, f"update {name}", f"{name}_new", f"new.{name}", r.after[name],
                       after[name])


FORMULAS = {
    "x": "x_t = x°_t E, the row of E of the input character",
    "z": "z_t = σ(U_z x_t + W_z h_{t-1} + b_z)", "r": "r_t = σ(U_r x_t + W_r h_{t-1} + b_r)",
    "h_tilde": "h~_t = tanh(U_h x_t + W_h (r_t ⊙ h_{t-1}) + b_h): r multiplies h_{t-1} "
               "before W_h (PyTorch's nn.GRU applies it after: a different cell)",
    "i": "i_t = σ(U_i x_t + W_i h_{t-1} + b_i)", "f": "f_t = σ(U_f x_t + W_f h_{t-1} + b_f)",
    "o": "o_t = σ(U_o x_t + W_o h_{t-1} + b_o)", "g": "g_t = tanh(U_g x_t + W_g h_{t-1} + b_g)",
    "C": "C_t = f_t ⊙ C_{t-1} + i_t ⊙ g_t",
    "omega": "Omega_t = V h_t + c", "y_hat": "y_hat_t = softmax(Omega_t)",
    "loss": "L_t = -ln y_hat_t[target]", "total_loss": "the total loss is the sum of the L_t",
}


def diagnose(report: Report, cell: str, learning_rate: float) -> Diagnosis | None:
    """Where to look, from the first difference: keyed by the first field that differs."""
    first = report.first()
    if first is None:
        return None
    field = next(b.field for b in report.blocks if b.differ)
    text = _where(report, field, cell, learning_rate)
    group = field.partition(".")[0]
    key = {"param": "parameters", "out": "output gradient", "delta": "output gradient",
           "term": "BPTT chain", "dh": "BPTT chain", "dC": "BPTT chain",
           "grad": f"d{field[5:]}", "new": "update"}.get(group, f"forward pass: {field}")
    return None if text is None else Diagnosis(key, text)


def _where(report: Report, field: str, cell: str, learning_rate: float) -> str | None:
    first = report.first()
    assert first is not None
    if field.startswith("param."):
        return (f"epoch {first.position.epoch} starts from the model file's [init] values or "
                f"the previous epoch's updated parameters; your {field[6:]} differs")
    if field == "h":
        return ("h_t = z_t ⊙ h_{t-1} + (1 - z_t) ⊙ h~_t" if cell == "gru"
                else "h_t = o_t ⊙ tanh(C_t)") + " (the gates before it agree)"
    if field in FORMULAS:
        return FORMULAS[field] + " (everything before it agrees)"
    if field == "delta" or field.startswith("out."):
        return "delta_t = y_hat_t - y_t; dV += delta_t h_tᵀ, dc += delta_t"
    if field in ("dh", "dC") or field.startswith("term."):
        return ("the BPTT chain: ∂L_t/∂s_k is ∂L_t/∂s_t times the step Jacobians "
                "∂s_{j+1}/∂s_j (docs/cells.md); start from the first term that differs")
    if field.startswith("grad."):
        return f"d{field[5:]}: the sum of its terms over (t, k) (trace --terms shows each)"
    if field.startswith("new."):
        return f"the update X_new = X - eta dX with eta = {learning_rate}"
    return None
