"""The RNN's maths in NumPy, named after the handout's symbols.

Equations only: the forward pass, the O(T) backward recursion beside it,
SGD, and the handout's per-term double sum of BPTT. Speed tricks live
beside these, not inside: ``fast_train.train`` (the same operations fused
into one loop, bit-for-bit equal, tested) and ``batched.bptt_norms`` (many
rows of the BPTT triangle at once, equal to rounding, tested).

Shapes (K = vocabulary size, D = embedding size, H = hidden size, T = steps):
    E (K, D)   U (H, D)   W (H, H)   b (H,)   V (K, H)   c (K,)
Vectors are 1-D arrays; ``U @ x`` is the handout's ``U x_t``.

Floating-point warnings are silenced on purpose: a diverging model must
produce inf/NaN values for the debugger to show, not warnings on stderr that
would scribble over a full-screen terminal app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.outputs import Outputs
from rnn_tui.core.params import FILE_ORDER

Array = NDArray[np.float64]
EmbeddingRows = Literal["x_k", "x_t"]

@dataclass(frozen=True, slots=True)
class Params:
    """The six parameters. Arrays are never mutated in place after creation."""

    E: Array  # (K, D)
    U: Array  # (H, D)
    W: Array  # (H, H)
    b: Array  # (H,)
    V: Array  # (K, H)
    c: Array  # (K,)

    def get(self, name: str) -> Array:
        return getattr(self, name)

    def replace(self, name: str, value: Array) -> Params:
        fields = {n: self.get(n) for n in FILE_ORDER}
        fields[name] = value
        return Params(**fields)

    def copy(self) -> Params:
        return Params(**{n: self.get(n).copy() for n in FILE_ORDER})

    def is_finite(self) -> bool:
        return all(bool(np.isfinite(self.get(n)).all()) for n in FILE_ORDER)


Grads = Params
"""Gradients have exactly the parameters' names and shapes."""


@dataclass(frozen=True, slots=True)
class Forward(Outputs):
    """Everything the forward pass computes, kept for the backward pass
    (T, total_loss and predictions from outputs.Outputs)."""

    inputs: NDArray[np.intp]  # (T,) vocabulary index of x_t^o
    targets: NDArray[np.intp]  # (T,) vocabulary index of y_t
    x: Array  # (T, D)   x_t = x_t^o E
    Ux: Array  # (T, H)   U x_t
    Wh: Array  # (T, H)   W h_{t-1}
    h: Array  # (T+1, H) h[0] = h_0 (0 or carried in), h[t] = tanh(U x_t + W h_{t-1} + b)
    omega: Array  # (T, K)   Omega_t = V h_t + c
    y_hat: Array  # (T, K)   softmax(Omega_t)
    loss: Array  # (T,)     L_t = -ln y_hat_t[target]


def softmax(omega: Array) -> Array:
    """Softmax along the last axis, shifted by the max so exp cannot overflow."""
    with np.errstate(all="ignore"):
        z = omega - omega.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(omega: Array, target: NDArray[np.intp]) -> Array:
    """L_t = -ln softmax(Omega_t)[target], as a log-sum-exp so it stays finite
    when y_hat_t[target] underflows to 0."""
    with np.errstate(all="ignore"):
        m = omega.max(axis=-1, keepdims=True)
        lse = (m + np.log(np.exp(omega - m).sum(axis=-1, keepdims=True)))[..., 0]
        return lse - np.take_along_axis(omega, target[..., None], axis=-1)[..., 0]


def forward(
    p: Params, inputs: NDArray[np.intp], targets: NDArray[np.intp], h0: Array | None = None
) -> Forward:
    """Run the whole sequence from h_0 (default 0; truncated BPTT carries the
    previous chunk's last h in). Only the recurrence is a Python loop; the
    embedding lookup, the output layer and the softmax are batched over t."""
    T = inputs.shape[0]
    H = p.W.shape[0]
    with np.errstate(all="ignore"):
        x = p.E[inputs]  # (T, D)  one-hot times E is a row lookup
        Ux = x @ p.U.T  # (T, H)
        Uxb = Ux + p.b
        Wh = np.empty((T, H))
        h = np.zeros((T + 1, H))
        if h0 is not None:
            h[0] = h0  # (H,) carried in: a constant, no gradient flows into it
        for t in range(T):
            Wh[t] = p.W @ h[t]
            h[t + 1] = np.tanh(Uxb[t] + Wh[t])
        omega = h[1:] @ p.V.T + p.c  # (T, K)
    return Forward(
        inputs=inputs,
        targets=targets,
        x=x,
        Ux=Ux,
        Wh=Wh,
        h=h,
        omega=omega,
        y_hat=softmax(omega),
        loss=cross_entropy(omega, targets),
    )


def output_delta(f: Forward) -> Array:
    """delta_t = y_hat_t - y_t: dL_t/dOmega_t for softmax + cross-entropy."""
    delta = f.y_hat.copy()  # (T, K)
    delta[np.arange(f.T), f.targets] -= 1.0
    return delta


def backward(
    p: Params, f: Forward, embedding_rows: EmbeddingRows = "x_k"
) -> Grads:
    """The O(T) backward recursion used for training.

    dL/dh_t collects V^T delta_t from the loss at t and W^T da_{t+1} from the
    future; da_t = dL/dh_t * (1 - h_t^2) is the gradient at the tanh input.

    In "x_t" mode (the handout's printed dE) the contribution of term (t, k)
    to dE goes to the row of the *loss step's* input x_t^o rather than x_k^o.
    To keep that O(T) the recursion carries one channel per distinct input
    character: channel g holds the part of dL/dh that came from losses at
    steps whose input is character g.
    """
    K = p.V.shape[0]
    T = f.T
    with np.errstate(all="ignore"):
        delta = output_delta(f)  # (T, K)
        dV = delta.T @ f.h[1:]  # (K, H)  sum_t delta_t h_t^T
        dc = delta.sum(axis=0)  # (K,)
        dh_out = delta @ p.V  # (T, H)  V^T delta_t for every t
        one_minus_h2 = 1.0 - f.h[1:] ** 2  # (T, H)
        if embedding_rows == "x_k":
            da = np.empty_like(dh_out)  # (T, H)
            dh_next = np.zeros(p.W.shape[0])
            for t in range(T - 1, -1, -1):
                da[t] = (dh_out[t] + dh_next) * one_minus_h2[t]
                dh_next = da[t] @ p.W  # W^T da_t
            dE_rows = da @ p.U  # (T, D) U^T da_t, for row x_k^o = inputs[t]
            dE = np.zeros_like(p.E)
            np.add.at(dE, f.inputs, dE_rows)
        else:
            chars, channel = np.unique(f.inputs, return_inverse=True)
            G = chars.shape[0]
            da_g = np.zeros((G, p.W.shape[0]))  # (G, H)
            dh_g = np.zeros((G, p.W.shape[0]))
            da = np.empty_like(dh_out)
            acc_g = np.zeros((G, p.W.shape[0]))
            for t in range(T - 1, -1, -1):
                dh_g[channel[t]] += dh_out[t]
                da_g = dh_g * one_minus_h2[t]  # (G, H)
                da[t] = da_g.sum(axis=0)
                acc_g += da_g
                dh_g = da_g @ p.W
            dE = np.zeros_like(p.E)
            dE[chars] = acc_g @ p.U
        dW = da.T @ f.h[:-1]  # (H, H)  sum_t da_t h_{t-1}^T
        dU = da.T @ f.x  # (H, D)  sum_t da_t x_t^T
        db = da.sum(axis=0)  # (H,)
    del K
    return Grads(E=dE, U=dU, W=dW, b=db, V=dV, c=dc)


def sgd(p: Params, g: Grads, learning_rate: float) -> Params:
    """theta <- theta - eta * dL/dtheta for every parameter."""
    with np.errstate(all="ignore"):
        return Params(**{n: p.get(n) - learning_rate * g.get(n) for n in FILE_ORDER})


# ------------------------------------------------ BPTT one term at a time
#
# The handout's double sum: dL/dtheta = sum_t sum_{k<=t} term(t, k), where
#   term(t, k) = delta_t^T V  prod_{j=k}^{t-1} (W^T (1 - h_{j+1}^2))  (1 - h_k^2)
# times h_{k-1} (for W), x_k (for U), 1 (for b) or U x_k^o (for E).
# For one loss step t the chain for k is the chain for k+1 times one more
# factor, so a whole row k = t..1 costs O(t H^2), not O(t^2 H^2).


@dataclass(frozen=True, slots=True)
class BpttRow:
    """All terms (t, k), k = t..1, of the loss at step t (1-based t, k)."""

    t: int
    dh: Array  # (t, H) dh[k-1] = dL_t/dh_k = delta_t^T V prod_{j=k}^{t-1} W^T(1-h_{j+1}^2)
    da: Array  # (t, H) da[k-1] = dh[k-1] * (1 - h_k^2), the term at the tanh input

    def norms(self) -> Array:
        """|term(t, k)| for k = 1..t: how much of the loss at t reaches step k."""
        with np.errstate(all="ignore"):
            return np.sqrt((self.da**2).sum(axis=1))  # (t,)


def bptt_row(p: Params, f: Forward, delta: Array, t: int) -> BpttRow:
    """Walk the factor chain back from step t to step 1."""
    H = p.W.shape[0]
    dh = np.empty((t, H))
    with np.errstate(all="ignore"):
        g = delta[t - 1] @ p.V  # (H,)  delta_t^T V
        dh[t - 1] = g
        for k in range(t - 1, 0, -1):
            g = ((1.0 - f.h[k + 1] ** 2) * g) @ p.W  # W^T (1 - h_{k+1}^2) g
            dh[k - 1] = g
        da = dh * (1.0 - f.h[1 : t + 1] ** 2)  # (t, H)
    return BpttRow(t=t, dh=dh, da=da)


@dataclass(frozen=True, slots=True)
class BpttSums:
    """Partial sums of the BPTT terms for W, U, b and E."""

    W: Array  # (H, H)
    U: Array  # (H, D)
    b: Array  # (H,)
    E: Array  # (K, D)

    @staticmethod
    def zeros(p: Params) -> BpttSums:
        return BpttSums(
            W=np.zeros_like(p.W), U=np.zeros_like(p.U), b=np.zeros_like(p.b), E=np.zeros_like(p.E)
        )

    def __add__(self, other: BpttSums) -> BpttSums:
        with np.errstate(all="ignore"):
            return BpttSums(
                W=self.W + other.W, U=self.U + other.U, b=self.b + other.b, E=self.E + other.E
            )

    def is_finite(self) -> bool:
        return all(bool(np.isfinite(a).all()) for a in (self.W, self.U, self.b, self.E))

    def is_small(self) -> bool:
        """Finite and below 2^-20 of the largest float: adding a few terms of
        this size cannot overflow."""
        limit = np.finfo(np.float64).max * 2.0**-20
        with np.errstate(all="ignore"):
            return all(bool((np.abs(a) < limit).all()) for a in (self.W, self.U, self.b, self.E))


def row_sums(
    p: Params,
    f: Forward,
    row: BpttRow,
    k_lo: int,
    k_hi: int | None = None,
    embedding_rows: EmbeddingRows = "x_k",
) -> BpttSums:
    """Sum of the terms (t, k) of one row for k_lo <= k <= k_hi (default t).

    With k_hi = t this is what stepping through row t has added so far. A
    pure function of its inputs, so a position reached forwards or
    backwards gets bit-identical sums."""
    t = row.t
    lo, hi = k_lo - 1, t if k_hi is None else k_hi  # 0-based slice of k-1
    da = row.da[lo:hi]  # (n, H) terms k = k_lo..k_hi
    with np.errstate(all="ignore"):
        dE = np.zeros_like(p.E)
        dE_rows = da @ p.U  # (n, D)  U^T da for each term
        if embedding_rows == "x_k":
            np.add.at(dE, f.inputs[lo:hi], dE_rows)  # row of x_k^o
        else:
            dE[f.inputs[t - 1]] += dE_rows.sum(axis=0)  # row of x_t^o
        return BpttSums(
            W=da.T @ f.h[lo:hi],  # sum da_k h_{k-1}^T   (H, H)
            U=da.T @ f.x[lo:hi],  # sum da_k x_k^T       (H, D)
            b=da.sum(axis=0),  # (H,)
            E=dE,
        )


def backward_by_terms(
    p: Params, f: Forward, embedding_rows: EmbeddingRows = "x_k"
) -> Grads:
    """The handout's double sum, row by row: O(T^2 H^2). Slow on purpose;
    it is the second opinion on :func:`backward`."""
    delta = output_delta(f)
    total = BpttSums.zeros(p)
    for t in range(1, f.T + 1):
        total = total + row_sums(p, f, bptt_row(p, f, delta, t), 1, None, embedding_rows)
    with np.errstate(all="ignore"):
        dV = delta.T @ f.h[1:]
        dc = delta.sum(axis=0)
    return Grads(E=total.E, U=total.U, W=total.W, b=total.b, V=dV, c=dc)
