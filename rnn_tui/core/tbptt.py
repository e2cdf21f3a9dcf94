"""Truncated BPTT over any text, with any optimizer and clipping (issue 16).

With seq_length N and a text of T steps (inputs text[:-1], targets text[1:]):

    chunk j has inputs text[jN : jN+N] (the last may be shorter), targets one
    character on; its h_0 is the last h of chunk j-1 (a constant: no gradient
    flows through it), and 0 at the start of every epoch;
    per chunk: forward, backward (maths.backward), clipping, one optimizer update;
    an epoch is one pass over the text.

Everything is a pure function of (parameters, optimizer state, h_0, chunk),
so a chunk recomputed from the same values is bit-identical. With N >= T,
SGD and no clipping, an epoch is exactly the handout's (one chunk, h_0 = 0,
``maths.forward``, ``maths.backward``, ``maths.sgd``).

``maths.forward`` takes the chunk's h_0 (its default, 0, is the handout's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_tui.core.chunk_loop import Chunked, spans  # noqa: F401  (tbptt.spans, as before)
from rnn_tui.core.maths import Array, Forward, Grads, Params, backward, forward
from rnn_tui.core.optim import Clipped, OptimizerState, clip, initial_state, step


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk's update: everything needed to show or check it."""

    epoch: int  # 1-based
    j: int  # 0-based chunk number within the epoch ("chunk j+1/n" on screen)
    start: int  # i = jN, 0-based position of the chunk's first input in the text
    h0: Array  # (H,) carried in; zeros for j = 0
    params: Params  # before the update
    fwd: Forward  # fwd.h[0] is h0; fwd.h[-1] is carried to chunk j+1
    grads: Grads  # raw dL_chunk/dtheta, before clipping
    clipped: Clipped  # after clipping (clipped.grads is what the optimizer used)
    state_before: OptimizerState
    state: OptimizerState  # after the update
    after: Params  # after the update

    @property
    def stop(self) -> int:
        return self.start + self.fwd.T


_LOOP: Chunked[Params, Chunk] = Chunked(
    forward=forward,  # from the chunk's h_0
    backward=backward,
    clip=clip,
    update=step,
    record=Chunk,
    initial_state=initial_state,
    zeros=lambda p: np.zeros(p.W.shape[0]),  # h_0 = 0 (H,)
    carry=lambda ch: ch.fwd.h[-1],  # the chunk's last h
)
chunk_step = _LOOP.chunk_step  # forward from h_0, backward, clip, update: one chunk
training = _LOOP.training  # chunk after chunk, epoch after epoch (chunk_loop.Chunked)
train = _LOOP.train  # epochs: each epoch's total loss, the parameters and state after
