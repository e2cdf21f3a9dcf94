"""A fused training loop for the gated cells: bit-for-bit ``cells.train``.

The same operations in the same order as gru.forward / lstm.forward,
bptt.backward and params.sgd (a test checks losses and parameters are
bit-identical), for when only the losses are wanted: the parameters live in
one flat buffer updated in place, every intermediate in a buffer allocated
once, the loops call NumPy ufuncs with ``out=``, and what step_back
multiplies ∂L/∂s_k by that does not depend on ∂L/∂s_k (e.g. (1 − z)(1 − h̃²))
is computed for all steps at once before the backward loop (elementwise, so
the same numbers). The matrix products stay one per gate, as in the plain
code: stacking the gates' W into one matrix would change the summation order.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.fused import flat, softmax_loss, views
from rnn_tui.core.maths import Array, EmbeddingRows


def train(p: CellParams, inputs: NDArray[np.intp], targets: NDArray[np.intp],
          learning_rate: float, epochs: int, embedding_rows: EmbeddingRows = "x_k"
          ) -> tuple[Array, CellParams]:
    """``epochs`` epochs of forward (from h_0 = C_0 = 0), backward and SGD:
    each epoch's total loss (before its update) and the parameters after."""
    T, K, H, D = int(inputs.shape[0]), p.K, p.H, p.D
    gates = p.gates
    lstm = p.cell == "lstm"
    named = {n: p[n] for n in p.names}
    theta = flat(named)
    grad = np.empty_like(theta)
    P, G = views(theta, named), views(grad, named)
    E, V, c = P["E"], P["V"], P["c"]
    U = {g: P[f"U_{g}"] for g in gates}
    W = {g: P[f"W_{g}"] for g in gates}
    b = {g: P[f"b_{g}"] for g in gates}
    UT = {g: U[g].T for g in gates}
    dU = {g: G[f"U_{g}"] for g in gates}
    dW = {g: G[f"W_{g}"] for g in gates}
    db = {g: G[f"b_{g}"] for g in gates}
    dE, dV, dc = G["E"], G["V"], G["c"]
    matmul, add, sub, mul, div = np.matmul, np.add, np.subtract, np.multiply, np.divide
    tanh, exp, neg = np.tanh, np.exp, np.negative
    asum = np.add.reduce
    # ------------------------------------------------------------ buffers
    x = np.empty((T, D))
    uxb = {g: np.empty((T, H)) for g in gates}  # U_g x_t + b_g
    act = {g: np.empty((T, H)) for g in gates}  # the gates' values (h: h~ for the GRU)
    h = np.zeros((T + 1, H))  # h[0] = h_0 = 0 stays zero
    h1, h0 = h[1:], h[:-1]
    C = np.zeros((T + 1, H))  # LSTM only
    tanh_C = np.empty((T, H))
    rh = np.empty((T, H))  # GRU: r_t ⊙ h_{t−1}
    tmp, tmp2 = np.empty(H), np.empty(H)
    omega = np.empty((T, K))  # becomes exp, y_hat and delta in place
    target_at = np.arange(T) * K + targets
    onehot_y = np.zeros((T, K))
    onehot_y[np.arange(T), targets] = 1.0
    m, s = np.empty((T, 1)), np.empty((T, 1))
    dh_out = np.empty((T, H))
    da = {g: np.empty((T, H)) for g in gates}
    A = {g: np.empty((T, H)) for g in gates}  # the factors of step_back that do not depend on ds
    B = np.empty((T, H))  # LSTM: o (1 − tanh²C);  GRU: unused
    dx = np.empty((T, D))
    x_t = embedding_rows == "x_t"
    if x_t:
        chars, channel = np.unique(inputs, return_inverse=True)
        n_rows = chars.shape[0]
        acc = {g: np.empty((n_rows, H)) for g in gates}
    else:
        n_rows = 1
    dh, dC, d_rh = np.empty((n_rows, H)), np.empty((n_rows, H)), np.empty((n_rows, H))
    dsum, t2 = np.empty((n_rows, H)), np.empty((n_rows, H))
    da_k = {g: np.empty((n_rows, H)) for g in gates}
    if not x_t:  # 1-D rows, as the plain recursion's (H,) vectors
        dh, dC, d_rh, dsum, t2 = dh[0], dC[0], d_rh[0], dsum[0], t2[0]
        da_k = {g: a[0] for g, a in da_k.items()}
    losses = np.empty(epochs)

    def sigmoid_into(a: Array, out: Array) -> None:
        """out = 1 / (1 + e^−a), as common.sigmoid (a is overwritten)."""
        neg(a, out=a)
        exp(a, out=a)
        add(1.0, a, out=a)
        div(1.0, a, out=out)

    with np.errstate(all="ignore"):
        for e in range(epochs):
            # ------------------------------------------------------ forward
            np.take(E, inputs, axis=0, out=x)
            for g in gates:
                matmul(x, UT[g], out=uxb[g])
                add(uxb[g], b[g], out=uxb[g])
            if lstm:
                ai, af, ao, ag = act["i"], act["f"], act["o"], act["g"]
                for t in range(T):
                    h_prev = h[t]
                    for g, out in (("i", ai), ("f", af), ("o", ao)):
                        matmul(W[g], h_prev, out=tmp)
                        add(uxb[g][t], tmp, out=tmp)
                        sigmoid_into(tmp, out[t])
                    matmul(W["g"], h_prev, out=tmp)
                    add(uxb["g"][t], tmp, out=tmp)
                    tanh(tmp, out=ag[t])
                    mul(af[t], C[t], out=tmp)
                    mul(ai[t], ag[t], out=tmp2)
                    add(tmp, tmp2, out=C[t + 1])
                    tanh(C[t + 1], out=tanh_C[t])
                    mul(ao[t], tanh_C[t], out=h[t + 1])
            else:
                az, ar, ah = act["z"], act["r"], act["h"]
                for t in range(T):
                    h_prev = h[t]
                    for g, out in (("z", az), ("r", ar)):
                        matmul(W[g], h_prev, out=tmp)
                        add(uxb[g][t], tmp, out=tmp)
                        sigmoid_into(tmp, out[t])
                    mul(ar[t], h_prev, out=rh[t])
                    matmul(W["h"], rh[t], out=tmp)
                    add(uxb["h"][t], tmp, out=tmp)
                    tanh(tmp, out=ah[t])
                    mul(az[t], h_prev, out=tmp)
                    sub(1.0, az[t], out=tmp2)
                    mul(tmp2, ah[t], out=tmp2)
                    add(tmp, tmp2, out=h[t + 1])
            matmul(h1, V.T, out=omega)
            add(omega, c, out=omega)
            losses[e] = softmax_loss(omega, target_at, m, s)  # Σ_t L_t; omega becomes ŷ
            # ----------------------------------------------------- backward
            sub(omega, onehot_y, out=omega)  # δ_t = ŷ_t − y_t
            matmul(omega.T, h1, out=dV)
            asum(omega, 0, out=dc)
            matmul(omega, V, out=dh_out)  # V^T δ_t
            if lstm:
                ai, af, ao, ag = act["i"], act["f"], act["o"], act["g"]
                # da_o = dh ⊙ (tanh C ⊙ o(1 − o)),  B = o ⊙ (1 − tanh²C)
                sub(1.0, ao, out=A["o"])
                mul(ao, A["o"], out=A["o"])
                mul(tanh_C, A["o"], out=A["o"])
                mul(tanh_C, tanh_C, out=B)
                sub(1.0, B, out=B)
                mul(ao, B, out=B)
                # da_f = dC ⊙ (C_{k−1} ⊙ f(1 − f)), da_i = dC ⊙ (g ⊙ i(1 − i)),
                # da_g = dC ⊙ (i (1 − g²))
                sub(1.0, af, out=A["f"])
                mul(af, A["f"], out=A["f"])
                mul(C[:-1], A["f"], out=A["f"])
                sub(1.0, ai, out=A["i"])
                mul(ai, A["i"], out=A["i"])
                mul(ag, A["i"], out=A["i"])
                mul(ag, ag, out=A["g"])
                sub(1.0, A["g"], out=A["g"])
                mul(ai, A["g"], out=A["g"])
            else:
                az, ar, ah = act["z"], act["r"], act["h"]
                # da_h = dh ⊙ ((1 − z)(1 − h̃²)), da_z = dh ⊙ ((h_{k−1} − h̃) ⊙ z(1 − z)),
                # da_r = d_rh ⊙ (h_{k−1} ⊙ r(1 − r))
                sub(1.0, az, out=A["h"])
                mul(ah, ah, out=A["z"])
                sub(1.0, A["z"], out=A["z"])
                mul(A["h"], A["z"], out=A["h"])
                sub(1.0, az, out=A["z"])
                mul(az, A["z"], out=A["z"])
                sub(h0, ah, out=A["r"])
                mul(A["r"], A["z"], out=A["z"])
                sub(1.0, ar, out=A["r"])
                mul(ar, A["r"], out=A["r"])
                mul(h0, A["r"], out=A["r"])
            dh.fill(0.0)
            dC.fill(0.0)
            if x_t:
                for g in gates:
                    acc[g].fill(0.0)
            for t in range(T - 1, -1, -1):
                if x_t:
                    dh[channel[t]] += dh_out[t]
                else:
                    add(dh, dh_out[t], out=dh)
                if lstm:
                    mul(dh, A["o"][t], out=da_k["o"])
                    mul(dh, B[t], out=t2)
                    add(dC, t2, out=dC)
                    mul(dC, A["f"][t], out=da_k["f"])
                    mul(dC, A["i"][t], out=da_k["i"])
                    mul(dC, A["g"][t], out=da_k["g"])
                    mul(dC, af[t], out=dC)
                    matmul(da_k["i"], W["i"], out=dsum)
                    for g in ("f", "o", "g"):
                        matmul(da_k[g], W[g], out=t2)
                        add(dsum, t2, out=dsum)
                else:
                    mul(dh, A["h"][t], out=da_k["h"])
                    mul(dh, A["z"][t], out=da_k["z"])
                    matmul(da_k["h"], W["h"], out=d_rh)
                    mul(d_rh, A["r"][t], out=da_k["r"])
                    mul(dh, az[t], out=dsum)
                    mul(d_rh, ar[t], out=t2)
                    add(dsum, t2, out=dsum)
                    matmul(da_k["z"], W["z"], out=t2)
                    add(dsum, t2, out=dsum)
                    matmul(da_k["r"], W["r"], out=t2)
                    add(dsum, t2, out=dsum)
                dh, dsum = dsum, dh
                for g in gates:
                    if x_t:
                        asum(da_k[g], 0, out=da[g][t])
                        add(acc[g], da_k[g], out=acc[g])
                    else:
                        da[g][t] = da_k[g]
            for g in gates:
                matmul(da[g].T, rh if g == "h" and not lstm else h0, out=dW[g])
                matmul(da[g].T, x, out=dU[g])
                asum(da[g], 0, out=db[g])
            dE.fill(0.0)
            first, *rest = gates
            if x_t:
                rows = acc[first] @ U[first]
                for g in rest:
                    rows = rows + acc[g] @ U[g]
                dE[chars] = rows
            else:
                matmul(da[first], U[first], out=dx)
                for g in rest:
                    add(dx, da[g] @ U[g], out=dx)
                np.add.at(dE, inputs, dx)
            # ---------------------------------------------------------- sgd
            mul(grad, learning_rate, out=grad)
            sub(theta, grad, out=theta)
    return losses, CellParams(p.cell, {n: P[n].copy() for n in p.names})
