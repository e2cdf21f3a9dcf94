"""Truncated BPTT for the gated cells, as core/tbptt.py does it for the RNN.

With seq_length N: chunk j has inputs text[jN : jN+N] (the last may be
shorter); its initial state s_0 = (h_0,) or (h_0, C_0) is the last state of
chunk j−1, a constant (no gradient flows through it), and zeros at every
epoch's start; per chunk: forward, backward, clipping, one optimizer update.
Pure functions of (parameters, optimizer state, s_0, chunk): a chunk
recomputed from the same values is bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.bptt import CellForward, backward, final_state, forward
from rnn_tui.core.cells.optim import clip, initial_state, step
from rnn_tui.core.cells.params import CellGrads, CellParams
from rnn_tui.core.chunk_loop import Chunked
from rnn_tui.core.maths import Array, EmbeddingRows
from rnn_tui.core.optim import Clipped, OptimizerState
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


_LOOP: Chunked[CellParams, CellChunk] = Chunked(
    step=chunk_step,
    initial_state=initial_state,
    zeros=lambda p: tuple(np.zeros(p.H) for _ in range(2 if p.cell == "lstm" else 1)),
    carry=lambda ch: final_state(ch.fwd),  # (h_T,) or (h_T, C_T)
)
training = _LOOP.training  # chunk after chunk, epoch after epoch (chunk_loop.Chunked)
train = _LOOP.train  # epochs: each epoch's total loss, the parameters and state after
