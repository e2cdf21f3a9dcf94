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

from rnn_tui.core.cells.bptt import CellForward, backward, final_state, forward
from rnn_tui.core.cells.optim import clip, initial_state, step
from rnn_tui.core.cells.params import CellGrads, CellParams
from rnn_tui.core.chunk_loop import Chunked
from rnn_tui.core.maths import Array
from rnn_tui.core.optim import Clipped, OptimizerState


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


_LOOP: Chunked[CellParams, CellChunk] = Chunked(
    forward=lambda p, inputs, targets, s0: forward(p, inputs, targets, *s0),
    backward=backward,
    clip=clip,
    update=step,
    record=CellChunk,
    initial_state=initial_state,
    zeros=lambda p: tuple(np.zeros(p.H) for _ in range(2 if p.cell == "lstm" else 1)),
    carry=lambda ch: final_state(ch.fwd),  # (h_T,) or (h_T, C_T)
)
chunk_step = _LOOP.chunk_step  # forward from s_0, backward, clip, update: one chunk
training = _LOOP.training  # chunk after chunk, epoch after epoch (chunk_loop.Chunked)
train = _LOOP.train  # epochs: each epoch's total loss, the parameters and state after
