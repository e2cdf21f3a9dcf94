"""The loop of truncated BPTT, written once for the RNN (tbptt.py) and the
gated cells (cells/tbptt.py).

With seq_length N and a text of T steps, chunk j has inputs text[jN : jN+N]
(the last may be shorter; :func:`spans`); its initial state s_0 is the last
state of chunk j−1, a constant (no gradient flows through it), and zeros at
every epoch's start; each chunk is one call of the model's chunk step
(forward from s_0, backward, clipping, one optimizer update). An epoch is
one pass over the text. What differs between the models is given to
:class:`Chunked`: their forward, backward, clipping and optimizer, the
chunk's record, the zero state and the state a chunk carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count, islice
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.maths import Array, EmbeddingRows
from rnn_tui.core.optim import Clipped, OptimizerState
from rnn_tui.core.train_options import TrainOptions

P = TypeVar("P")  # the parameters: maths.Params or cells.CellParams


class ChunkRecord(Protocol[P]):
    """What the loop reads from a chunk's record (tbptt.Chunk, cells.tbptt.CellChunk)."""

    epoch: int
    after: P
    state: OptimizerState

    @property
    def fwd(self) -> Any: ...  # a forward record: .total_loss


C = TypeVar("C", bound=ChunkRecord[Any])


def spans(T: int, seq_length: int | None) -> list[tuple[int, int]]:
    """(start, stop) of each chunk: [jN, min(jN + N, T)); one chunk when N is None."""
    N = T if seq_length is None else seq_length
    return [(i, min(i + N, T)) for i in range(0, T, N)]


def epoch_totals(chunk_losses: Iterable[float], per_epoch: int, epochs: int) -> Array:
    """Each epoch's total loss: its chunks' losses added in order."""
    losses = np.zeros(epochs)
    for k, loss in enumerate(chunk_losses):
        losses[k // per_epoch] += loss
    return losses


@dataclass(frozen=True)
class Chunked(Generic[P, C]):
    """Truncated BPTT for one kind of model, from that model's functions; its
    methods are the model's ``chunk_step``, ``training`` and ``train``
    (tbptt.training, cells.tbptt.chunk_step, ...)."""

    forward: Callable[[P, NDArray[np.intp], NDArray[np.intp], Any], Any]  # (p, x, y, s_0)
    backward: Callable[[P, Any, EmbeddingRows], Any]  # (p, forward record, mode) -> grads
    clip: Callable[[TrainOptions, Any], Clipped]
    update: Callable[[TrainOptions, P, Any, OptimizerState, float], tuple[P, OptimizerState]]
    record: Callable[..., C]  # the chunk record's class, fields in chunk_step's order
    initial_state: Callable[[str, P], OptimizerState]  # optimizer name, p -> its first state
    zeros: Callable[[P], Any]  # p -> s_0 at an epoch's start
    carry: Callable[[C], Any]  # a chunk -> the s_0 of the next

    def chunk_step(self, p: P, state: OptimizerState, s0: Any, inputs: NDArray[np.intp],
                   targets: NDArray[np.intp], learning_rate: float, options: TrainOptions,
                   mode: EmbeddingRows = "x_k", *, epoch: int = 1, j: int = 0, start: int = 0
                   ) -> C:
        """Forward from s0, backward, clip, update: one chunk (inputs, targets are its own)."""
        f = self.forward(p, inputs, targets, s0)
        g = self.backward(p, f, mode)  # s_0 enters dW through da_1 h_0^T; nothing flows into it
        c = self.clip(options, g)
        after, new_state = self.update(options, p, c.grads, state, learning_rate)
        return self.record(epoch, j, start, s0, p, f, g, c, state, new_state, after)

    def training(self, p: P, inputs: NDArray[np.intp], targets: NDArray[np.intp],
                 learning_rate: float, options: TrainOptions, mode: EmbeddingRows = "x_k",
                 state: OptimizerState | None = None) -> Iterator[C]:
        """Chunk after chunk, epoch after epoch, from parameters p (and the
        optimizer's initial state unless one is given). Never ends."""
        parts = spans(int(inputs.shape[0]), options.seq_length)
        s = self.initial_state(options.optimizer, p) if state is None else state
        for e in count(1):
            s0 = self.zeros(p)  # every epoch starts from s_0 = 0
            for j, (i, stop) in enumerate(parts):
                ch = self.chunk_step(p, s, s0, inputs[i:stop], targets[i:stop],
                                     learning_rate, options, mode, epoch=e, j=j, start=i)
                yield ch
                p, s, s0 = ch.after, ch.state, self.carry(ch)

    def train(self, p: P, inputs: NDArray[np.intp], targets: NDArray[np.intp],
              learning_rate: float, options: TrainOptions, epochs: int,
              mode: EmbeddingRows = "x_k") -> tuple[Array, P, OptimizerState]:
        """``epochs`` epochs: each epoch's total loss (the sum over its chunks,
        each before its own update), and the parameters and optimizer state after."""
        per_epoch = len(spans(int(inputs.shape[0]), options.seq_length))
        s = self.initial_state(options.optimizer, p)
        chunk_losses = []
        for ch in islice(self.training(p, inputs, targets, learning_rate, options, mode),
                         epochs * per_epoch):
            chunk_losses.append(ch.fwd.total_loss)
            p, s = ch.after, ch.state
        return epoch_totals(chunk_losses, per_epoch, epochs), p, s
