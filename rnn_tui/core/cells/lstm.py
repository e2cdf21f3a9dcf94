"""The LSTM cell (issue 17): forward, one step backward, the step Jacobian.

    i_t = σ(U_i x_t + W_i h_{t−1} + b_i)      input gate
    f_t = σ(U_f x_t + W_f h_{t−1} + b_f)      forget gate
    o_t = σ(U_o x_t + W_o h_{t−1} + b_o)      output gate
    g_t = tanh(U_g x_t + W_g h_{t−1} + b_g)   candidate
    C_t = f_t ⊙ C_{t−1} + i_t ⊙ g_t           cell state
    h_t = o_t ⊙ tanh(C_t)

with x_t = x°_t E and h_0 = C_0 = 0 (or carried). The state is s = (h, C).
C is the cell state; c stays the output bias, as in the handout.
Shapes: U_g (H, D), W_g (H, H), b_g (H,) for g in i, f, o, g.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.common import CellRecord, gate_inputs, outputs, sigmoid, zeros_or
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array


@dataclass(frozen=True, slots=True)
class LstmForward(CellRecord):
    """Everything the LSTM's forward pass computes: CellRecord's fields
    (inputs, targets, x, h with h_t = o_t ⊙ tanh(C_t), omega, y_hat, loss),
    the gates' values and the cell state."""

    i: Array  # (T, H)   i_t
    f: Array  # (T, H)   f_t
    o: Array  # (T, H)   o_t
    g: Array  # (T, H)   g_t
    C: Array  # (T+1, H) C[0] = C_0, C[t] = C_t
    tanh_C: Array  # (T, H)   tanh(C_t)

    @property
    def states(self) -> tuple[Array, ...]:
        """s_t = (h_t, C_t): (h, C), each (T+1, H)."""
        return (self.h, self.C)

    def gate(self, name: str) -> Array:
        """The gate's value per step (T, H): i, f, o or g."""
        return {"i": self.i, "f": self.f, "o": self.o, "g": self.g}[name]

    def W_input(self, name: str) -> Array:
        """What W_name multiplies at each step (T, H): h_{t−1} for every gate."""
        del name
        return self.h[:-1]


def forward(
    p: CellParams,
    inputs: NDArray[np.intp],
    targets: NDArray[np.intp],
    h0: Array | None = None,
    C0: Array | None = None,
) -> LstmForward:
    """Run the whole sequence from h_0, C_0 (zeros unless carried); only the
    recurrence is a loop, U_g x_t + b_g and the output layer are batched over t."""
    T, H = int(inputs.shape[0]), p.H
    x, Uxb = gate_inputs(p, inputs)  # (T, D), gate -> (T, H)
    Uxb_i, Uxb_f, Uxb_o, Uxb_g = Uxb["i"], Uxb["f"], Uxb["o"], Uxb["g"]
    with np.errstate(all="ignore"):
        W_i, W_f, W_o, W_g = p["W_i"], p["W_f"], p["W_o"], p["W_g"]
        i, f, o, g = (np.empty((T, H)) for _ in range(4))
        tanh_C = np.empty((T, H))
        h, C = np.empty((T + 1, H)), np.empty((T + 1, H))
        h[0], C[0] = zeros_or(h0, H), zeros_or(C0, H)
        for t in range(T):
            h_prev = h[t]
            i[t] = sigmoid(Uxb_i[t] + W_i @ h_prev)
            f[t] = sigmoid(Uxb_f[t] + W_f @ h_prev)
            o[t] = sigmoid(Uxb_o[t] + W_o @ h_prev)
            g[t] = np.tanh(Uxb_g[t] + W_g @ h_prev)
            C[t + 1] = f[t] * C[t] + i[t] * g[t]
            tanh_C[t] = np.tanh(C[t + 1])
            h[t + 1] = o[t] * tanh_C[t]
    omega, y_hat, loss = outputs(p["V"], p["c"], h[1:], targets)
    return LstmForward(inputs=inputs, targets=targets, x=x, i=i, f=f, o=o, g=g, C=C,
                       tanh_C=tanh_C, h=h, omega=omega, y_hat=y_hat, loss=loss)


def step_back(
    p: CellParams, fw: LstmForward, k: int, ds: tuple[Array, ...]
) -> tuple[dict[str, Array], tuple[Array, ...]]:
    """Differentiate step k (1-based) given ds = (∂L/∂h_k, ∂L/∂C_k): the
    gradients at the gates' inputs and (∂L/∂h_{k−1}, ∂L/∂C_{k−1}) through step k:

        da_o = ∂L/∂h_k ⊙ tanh(C_k) ⊙ o(1 − o)
        dC   = ∂L/∂C_k + ∂L/∂h_k ⊙ o ⊙ (1 − tanh²(C_k))      (all of ∂L/∂C_k at step k)
        da_f = dC ⊙ C_{k−1} ⊙ f(1 − f),   da_i = dC ⊙ g ⊙ i(1 − i),   da_g = dC ⊙ i ⊙ (1 − g²)
        ∂L/∂C_{k−1} = dC ⊙ f,   ∂L/∂h_{k−1} = W_i^T da_i + W_f^T da_f + W_o^T da_o + W_g^T da_g

    Linear in ds; each part may be (H,) or a stack of rows (m, H)."""
    dh, dC_in = ds
    j = k - 1
    i, f, o, g = fw.i[j], fw.f[j], fw.o[j], fw.g[j]
    C_prev, tanh_C = fw.C[j], fw.tanh_C[j]
    with np.errstate(all="ignore"):
        da_o = dh * (tanh_C * (o * (1.0 - o)))
        dC = dC_in + dh * (o * (1.0 - tanh_C**2))
        da_f = dC * (C_prev * (f * (1.0 - f)))
        da_i = dC * (g * (i * (1.0 - i)))
        da_g = dC * (i * (1.0 - g**2))
        dC_prev = dC * f
        dh_prev = da_i @ p["W_i"] + da_f @ p["W_f"] + da_o @ p["W_o"] + da_g @ p["W_g"]
    return {"i": da_i, "f": da_f, "o": da_o, "g": da_g}, (dh_prev, dC_prev)


def jacobian(p: CellParams, fw: LstmForward, j: int) -> Array:
    """The step Jacobian ∂s_{j+1}/∂s_j (2H, 2H), s = (h, C), for j = 0..T−1:

        ∂C'/∂h = diag(C_j f(1−f)) W_f + diag(g i(1−i)) W_i + diag(i(1−g²)) W_g
        ∂C'/∂C = diag(f)
        ∂h'/∂h = diag(tanh(C') o(1−o)) W_o + diag(o(1−tanh²C')) ∂C'/∂h
        ∂h'/∂C = diag(o(1−tanh²C') f)

    as [[∂h'/∂h, ∂h'/∂C], [∂C'/∂h, ∂C'/∂C]], primes at step j+1."""
    i, f, o, g = fw.i[j], fw.f[j], fw.o[j], fw.g[j]
    C_prev, tanh_C = fw.C[j], fw.tanh_C[j]
    with np.errstate(all="ignore"):
        dC_dh = ((C_prev * f * (1.0 - f))[:, None] * p["W_f"]
                 + (g * i * (1.0 - i))[:, None] * p["W_i"]
                 + (i * (1.0 - g**2))[:, None] * p["W_g"])
        dh_dC_new = o * (1.0 - tanh_C**2)  # ∂h'/∂C' (diagonal)
        dh_dh = (tanh_C * o * (1.0 - o))[:, None] * p["W_o"] + dh_dC_new[:, None] * dC_dh
        return np.block([[dh_dh, np.diag(dh_dC_new * f)], [dC_dh, np.diag(f)]])
