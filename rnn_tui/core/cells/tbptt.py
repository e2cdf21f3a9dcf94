"""Truncated BPTT for the gated cells, as core/tbptt.py does it for the RNN.

With seq_length N: chunk j has inputs text[jN : jN+N] (the last may be
shorter); its initial state s_0 = (h_0,) or (h_0, C_0) is the last state of
chunk j−1, a constant (no gradient flows through it), and zeros at every
epoch's start; per chunk: forward, backward, clipping, one optimizer update.
Pure functions of (parameters, optimizer state, s_0, chunk): a chunk
recomputed from the same values is bit-identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.bptt import CellForward, backward, final_state, forward
from rnn_tui.core.cells.optim import clip, initial_state, step
from rnn_tui.core.cells.params import CellGrads, CellParams
from rnn_tui.core.maths import Array, EmbeddingRows
from rnn_tui.core.optim import Clipped, OptimizerState
from rnn_tui.core.tbptt import spans
from rnn_tui.core.train_options import TrainOptions


@dataclass(frozen=True, slots=True)
class CellChunk:
    """One chunk's update: everything needed to show or check it."""

    epoch: int  # 1-based
    j: int  # 0-based chunk number within the epoch
    start: int  # 0-based position of the chunk's first input in the text
    s0: tuple[Array, ...]  # (h_0,) or (h_0, C_0) carried in; zeros for j = 0
    params: CellParams  # before the update
    fwd: CellForward
    grads: CellGrads  # raw dL_chunk/dθ, before clipping
    clipped: Clipped  # after clipping (clipped.grads is what the optimizer used)
    state_before: OptimizerState
    state: OptimizerState  # after the update
    after: CellParams  # after the update


def chunk_step(
    p: CellParams,
    state: OptimizerState,
    s0: tuple[Array, ...],
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    mode: EmbeddingRows = "x_k",
    *,
    epoch: int = 1,
    j: int = 0,
    start: int = 0,
) -> CellChunk:
    """Forward from s0, backward, clip, update: one chunk."""
    f = forward(p, inputs, targets, *s0)
    g = backward(p, f, mode)
    c = clip(options, g)
    after, new_state = step(options, p, c.grads, state, learning_rate)  # type: ignore[arg-type]
    return CellChunk(epoch=epoch, j=j, start=start, s0=s0, params=p, fwd=f, grads=g, clipped=c,
                     state_before=state, state=new_state, after=after)


def training(
    p: CellParams,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    mode: EmbeddingRows = "x_k",
    state: OptimizerState | None = None,
) -> Iterator[CellChunk]:
    """Chunk after chunk, epoch after epoch. Never ends."""
    parts = spans(int(inputs.shape[0]), options.seq_length)
    s = initial_state(options.optimizer, p) if state is None else state
    n_states = 2 if p.cell == "lstm" else 1
    for e in count(1):
        s0 = tuple(np.zeros(p.H) for _ in range(n_states))  # every epoch starts from 0
        for j, (i, stop) in enumerate(parts):
            ch = chunk_step(p, s, s0, inputs[i:stop], targets[i:stop], learning_rate,
                            options, mode, epoch=e, j=j, start=i)
            yield ch
            p, s, s0 = ch.after, ch.state, final_state(ch.fwd)


def train(
    p: CellParams,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    epochs: int,
    mode: EmbeddingRows = "x_k",
) -> tuple[Array, CellParams, OptimizerState]:
    """Each epoch's total loss (the sum over its chunks, each before its own
    update), and the parameters and optimizer state after ``epochs`` epochs."""
    n = len(spans(int(inputs.shape[0]), options.seq_length))
    losses = np.zeros(epochs)
    s = initial_state(options.optimizer, p)
    if epochs == 0:
        return losses, p, s
    for k, ch in enumerate(training(p, inputs, targets, learning_rate, options, mode)):
        losses[ch.epoch - 1] += ch.fwd.total_loss
        p, s = ch.after, ch.state
        if k + 1 == epochs * n:
            break
    return losses, p, s
