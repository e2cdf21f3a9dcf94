"""The worked example of a GRU or an LSTM as a Jupyter notebook: the code
cells notebook.py places after cell_export's sections. Each recomputes the
numbers above it with a few lines of NumPy (the cell's equations written
out, BPTT as the double sum over the terms (t, k)) and checks them against
rnn-tui's, to 1e-12.
"""

from __future__ import annotations

import numpy as np

from rnn_tui.core.cells import fast
from rnn_tui.core.cells.params import PARAM_NAMES, CellParams
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order, size_label
from rnn_tui.core.notebook import Code, lit, output_checks
from rnn_tui.core.report import EpochResult

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


def _step(spec: ModelSpec, r: EpochResult, t: int) -> str:
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
              *output_checks(vocab, f, t)]
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


def _update(r: EpochResult, name: str) -> str:
    first = ["P_new = {}  # the parameters after epoch 1's update"] \
        if name == r.params.names[0] else []
    return "\n".join([
        *first,
        f"P_new[{name!r}] = P[{name!r}] - eta * grads[{name!r}]",
        f"check(grads[{name!r}], {lit(r.grads[name])})",
        f"check(P_new[{name!r}], {lit(r.after[name])})",
    ])


def _epoch(cell: str) -> list[str]:
    """Section 5's ``def epoch(P)`` for the cell, then epoch 2 from P_new."""
    gates = [v for v in VALUES[cell] if v != "C"]
    state = "h, C = {0: np.zeros(H)}, {0: np.zeros(H)}" if cell == "lstm" else \
        "h = {0: np.zeros(H)}"
    return [
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


def code(spec: ModelSpec, mode: str) -> Code:
    """The code cells of a GRU or an LSTM (notebook.rnn_code for a cell)."""
    return Code(parameters=_parameters, step=_step, gradients=_gradients(spec, mode),
                update=_update, updates=PARAM_NAMES[spec.cell],  # type: ignore[index]
                epoch=_epoch(spec.cell), again="    _, L_n, params = epoch(params)",
                nudged=lambda p: CellParams(p.cell, {k: np.nextafter(p[k], np.inf)
                                                     for k in p.names}),
                train=fast.train)
