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

from rnn_tui.core.fused import flat, softmax_loss, views
from rnn_tui.core.maths import Array, EmbeddingRows, Params
from rnn_tui.core.params import FILE_ORDER


def train(
    p: Params,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    learning_rate: float,
    epochs: int,
    embedding_rows: EmbeddingRows = "x_k",
) -> tuple[Array, Params]:
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
    E, U, W, b, V, c = (P[n] for n in FILE_ORDER)
    dE, dU, dW, db, dV, dc = (G[n] for n in FILE_ORDER)
    target_at = np.arange(T) * K + targets  # flat index of omega_t[target_t]
    onehot_y = np.zeros((T, K))
    onehot_y[np.arange(T), targets] = 1.0
    h = np.zeros((T + 1, H))  # h[0] = h_0 = 0 stays zero
    hv, h1, h0 = list(h), h[1:], h[:-1]  # row views, made once
    x = np.empty((T, D))
    uxb = np.empty((T, H))
    uv = list(uxb)
    omega = np.empty((T, K))  # becomes exp(z), y_hat and delta in place
    m, s = np.empty((T, 1)), np.empty((T, 1))
    dh_out = np.empty((T, H))
    dv = list(dh_out)
    dtanh = np.empty((T, H))
    ov = list(dtanh)
    da = np.empty((T, H))
    dav = list(da)
    dE_rows = np.empty((T, D))
    tmp = np.empty(H)
    losses = np.empty(epochs)
    if embedding_rows == "x_t":
        chars, channel = np.unique(inputs, return_inverse=True)
        dh_g = np.zeros((chars.shape[0], H))
        da_g, acc_g = np.empty_like(dh_g), np.empty_like(dh_g)
    UT, VT = U.T, V.T
    tanh, add, sub, mul = np.tanh, np.add, np.subtract, np.multiply
    asum = np.add.reduce
    w_dot, wt_dot = W.dot, W.T.dot
    back = range(T - 1, -1, -1)
    with np.errstate(all="ignore"):
        for e in range(epochs):
            # forward: x_t = E[x_t^o], h_t = tanh(U x_t + b + W h_{t-1})
            np.take(E, inputs, axis=0, out=x)
            np.matmul(x, UT, out=uxb)
            add(uxb, b, out=uxb)
            for t in range(T):
                w_dot(hv[t], tmp)
                add(uv[t], tmp, out=tmp)
                tanh(tmp, out=hv[t + 1])
            np.matmul(h1, VT, out=omega)
            add(omega, c, out=omega)
            losses[e] = softmax_loss(omega, target_at, m, s)  # omega becomes y_hat
            # backward
            sub(omega, onehot_y, out=omega)  # delta_t = y_hat_t - y_t
            np.matmul(omega.T, h1, out=dV)
            asum(omega, 0, out=dc)
            np.matmul(omega, V, out=dh_out)  # V^T delta_t
            mul(h1, h1, out=dtanh)
            sub(1.0, dtanh, out=dtanh)
            if embedding_rows == "x_k":
                tmp.fill(0.0)
                for t in back:
                    add(dv[t], tmp, out=tmp)
                    mul(tmp, ov[t], out=dav[t])
                    wt_dot(dav[t], tmp)  # W^T da_t
                np.matmul(da, U, out=dE_rows)
                dE.fill(0.0)
                np.add.at(dE, inputs, dE_rows)
            else:
                dh_g.fill(0.0)
                acc_g.fill(0.0)
                for t in back:
                    dh_g[channel[t]] += dv[t]
                    mul(dh_g, ov[t], out=da_g)
                    asum(da_g, 0, out=dav[t])
                    add(acc_g, da_g, out=acc_g)
                    np.matmul(da_g, W, out=dh_g)
                dE.fill(0.0)
                dE[chars] = acc_g @ U
            np.matmul(da.T, h0, out=dW)
            np.matmul(da.T, x, out=dU)
            asum(da, 0, out=db)
            # sgd
            mul(grad, learning_rate, out=grad)
            sub(theta, grad, out=theta)
    after = Params(**{n: P[n].copy() for n in FILE_ORDER})
    return losses, after
