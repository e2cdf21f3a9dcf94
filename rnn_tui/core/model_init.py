"""A model file's ``[init]`` table, for every cell: the RNN's six parameters,
or a GRU's or an LSTM's by their names (issue 17), or a seed.

The number types (:data:`Number`, :data:`Vector`, :data:`Matrix`) name the
first bad entry 1-based, as the screen does. :class:`InitSpec` holds every
name any cell uses; which of them a file must give depends on its ``cell``,
which model_file.validate passes in the validation context (``{"cell": ...}``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from rnn_tui.core.cells.params import CELLS, GATES, Cell, CellParams
from rnn_tui.core.cells.params import seeded_params as cell_seeded_params
from rnn_tui.core.maths import Array
from rnn_tui.core.model_errors import SpecError, kind, show
from rnn_tui.core.params import FILE_ORDER

DEFAULT_SCALE = 0.5
CELL_TITLES = {"rnn": "an RNN", "gru": "a GRU", "lstm": "an LSTM"}


def _number(value: Any) -> float:
    # TOML has real numbers; a bool or a string where a number belongs is a
    # mistake we name rather than coerce.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {kind(value)}")
    if isinstance(value, int):
        try:
            value = float(value)
        except OverflowError:  # a whole number beyond float64's range
            raise ValueError(f"must be a finite number, got {show(value)}") from None
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number, got {value}")
    return float(value)


def _vector(value: Any) -> list[float]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of numbers, got {kind(value)}")
    out = []
    for i, v in enumerate(value):
        try:
            out.append(_number(v))
        except ValueError as err:
            raise ValueError(f"entry [{i + 1}]: {err}") from None  # 1-based, as on screen
    return out


def _matrix(value: Any) -> list[list[float]]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of rows, got {kind(value)}")
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, list):
            raise ValueError(
                f"expected a list of rows (a matrix), but row {i + 1} is {kind(row)}"
            )
        try:
            rows.append(_vector(row))
        except ValueError as err:
            raise ValueError(f"row {i + 1}: {err}".replace(": entry [", " entry [")) from None
    for i, r in enumerate(rows):
        if len(r) != len(rows[0]):
            many = f"{len(r)} entr{'y' if len(r) == 1 else 'ies'}"
            raise ValueError(f"row {i + 1} has {many}, row 1 has {len(rows[0])}")
    return rows


Number = Annotated[float, BeforeValidator(_number)]
Vector = Annotated[list[float], BeforeValidator(_vector)]
Matrix = Annotated[list[list[float]], BeforeValidator(_matrix)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def file_order(cell: str) -> tuple[str, ...]:
    """The parameters in a model file's order (the forward pass's): the RNN's
    E, U, W, b, V, c; a cell's E, then U_g, W_g, b_g gate by gate, then V, c."""
    if cell == "rnn":
        return FILE_ORDER
    gates = tuple(f"{m}_{g}" for g in GATES[cell] for m in ("U", "W", "b"))  # type: ignore[index]
    return ("E", *gates, "V", "c")


GATE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(
    n for cell in CELLS for n in file_order(cell) if "_" in n))
"""U_z, W_z, b_z, ... : every gate parameter of either cell."""


def size_label(name: str) -> str:
    """``K x D`` for E, ``H x D`` for U_i, ``H`` for b_f: a shape in size letters."""
    return {"E": "K x D", "U": "H x D", "W": "H x H", "b": "H", "V": "K x H",
            "c": "K"}[name.split("_")[0]]


class InitSpec(Strict):
    """Initial parameters: either all of the cell's given exactly, or drawn from a seed."""

    E: Matrix | None = None
    """Embedding, K x D: x_t = onehot(c_t) E."""
    U: Matrix | None = None
    """Input weights, H x D."""
    W: Matrix | None = None
    """Recurrent weights, H x H."""
    b: Vector | None = None
    """Hidden bias, H."""
    V: Matrix | None = None
    """Output weights, K x H."""
    c: Vector | None = None
    """Output bias, K."""
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    """Draw E, U, W, V from N(0, scale^2) with this seed (b and c start at 0)."""
    scale: Number | None = Field(default=None, gt=0, le=100)
    """Standard deviation for a seeded draw (default 0.5)."""
    # A GRU's gates z, r, h and an LSTM's i, f, o, g: U_g (H x D), W_g (H x H), b_g (H).
    U_z: Matrix | None = None
    W_z: Matrix | None = None
    b_z: Vector | None = None
    U_r: Matrix | None = None
    W_r: Matrix | None = None
    b_r: Vector | None = None
    U_h: Matrix | None = None
    W_h: Matrix | None = None
    b_h: Vector | None = None
    U_i: Matrix | None = None
    W_i: Matrix | None = None
    b_i: Vector | None = None
    U_f: Matrix | None = None
    W_f: Matrix | None = None
    b_f: Vector | None = None
    U_o: Matrix | None = None
    W_o: Matrix | None = None
    b_o: Vector | None = None
    U_g: Matrix | None = None
    W_g: Matrix | None = None
    b_g: Vector | None = None

    @model_validator(mode="after")
    def _values_or_seed(self, info: ValidationInfo) -> InitSpec:
        cell = (info.context or {}).get("cell")
        if cell is None and not any(getattr(self, n) is not None for n in GATE_NAMES):
            cell = "rnn"  # built without a model file's context: as the handout's RNN
        if cell in ("rnn", *CELLS):
            check_names(self, cell)
        return self  # else: the cell itself is wrong, and ModelSpec says so first

    def given(self) -> list[str]:
        """The parameters given by value, in the order they are declared."""
        return [n for n in (*FILE_ORDER, *GATE_NAMES) if getattr(self, n) is not None]


def _foreign(name: str, cell: str) -> str:
    """Why parameter ``name`` does not belong to ``cell``, in one clause."""
    kind_, _, gate = name.partition("_")
    if not gate:  # the RNN's U, W or b given to a cell
        gated = ", ".join(f"{kind_}_{g}" for g in GATES[cell])  # type: ignore[index]
        return f'an RNN\'s parameter, not {CELL_TITLES[cell]}\'s (cell = "{cell}"): give {gated}'
    owner = next(c for c in CELLS if gate in GATES[c])
    if cell == "rnn":
        return (f'{CELL_TITLES[owner]}\'s parameter, but the model is an RNN (cell = "rnn", '
                f'the default): set cell = "{owner}", or give E, U, W, b, V, c')
    return (f'{CELL_TITLES[owner]}\'s parameter, not {CELL_TITLES[cell]}\'s (cell = "{cell}"): '
            f"its gates are {', '.join(GATES[cell])}")  # type: ignore[index]


def check_names(init: InitSpec, cell: str) -> None:
    """Every parameter of ``cell`` by value, or a seed: else a SpecError naming the field."""
    names = file_order(cell)
    given = init.given()
    foreign = [n for n in given if n not in names]
    if foreign:
        raise SpecError(f"init.{foreign[0]}", _foreign(foreign[0], cell))
    if init.seed is None:
        missing = [n for n in names if n not in given]
        if missing:
            raise SpecError(
                f"init.{missing[0]}", f"missing; give all of {', '.join(names)}, or a seed"
            )
        if init.scale is not None:
            raise SpecError("init.scale", "only used with init.seed")
    elif given:
        raise SpecError(f"init.{given[0]}", "give either init.seed or explicit values, not both")


def check_shapes(init: InitSpec, cell: str, K: int, D: int, H: int) -> None:
    """Each given matrix (then each vector) against its shape in K, D, H."""
    sizes = {"K": K, "D": D, "H": H}
    names = file_order(cell)
    for name in (*[n for n in names if n[0] not in "bc"], *[n for n in names if n[0] in "bc"]):
        value = getattr(init, name)
        if value is None:
            continue
        label = size_label(name)
        shape = tuple(sizes[letter] for letter in label.split(" x "))
        if len(shape) == 2:
            got = (len(value), len(value[0]) if value else 0)
            if got != shape:
                raise SpecError(
                    f"init.{name}",
                    f"expected {shape[0]} x {shape[1]} ({label}), got {got[0]} x {got[1]}",
                )
        elif len(value) != shape[0]:
            raise SpecError(
                f"init.{name}", f"expected {shape[0]} numbers ({label}), got {len(value)}"
            )


def initial_cell_params(init: InitSpec, cell: Cell, K: int, D: int, H: int) -> CellParams:
    """A GRU's or LSTM's initial parameters: the values given, or the seeded draw."""
    if init.seed is None:
        return CellParams.of(cell, **{n: np.array(getattr(init, n), dtype=np.float64)
                                      for n in file_order(cell)})
    return cell_seeded_params(cell, K, D, H, init.seed,
                              DEFAULT_SCALE if init.scale is None else init.scale)


def fan_in_cell_params(cell: Cell, K: int, D: int, H: int, seed: int) -> CellParams:
    """What ``rnn-tui new --cell`` writes without --scale: the draws of
    cells.seeded_params (same order, same generator) with each matrix's scale
    0.5 divided by the square root of its fan-in (U_g by sqrt(D), W_g and V by
    sqrt(H); E keeps 0.5), as model_file.seeded_params does for the RNN."""
    s = DEFAULT_SCALE
    rng = np.random.default_rng(seed)
    out: dict[str, Array] = {"E": rng.normal(0.0, s, (K, D))}
    for g in GATES[cell]:
        out[f"U_{g}"] = rng.normal(0.0, s / math.sqrt(D), (H, D))
        out[f"W_{g}"] = rng.normal(0.0, s / math.sqrt(H), (H, H))
        out[f"b_{g}"] = np.zeros(H)
    out["V"] = rng.normal(0.0, s / math.sqrt(H), (K, H))
    out["c"] = np.zeros(K)
    return CellParams(cell, out)
