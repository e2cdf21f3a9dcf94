"""Headless reports of a GRU's or an LSTM's training (issue 17): the JSON
trace, the text trace and the loss table, as report.py writes them for the
RNN, with the cell's gates at every step and its parameters by their names.

A step adds its gates to the RNN's keys: GRU ``z``, ``r``, ``h_tilde``; LSTM
``i``, ``f``, ``o``, ``g`` and the cell state ``C``. ``params``, ``grads`` and
``params_after`` name the cell's parameters in the file's order
(model_init.file_order). With a [train] table, each chunk has ``h0`` (and the
LSTM's ``C0``) carried in. report.py calls these for ``cell != "rnn"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count, islice
from typing import Any

import numpy as np

from rnn_tui.core.cells import bptt, fast, tbptt
from rnn_tui.core.cells.bptt import CellForward
from rnn_tui.core.cells.params import CellGrads, CellParams, sgd
from rnn_tui.core.chunk_loop import spans
from rnn_tui.core.maths import Array, EmbeddingRows, output_delta
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order
from rnn_tui.core.text import char, fmt, mat, printable, vec

STEP_KEYS: dict[str, tuple[str, ...]] = {
    "gru": ("z", "r", "h_tilde"),
    "lstm": ("i", "f", "o", "g", "C"),
}
"""What a trace step adds for each cell, in the forward pass's order."""

SYMBOLS = {"h_tilde": "h~"}  # how the text trace writes a step key


def _arr(a: Array) -> Any:
    from rnn_tui.core.report import _arr as arr

    return arr(a)


def _num(x: float) -> float | str:
    from rnn_tui.core.report import _num as num

    return num(x)


def named(p: CellParams) -> dict[str, Any]:
    """Every parameter (or gradient) by name, in the file's order."""
    return {n: _arr(p[n]) for n in file_order(p.cell)}


def step_values(f: CellForward, cell: str, t: int) -> dict[str, Array]:
    """The gates (and C_t) of step t (0-based), by their trace keys."""
    out = {}
    for key in STEP_KEYS[cell]:
        out[key] = f.C[t + 1] if key == "C" else getattr(f, key)[t]  # type: ignore[union-attr]
    return out


def steps(f: CellForward, cell: str, vocab: str) -> list[dict[str, Any]]:
    """The trace's steps: the RNN's keys with the gates between x and h."""
    out = []
    for t in range(f.T):
        doc: dict[str, Any] = {
            "t": t + 1,
            "input": vocab[f.inputs[t]],
            "target": vocab[f.targets[t]],
            "prediction": vocab[int(f.predictions[t])],
            "x": _arr(f.x[t]),
        }
        doc.update({k: _arr(v) for k, v in step_values(f, cell, t).items()})
        doc.update({"h": _arr(f.h[t + 1]), "omega": _arr(f.omega[t]),
                    "y_hat": _arr(f.y_hat[t]), "loss": _num(float(f.loss[t]))})
        out.append(doc)
    return out


@dataclass(frozen=True, slots=True)
class CellEpoch:
    number: int
    params: CellParams  # at the start of the epoch
    fwd: CellForward
    grads: CellGrads
    after: CellParams  # after the epoch's update


def training(spec: ModelSpec, mode: EmbeddingRows) -> Iterator[CellEpoch]:
    """The handout's training for a cell: forward from s_0 = 0, backward, SGD."""
    inputs, targets = spec.indices()
    p = spec.initial_cell_params()
    for e in count(1):
        f = bptt.forward(p, inputs, targets)
        g = bptt.backward(p, f, mode)
        after = sgd(p, g, spec.learning_rate)
        yield CellEpoch(e, p, f, g, after)
        p = after


def chunk_training(spec: ModelSpec, mode: EmbeddingRows) -> Iterator[list[tbptt.CellChunk]]:
    """With a [train] table: each epoch's chunks (cells.tbptt.training)."""
    inputs, targets = spec.indices()
    per_epoch = len(spans(spec.T, spec.train.seq_length))
    run = tbptt.training(spec.initial_cell_params(), inputs, targets, spec.learning_rate,
                         spec.train, mode)
    while True:
        yield list(islice(run, per_epoch))


def term_dicts(p: CellParams, f: CellForward, mode: EmbeddingRows
               ) -> tuple[list[Any], list[Any]]:
    """``trace --terms`` for a cell: each output step's δ_t and what it adds
    to dV and dc; each BPTT term (t, k) (t = 1..T, k = t..1) as ∂L_t/∂h_k
    ("dh"; the LSTM's ∂L_t/∂C_k as "dC") and what it adds to every other
    parameter ("dU_z", ..., "dE", in the file's order)."""
    delta = output_delta(f)  # type: ignore[arg-type]  # (T, K)
    outputs = [
        {"t": t, "delta": _arr(delta[t - 1]), "dV": _arr(np.outer(delta[t - 1], f.h[t])),
         "dc": _arr(delta[t - 1])}
        for t in range(1, f.T + 1)
    ]
    terms = []
    for t in range(1, f.T + 1):
        row = bptt.bptt_row(p, f, delta, t)
        for k in range(t, 0, -1):
            sums = bptt.row_sums(p, f, row, k, k, mode)
            doc: dict[str, Any] = {"t": t, "k": k, "dh": _arr(row.ds[0][k - 1])}
            if p.cell == "lstm":
                doc["dC"] = _arr(row.ds[1][k - 1])
            doc.update({f"d{n}": _arr(sums[n]) for n in file_order(p.cell) if n in sums})
            terms.append(doc)
    return outputs, terms


def epochs(spec: ModelSpec, n: int, mode: EmbeddingRows, terms: bool = False
           ) -> Iterator[dict[str, Any]]:
    """One dict per epoch in the trace's JSON shape (report.epochs for a cell)."""
    from rnn_tui.core.report import optimizer_dict

    vocab, cell = spec.alphabet, spec.cell
    if spec.train.is_handout:
        for r in islice(training(spec, mode), n):
            doc = {"epoch": r.number, "total_loss": _num(r.fwd.total_loss),
                   "steps": steps(r.fwd, cell, vocab), "params": named(r.params),
                   "grads": named(r.grads), "params_after": named(r.after)}
            if terms:
                doc["outputs"], doc["terms"] = term_dicts(r.params, r.fwd, mode)
            yield doc
        return
    clipping = spec.train.clip_value is not None or spec.train.clip_norm is not None
    for e, chunks in zip(range(1, n + 1), chunk_training(spec, mode), strict=False):
        total = 0.0
        docs = []
        for ch in chunks:
            with np.errstate(all="ignore"):
                total += ch.fwd.total_loss
            doc = {"chunk": ch.j + 1, "start": ch.start, "h0": _arr(ch.s0[0])}
            if cell == "lstm":
                doc["C0"] = _arr(ch.s0[1])
            doc.update({"total_loss": _num(ch.fwd.total_loss),
                        "steps": steps(ch.fwd, cell, vocab), "params": named(ch.params),
                        "grads": named(ch.grads)})
            if clipping:
                doc["grads_clipped"] = named(ch.clipped.grads)  # type: ignore[arg-type]
            if ch.clipped.norm is not None:
                doc["grad_norm"] = _num(ch.clipped.norm)
            doc["params_after"] = named(ch.after)
            doc["optimizer"] = optimizer_dict(ch.state)
            if terms:
                doc["outputs"], doc["terms"] = term_dicts(ch.params, ch.fwd, mode)
            docs.append(doc)
        yield {"epoch": e, "total_loss": _num(total), "params": named(chunks[0].params),
               "params_after": named(chunks[-1].after), "chunks": docs}


# ----------------------------------------------------------- text trace


def text_chunks(spec: ModelSpec, n: int, mode: EmbeddingRows) -> Iterator[str]:
    """The text trace of a cell: the heading, then one piece an epoch (or chunk)."""
    vocab = spec.alphabet
    shown = " ".join(char(c) for c in vocab)
    yield (f"model {printable(spec.name)}: {spec.cell.upper()}, vocab {shown} (K={spec.K}), "
           f"D={spec.embedding_dim}, H={spec.hidden_size}, T={spec.T}, "
           f"eta={spec.learning_rate}, dE rows: {mode}\n")
    if spec.train.is_handout:
        for r in islice(training(spec, mode), n):
            lines = _section(spec, f"== epoch {r.number} ==", r.fwd, r.grads, r.after)
            yield "\n".join(lines) + "\n"
        return
    yield f"training: {spec.train.summary()}\n"
    clipping = spec.train.clip_value is not None or spec.train.clip_norm is not None
    for e, chunks in zip(range(1, n + 1), chunk_training(spec, mode), strict=False):
        for ch in chunks:
            head = (f"== epoch {e}, chunk {ch.j + 1}/{len(chunks)} "
                    f"(steps {ch.start + 1}..{ch.start + ch.fwd.T}) ==")
            lines = _section(spec, head, ch.fwd, ch.grads, ch.after, ch.s0)
            if clipping:
                at = lines.index(f"-- updates (eta = {spec.learning_rate}) --")
                norm = "" if ch.clipped.norm is None else f" (norm {fmt(ch.clipped.norm)})"
                lines[at:at] = [f"-- clipped{norm} --"] + [
                    f"  dL/d{name} = {mat(ch.clipped.grads.get(name))}"
                    for name in ch.params.names]
            yield "\n".join(lines) + "\n"


def _section(spec: ModelSpec, head: str, f: CellForward, g: CellGrads, after: CellParams,
             s0: tuple[Array, ...] | None = None) -> list[str]:
    """One epoch (or chunk): the forward pass with every gate, BPTT, the updates
    (parameters in the handout's update order: output layer first, E last)."""
    vocab, cell = spec.alphabet, spec.cell
    out: list[str] = ["", head, "-- forward pass --"]
    for name, s in zip(("h", "C"), s0 or (), strict=False):
        out.append(f"  {name}_0 = {vec(s)}" + (" (carried in)" if s.any() else ""))
    for t in range(f.T):
        pred, want = vocab[int(f.predictions[t])], vocab[f.targets[t]]
        verdict = "right" if pred == want else f"but we want {char(want)!r}"
        out.append(f"step {t + 1}: input {char(vocab[f.inputs[t]])!r}")
        out.append(f"  x_{t + 1} = {vec(f.x[t])}")
        for key, value in step_values(f, cell, t).items():
            out.append(f"  {SYMBOLS.get(key, key)}_{t + 1} = {vec(value)}")
        out.append(f"  h_{t + 1} = {vec(f.h[t + 1])}")
        out.append(f"  Omega_{t + 1} = {vec(f.omega[t])}")
        out.append(f"  y_hat_{t + 1} = {vec(f.y_hat[t])}")
        out.append(f"  predicts {char(pred)!r}, {verdict}")
        out.append(f"  L_{t + 1} = {fmt(float(f.loss[t]))}")
    out.append(f"total loss = {fmt(f.total_loss)}")
    out.append("-- backpropagation through time --")
    for name in g.names:
        out.append(f"  dL/d{name} = {mat(g[name])}")
    out.append(f"-- updates (eta = {spec.learning_rate}) --")
    for name in after.names:
        out.append(f"  {name}_new = {mat(after[name])}")
    return out


# ------------------------------------------------------------ loss table


def loss_and_params(spec: ModelSpec, n: int, mode: EmbeddingRows, every: int | None = None
                    ) -> Iterator[tuple[float, CellParams | None]]:
    """report.loss_and_params for a cell: (total loss of epoch e, the parameters
    after epoch e when e is a multiple of ``every``, else None), e = 1..n.
    The handout's training runs cells.fast.train (bit for bit cells.train, in
    pieces that double while a piece takes under 50 ms); a [train] table runs
    cells.tbptt's chunks, epoch by epoch."""
    inputs, targets = spec.indices()
    p = spec.initial_cell_params()
    if not spec.train.is_handout:
        per_epoch = len(spans(spec.T, spec.train.seq_length))
        run = tbptt.training(p, inputs, targets, spec.learning_rate, spec.train, mode)
        for e in range(1, n + 1):
            total = 0.0
            with np.errstate(all="ignore"):
                for ch in islice(run, per_epoch):
                    total += ch.fwd.total_loss
            yield total, (ch.after if every and e % every == 0 else None)
        return
    done, piece = 0, 16
    while done < n:
        k = min(piece, n - done)
        if every:
            k = min(k, every - done % every)
        started = time.perf_counter()
        losses, p = fast.train(p, inputs, targets, spec.learning_rate, k, mode)
        done += k
        values = losses.tolist()
        yield from ((v, None) for v in values[:-1])
        yield values[-1], (p if every and done % every == 0 else None)
        if time.perf_counter() - started < 0.05:
            piece = min(2 * piece, 1 << 16)


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
    assert p is not None
    return p
