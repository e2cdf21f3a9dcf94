"""The GRU cell (issue 17): forward, one step backward, the step Jacobian.

    z_t = σ(U_z x_t + W_z h_{t−1} + b_z)              update gate
    r_t = σ(U_r x_t + W_r h_{t−1} + b_r)              reset gate
    h̃_t = tanh(U_h x_t + W_h (r_t ⊙ h_{t−1}) + b_h)   candidate
    h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t

with x_t = x°_t E and h_0 = 0 (or carried). The recurrence's state is s = h.
Shapes: U_g (H, D), W_g (H, H), b_g (H,) for g in z, r, h.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells.common import CellRecord, gate_inputs, outputs, sigmoid, zeros_or
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array


@dataclass(frozen=True, slots=True)
class GruForward(CellRecord):
    """Everything the GRU's forward pass computes: CellRecord's fields
    (inputs, targets, x, h, omega, y_hat, loss) and the gates' values."""

    z: Array  # (T, H)   z_t
    r: Array  # (T, H)   r_t
    h_tilde: Array  # (T, H)   h̃_t

    @property
    def states(self) -> tuple[Array, ...]:
        """s_t = h_t: (h,) with h (T+1, H)."""
        return (self.h,)

    def gate(self, name: str) -> Array:
        """The gate's value per step (T, H): z, r, or h (meaning h̃)."""
        return {"z": self.z, "r": self.r, "h": self.h_tilde}[name]

    def W_input(self, name: str) -> Array:
        """What W_name multiplies at each step (T, H): h_{t−1}, or r_t ⊙ h_{t−1} for h̃."""
        with np.errstate(all="ignore"):
            return self.r * self.h[:-1] if name == "h" else self.h[:-1]


def forward(
    p: CellParams, inputs: NDArray[np.intp], targets: NDArray[np.intp], h0: Array | None = None
) -> GruForward:
    """Run the whole sequence from h_0 (zeros unless carried); only the
    recurrence is a loop, U_g x_t + b_g and the output layer are batched over t."""
    T, H = int(inputs.shape[0]), p.H
    x, Uxb = gate_inputs(p, inputs)  # (T, D), gate -> (T, H)
    Uxb_z, Uxb_r, Uxb_h = Uxb["z"], Uxb["r"], Uxb["h"]
    with np.errstate(all="ignore"):
        W_z, W_r, W_h = p["W_z"], p["W_r"], p["W_h"]
        z, r, h_tilde = np.empty((T, H)), np.empty((T, H)), np.empty((T, H))
        h = np.empty((T + 1, H))
        h[0] = zeros_or(h0, H)
        for t in range(T):
            h_prev = h[t]
            z[t] = sigmoid(Uxb_z[t] + W_z @ h_prev)
            r[t] = sigmoid(Uxb_r[t] + W_r @ h_prev)
            h_tilde[t] = np.tanh(Uxb_h[t] + W_h @ (r[t] * h_prev))
            h[t + 1] = z[t] * h_prev + (1.0 - z[t]) * h_tilde[t]
    omega, y_hat, loss = outputs(p["V"], p["c"], h[1:], targets)
    return GruForward(inputs=inputs, targets=targets, x=x, z=z, r=r, h_tilde=h_tilde, h=h,
                      omega=omega, y_hat=y_hat, loss=loss)


def step_back(
    p: CellParams, f: GruForward, k: int, ds: tuple[Array, ...]
) -> tuple[dict[str, Array], tuple[Array, ...]]:
    """Differentiate step k (1-based) given ds = (∂L/∂h_k,): the gradients at
    the gates' inputs (σ or tanh arguments) and ∂L/∂h_{k−1} through step k:

        da_h = ∂L/∂h_k ⊙ (1 − z_k) ⊙ (1 − h̃_k²)
        da_z = ∂L/∂h_k ⊙ (h_{k−1} − h̃_k) ⊙ z_k (1 − z_k)
        da_r = (W_h^T da_h) ⊙ h_{k−1} ⊙ r_k (1 − r_k)
        ∂L/∂h_{k−1} = ∂L/∂h_k ⊙ z_k + (W_h^T da_h) ⊙ r_k + W_z^T da_z + W_r^T da_r

    Linear in ds; ds may be (H,) or a stack of rows (m, H) (several losses at once)."""
    (dh,) = ds
    j = k - 1
    h_prev, z, r, h_tilde = f.h[j], f.z[j], f.r[j], f.h_tilde[j]
    with np.errstate(all="ignore"):
        da_h = dh * ((1.0 - z) * (1.0 - h_tilde**2))
        da_z = dh * ((h_prev - h_tilde) * (z * (1.0 - z)))
        d_rh = da_h @ p["W_h"]  # W_h^T da_h: at r_k ⊙ h_{k−1}
        da_r = d_rh * (h_prev * (r * (1.0 - r)))
        dh_prev = dh * z + d_rh * r + da_z @ p["W_z"] + da_r @ p["W_r"]
    return {"z": da_z, "r": da_r, "h": da_h}, (dh_prev,)


def jacobian(p: CellParams, f: GruForward, j: int) -> Array:
    """The step Jacobian ∂h_{j+1}/∂h_j (H, H), for j = 0..T−1:

        diag(z) + diag((h_j − h̃) ⊙ z(1 − z)) W_z
                + diag((1 − z)(1 − h̃²)) W_h (diag(r) + diag(h_j ⊙ r(1 − r)) W_r)

    with z, r, h̃ of step j+1. ∂L/∂h_j = (∂h_{j+1}/∂h_j)^T ∂L/∂h_{j+1}."""
    h_prev, z, r, h_tilde = f.h[j], f.z[j], f.r[j], f.h_tilde[j]
    with np.errstate(all="ignore"):
        d_rh = np.diag(r) + (h_prev * r * (1.0 - r))[:, None] * p["W_r"]  # ∂(r ⊙ h_j)/∂h_j
        return (np.diag(z)
                + ((h_prev - h_tilde) * z * (1.0 - z))[:, None] * p["W_z"]
                + ((1.0 - z) * (1.0 - h_tilde**2))[:, None] * (p["W_h"] @ d_rh))
