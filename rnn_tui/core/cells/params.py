"""Parameters of the gated cells (issue 17): names, shapes, one container.

Column vectors as in the handout; per gate g a U_g (H x D), W_g (H x H) and
b_g (H); E, V, c as for the RNN:

    GRU   gates z, r, h   (h is the candidate h~_t's gate)
    LSTM  gates i, f, o, g

Names follow the handout's update order (output layer, then the recurrent
weights gate by gate as W, U, b, then E), so a parameter list on screen reads
like the RNN's V, c, W, U, b, E.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np

from rnn_tui.core.maths import Array
from rnn_tui.core.optim import sgd_param

Cell = Literal["gru", "lstm"]
CELLS: tuple[Cell, ...] = ("gru", "lstm")

GATES: dict[Cell, tuple[str, ...]] = {
    "gru": ("z", "r", "h"),
    "lstm": ("i", "f", "o", "g"),
}
"""The gates of each cell, in the issue's order."""

STATES: dict[Cell, tuple[str, ...]] = {"gru": ("h",), "lstm": ("h", "C")}
"""What the recurrence carries: s = h (GRU) or s = (h, C) (LSTM)."""


def param_names(cell: Cell) -> tuple[str, ...]:
    """V, c, then W_g, U_g, b_g for every gate g, then E."""
    per_gate = tuple(f"{m}_{g}" for g in GATES[cell] for m in ("W", "U", "b"))
    return ("V", "c", *per_gate, "E")


PARAM_NAMES: dict[Cell, tuple[str, ...]] = {cell: param_names(cell) for cell in CELLS}


def shapes(cell: Cell, K: int, D: int, H: int) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter, in PARAM_NAMES order:
    E (K, D), V (K, H), c (K,), U_g (H, D), W_g (H, H), b_g (H,)."""
    by_kind = {"E": (K, D), "V": (K, H), "c": (K,), "U": (H, D), "W": (H, H), "b": (H,)}
    return {n: by_kind[n.split("_")[0]] for n in PARAM_NAMES[cell]}


def cell_of(names: Mapping[str, object]) -> Cell:
    """Which cell a set of parameter names belongs to (ValueError if none)."""
    for cell in CELLS:
        if set(names) == set(PARAM_NAMES[cell]):
            return cell
    raise ValueError(f"parameter names {sorted(names)} are neither a GRU's nor an LSTM's")


@dataclass(frozen=True, slots=True)
class CellParams:
    """All parameters of one GRU or LSTM model, by name. Arrays are never
    mutated in place after creation (as maths.Params)."""

    cell: Cell
    arrays: Mapping[str, Array]  # name -> array, every name of PARAM_NAMES[cell]

    def __post_init__(self) -> None:
        if set(self.arrays) != set(PARAM_NAMES[self.cell]):
            raise ValueError(f"a {self.cell} needs exactly {', '.join(PARAM_NAMES[self.cell])}")
        ordered = {n: self.arrays[n] for n in PARAM_NAMES[self.cell]}
        object.__setattr__(self, "arrays", MappingProxyType(ordered))

    @staticmethod
    def of(cell: Cell, **arrays: Array) -> CellParams:
        return CellParams(cell, {n: np.asarray(a, dtype=np.float64) for n, a in arrays.items()})

    @property
    def names(self) -> tuple[str, ...]:
        return PARAM_NAMES[self.cell]

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.cell]

    @property
    def K(self) -> int:
        return int(self.arrays["V"].shape[0])

    @property
    def D(self) -> int:
        return int(self.arrays["E"].shape[1])

    @property
    def H(self) -> int:
        return int(self.arrays["V"].shape[1])

    def get(self, name: str) -> Array:
        return self.arrays[name]

    def __getitem__(self, name: str) -> Array:
        return self.arrays[name]

    def replace(self, name: str, value: Array) -> CellParams:
        return CellParams(self.cell, {**self.arrays, name: value})

    def copy(self) -> CellParams:
        return CellParams(self.cell, {n: a.copy() for n, a in self.arrays.items()})

    def zeros_like(self) -> CellParams:
        return CellParams(self.cell, {n: np.zeros_like(a) for n, a in self.arrays.items()})

    def is_finite(self) -> bool:
        return all(bool(np.isfinite(a).all()) for a in self.arrays.values())


CellGrads = CellParams
"""Gradients have exactly the parameters' names and shapes."""


def seeded_params(
    cell: Cell, K: int, D: int, H: int, seed: int, scale: float = 0.5
) -> CellParams:
    """N(0, scale^2) draws for E, then U_g, W_g of every gate in gate order,
    then V; zero biases (as model_file.seeded_params for the RNN)."""
    rng = np.random.default_rng(seed)
    out: dict[str, Array] = {"E": rng.normal(0.0, scale, (K, D))}
    for g in GATES[cell]:
        out[f"U_{g}"] = rng.normal(0.0, scale, (H, D))
        out[f"W_{g}"] = rng.normal(0.0, scale, (H, H))
        out[f"b_{g}"] = np.zeros(H)
    out["V"] = rng.normal(0.0, scale, (K, H))
    out["c"] = np.zeros(K)
    return CellParams(cell, out)


def sgd(p: CellParams, g: CellGrads, eta: float) -> CellParams:
    """theta <- theta - eta dL/dtheta for every parameter (optim.sgd_param each)."""
    return CellParams(p.cell, {n: sgd_param(p[n], g[n], eta) for n in p.names})
