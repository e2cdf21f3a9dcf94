"""Forward, the O(T) backward recursion and BPTT term by term, for either cell.

The handout's term (t, k) generalises to the gated cells: the contribution
of L_t to the gradient through the parameters' use at step k,

    term(t, k) = (∂L_t/∂s_k) (∂s_k/∂θ at step k),   s = h (GRU) or (h, C) (LSTM),
    ∂L_t/∂s_k = ∂L_t/∂s_t  ∏_{j=t−1}^{k} ∂s_{j+1}/∂s_j,   ∂L_t/∂s_t = (V^T δ_t, 0),

the factor chain being the product of the step Jacobians (:func:`jacobian`).
dL/dθ = Σ_t Σ_{k≤t} term(t, k) for every θ but V and c (which only the
output layer uses: Σ_t δ_t h_t^T and Σ_t δ_t).

Everything here is written once for both cells on top of three functions
per cell (forward, step_back, jacobian in gru.py and lstm.py): step_back
differentiates one step and is linear in ∂L/∂s_k, so the recursion, a row
of terms and several rows at once (the triangle's norms) are the same walk
over a different stack of rows.

dE has the two conventions of maths.backward: "x_k" (the exact gradient:
term (t, k) into the row of x°_k) and "x_t" (the handout's printed one: into
the row of x°_t, the loss step's input; O(T) with one channel per distinct
input character, as maths.backward does it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.cells import gru, lstm
from rnn_tui.core.cells.gru import GruForward
from rnn_tui.core.cells.lstm import LstmForward
from rnn_tui.core.cells.params import CellGrads, CellParams, sgd
from rnn_tui.core.maths import Array, EmbeddingRows, output_delta

CellForward = GruForward | LstmForward
_MODULES: dict[str, ModuleType] = {"gru": gru, "lstm": lstm}


def forward(
    p: CellParams, inputs: NDArray[np.intp], targets: NDArray[np.intp], *s0: Array | None
) -> CellForward:
    """The cell's forward pass from s_0 = h_0 (GRU) or h_0, C_0 (LSTM); zeros unless carried."""
    if p.cell == "gru":
        if any(s is not None for s in s0[1:]):
            raise ValueError("a GRU has no cell state C; give h0 only")
        return gru.forward(p, inputs, targets, *s0[:1])
    return lstm.forward(p, inputs, targets, *s0)


def final_state(f: CellForward) -> tuple[Array, ...]:
    """s_T to carry into the next chunk: (h_T,) or (h_T, C_T)."""
    return tuple(s[-1] for s in f.states)


def step_back(
    p: CellParams, f: CellForward, k: int, ds: tuple[Array, ...]
) -> tuple[dict[str, Array], tuple[Array, ...]]:
    """Gradients at the gate inputs of step k and ∂L/∂s_{k−1}, given ∂L/∂s_k."""
    return _MODULES[p.cell].step_back(p, f, k, ds)


def jacobian(p: CellParams, f: CellForward, j: int) -> Array:
    """∂s_{j+1}/∂s_j, j = 0..T−1: (H, H) for the GRU, (2H, 2H) for the LSTM [h; C]."""
    return _MODULES[p.cell].jacobian(p, f, j)


# ------------------------------------------------------------------ sums


def _gate_sums(p: CellParams, f: CellForward, da: Mapping[str, Array], lo: int, hi: int
               ) -> dict[str, Array]:
    """Σ over steps k = lo+1..hi of the local gradients, given da_g (n, H) at
    gate g's input: W_g += da_g (W_g's input)^T, U_g += da_g x_k^T, b_g += da_g."""
    out: dict[str, Array] = {}
    with np.errstate(all="ignore"):
        for g in p.gates:
            d = da[g]  # (n, H)
            out[f"W_{g}"] = d.T @ f.W_input(g)[lo:hi]  # (H, H)
            out[f"U_{g}"] = d.T @ f.x[lo:hi]  # (H, D)
            out[f"b_{g}"] = d.sum(axis=0)  # (H,)
    return out


def _dx(p: CellParams, da: Mapping[str, Array]) -> Array:
    """∂/∂x_k = Σ_g U_g^T da_g for each row (n, D): what goes into a row of dE."""
    first, *rest = p.gates
    with np.errstate(all="ignore"):
        out = da[first] @ p[f"U_{first}"]
        for g in rest:
            out = out + da[g] @ p[f"U_{g}"]
    return out


def _ordered(p: CellParams, parts: Mapping[str, Array]) -> dict[str, Array]:
    return {n: parts[n] for n in p.names if n in parts}


# -------------------------------------------------------------- backward


def backward(p: CellParams, f: CellForward, embedding_rows: EmbeddingRows = "x_k") -> CellGrads:
    """The O(T) backward recursion: ∂L/∂s_t collects (V^T δ_t, 0) from the
    loss at t and step_back(t+1) from the future; each step's gate gradients
    give W_g, U_g, b_g and a row of dE. A carried s_0 is a constant: it
    enters the sums (W_g's input at step 1) but gets no gradient."""
    T, H = f.T, p.H
    n_states = len(f.states)
    with np.errstate(all="ignore"):
        delta = output_delta(f)  # type: ignore[arg-type]  # (T, K) ŷ_t − y_t
        dV = delta.T @ f.h[1:]  # (K, H)  Σ_t δ_t h_t^T
        dc = delta.sum(axis=0)  # (K,)
        dh_out = delta @ p["V"]  # (T, H)  V^T δ_t for every t
        da = {g: np.empty((T, H)) for g in p.gates}
        dE = np.zeros_like(p["E"])
        if embedding_rows == "x_k":
            ds: tuple[Array, ...] = tuple(np.zeros(H) for _ in range(n_states))
            for t in range(T, 0, -1):
                ds = (ds[0] + dh_out[t - 1], *ds[1:])
                da_t, ds = step_back(p, f, t, ds)
                for g in p.gates:
                    da[g][t - 1] = da_t[g]
            np.add.at(dE, f.inputs, _dx(p, da))  # row of x°_k
        else:
            chars, channel = np.unique(f.inputs, return_inverse=True)
            G = chars.shape[0]
            ds = tuple(np.zeros((G, H)) for _ in range(n_states))  # one row per channel
            acc = {g: np.zeros((G, H)) for g in p.gates}
            for t in range(T, 0, -1):
                ds[0][channel[t - 1]] += dh_out[t - 1]  # the loss at t joins its input's channel
                da_t, ds = step_back(p, f, t, ds)
                for g in p.gates:
                    da[g][t - 1] = da_t[g].sum(axis=0)
                    acc[g] += da_t[g]
            dE[chars] = _dx(p, acc)  # row of x°_t
        grads = _gate_sums(p, f, da, 0, T)
    return CellParams(p.cell, _ordered(p, {**grads, "V": dV, "c": dc, "E": dE}))


# ------------------------------------------------ BPTT one term at a time


@dataclass(frozen=True, slots=True)
class CellRow:
    """All terms (t, k), k = t..1, of the loss at step t (1-based t, k)."""

    t: int
    ds: tuple[Array, ...]  # each (t, H): ds[0][k-1] = ∂L_t/∂h_k; LSTM ds[1][k-1] = ∂L_t/∂C_k
    da: Mapping[str, Array]  # gate -> (t, H): da[g][k-1] = term (t, k) at gate g's input

    def norms(self) -> Array:
        """‖∂L_t/∂s_k‖ for k = 1..t (over h, or over h and C together): the triangle."""
        with np.errstate(all="ignore"):
            return np.sqrt(sum((s**2).sum(axis=1) for s in self.ds))  # (t,)


def bptt_row(p: CellParams, f: CellForward, delta: Array, t: int) -> CellRow:
    """Walk the factor chain back from step t to step 1 (O(t H^2))."""
    H = p.H
    ds_rows = tuple(np.empty((t, H)) for _ in f.states)
    da = {g: np.empty((t, H)) for g in p.gates}
    with np.errstate(all="ignore"):
        ds = (delta[t - 1] @ p["V"], *(np.zeros(H) for _ in f.states[1:]))  # ∂L_t/∂s_t
        for k in range(t, 0, -1):
            for s, row in zip(ds, ds_rows, strict=True):
                row[k - 1] = s
            da_k, ds = step_back(p, f, k, ds)
            for g in p.gates:
                da[g][k - 1] = da_k[g]
    return CellRow(t=t, ds=ds_rows, da=da)


def bptt_norms(
    p: CellParams, f: CellForward, delta: Array, rows: Sequence[int]
) -> dict[int, Array]:
    """‖∂L_t/∂s_k‖ for k = 1..t, for several rows t at once: the same walk
    as :func:`bptt_row` on a stack of rows (agrees with row.norms(), tested)."""
    ts = sorted(set(rows))
    if not ts:
        return {}
    H = p.H
    m, t_max = len(ts), ts[-1]
    order = {t: n for n, t in enumerate(ts)}
    norms = np.zeros((m, t_max))
    ds: tuple[Array, ...] = tuple(np.zeros((m, H)) for _ in f.states)
    with np.errstate(all="ignore"):
        for k in range(t_max, 0, -1):
            if k in order:
                ds[0][order[k]] = delta[k - 1] @ p["V"]  # row t = k starts: (V^T δ_t, 0)
            norms[:, k - 1] = np.sqrt(sum((s**2).sum(axis=1) for s in ds))
            _, ds = step_back(p, f, k, ds)  # rows with t < k stay 0
    return {t: norms[n, :t] for n, t in enumerate(ts)}


def row_sums(
    p: CellParams,
    f: CellForward,
    row: CellRow,
    k_lo: int,
    k_hi: int | None = None,
    embedding_rows: EmbeddingRows = "x_k",
) -> dict[str, Array]:
    """Σ of the terms (t, k) of one row for k_lo ≤ k ≤ k_hi (default t), for
    every parameter but V and c (W_g, U_g, b_g of each gate, then E). With
    k_lo = k_hi = k it is term (t, k) itself. A pure function of its inputs."""
    t = row.t
    lo, hi = k_lo - 1, t if k_hi is None else k_hi  # 0-based slice of k−1
    da = {g: row.da[g][lo:hi] for g in p.gates}  # (n, H) terms k = k_lo..k_hi
    with np.errstate(all="ignore"):
        out = _gate_sums(p, f, da, lo, hi)
        dE = np.zeros_like(p["E"])
        dx = _dx(p, da)  # (n, D)
        if embedding_rows == "x_k":
            np.add.at(dE, f.inputs[lo:hi], dx)  # row of x°_k
        else:
            dE[f.inputs[t - 1]] += dx.sum(axis=0)  # row of x°_t
    out["E"] = dE
    return _ordered(p, out)


def backward_by_terms(
    p: CellParams, f: CellForward, embedding_rows: EmbeddingRows = "x_k"
) -> CellGrads:
    """The double sum Σ_t Σ_{k≤t} term(t, k), row by row: O(T^2 H^2). Slow on
    purpose; the second opinion on :func:`backward`."""
    delta = output_delta(f)  # type: ignore[arg-type]
    total = {n: np.zeros_like(p[n]) for n in p.names if n not in ("V", "c")}
    with np.errstate(all="ignore"):
        for t in range(1, f.T + 1):
            for n, a in row_sums(p, f, bptt_row(p, f, delta, t), 1, None, embedding_rows).items():
                total[n] = total[n] + a
        dV = delta.T @ f.h[1:]
        dc = delta.sum(axis=0)
    return CellParams(p.cell, _ordered(p, {**total, "V": dV, "c": dc}))


# ------------------------------------------------------------ training


def train(p: CellParams, inputs: NDArray[np.intp], targets: NDArray[np.intp],
          learning_rate: float, epochs: int, embedding_rows: EmbeddingRows = "x_k"
          ) -> tuple[Array, CellParams]:
    """``epochs`` epochs of forward, backward and SGD from h_0 (= C_0) = 0:
    each epoch's total loss (before its update) and the parameters after."""
    losses = np.empty(epochs)
    for e in range(epochs):
        f = forward(p, inputs, targets)
        losses[e] = f.total_loss
        p = sgd(p, backward(p, f, embedding_rows), learning_rate)
    return losses, p
