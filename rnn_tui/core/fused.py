"""What the fused training loops share (fast_train, tbptt_kernel, cells.fast).

Each loop keeps the parameters in one flat buffer (and the gradients in
another of the same layout), so that an update is a few NumPy calls on all
of them at once, and reads and writes each parameter through a view of it.
The output layer's softmax and loss are computed in place, with the same
operations in the same order as maths.softmax and maths.cross_entropy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.maths import Array, EmbeddingRows


def flat(named: Mapping[str, Array]) -> Array:
    """The arrays, in the mapping's order, raveled into one fresh buffer."""
    return np.concatenate([a.ravel() for a in named.values()])


def views(buf: Array, like: Mapping[str, Array]) -> dict[str, Array]:
    """Name -> a view of ``buf`` shaped like ``like[name]``, in the layout of :func:`flat`."""
    out, at = {}, 0
    for n, a in like.items():
        out[n] = buf[at : at + a.size].reshape(a.shape)
        at += a.size
    return out


def softmax_loss(omega: Array, target_at: Array, m: Array, s: Array) -> float:
    """Turn omega (n, K) into y_hat in place and return the total loss
    sum_t (m_t + ln sum exp(Omega_t - m_t)) - Omega_t[target];
    target_at (n,) is the flat index of each Omega_t[target], m and s are (n, 1) buffers."""
    picked = np.take(omega.reshape(-1), target_at)
    np.maximum.reduce(omega, 1, keepdims=True, out=m)
    np.subtract(omega, m, out=omega)
    np.exp(omega, out=omega)
    np.add.reduce(omega, 1, keepdims=True, out=s)
    np.divide(omega, s, out=omega)  # y_hat
    np.log(s, out=s)
    np.add(m, s, out=m)  # log-sum-exp
    return float(np.add.reduce(np.subtract(m[:, 0], picked, out=picked), None))


class RnnWork:
    """The RNN's forward and backward over n steps, in buffers allocated once
    (names as in maths.forward and maths.backward): maths' operations in
    maths' order, so the numbers are bit-for-bit theirs (tests/core/
    test_train_kernel.py, test_tbptt_kernel.py). P and G are the named views
    of the flat parameters and gradients (:func:`views`)."""

    def __init__(self, n: int, K: int, D: int, H: int) -> None:
        e = np.empty
        self.x, self.uxb, self.h = e((n, D)), e((n, H)), np.zeros((n + 1, H))  # h[0] = h_0
        self.omega = e((n, K))  # becomes exp(z), y_hat and delta in place
        self.m, self.s = e((n, 1)), e((n, 1))
        self.dh_out, self.dtanh, self.da = e((n, H)), e((n, H)), e((n, H))
        self.dE_rows = e((n, D))
        self.tmp = e(H)
        # row views, made once (a list is faster to index than an array)
        self.h_rows, self.uxb_rows = list(self.h), list(self.uxb)
        self.dh_rows, self.dtanh_rows, self.da_rows = (list(self.dh_out), list(self.dtanh),
                                                      list(self.da))

    def forward(self, P: Mapping[str, Array], xs: NDArray[np.intp], target_at: Array) -> float:
        """From h[0]: x_t = E[x_t^o], h_t = tanh(U x_t + b + W h_{t-1}),
        Omega_t = V h_t + c, then y_hat in omega. Returns the total loss."""
        x, uxb, tmp, hv, uv = self.x, self.uxb, self.tmp, self.h_rows, self.uxb_rows
        np.take(P["E"], xs, axis=0, out=x)
        np.matmul(x, P["U"].T, out=uxb)
        np.add(uxb, P["b"], out=uxb)
        w_dot, add, tanh = P["W"].dot, np.add, np.tanh
        for t in range(len(uv)):
            w_dot(hv[t], tmp)
            add(uv[t], tmp, out=tmp)
            tanh(tmp, out=hv[t + 1])
        np.matmul(self.h[1:], P["V"].T, out=self.omega)
        add(self.omega, P["c"], out=self.omega)
        return softmax_loss(self.omega, target_at, self.m, self.s)

    def backward(self, P: Mapping[str, Array], G: Mapping[str, Array], xs: NDArray[np.intp],
                 ys: NDArray[np.intp], mode: EmbeddingRows) -> None:
        """maths.backward after :meth:`forward`, into the gradient views G."""
        n, omega, h1, da, tmp = len(xs), self.omega, self.h[1:], self.da, self.tmp
        add, mul = np.add, np.multiply
        omega[np.arange(n), ys] -= 1.0  # delta_t = y_hat_t - y_t
        np.matmul(omega.T, h1, out=G["V"])
        np.add.reduce(omega, 0, out=G["c"])
        np.matmul(omega, P["V"], out=self.dh_out)  # V^T delta_t
        mul(h1, h1, out=self.dtanh)
        np.subtract(1.0, self.dtanh, out=self.dtanh)  # 1 - h_t^2
        dv, ov, dav = self.dh_rows, self.dtanh_rows, self.da_rows
        back = range(n - 1, -1, -1)
        dE = G["E"]
        if mode == "x_k":
            wt_dot = P["W"].T.dot
            tmp.fill(0.0)
            for t in back:
                add(dv[t], tmp, out=tmp)
                mul(tmp, ov[t], out=dav[t])
                wt_dot(dav[t], tmp)  # W^T da_t
            np.matmul(da, P["U"], out=self.dE_rows)
            dE.fill(0.0)
            np.add.at(dE, xs, self.dE_rows)
        else:  # one channel per distinct input character, as maths.backward
            chars, channel = np.unique(xs, return_inverse=True)
            dh_g = np.zeros((chars.shape[0], tmp.shape[0]))
            da_g, acc_g = np.empty_like(dh_g), np.zeros_like(dh_g)
            for t in back:
                dh_g[channel[t]] += dv[t]
                mul(dh_g, ov[t], out=da_g)
                np.add.reduce(da_g, 0, out=dav[t])
                add(acc_g, da_g, out=acc_g)
                np.matmul(da_g, P["W"], out=dh_g)
            dE.fill(0.0)
            dE[chars] = acc_g @ P["U"]
        np.matmul(da.T, self.h[:-1], out=G["W"])
        np.matmul(da.T, self.x, out=G["U"])
        np.add.reduce(da, 0, out=G["b"])
