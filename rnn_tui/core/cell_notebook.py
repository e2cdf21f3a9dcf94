"""The worked example of a GRU or an LSTM as a Jupyter notebook: the code
cells notebook.py places after cell_export's sections. Each recomputes the
numbers above it with a few lines of NumPy (the cell's equations written
out, BPTT as the double sum over the terms (t, k)) and checks them against
rnn-tui's, to 1e-12.
"""

from __future__ import annotations

import math
from itertools import islice

import numpy as np

from rnn_tui.core.cell_report import CellEpoch, training
from rnn_tui.core.cells import fast
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order, size_label
from rnn_tui.core.notebook import ATOL, MARKDOWN, _deltas, _finite_min, _preprocess, lit

FORWARD = {
    "gru": [
        "z[t] = sigma(P['U_z'] @ x[t] + P['W_z'] @ h[t - 1] + P['b_z'])",
        "r[t] = sigma(P['U_r'] @ x[t] + P['W_r'] @ h[t - 1] + P['b_r'])",
        "h_tilde[t] = np.tanh(P['U_h'] @ x[t] + P['W_h'] @ (r[t] * h[t - 1]) + P['b_h'])",
        "h[t] = z[t] * h[t - 1] + (1 - z[t]) * h_tilde[t]",
    ],
    "lstm": [
        "i[t] = sigma(P['U_i'] @ x[t] + P['W_i'] @ h[t - 1] + P['b_i'])",
        "f[t] = sigma(P['U_f'] @ x[t] + P['W_f'] @ h[t - 1] + P['b_f'])",
        "o[t] = sigma(P['U_o'] @ x[t] + P['W_o'] @ h[t - 1] + P['b_o'])",
        "g[t] = np.tanh(P['U_g'] @ x[t] + P['W_g'] @ h[t - 1] + P['b_g'])",
        "C[t] = f[t] * C[t - 1] + i[t] * g[t]",
        "h[t] = o[t] * np.tanh(C[t])",
    ],
}
VALUES = {"gru": ("z", "r", "h_tilde"), "lstm": ("i", "f", "o", "g", "C")}

STEP_BACK = {
    "gru": '''\
def step_back(P, s, k, dh, dC=None):
    """Term (t, k) at each gate's input, given dL_t/dh_k; and dL_t/dh_(k-1)."""
    z, r, h_tilde, h = s["z"][k], s["r"][k], s["h_tilde"][k], s["h"]
    da = {"h": dh * (1 - z) * (1 - h_tilde ** 2)}  # through h~_k = tanh(a_h)
    d_rh = P["W_h"].T @ da["h"]  # dL_t/d(r_k * h_(k-1))
    da["r"] = d_rh * h[k - 1] * r * (1 - r)
    da["z"] = dh * (h[k - 1] - h_tilde) * z * (1 - z)
    inputs = {"z": h[k - 1], "r": h[k - 1], "h": r * h[k - 1]}  # what each W_g multiplies
    dh_prev = dh * z + d_rh * r + P["W_z"].T @ da["z"] + P["W_r"].T @ da["r"]
    return da, inputs, dh_prev, None''',
    "lstm": '''\
def step_back(P, s, k, dh, dC):
    """Term (t, k) at each gate's input, given dL_t/dh_k and dL_t/dC_k (the part
    not through h_k); and dL_t/dh_(k-1), dL_t/dC_(k-1)."""
    i, f, o, g, C = s["i"][k], s["f"][k], s["o"][k], s["g"][k], s["C"]
    tanh_C = np.tanh(C[k])
    dC = dC + dh * o * (1 - tanh_C ** 2)  # h_k = o_k * tanh(C_k)
    da = {"i": dC * g * i * (1 - i), "f": dC * C[k - 1] * f * (1 - f),
          "o": dh * tanh_C * o * (1 - o), "g": dC * i * (1 - g ** 2)}
    inputs = {gate: s["h"][k - 1] for gate in da}
    dh_prev = sum(P["W_" + gate].T @ da[gate] for gate in da)
    return da, inputs, dh_prev, dC * f''',
}


def _parameters(spec: ModelSpec, p: CellParams) -> str:
    lines = ["def sigma(a):", "    return 1 / (1 + np.exp(-a))", "", "",
             f"# {spec.cell.upper()}: gates {', '.join(p.gates)}; the model file's parameters",
             "P = {}"]
    for n in file_order(p.cell):
        value = p[n]
        if value.ndim == 1 or value.shape[0] == 1:
            lines.append(f"P[{n!r}] = np.array({lit(value)})  # {size_label(n)}")
        else:
            lines += [f"# {size_label(n)}", f"P[{n!r}] = np.array({lit(value)})"]
    return "\n".join([*lines, "D = P['E'].shape[1]", "H = P['V'].shape[1]",
                      f"eta = {spec.learning_rate!r}  # the learning rate"])


def _step(spec: ModelSpec, r: CellEpoch, t: int) -> str:
    f, vocab, cell = r.fwd, spec.alphabet, spec.cell
    i = t - 1
    lines = [f"t = {t}  # input {vocab[f.inputs[i]]!r}, target {vocab[f.targets[i]]!r}"]
    if t == 1:
        state = "h, C = {0: np.zeros(H)}, {0: np.zeros(H)}" if cell == "lstm" else \
            "h = {0: np.zeros(H)}"
        names = ["x", *(v for v in VALUES[cell] if v != "C"), "Omega", "y_hat", "L"]
        lines.insert(0, f"{state}  # h_0{' = C_0' if cell == 'lstm' else ''} = 0\n"
                     f"{', '.join(names)} = {', '.join('{}' for _ in names)}")
    lines += ["x[t] = x_o[t] @ P['E']  # x_t = x_t^o E: the row of E of the input",
              *FORWARD[cell],
              "Omega[t] = P['V'] @ h[t] + P['c']",
              "y_hat[t] = softmax(Omega[t])",
              "L[t] = -np.log(y_hat[t] @ y[t])  # -y_t . ln(y_hat_t)",
              f"check(x[t], {lit(f.x[i])})"]
    for v in VALUES[cell]:
        ours = f.C[t] if v == "C" else getattr(f, v)[i]  # type: ignore[union-attr]
        lines.append(f"check({v}[t], {lit(ours)})")
    lines += [f"check(h[t], {lit(f.h[t])})",
              f"check(Omega[t], {lit(f.omega[i])})",
              f"check(y_hat[t], {lit(f.y_hat[i])})",
              f"check(np.argmax(y_hat[t]), {int(f.predictions[i])})  # predicts "
              f"{vocab[int(f.predictions[i])]!r}",
              f"check(L[t], {lit(f.loss[i])})"]
    if t == f.T:
        lines.append(f"check(sum(L.values()), {lit(f.total_loss)})  # the total loss")
    return "\n".join(lines)


def _gradients(spec: ModelSpec, mode: str) -> str:
    cell = spec.cell
    row, why = (("t", "the handout's dE: the row of the loss step's input x_t^o")
                if mode == "x_t" else ("k", "the exact gradient: the row of x_k^o"))
    values = ", ".join(f"{v!r}: {v}" for v in (*VALUES[cell], "h"))
    start = "np.zeros(H)" if cell == "lstm" else "None"
    return f'''\
{STEP_BACK[cell]}


def gradients(P, s, delta):
    """dL/dtheta as the double sum over the BPTT terms (t, k), k <= t: the
    loss at t sent back step by step from (dL_t/dh_t, dL_t/dC_t) = (V^T delta_t, 0)."""
    grads = {{n: np.zeros_like(p) for n, p in P.items()}}
    grads["V"] = sum(np.outer(delta[t], s["h"][t]) for t in delta)  # sum_t delta_t h_t^T
    grads["c"] = sum(delta.values())  # sum_t delta_t
    for t in delta:
        dh, dC = P["V"].T @ delta[t], {start}
        for k in range(t, 0, -1):
            da, inputs, dh, dC = step_back(P, s, k, dh, dC)
            for gate, a in da.items():  # term (t, k) at gate's input
                grads["W_" + gate] += np.outer(a, inputs[gate])
                grads["U_" + gate] += np.outer(a, s["x"][k])
                grads["b_" + gate] += a
                grads["E"] += np.outer(x_o[{row}], P["U_" + gate].T @ a)  # {why}
    return grads


s = {{"x": x, {values}}}
grads = gradients(P, s, delta)'''


def _update(r: CellEpoch, name: str) -> str:
    first = ["P_new = {}  # the parameters after epoch 1's update"] \
        if name == r.params.names[0] else []
    return "\n".join([
        *first,
        f"P_new[{name!r}] = P[{name!r}] - eta * grads[{name!r}]",
        f"check(grads[{name!r}], {lit(r.grads[name])})",
        f"check(P_new[{name!r}], {lit(r.after[name])})",
    ])


def _drift(spec: ModelSpec, mode: str, n: int, minima: list[int]) -> dict[int, float]:
    """notebook._drift for a cell: how far each minimum moves when every
    initial value moves by one unit in the last place."""
    inputs, targets = spec.indices()
    p = spec.initial_cell_params()
    nudged = CellParams(p.cell, {k: np.nextafter(p[k], np.inf) for k in p.names})
    a, _ = fast.train(p, inputs, targets, spec.learning_rate, n, mode)  # type: ignore[arg-type]
    b, _ = fast.train(nudged, inputs, targets, spec.learning_rate, n, mode)  # type: ignore[arg-type]
    out = {}
    for m in minima:
        lo = [_finite_min(v[:m]) for v in (a, b)]
        same = math.isnan(lo[0]) and math.isnan(lo[1])
        out[m] = 0.0 if same else abs(lo[0] - lo[1])
    return out


def _later(spec: ModelSpec, mode: str, results: list[CellEpoch], minima: list[int]
           ) -> tuple[str, str | None]:
    cell = spec.cell
    second = results[1].fwd
    gates = [v for v in VALUES[cell] if v != "C"]
    state = "h, C = {0: np.zeros(H)}, {0: np.zeros(H)}" if cell == "lstm" else \
        "h = {0: np.zeros(H)}"
    lines = [
        "def epoch(P):",
        '    """One epoch from the parameters P: section 3, then 4 (the SGD step)."""',
        f"    {state}",
        f"    x, {', '.join(gates)}, y_hat, L = " + ", ".join("{}" for _ in range(len(gates) + 3)),
        "    for t in range(1, T + 1):",
        "        x[t] = x_o[t] @ P['E']",
        *(f"        {line}" for line in FORWARD[cell]),
        "        y_hat[t] = softmax(P['V'] @ h[t] + P['c'])",
        "        L[t] = -np.log(y_hat[t] @ y[t])",
        f"    s = {{'x': x, {', '.join(f'{v!r}: {v}' for v in (*VALUES[cell], 'h'))}}}",
        "    g = gradients(P, s, {t: y_hat[t] - y[t] for t in L})",
        "    return y_hat, L, {n: P[n] - eta * g[n] for n in P}",
        "",
        "",
        "params = P_new  # after epoch 1",
        "y_hat_2, L_2, _ = epoch(params)",
    ]
    lines += [f"check(y_hat_2[{t}], {lit(second.y_hat[t - 1])})" for t in range(1, second.T + 1)]
    lines += [f"check(L_2[{t}], {lit(second.loss[t - 1])})" for t in range(1, second.T + 1)]
    lines.append(f"check(sum(L_2.values()), {lit(second.total_loss)})")
    if not minima:
        return "\n".join(lines), None
    lines += ["", "totals = [sum(L.values())]  # the total loss of epoch 1, 2, ...",
              f"while len(totals) < {max(minima)}:",
              "    _, L_n, params = epoch(params)",
              "    totals.append(sum(L_n.values()))"]
    drift = _drift(spec, mode, max(minima), minima)
    unchecked = []
    for n in minima:
        best = _finite_min(r.fwd.total_loss for r in results[:n])
        ours = f"min([v for v in totals[:{n}] if np.isfinite(v)], default=np.nan)"
        if drift[n] <= ATOL / 10:
            lines.append(f"check({ours}, {lit(best)})  # the minimum up to epoch {n}")
        else:
            unchecked.append(f"{n} ({drift[n]:.1e})")
            lines.append(f"print('minimum up to epoch {n}:', {ours}, 'rnn-tui:', {lit(best)})"
                         f"  # not checked: chaotic (see above)")
    note = None
    if unchecked:
        note = ("On this model the loss curve is chaotic: moving every initial value by one "
                "unit in the last place moves the minimum up to epoch "
                + ", ".join(unchecked) + f", more than the {ATOL:g} of the checks. The "
                "notebook's sums round differently from rnn-tui's, so the cell below prints "
                "those minima next to rnn-tui's instead of checking them.")
    return "\n".join(lines), note


def code_cells(spec: ModelSpec, mode: str, minima: list[int]
               ) -> list[tuple[tuple[int, ...], str]]:
    """Each code cell with the heading it follows (notebook._code_cells for a cell)."""
    n_max = max([2, *minima])
    results = list(islice(training(spec, mode), n_max))  # type: ignore[arg-type]
    first = results[0]
    cells: list[tuple[tuple[int, ...], str]] = [
        ((1,), _preprocess(spec)), ((2,), _parameters(spec, first.params))]
    cells += [((3, t), _step(spec, first, t)) for t in range(1, first.fwd.T + 1)]
    cells.append(((4, 1), _deltas(first)))  # type: ignore[arg-type]
    for i, name in enumerate(first.params.names):
        code = _update(first, name)
        cells.append(((4, i + 2), _gradients(spec, mode) + "\n\n" + code if i == 0 else code))
    code, note = _later(spec, mode, results, minima)
    if note is not None:
        cells.append(((5,), MARKDOWN + note))
    cells.append(((5,), code))
    return cells
