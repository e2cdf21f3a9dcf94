"""The worked example (export.py) for a GRU or an LSTM: the handout's
structure with every gate of every step written out with its numbers.

Sections: 1 preprocess, 2 parameters, 3 forward pass step by step (each
gate's formula, then the numbers substituted, then its value), 4 BPTT (δ_t,
then each parameter's gradient and SGD update in the handout's update
order: V, c, then W_g, U_g, b_g gate by gate, then E), 5 later epochs.
Large parameters are shown once and named in the steps, as for the RNN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import islice

import numpy as np

from rnn_tui.core.cell_report import training
from rnn_tui.core.cells.bptt import CellForward
from rnn_tui.core.cells.params import CellGrads, CellParams
from rnn_tui.core.export import MAX_INLINE, PLACES, block, bmatrix, num, onehot_row, row, tex_char
from rnn_tui.core.maths import EmbeddingRows, output_delta
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order
from rnn_tui.core.text import printable

TITLE = {"gru": "A GRU", "lstm": "An LSTM"}
SIGMA = {"z": r"\sigma", "r": r"\sigma", "h": r"\tanh", "i": r"\sigma", "f": r"\sigma",
         "o": r"\sigma", "g": r"\tanh"}
EQUATIONS = {
    "gru": [r"z_t &= \sigma(U_z x_t + W_z h_{t-1} + b_z)",
            r"r_t &= \sigma(U_r x_t + W_r h_{t-1} + b_r)",
            r"\tilde{h}_t &= \tanh(U_h x_t + W_h (r_t \odot h_{t-1}) + b_h)",
            r"h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t"],
    "lstm": [r"i_t &= \sigma(U_i x_t + W_i h_{t-1} + b_i), \quad "
             r"f_t = \sigma(U_f x_t + W_f h_{t-1} + b_f)",
             r"o_t &= \sigma(U_o x_t + W_o h_{t-1} + b_o), \quad "
             r"g_t = \tanh(U_g x_t + W_g h_{t-1} + b_g)",
             r"C_t &= f_t \odot C_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(C_t)"],
}


def tex_name(name: str) -> str:
    """W_z -> W_{z}; E stays E."""
    base, _, gate = name.partition("_")
    return f"{base}_{{{gate}}}" if gate else base


def param(p: CellParams, name: str) -> str:
    value = p[name]
    return tex_name(name) if value.size > MAX_INLINE else bmatrix(value)


def worked_example(spec: ModelSpec, epochs: int = 2, mode: str | None = None,
                   minima: Iterable[int] = (50, 100)) -> str:
    """The Markdown document for a cell model (export.worked_example's shape)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    vocab, cell = spec.alphabet, spec.cell
    K = len(vocab)
    inputs, targets = spec.indices()
    T = len(inputs)
    p = spec.initial_cell_params()
    n_max = max([epochs, *minima])
    eta = f"{spec.learning_rate:g}"
    out: list[str] = [
        f"# Worked example: {printable(spec.name)}\n",
        f"{TITLE[cell]} with an embedding layer trained on \"{printable(spec.text)}\" "
        f"(K = {K}, D = {spec.embedding_dim}, H = {spec.hidden_size}, T = {T}, "
        f"$\\eta$ = {eta}; dE rows: {emb}). Numbers computed by rnn-tui in float64, "
        f"printed to {PLACES} decimals. The cell, with $x_t = x_t^o E$, "
        f"$h_0 = {'C_0 = ' if cell == 'lstm' else ''}0$ and the handout's output layer "
        "$\\Omega_t = V h_t + c$, $\\hat{y}_t = \\mathrm{softmax}(\\Omega_t)$:\n",
        block(EQUATIONS[cell]),
        "## 1 Preprocess\n",
        f"Alphabet size: $|\\mathcal{{A}}| = {K}$\n",
        "One-hot encoding:\n",
    ]
    for i, c in enumerate(vocab):
        out.append(f"$$\\text{{{tex_char(c)}}} : {onehot_row(i, K)}$$\n")
    out.append("Input and target sequences:\n")
    for t in range(T):
        out.append(f"$$x_{{{t + 1}}}^o = {onehot_row(int(inputs[t]), K)} \\quad "
                   f"y_{{{t + 1}}} = {onehot_row(int(targets[t]), K)}$$\n")
    out.append("## 2 Parameters initialized\n")
    big = [n for n in file_order(cell) if p[n].size > MAX_INLINE]
    if big:
        out.append(f"{', '.join(f'${tex_name(n)}$' for n in big)} "
                   f"{'has' if len(big) == 1 else 'have'} more than {MAX_INLINE} entries: "
                   "shown here once, and by name in the steps below.\n")
    for name in file_order(cell):
        out.append(f"$${tex_name(name)} = {bmatrix(p[name])}$$\n")
    totals: list[float] = []
    for r in islice(training(spec, emb), n_max):
        totals.append(r.fwd.total_loss)
        if r.number == 1:
            out += _forward_section(spec, r.params, r.fwd)
            out += _bptt_section(spec, r.params, r.fwd, r.grads, r.after)
        elif r.number == 2:
            f = r.fwd
            out.append("## 5 Following epochs\n")
            out.append("Epoch 2, with the updated parameters:\n")
            for t in range(T):
                out.append(block([
                    f"L_{{{t + 1}}} &= -y_{{{t + 1}}} \\cdot \\ln\\left("
                    f"{bmatrix(f.y_hat[t], bold=int(f.predictions[t]))}\\right)",
                    f"L_{{{t + 1}}} &= {num(float(f.loss[t]))}",
                ]))
            out.append(f"$$\\sum_t L_t = {' + '.join(num(float(v)) for v in f.loss)} = "
                       f"{num(f.total_loss)}$$\n")
    for n in sorted(set(minima)):
        finite = [v for v in totals[:n] if math.isfinite(v)]
        out.append(f"Up to epoch {n} the minimum total loss is "
                   f"{num(min(finite) if finite else math.nan)}  \n")
    return "\n".join(out)


def _gate_lines(p: CellParams, f: CellForward, s: int) -> list[str]:
    """Every gate of step s (1-based) and the new state: formula, numbers, value."""
    t = s - 1
    x, h_prev = bmatrix(f.x[t]), bmatrix(f.h[t])
    lines = []
    for g in p.gates:
        symbol = r"\tilde{h}" if g == "h" else g
        value = f.gate(g)[t]  # type: ignore[union-attr]
        if p.cell == "gru" and g == "h":
            recurrent = (f"W_h (r_{{{s}}} \\odot h_{{{s - 1}}})",
                         f"{param(p, 'W_h')} \\cdot \\left({bmatrix(f.r[t])} \\odot "  # type: ignore[union-attr]
                         f"{h_prev}\\right)")
        else:
            recurrent = (f"W_{g} h_{{{s - 1}}}", f"{param(p, f'W_{g}')} \\cdot {h_prev}")
        lines += [
            f"{symbol}_{{{s}}} &= {SIGMA[g]}(U_{g} x_{{{s}}} + {recurrent[0]} + b_{g})",
            f"&= {SIGMA[g]}\\left({param(p, f'U_{g}')} \\cdot {x} + {recurrent[1]} + "
            f"{param(p, f'b_{g}')}\\right)",
            f"{symbol}_{{{s}}} &= {row(value)}",
        ]
    if p.cell == "gru":
        z = bmatrix(f.z[t])  # type: ignore[union-attr]
        lines += [
            f"h_{{{s}}} &= z_{{{s}}} \\odot h_{{{s - 1}}} + (1 - z_{{{s}}}) \\odot "
            f"\\tilde{{h}}_{{{s}}} = {z} \\odot {h_prev} + \\left(1 - {z}\\right) \\odot "
            f"{bmatrix(f.h_tilde[t])}",  # type: ignore[union-attr]
        ]
    else:
        lines += [
            f"C_{{{s}}} &= f_{{{s}}} \\odot C_{{{s - 1}}} + i_{{{s}}} \\odot g_{{{s}}} = "
            f"{bmatrix(f.f[t])} \\odot {bmatrix(f.C[t])} + {bmatrix(f.i[t])} \\odot "  # type: ignore[union-attr]
            f"{bmatrix(f.g[t])}",  # type: ignore[union-attr]
            f"C_{{{s}}} &= {row(f.C[s])}",  # type: ignore[union-attr]
            f"h_{{{s}}} &= o_{{{s}}} \\odot \\tanh(C_{{{s}}}) = {bmatrix(f.o[t])} \\odot "  # type: ignore[union-attr]
            f"\\tanh {bmatrix(f.C[s])}",  # type: ignore[union-attr]
        ]
    lines.append(f"h_{{{s}}} &= {row(f.h[s])}")
    return lines


def _forward_section(spec: ModelSpec, p: CellParams, f: CellForward) -> list[str]:
    vocab = spec.alphabet
    out = ["## 3 Forward pass\n"]
    for t in range(f.T):
        i_in, i_out = int(f.inputs[t]), int(f.targets[t])
        pred = int(f.predictions[t])
        s = t + 1
        out.append(f"### 3.{s} Step {s}\n")
        out.append(block([
            f"x_{{{s}}} &= x_{{{s}}}^o \\cdot E = {onehot_row(i_in, len(vocab))} \\cdot "
            f"{param(p, 'E')}",
            f"x_{{{s}}} &= {row(f.x[t])}",
            *_gate_lines(p, f, s),
            f"\\Omega_{{{s}}} &= V \\cdot h_{{{s}}} + c = {param(p, 'V')} \\cdot "
            f"{bmatrix(f.h[s])} + {param(p, 'c')}",
            f"\\Omega_{{{s}}} &= {bmatrix(f.omega[t])}",
            f"\\hat{{y}}_{{{s}}} &= \\mathrm{{softmax}}(\\Omega_{{{s}}})",
            f"\\hat{{y}}_{{{s}}} &= {bmatrix(f.y_hat[t], bold=pred)}",
        ]))
        verdict = ("which is right" if pred == i_out else
                   f"but we actually want it to predict '{printable(vocab[i_out])}'")
        out.append(f"Based on the maximum value of the softmax function, our model predicts "
                   f"it as '{printable(vocab[pred])}', {verdict}.\n")
        out.append(block([
            f"L_{{{s}}} &= -y_{{{s}}} \\cdot \\ln(\\hat{{y}}_{{{s}}}) = "
            f"-\\ln {num(float(f.y_hat[t, i_out]))}",
            f"L_{{{s}}} &= {num(float(f.loss[t]))}",
        ]))
    out.append(f"$$\\sum_{{t=1}}^{{{f.T}}} L_t = {' + '.join(num(float(v)) for v in f.loss)} = "
               f"{num(f.total_loss)}$$\n")
    return out


def _bptt_section(spec: ModelSpec, p: CellParams, f: CellForward, g: CellGrads,
                  after: CellParams) -> list[str]:
    eta = f"{spec.learning_rate:g}"
    delta = output_delta(f)  # type: ignore[arg-type]
    state = "s_k = (h_k, C_k)" if p.cell == "lstm" else "s_k = h_k"
    out = ["## 4 Backpropagation through time\n",
           f"The handout's term $(t, k)$ for the cell, with ${state}$: the contribution of "
           "$L_t$ through the parameters' use at step $k$, "
           "$\\frac{\\partial L_t}{\\partial s_k} \\frac{\\partial s_k}{\\partial \\theta}$, "
           "where $\\frac{\\partial L_t}{\\partial s_k}$ is the product of the step Jacobians "
           "$\\frac{\\partial s_{j+1}}{\\partial s_j}$ (docs/cells.md).\n",
           "### 4.1 Gradient of L w.r.t. the output\n"]
    for t in range(f.T):
        s = t + 1
        y = np.zeros(len(spec.alphabet))
        y[int(f.targets[t])] = 1.0
        out.append(block([
            f"\\delta_{{{s}}} &= \\hat{{y}}_{{{s}}} - y_{{{s}}} = {bmatrix(f.y_hat[t])} - "
            f"{bmatrix(y)}",
            f"\\delta_{{{s}}} &= {bmatrix(delta[t])}",
        ]))
    for i, name in enumerate(p.names):
        n = tex_name(name)
        sub = {"V": "\\sum_t \\delta_t h_t^\\top", "c": "\\sum_t \\delta_t"}.get(
            name, f"\\sum_t \\sum_{{k \\le t}} \\frac{{\\partial L_t}}{{\\partial s_k}} "
                  f"\\frac{{\\partial s_k}}{{\\partial {n}}}")
        out.append(f"### 4.{i + 2} Update ${n}$\n")
        out.append(block([
            f"\\frac{{\\partial L}}{{\\partial {n}}} &= {sub}",
            f"\\frac{{\\partial L}}{{\\partial {n}}} &= {bmatrix(g[name])}",
            f"{n}^{{new}} &= {n} - \\eta \\frac{{\\partial L}}{{\\partial {n}}}"
            + ("" if p[name].size > MAX_INLINE else
               f" = {bmatrix(p[name])} - {eta} \\cdot {bmatrix(g[name])}"),
            f"{n}^{{new}} &= {bmatrix(after[name])}",
        ]))
    return out
