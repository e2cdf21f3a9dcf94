"""The worked example (export.py) for a GRU or an LSTM: the handout's
structure with every gate of every step written out with its numbers.

Sections: 1 preprocess, 2 parameters, 3 forward pass step by step (each
gate's formula, then the numbers substituted, then its value), 4 BPTT (δ_t,
then each parameter's gradient and SGD update in the handout's update
order: V, c, then W_g, U_g, b_g gate by gate, then E), 5 later epochs.
Large parameters are shown once and named in the steps, as for the RNN.
export.document writes the document; this module says what a cell adds
(:func:`network`): its equations, its gates at every step, its ∂L/∂θ.
"""

from __future__ import annotations

from collections.abc import Iterable

from rnn_tui.core.cells.bptt import CellForward
from rnn_tui.core.cells.params import PARAM_NAMES, CellParams
from rnn_tui.core.export import (
    OUTPUT_SUMS,
    Network,
    block,
    bmatrix,
    document,
    param,
    row,
    tex_name,
)
from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.model_init import file_order

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


def network(cell: str) -> Network:
    """What a GRU's or an LSTM's worked example adds to export.document's."""
    state = "s_k = (h_k, C_k)" if cell == "lstm" else "s_k = h_k"
    through = {n: f"\\sum_t \\sum_{{k \\le t}} \\frac{{\\partial L_t}}{{\\partial s_k}} "
                  f"\\frac{{\\partial s_k}}{{\\partial {tex_name(n)}}}"
               for n in file_order(cell)}
    return Network(
        kind=TITLE[cell],
        intro=(" The cell, with $x_t = x_t^o E$, "
               f"$h_0 = {'C_0 = ' if cell == 'lstm' else ''}0$ and the handout's output layer "
               "$\\Omega_t = V h_t + c$, $\\hat{y}_t = \\mathrm{softmax}(\\Omega_t)$:"),
        equations=(block(EQUATIONS[cell]),), names=file_order(cell),
        updates=PARAM_NAMES[cell], new="^{new}", hidden=_gate_lines,  # type: ignore[index]
        bptt_intro=(
            f"The handout's term $(t, k)$ for the cell, with ${state}$: the contribution of "
            "$L_t$ through the parameters' use at step $k$, "
            "$\\frac{\\partial L_t}{\\partial s_k} \\frac{\\partial s_k}{\\partial \\theta}$, "
            "where $\\frac{\\partial L_t}{\\partial s_k}$ is the product of the step Jacobians "
            "$\\frac{\\partial s_{j+1}}{\\partial s_j}$ (docs/cells.md).\n",),
        sums={**through, **OUTPUT_SUMS})


def worked_example(spec: ModelSpec, epochs: int = 2, mode: str | None = None,
                   minima: Iterable[int] = (50, 100)) -> str:
    """The Markdown document for a cell model (export.worked_example's shape)."""
    emb: EmbeddingRows = mode or spec.bptt.embedding_rows  # type: ignore[assignment]
    return document(spec, network(spec.cell), emb, epochs, minima)


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
