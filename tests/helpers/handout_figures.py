"""The handout's printed numbers, read from the package's one data file
(rnn_tui/data/handout.toml) and arranged by quantity for the tests."""

from __future__ import annotations

from rnn_tui.core.conformance import figures, slips

_F = {name: f.printed.tolist() for name, f in figures().items()}

E = [[0.8175, 0.4613], [-0.3599, -0.4824], [0.1268, 0.1540], [-0.0358, -0.5677]]
x = [_F[f"x_{t}"] for t in range(1, 5)]
h = [_F[f"h_{t}"][0] for t in range(1, 5)]
omega = [_F[f"Omega_{t}"] for t in range(1, 5)]
y_hat = [_F[f"y_hat_{t}"] for t in range(1, 5)]
predictions = "hheh"  # "our model predicts it as 'h'" ... at steps 1..4 (section 5)
loss = [_F[f"L_{t}"] for t in range(1, 5)]
total_loss = _F["total_loss"]
delta = [_F[f"delta_{t}"] for t in range(1, 5)]
dV = [r[0] for r in _F["dV"]]
V_new = [r[0] for r in _F["V_new"]]
dc = _F["dc"]
c_new = _F["c_new"]
dW = _F["dW"][0][0]
W_new = _F["W_new"][0][0]
dU = _F["dU"][0]
U_new = _F["U_new"][0]
db = _F["db"][0]
b_new = _F["b_new"][0]
dE_handout = _F["dE"]
E_new_handout = _F["E_new"]
epoch2_y_hat = [_F[f"epoch2_y_hat_{t}"] for t in range(1, 5)]
epoch2_loss = [_F[f"epoch2_L_{t}"] for t in range(1, 5)]
epoch2_total = _F["epoch2_total"]
min_total_loss = {50: _F["min_total_loss_50"], 100: _F["min_total_loss_100"]}


def _test_key(figure: str, index: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """The data file's (figure, index) as this module's (quantity, index)."""
    name, _, t = figure.rpartition("_")
    if name in ("h", "Omega", "y_hat", "delta", "x", "L"):
        quantity = {"Omega": "omega", "L": "loss"}.get(name, name)
        return quantity, (int(t) - 1, *index) if name != "h" else (int(t) - 1,)
    if figure in ("dV", "V_new"):
        return figure, index[:1]
    if figure in ("W_new", "dW"):
        return figure, ()
    if figure in ("U_new", "dU"):
        return figure, index[1:]
    return {"dE": "dE_handout", "E_new": "E_new_handout"}.get(figure, figure), index


# (quantity, index) -> why the printed digit is not the true value's rounding,
# from the [[slip]] table of rnn_tui/data/handout.toml.
SLIPS: dict[tuple[str, tuple[int, ...]], str] = {
    _test_key(figure, index): reason for (figure, index), reason in slips().items()
}
