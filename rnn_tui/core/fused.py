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

from rnn_tui.core.maths import Array


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
