"""What the GRU and the LSTM share: σ, the output layer, the forward record.

    Ω_t = V h_t + c,   ŷ_t = softmax(Ω_t),   L_t = −ln ŷ_t[target]

exactly as for the RNN (maths.softmax and maths.cross_entropy, the one
softmax and log-sum-exp of the project).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.maths import Array, cross_entropy, softmax
from rnn_tui.core.outputs import Outputs

if TYPE_CHECKING:
    from rnn_tui.core.cells.params import CellParams


def sigmoid(a: Array) -> Array:
    """σ(a) = 1 / (1 + e^−a), the logistic function (0 or 1 at ±inf, no warning)."""
    with np.errstate(all="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def outputs(V: Array, c: Array, h: Array, targets: NDArray[np.intp]) -> tuple[Array, Array, Array]:
    """(Ω, ŷ, L) for h = h_1..h_T (T, H): Ω_t = V h_t + c (T, K), softmax, −ln ŷ_t[target] (T,)."""
    with np.errstate(all="ignore"):
        omega = h @ V.T + c  # (T, K)
    return omega, softmax(omega), cross_entropy(omega, targets)


def gate_inputs(p: CellParams, inputs: NDArray[np.intp]) -> tuple[Array, dict[str, Array]]:
    """x_t = x°_t E (T, D), a row lookup, and U_g x_t + b_g (T, H) for every gate g,
    batched over t: what the recurrence adds W_g h_{t−1} (or W_h (r_t ⊙ h_{t−1})) to."""
    with np.errstate(all="ignore"):
        x = p["E"][inputs]  # (T, D)
        return x, {g: x @ p[f"U_{g}"].T + p[f"b_{g}"] for g in p.gates}


def gate_sums_finite(p: CellParams, f: CellForward) -> NDArray[np.bool_]:
    """Per step t (T,): U_g x_t, W_g (its input) and their sum with b_g finite
    for every gate g. A product may overflow (1e298 · 1e298) while σ or tanh
    of the sum is finite again: the gate is 0 or 1, the step is not finite."""
    ok = np.ones(f.T, dtype=bool)
    with np.errstate(all="ignore"):
        for g in p.gates:
            Ux = f.x @ p[f"U_{g}"].T  # (T, H), batched as gate_inputs computes it
            Wa = f.W_input(g) @ p[f"W_{g}"].T  # (T, H)
            ok &= (np.isfinite(Ux).all(axis=1) & np.isfinite(Wa).all(axis=1)
                   & np.isfinite(Ux + p[f"b_{g}"] + Wa).all(axis=1))
    return ok


def zeros_or(v: Array | None, H: int) -> Array:
    """A carried state as a fresh float64 (H,) array, or h_0 = 0 / C_0 = 0."""
    if v is None:
        return np.zeros(H)
    out = np.array(v, dtype=np.float64)
    if out.shape != (H,):
        raise ValueError(f"a carried state must have shape ({H},), not {out.shape}")
    return out


class CellForward(Protocol):
    """What the generic BPTT code (cells.bptt) reads from a GRU's or an LSTM's forward record."""

    inputs: NDArray[np.intp]  # (T,)
    targets: NDArray[np.intp]  # (T,)
    x: Array  # (T, D)   x_t = x°_t E
    h: Array  # (T+1, H) h[0] = h_0
    omega: Array  # (T, K)
    y_hat: Array  # (T, K)
    loss: Array  # (T,)

    @property
    def T(self) -> int: ...

    @property
    def states(self) -> tuple[Array, ...]: ...

    def gate(self, name: str) -> Array: ...

    def W_input(self, name: str) -> Array: ...


@dataclass(frozen=True, slots=True)
class CellRecord(Outputs):
    """The fields every gated cell's forward record has (GruForward and
    LstmForward add their gates' values; row t−1 holds step t)."""

    inputs: NDArray[np.intp]  # (T,) vocabulary index of x°_t
    targets: NDArray[np.intp]  # (T,) vocabulary index of y_t
    x: Array  # (T, D)   x_t = x°_t E
    h: Array  # (T+1, H) h[0] = h_0, h[t] = h_t
    omega: Array  # (T, K)   Ω_t = V h_t + c
    y_hat: Array  # (T, K)   softmax(Ω_t)
    loss: Array  # (T,)     L_t = −ln ŷ_t[target]
