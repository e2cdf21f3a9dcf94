"""The fused training kernel: forward, backward and SGD for many epochs in one loop.

:func:`rnn_tui.core.maths.forward`, :func:`~rnn_tui.core.maths.backward` and
:func:`~rnn_tui.core.maths.sgd` are the equations a student reads; this is
the same operations in the same order, written for speed, for when only the
losses are wanted (``rnn-tui train``, ``trace``, long jumps). Its losses and
parameters are bit-for-bit those of the three functions
(tests/core/test_train_kernel.py checks it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.fused import RnnWork, flat, views
from rnn_tui.core.maths import Array, EmbeddingRows, Params
from rnn_tui.core.params import FILE_ORDER


def train(p: Params, inputs: NDArray[np.intp], targets: NDArray[np.intp], learning_rate: float,
          epochs: int, embedding_rows: EmbeddingRows = "x_k") -> tuple[Array, Params]:
    """``epochs`` epochs of ``maths.forward``, ``maths.backward`` and ``maths.sgd``
    in one loop: the total loss of each epoch (before its update) and the
    parameters after the last update.

    The same operations in the same order as those three functions, so the
    losses and parameters are bit-for-bit theirs (a test checks it), for
    when only the losses are wanted (``rnn-tui train``, long jumps): the
    parameters live in one flat buffer updated in place, every intermediate
    in a buffer allocated once, and the loops call NumPy directly with
    ``out=``. An epoch of the handout's model is then about 60 NumPy calls
    instead of about 250, and a large one saves the per-step allocations.
    """
    T = int(inputs.shape[0])
    K, H = p.V.shape
    D = p.E.shape[1]
    named = {n: p.get(n) for n in FILE_ORDER}
    theta = flat(named)
    grad = np.empty_like(theta)
    P, G = views(theta, named), views(grad, named)
    target_at = np.arange(T) * K + targets  # flat index of omega_t[target_t]
    w = RnnWork(T, K, D, H)  # h[0] = h_0 = 0 stays zero
    losses = np.empty(epochs)
    with np.errstate(all="ignore"):
        for e in range(epochs):
            losses[e] = w.forward(P, inputs, target_at)
            w.backward(P, G, inputs, targets, embedding_rows)
            # sgd
            np.multiply(grad, learning_rate, out=grad)
            np.subtract(theta, grad, out=theta)
    after = Params(**{n: P[n].copy() for n in FILE_ORDER})
    return losses, after
