"""Headless reports of a GRU's or an LSTM's training (issue 17): what the
cell adds to report.py's JSON trace, text trace and loss table, which run a
cell through the same functions as the RNN.

A step adds its gates to the RNN's keys: GRU ``z``, ``r``, ``h_tilde``; LSTM
``i``, ``f``, ``o``, ``g`` and the cell state ``C``. ``params``, ``grads`` and
``params_after`` name the cell's parameters in the file's order
(model_init.file_order). With a [train] table, each chunk has ``h0`` (and the
LSTM's ``C0``) carried in.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

import numpy as np

from rnn_tui.core.cells import bptt, fast, tbptt
from rnn_tui.core.cells.bptt import CellForward
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.chunk_loop import spans
from rnn_tui.core.maths import Array, EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order
from rnn_tui.core.report import loss_and_params
from rnn_tui.core.text import json_array

STEP_KEYS: dict[str, tuple[str, ...]] = {
    "gru": ("z", "r", "h_tilde"),
    "lstm": ("i", "f", "o", "g", "C"),
}
"""What a trace step adds for each cell, in the forward pass's order."""


def named(p: CellParams) -> dict[str, Any]:
    """Every parameter (or gradient) by name, in the file's order."""
    return {n: json_array(p[n]) for n in file_order(p.cell)}


def step_values(f: CellForward, cell: str, t: int) -> dict[str, Array]:
    """The gates (and C_t) of step t (0-based), by their trace keys."""
    out = {}
    for key in STEP_KEYS[cell]:
        out[key] = f.C[t + 1] if key == "C" else getattr(f, key)[t]  # type: ignore[union-attr]
    return out


def bptt_terms(p: CellParams, f: CellForward, delta: Array, mode: EmbeddingRows
               ) -> list[Any]:
    """``trace --terms`` for a cell (report.term_dicts writes the outputs):
    each BPTT term (t, k) (t = 1..T, k = t..1) as ∂L_t/∂h_k ("dh"; the
    LSTM's ∂L_t/∂C_k as "dC") and what it adds to every other parameter
    ("dU_z", ..., "dE", in the file's order)."""
    terms = []
    for t in range(1, f.T + 1):
        row = bptt.bptt_row(p, f, delta, t)
        for k in range(t, 0, -1):
            sums = bptt.row_sums(p, f, row, k, k, mode)
            doc: dict[str, Any] = {"t": t, "k": k, "dh": json_array(row.ds[0][k - 1])}
            if p.cell == "lstm":
                doc["dC"] = json_array(row.ds[1][k - 1])
            doc.update({f"d{n}": json_array(sums[n]) for n in file_order(p.cell) if n in sums})
            terms.append(doc)
    return terms


def chunk_losses(spec: ModelSpec, n: int, mode: EmbeddingRows, every: int | None = None
                 ) -> Iterator[tuple[float, CellParams | None]]:
    """report.loss_and_params for a cell with a [train] table: cells.tbptt's
    chunks, epoch by epoch (the total loss of epoch e, and the parameters
    after it when e is a multiple of ``every``, else None)."""
    inputs, targets = spec.indices()
    per_epoch = len(spans(spec.T, spec.train.seq_length))
    run = tbptt.training(spec.initial_cell_params(), inputs, targets, spec.learning_rate,
                         spec.train, mode)
    for e in range(1, n + 1):
        total = 0.0
        with np.errstate(all="ignore"):
            for ch in islice(run, per_epoch):
                total += ch.fwd.total_loss
        yield total, (ch.after if every and e % every == 0 else None)


def trained(spec: ModelSpec, epochs: int, mode: EmbeddingRows) -> CellParams:
    """The parameters after ``epochs`` epochs, trained as ``train`` trains
    (loss_and_params: the same numbers, bit for bit); 0: the initial ones."""
    if epochs == 0:
        return spec.initial_cell_params()
    if spec.train.is_handout:
        inputs, targets = spec.indices()
        return fast.train(spec.initial_cell_params(), inputs, targets, spec.learning_rate,
                          epochs, mode)[1]
    *_, (_, p) = loss_and_params(spec, epochs, mode, every=epochs)
    assert isinstance(p, CellParams)
    return p
