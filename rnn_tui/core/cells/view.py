"""What a GRU's or an LSTM's step shows: read-only numbers, derived on demand
(the cells' counterpart of core/view.py; the panels only format them).

Forward step t: every gate's three parts U_g x_t, W_g (input), b_g, its
argument and its value; the LSTM's C_t and tanh(C_t); h_t, Ω_t, ŷ_t, L_t.
BPTT term (t, k): the factor chain ∂L_t/∂s_t, then (∂s_{j+1}/∂s_j)^T applied
for j = t−1..k, each step's vector (s = h, or [h; C] stacked for the LSTM),
and the term's contribution to every gate's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_tui.core.cells.bptt import jacobian
from rnn_tui.core.cells.epochs import CellEpoch, Sums, sums_finite
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.epochs import finite
from rnn_tui.core.maths import Array
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.view import PositionView

if TYPE_CHECKING:
    from rnn_tui.core.cells.stepper import CellStepper

SIGMOID_GATES = {"z", "r", "i", "f", "o"}  # σ; the others (GRU h̃, LSTM g) use tanh


def gate_symbol(cell: str, g: str) -> str:
    """The gate's value as the handout writes it: z, r, h̃ (GRU), i, f, o, g (LSTM)."""
    return "h̃" if (cell, g) == ("gru", "h") else g


@dataclass(frozen=True, slots=True)
class GateParts:
    """One gate at step t: act(Ux + Wa + b) = value, each (H,)."""

    gate: str
    symbol: str  # z, r, h̃, i, f, o, g
    act: str  # "σ" or "tanh"
    W_arg: str  # what W_g multiplies: "h_{t−1}" or "r_t ⊙ h_{t−1}"
    Ux: Array
    Wa: Array
    b: Array
    pre: Array
    value: Array


@dataclass(frozen=True, slots=True)
class ChainStep:
    """One factor of term (t, k)'s chain: J = ∂s_{j+1}/∂s_j and ∂L_t/∂s_j = J^T (∂L_t/∂s_{j+1})."""

    j: int  # 1-based: the vector is ∂L_t/∂s_j
    J: Array  # (S, S), S = H or 2H
    vector: Array  # (S,)


class CellView(PositionView):
    """What the screen shows at one position of a cell stepper."""

    epoch: CellEpoch
    term_sums: Sums | None  # type: ignore[assignment]
    params: CellParams  # type: ignore[assignment]

    def __init__(self, stepper: CellStepper, epoch: CellEpoch, pos: Position) -> None:
        super().__init__(stepper, epoch, pos)
        self.cell = epoch.params.cell
        self.fwd: Any = epoch.fwd

    # ---------------------------------------------------------- forward

    @cached_property
    def _Ux(self) -> dict[str, Array]:
        """U_g x_t for every t (T, H), batched as the forward computes them
        (gate_inputs): with overflowing products (±inf of both signs) the BLAS
        kernels of x Uᵀ and U x may disagree, so the shown value is the used one."""
        p, x = self.epoch.params, self.fwd.x
        with np.errstate(all="ignore"):
            return {g: x @ p[f"U_{g}"].T for g in p.gates}

    def gates(self, t: int) -> list[GateParts]:
        """Every gate of step t (1-based), in the cell's gate order."""
        p, f, j = self.epoch.params, self.fwd, t - 1
        out = []
        with np.errstate(all="ignore"):
            for g in p.gates:
                W_in = f.W_input(g)[j]
                Ux, Wa, b = self._Ux[g][j], p[f"W_{g}"] @ W_in, p[f"b_{g}"]
                sig = g in SIGMOID_GATES and not (self.cell == "gru" and g == "h")
                arg = "r_t ⊙ h_{t−1}" if (self.cell, g) == ("gru", "h") else "h_{t−1}"
                pre = (Ux + b) + Wa  # the forward's order: (U x + b) + W h
                out.append(GateParts(g, gate_symbol(self.cell, g), "σ" if sig else "tanh", arg,
                                     Ux, Wa, b, pre, f.gate(g)[j]))
        return out

    # ------------------------------------------------------------- sums

    @cached_property
    def bptt_sums(self) -> Sums | None:
        """The partial sums after the current term (complete from UPDATE on)."""
        if self.phase is Phase.UPDATE:
            g = self.epoch.grads
            return {n: g[n] for n in self.epoch.bptt_names}
        return self.epoch.bptt_sums(*self.term) if self.phase is Phase.BPTT else None

    # ------------------------------------------------------------ chain

    @property
    def state_names(self) -> str:
        return "h" if self.cell == "gru" else "[h; C]"

    def ds(self, t: int, k: int) -> Array:
        """∂L_t/∂s_k from the row (step_back's walk): (H,) or [h; C] (2H,)."""
        row = self.epoch.row(t)
        return np.concatenate([s[k - 1] for s in row.ds])

    def chain(self, t: int, k: int) -> list[ChainStep]:
        """The factors of term (t, k), from ∂L_t/∂s_t down to ∂L_t/∂s_k."""
        p, f = self.epoch.params, self.fwd
        v = self.ds(t, t)
        out = []
        with np.errstate(all="ignore"):
            for j in range(t - 1, k - 1, -1):
                J = jacobian(p, f, j)  # ∂s_{j+1}/∂s_j (s_j 1-based j; row j of the record)
                v = J.T @ v
                out.append(ChainStep(j, J, v))
        return out

    # ----------------------------------------------------------- update

    @property
    def update_name(self) -> str:
        return self.epoch.params.names[self.pos.index] if self.phase is Phase.UPDATE else ""

    def grad(self, name: str) -> Array:
        """The gradient the update used (after clipping)."""
        return self.epoch.clipped.grads.get(name)

    def optimizer_state(self, name: str) -> dict[str, Array | int]:
        """The optimizer's state for ``name`` after the update (empty for SGD)."""
        st = self.epoch.state_after
        out: dict[str, Array | int] = {}
        for field in ("v", "m"):
            holder = getattr(st, field, None)
            if holder is not None:
                out[field] = holder.get(name)
        if hasattr(st, "n"):
            out["n"] = st.n
        return out

    # ----------------------------------------------------------- status

    @cached_property
    def finite(self) -> bool:
        """Every number shown here is finite (at once when the whole chunk is)."""
        if self.epoch.finite:
            return True
        f, n = self.fwd, self.visible_t
        ok = self.params.is_finite() and finite(
            f.x[:n], f.omega[:n], f.y_hat[:n], f.loss[:n], *(s[: n + 1] for s in f.states))
        ok = ok and bool(self.epoch.gates_finite[:n].all())
        if ok and self.output_sums is not None:
            ok = finite(*self.output_sums)
        if ok and self.bptt_sums is not None:
            ok = sums_finite(self.bptt_sums)
        return ok
