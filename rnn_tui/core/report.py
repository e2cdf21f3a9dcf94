"""Headless reports of training runs: the JSON trace, the handout-style text
trace and the loss table. Pure functions from a model to strings.

The traces are written as a stream of chunks, one epoch at a time
(:func:`trace_json_chunks`, :func:`trace_text_chunks`), so a trace of
100,000 epochs takes the memory of one: the chunks joined are byte for byte
the whole document ``json.dumps`` would make of it (tested).

A GRU or an LSTM (``cell != "rnn"``) runs through the same functions:
cell_report.py holds only what a cell adds (its gates at every step, its
parameters by name, its BPTT terms, its epochs of chunks in the loss table)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count, islice
from typing import Any

import numpy as np

from rnn_tui.core import maths, tbptt, tbptt_kernel
from rnn_tui.core.cells.bptt import CellForward
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.fast_train import train
from rnn_tui.core.maths import Array, EmbeddingRows, Forward, Params
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.optim import AdagradState, AdamState, MomentumState, OptimizerState
from rnn_tui.core.params import FILE_ORDER, UPDATE_ORDER
from rnn_tui.core.text import char, fmt, json_array, json_number, mat, printable, vec

AnyParams = Params | CellParams  # the RNN's six, or a GRU's or an LSTM's by name
AnyForward = Forward | CellForward
SYMBOLS = {"h_tilde": "h~"}  # how the text trace writes a step key


def _params(p: AnyParams) -> dict[str, Any]:
    if not isinstance(p, Params):  # a GRU's or an LSTM's (optimizer states hold either)
        from rnn_tui.core.cell_report import named

        return named(p)
    return {n: json_array(p.get(n)) for n in FILE_ORDER}


def _initial(spec: ModelSpec) -> AnyParams:
    """The model's initial values: an RNN's Params, a cell's CellParams."""
    return spec.initial_params() if spec.cell == "rnn" else spec.initial_cell_params()


def _update_order(p: AnyParams) -> tuple[str, ...]:
    """The handout's update order: the output layer first, E last."""
    return UPDATE_ORDER if isinstance(p, Params) else p.names


def _carried(ch: Any) -> tuple[Array, ...]:
    """A chunk's state carried in: (h_0,), or an LSTM's (h_0, C_0)."""
    return (ch.h0,) if isinstance(ch, tbptt.Chunk) else ch.s0


@dataclass(frozen=True, slots=True)
class EpochResult:
    number: int
    params: AnyParams  # at the start of the epoch
    fwd: AnyForward
    grads: AnyParams
    after: AnyParams  # after the epoch's update


def training(spec: ModelSpec, mode: str | None = None) -> Iterator[EpochResult]:
    """Epoch after epoch from the model's initial values: the one training
    loop behind trace, train and export (forward from s_0 = 0, backward,
    SGD; a cell's with cells.bptt)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    inputs, targets = spec.indices()
    forward, backward, sgd = maths.forward, maths.backward, maths.sgd
    if spec.cell != "rnn":
        from rnn_tui.core.cells import bptt, params

        forward, backward, sgd = bptt.forward, bptt.backward, params.sgd  # type: ignore[assignment]
    p = _initial(spec)
    for e in count(1):
        f = forward(p, inputs, targets)  # type: ignore[arg-type]
        g = backward(p, f, emb)  # type: ignore[arg-type]
        after = sgd(p, g, spec.learning_rate)  # type: ignore[arg-type]
        yield EpochResult(e, p, f, g, after)
        p = after


def epochs(spec: ModelSpec, n: int, mode: str | None = None,
           terms: bool = False) -> Iterator[dict[str, Any]]:
    """One dict per epoch, in the trace's JSON shape (with ``terms``: also
    every output term and BPTT term, see :func:`term_dicts`)."""
    vocab = spec.alphabet
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    if not spec.train.is_handout:
        yield from chunked_epochs(spec, n, emb, terms)
        return
    for r in islice(training(spec, emb), n):
        doc = {
            "epoch": r.number,
            "total_loss": json_number(r.fwd.total_loss),
            "steps": _steps(r.fwd, vocab, spec.cell),
            "params": _params(r.params),
            "grads": _params(r.grads),
            "params_after": _params(r.after),
        }
        if terms:
            doc["outputs"], doc["terms"] = term_dicts(r.params, r.fwd, emb)
        yield doc


def _gates(f: AnyForward, cell: str, t: int) -> dict[str, Array]:
    """A cell's gates (and C_t) at step t (0-based), by their trace keys
    (cell_report.STEP_KEYS); the RNN has none."""
    if cell == "rnn":
        return {}
    from rnn_tui.core.cell_report import step_values

    return step_values(f, cell, t)  # type: ignore[arg-type]


def _steps(f: AnyForward, vocab: str, cell: str = "rnn") -> list[dict[str, Any]]:
    """The trace's steps; a cell's have its gates between x and h
    (cell_report.STEP_KEYS)."""
    out = []
    for t in range(f.T):
        doc: dict[str, Any] = {
            "t": t + 1,
            "input": vocab[f.inputs[t]],
            "target": vocab[f.targets[t]],
            "prediction": vocab[int(f.predictions[t])],
            "x": json_array(f.x[t]),
        }
        doc.update({k: json_array(v) for k, v in _gates(f, cell, t).items()})
        doc.update({"h": json_array(f.h[t + 1]), "omega": json_array(f.omega[t]),
                    "y_hat": json_array(f.y_hat[t]), "loss": json_number(float(f.loss[t]))})
        out.append(doc)
    return out


def chunk_training(spec: ModelSpec, mode: EmbeddingRows) -> Iterator[list[Any]]:
    """With a [train] table: the chunks of each epoch (tbptt.training, which
    the stepper and ``train`` equal bit for bit; cells.tbptt.training for a
    cell), one list per epoch."""
    inputs, targets = spec.indices()
    per_epoch = len(tbptt.spans(spec.T, spec.train.seq_length))
    run: Callable[..., Iterator[Any]] = tbptt.training
    if spec.cell != "rnn":
        from rnn_tui.core.cells import tbptt as cell_tbptt

        run = cell_tbptt.training
    chunks = run(_initial(spec), inputs, targets, spec.learning_rate, spec.train, mode)
    while True:
        yield list(islice(chunks, per_epoch))


def optimizer_dict(state: OptimizerState) -> dict[str, Any]:
    """The optimizer's state as the trace writes it: {} for SGD, {"v"} for
    momentum, {"m"} for Adagrad, {"m", "v", "n"} for Adam."""
    if isinstance(state, MomentumState):
        return {"v": _params(state.v)}
    if isinstance(state, AdagradState):
        return {"m": _params(state.m)}
    if isinstance(state, AdamState):
        return {"m": _params(state.m), "v": _params(state.v), "n": state.n}
    return {}


def chunked_epochs(spec: ModelSpec, n: int, mode: EmbeddingRows,
                   terms: bool = False) -> Iterator[dict[str, Any]]:
    """The trace's epochs with a [train] table: the epoch's total loss (the
    sum over its chunks), its params and params_after, and every chunk (with
    h0, and an LSTM's C0, carried in)."""
    vocab = spec.alphabet
    clipping = spec.train.clip_value is not None or spec.train.clip_norm is not None
    for e, chunks in zip(range(1, n + 1), chunk_training(spec, mode), strict=False):
        total = 0.0
        docs = []
        for ch in chunks:
            with np.errstate(all="ignore"):
                total += ch.fwd.total_loss
            doc: dict[str, Any] = {
                "chunk": ch.j + 1, "start": ch.start,
                **{f"{name}0": json_array(s) for name, s in zip(("h", "C"), _carried(ch),
                                                          strict=False)},
                "total_loss": json_number(ch.fwd.total_loss),
                "steps": _steps(ch.fwd, vocab, spec.cell),
                "params": _params(ch.params), "grads": _params(ch.grads),
            }
            if clipping:
                doc["grads_clipped"] = _params(ch.clipped.grads)
            if ch.clipped.norm is not None:
                doc["grad_norm"] = json_number(ch.clipped.norm)
            doc["params_after"] = _params(ch.after)
            doc["optimizer"] = optimizer_dict(ch.state)
            if terms:
                doc["outputs"], doc["terms"] = term_dicts(ch.params, ch.fwd, mode)
            docs.append(doc)
        yield {"epoch": e, "total_loss": json_number(total), "params": _params(chunks[0].params),
               "params_after": _params(chunks[-1].after), "chunks": docs}


def term_dicts(p: AnyParams, f: AnyForward, mode: EmbeddingRows
               ) -> tuple[list[Any], list[Any]]:
    """The steps between the forward pass and the updates, as ``trace
    --terms`` writes them: for each output step t, delta_t = y_hat_t - y_t
    and what it adds to dV (delta_t h_t^T) and dc (delta_t); for each BPTT
    term (t, k) in stepping order (t = 1..T, k = t..1), the term (the
    H-vector dL_t/da_k = delta_t^T V W^T(1-h_t^2) ... (1-h_k^2)) and what it
    adds to dW, dU, db and dE (dE as the whole K x D matrix); a cell's terms:
    cell_report.bptt_terms."""
    delta = maths.output_delta(f)  # type: ignore[arg-type]  # (T, K)
    outputs = [
        {"t": t, "delta": json_array(delta[t - 1]),
         "dV": json_array(np.outer(delta[t - 1], f.h[t])), "dc": json_array(delta[t - 1])}
        for t in range(1, f.T + 1)
    ]
    if isinstance(p, CellParams):
        from rnn_tui.core.cell_report import bptt_terms

        return outputs, bptt_terms(p, f, delta, mode)  # type: ignore[arg-type]
    terms = []
    for t in range(1, f.T + 1):
        row = maths.bptt_row(p, f, delta, t)  # type: ignore[arg-type]
        for k in range(t, 0, -1):
            s = maths.row_sums(p, f, row, k, k, mode)  # type: ignore[arg-type]
            terms.append({"t": t, "k": k, "term": json_array(row.da[k - 1]), "dW": json_array(s.W),
                          "dU": json_array(s.U), "db": json_array(s.b), "dE": json_array(s.E)})
    return outputs, terms


def trace_json_chunks(spec: ModelSpec, n: int, mode: str | None = None,
                      terms: bool = False) -> Iterator[str]:
    """The JSON trace in pieces, one epoch a piece; joined, exactly
    ``json.dumps`` of the whole document (default separators)."""
    head = json.dumps({"model": spec.name, **({"cell": spec.cell} if spec.cell != "rnn" else {}),
                       "vocab": list(spec.alphabet),
                       "embedding_rows": mode or spec.bptt.embedding_rows})
    yield head[:-1] + ', "epochs": ['
    for i, doc in enumerate(epochs(spec, n, mode, terms)):
        yield (", " if i else "") + json.dumps(doc, allow_nan=False)
    yield "]}"


def trace_json(spec: ModelSpec, n: int, mode: str | None = None, terms: bool = False) -> str:
    return "".join(trace_json_chunks(spec, n, mode, terms))


def write_chunks(chunks: Iterable[str], out: Any) -> None:
    """Write a stream of chunks to a text file, ending with one newline."""
    last = ""
    for chunk in chunks:
        if chunk:
            out.write(chunk)
            last = chunk
    if not last.endswith("\n"):
        out.write("\n")


# ----------------------------------------------------------- text trace


def trace_text(spec: ModelSpec, n: int, mode: str | None = None) -> str:
    """The handout's sections, epoch by epoch, at 4 decimals."""
    return "".join(trace_text_chunks(spec, n, mode))


def trace_text_chunks(spec: ModelSpec, n: int, mode: str | None = None) -> Iterator[str]:
    """The text trace in pieces: the heading line, then one piece an epoch
    (or, with a [train] table, a chunk)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    vocab = spec.alphabet
    shown = " ".join(char(c) for c in vocab)
    cell = "" if spec.cell == "rnn" else f"{spec.cell.upper()}, "
    yield (f"model {printable(spec.name)}: {cell}vocab {shown} (K={spec.K}), "
           f"D={spec.embedding_dim}, H={spec.hidden_size}, T={spec.T}, "
           f"eta={spec.learning_rate}, dE rows: {emb}\n")
    if spec.train.is_handout:
        for r in islice(training(spec, emb), n):
            lines = _text_section(spec, f"== epoch {r.number} ==", r.fwd, r.grads, r.after)
            yield "\n".join(lines) + "\n"
        return
    yield f"training: {spec.train.summary()}\n"
    clipping = spec.train.clip_value is not None or spec.train.clip_norm is not None
    for e, chunks in zip(range(1, n + 1), chunk_training(spec, emb), strict=False):
        for ch in chunks:
            head = (f"== epoch {e}, chunk {ch.j + 1}/{len(chunks)} "
                    f"(steps {ch.start + 1}..{ch.start + ch.fwd.T}) ==")
            lines = _text_section(spec, head, ch.fwd, ch.grads, ch.after, _carried(ch))
            if clipping:
                at = lines.index(f"-- updates (eta = {spec.learning_rate}) --")
                norm = "" if ch.clipped.norm is None else f" (norm {fmt(ch.clipped.norm)})"
                lines[at:at] = [f"-- clipped{norm} --"] + [
                    f"  dL/d{name} = {mat(ch.clipped.grads.get(name))}"
                    for name in _update_order(ch.params)]
            yield "\n".join(lines) + "\n"


def _text_section(spec: ModelSpec, head: str, f: AnyForward, g: AnyParams, after: AnyParams,
                  s0: tuple[Array, ...] = ()) -> list[str]:
    """One epoch (or chunk) of the text trace: the forward pass (with a
    cell's every gate), BPTT, the updates (in the handout's update order)."""
    vocab, cell = spec.alphabet, spec.cell
    out: list[str] = ["", head, "-- forward pass --"]
    for name, s in zip(("h", "C"), s0, strict=False):
        out.append(f"  {name}_0 = {vec(s)}" + (" (carried in)" if s.any() else ""))
    for t in range(f.T):
        pred, want = vocab[int(f.predictions[t])], vocab[f.targets[t]]
        verdict = "right" if pred == want else f"but we want {char(want)!r}"
        out.append(f"step {t + 1}: input {char(vocab[f.inputs[t]])!r}")
        out.append(f"  x_{t + 1} = {vec(f.x[t])}")
        for key, value in _gates(f, cell, t).items():
            out.append(f"  {SYMBOLS.get(key, key)}_{t + 1} = {vec(value)}")
        out.append(f"  h_{t + 1} = {vec(f.h[t + 1])}")
        out.append(f"  Omega_{t + 1} = {vec(f.omega[t])}")
        out.append(f"  y_hat_{t + 1} = {vec(f.y_hat[t])}")
        out.append(f"  predicts {char(pred)!r}, {verdict}")
        out.append(f"  L_{t + 1} = {fmt(float(f.loss[t]))}")
    out.append(f"total loss = {fmt(f.total_loss)}")
    out.append("-- backpropagation through time --")
    for name in _update_order(g):
        out.append(f"  dL/d{name} = {mat(g.get(name))}")
    out.append(f"-- updates (eta = {spec.learning_rate}) --")
    for name in _update_order(after):
        out.append(f"  {name}_new = {mat(after.get(name))}")
    return out


# ------------------------------------------------------------ loss table


def loss_curve(spec: ModelSpec, n: int, mode: str | None = None) -> Iterator[float]:
    """Total loss of epochs 1..n, each before that epoch's update."""
    return (loss for loss, _ in loss_and_params(spec, n, mode))


def loss_and_params(
    spec: ModelSpec, n: int, mode: str | None = None, every: int | None = None
) -> Iterator[tuple[float, AnyParams | None]]:
    """(total loss of epoch e, and the parameters after epoch e when e is a
    multiple of ``every``, else None) for e = 1..n.

    Only the losses are wanted here, so this runs :func:`fast_train.train`
    (with a [train] table :func:`tbptt_kernel.train`; a cell's
    cells.fast.train, with a [train] table cell_report.chunk_losses): the
    same operations as :func:`training` (as the stepper's), bit for bit,
    fused into one loop over preallocated buffers (2-5x faster). It runs in
    pieces that double while a piece takes under 50 ms, so the first rows
    print at once and a long run still yields every few tenths of a second
    (Ctrl-C, progress)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    inputs, targets = spec.indices()
    lr = spec.learning_rate
    p, state = _initial(spec), None
    if spec.cell != "rnn":
        from rnn_tui.core import cell_report
        from rnn_tui.core.cells import fast

        if not spec.train.is_handout:
            yield from cell_report.chunk_losses(spec, n, emb, every)
            return

    def piece(k: int) -> tuple[list[float], AnyParams]:
        """k more epochs from p: their total losses and the parameters after."""
        nonlocal p, state
        if spec.cell != "rnn":
            losses, p = fast.train(p, inputs, targets, lr, k, emb)  # type: ignore[arg-type]
        elif spec.train.is_handout:
            losses, p = train(p, inputs, targets, lr, k, emb)  # type: ignore[arg-type]
        else:
            losses, p, state = tbptt_kernel.train(p, inputs, targets, lr,  # type: ignore[arg-type]
                                                  spec.train, k, emb, state)
        return losses.tolist(), p

    done, chunk = 0, 16
    while done < n:
        k = min(chunk, n - done)
        if every:
            k = min(k, every - done % every)
        started = time.perf_counter()
        values, after = piece(k)
        done += k
        yield from ((v, None) for v in values[:-1])
        yield values[-1], (after if every and done % every == 0 else None)
        if time.perf_counter() - started < 0.05:
            chunk = min(2 * chunk, 1 << 16)
