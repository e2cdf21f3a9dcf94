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

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.maths import (
    Array,
    EmbeddingRows,
    Forward,
    Grads,
    Params,
    backward,
    forward,
)
from rnn_tui.core.optim import Clipped, OptimizerState, clip, initial_state, step
from rnn_tui.core.train_options import TrainOptions


def spans(T: int, seq_length: int | None) -> list[tuple[int, int]]:
    """(start, stop) of each chunk: [jN, min(jN + N, T)); one chunk when N is None."""
    N = T if seq_length is None else seq_length
    return [(i, min(i + N, T)) for i in range(0, T, N)]


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


def chunk_step(
    p: Params,
    state: OptimizerState,
    h0: Array,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    mode: EmbeddingRows = "x_k",
    *,
    epoch: int = 1,
    j: int = 0,
    start: int = 0,
) -> Chunk:
    """Forward from h0, backward, clip, update: one chunk (inputs, targets are its own)."""
    f = forward(p, inputs, targets, h0)
    g = backward(p, f, mode)  # h0 enters dW through da_1 h_0^T; nothing flows into h0
    c = clip(options, g)
    after, new_state = step(options, p, c.grads, state, learning_rate)
    return Chunk(epoch=epoch, j=j, start=start, h0=h0, params=p, fwd=f, grads=g, clipped=c,
                 state_before=state, state=new_state, after=after)


def training(
    p: Params,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    mode: EmbeddingRows = "x_k",
    state: OptimizerState | None = None,
) -> Iterator[Chunk]:
    """Chunk after chunk, epoch after epoch, from parameters p (and the
    optimizer's initial state unless one is given). Never ends."""
    T = int(inputs.shape[0])
    H = p.W.shape[0]
    parts = spans(T, options.seq_length)
    s = initial_state(options.optimizer, p) if state is None else state
    for e in count(1):
        h0 = np.zeros(H)  # every epoch starts from h_0 = 0
        for j, (i, stop) in enumerate(parts):
            ch = chunk_step(p, s, h0, inputs[i:stop], targets[i:stop], learning_rate,
                            options, mode, epoch=e, j=j, start=i)
            yield ch
            p, s, h0 = ch.after, ch.state, ch.fwd.h[-1]


def train(
    p: Params,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    options: TrainOptions,
    epochs: int,
    mode: EmbeddingRows = "x_k",
) -> tuple[Array, Params, OptimizerState]:
    """``epochs`` epochs: each epoch's total loss (the sum over its chunks, each
    before its own update), and the parameters and optimizer state after."""
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
