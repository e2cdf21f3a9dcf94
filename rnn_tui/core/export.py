"""A worked example in the handout's structure, for any model, from the
numbers this engine computes: Markdown with LaTeX maths (like the handout)
or a standalone LaTeX document.

Sections: 1 preprocess, 2 parameters, 3 forward pass step by step,
4 backpropagation through time and the updates, 5 later epochs' losses.

Size-aware: a parameter of more than :data:`MAX_INLINE` entries is printed
once, in section 2, and referred to by its name in every step (like the
handout, which writes out its tiny matrices at every step). So the output
grows with T (H + D + K), not with T H^2: at H = D = 1,024 and T = 100 it is
a few tens of megabytes, not gigabytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array, Forward, Params, output_delta
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import FILE_ORDER, UPDATE_ORDER
from rnn_tui.core.report import training
from rnn_tui.core.text import char, printable

PLACES = 4
MAX_INLINE = 64  # entries; larger parameters are shown once and then named


def num(x: float) -> str:
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if abs(x) >= 1e5:  # as the screen shows it (text.fmt), never hundreds of digits
        mantissa, exponent = f"{x:.3e}".split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    s = f"{x:.{PLACES}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def tex_char(c: str) -> str:
    """A vocabulary character inside \\text{'...'}."""
    special = {" ": r"\textvisiblespace{}", "\n": r"\textbackslash{}n", "\t": r"\textbackslash{}t",
               "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
               "#": r"\#", "%": r"\%", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    if c in special:
        return special[c]
    shown = char(c)  # an escape, a bidi override: spelled out, never raw
    return c if shown == c else shown.replace("\\", r"\textbackslash{}")


def cells(v: Array) -> list[str]:
    """num() of every entry; the common case (finite, below 1e5) formatted in
    one go, since a large model has millions of them."""
    flat = np.ravel(v).astype(np.float64)
    if not (np.isfinite(flat).all() and (np.abs(flat) < 1e5).all()):
        return [num(float(x)) for x in flat]
    shown = (f"%.{PLACES}f\n" * flat.size % tuple(flat.tolist())).split("\n")[:-1]
    zero = "-" + f"{0:.{PLACES}f}"
    return [c[1:] if c == zero else c for c in shown]


def row(v: Array, bold: int | None = None) -> str:
    cells_ = cells(v)
    if bold is not None:
        cells_[bold] = rf"\mathbf{{{cells_[bold]}}}"
    return "[" + r" \quad ".join(cells_) + "]"


def bmatrix(m: Array, bold: int | None = None) -> str:
    """A column vector or a matrix, as the handout typesets them."""
    a = np.atleast_2d(m) if m.ndim == 2 else m.reshape(-1, 1)
    lines = []
    for r, values in enumerate(a):
        shown = cells(values)
        if bold is not None and r == bold:
            shown = [rf"\mathbf{{{c}}}" for c in shown]
        lines.append(" & ".join(shown))
    return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"


def onehot_row(i: int, K: int) -> str:
    return "[" + r" \ ".join("1" if k == i else "0" for k in range(K)) + "]"


def block(lines: Iterable[str]) -> str:
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$\n"


def tex_name(name: str) -> str:
    """W_z -> W_{z}; E (and every RNN parameter) stays as it is."""
    base, _, gate = name.partition("_")
    return f"{base}_{{{gate}}}" if gate else base


def param(p: Params | CellParams, name: str) -> str:
    """A parameter in a step: its numbers, or its name when it is large."""
    value = p.get(name)
    return tex_name(name) if value.size > MAX_INLINE else bmatrix(value)


OUTPUT_SUMS = {"V": "\\sum_t \\delta_t h_t^\\top", "c": "\\sum_t \\delta_t"}
"""dL/dV and dL/dc, the same for every network (the output layer)."""


@dataclass(frozen=True, slots=True)
class Network:
    """What sets one network's worked example apart; :func:`document` writes
    the rest, the same for all (cell_export.network: a GRU's, an LSTM's)."""

    kind: str  # the introduction's subject: "A vanilla RNN", "A GRU", ...
    intro: str  # said after the introduction's first sentences ("" for the RNN)
    equations: tuple[str, ...]  # blocks after the introduction (the cell's equations)
    names: tuple[str, ...]  # the parameters in the file's order (section 2)
    updates: tuple[str, ...]  # ... in the handout's update order (section 4)
    new: str  # an updated parameter's superscript or subscript: "_{new}", "^{new}"
    hidden: Callable[[Any, Any, int], list[str]]  # (p, f, s): step s's lines up to h_s
    bptt_intro: tuple[str, ...]  # paragraphs between section 4's heading and 4.1
    sums: dict[str, str]  # each parameter's dL/d(name) as a formula


def _rnn_hidden(p: Params, f: Forward, s: int) -> list[str]:
    """h_s = tanh(U x_s + W h_(s-1) + b): the formula, the numbers, the value."""
    return [
        f"h_{{{s}}} &= \\tanh(U \\cdot x_{{{s}}} + W \\cdot h_{{{s - 1}}} + b)",
        f"&= \\tanh\\left({param(p, 'U')} \\cdot {bmatrix(f.x[s - 1])} + {param(p, 'W')} "
        f"\\cdot {bmatrix(f.h[s - 1])} + {param(p, 'b')}\\right)",
        f"h_{{{s}}} &= {row(f.h[s])}",
    ]


RNN = Network(
    kind="A vanilla RNN", intro="", equations=(), names=FILE_ORDER, updates=UPDATE_ORDER,
    new="_{new}", hidden=_rnn_hidden, bptt_intro=(),
    sums={**OUTPUT_SUMS,
          "W": "\\sum_t \\sum_{k \\le t} \\delta_t^\\top V \\prod_{j=k}^{t-1} W^\\top "
               "(1 - h_{j+1}^2)\\,(1 - h_k^2)\\,h_{k-1}",
          "U": "\\sum_t \\sum_{k \\le t} \\cdots (1 - h_k^2)\\,x_k",
          "b": "\\sum_t \\sum_{k \\le t} \\cdots (1 - h_k^2)",
          "E": "\\sum_t \\sum_{k \\le t} \\cdots (1 - h_k^2)\\,U x_k^o"})


def worked_example(spec: ModelSpec, epochs: int = 2, mode: str | None = None,
                   minima: Iterable[int] = (50, 100)) -> str:
    """The Markdown document of an RNN model."""
    emb = mode or spec.bptt.embedding_rows
    return document(spec, RNN, emb, epochs, minima)


def document(spec: ModelSpec, net: Network, emb: str, epochs: int = 2,
             minima: Iterable[int] = (50, 100)) -> str:
    """The Markdown document of any network, from its first epochs (report.training)."""
    vocab = spec.alphabet
    K = len(vocab)
    inputs, targets = spec.indices()
    T = len(inputs)
    n_max = max([epochs, *minima])
    eta = f"{spec.learning_rate:g}"
    out: list[str] = [
        f"# Worked example: {printable(spec.name)}\n",
        f"{net.kind} with an embedding layer trained on \"{printable(spec.text)}\" "
        f"(K = {K}, D = {spec.embedding_dim}, H = {spec.hidden_size}, T = {T}, "
        f"$\\eta$ = {eta}; dE rows: {emb}). Numbers computed by rnn-tui in float64, "
        f"printed to {PLACES} decimals.{net.intro}\n",
        *net.equations,
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
    p = spec.initial_params() if spec.cell == "rnn" else spec.initial_cell_params()
    big = [n for n in net.names if p.get(n).size > MAX_INLINE]
    if big:
        out.append(f"{', '.join(f'${tex_name(n)}$' for n in big)} "
                   f"{'has' if len(big) == 1 else 'have'} more than {MAX_INLINE} entries: "
                   "shown here once, and by name in the steps below.\n")
    for name in net.names:
        out.append(f"$${tex_name(name)} = {bmatrix(p.get(name))}$$\n")
    totals: list[float] = []
    for r in islice(training(spec, emb), n_max):
        f = r.fwd
        totals.append(f.total_loss)
        if r.number == 1:
            out += _forward_section(spec, net, r.params, f)
            out += _bptt_section(spec, net, r.params, f, r.grads, r.after)
        elif r.number == 2:
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
        best = min(finite) if finite else math.nan
        out.append(f"Up to epoch {n} the minimum total loss is {num(best)}  \n")
    return "\n".join(out)


def _forward_section(spec: ModelSpec, net: Network, p: Any, f: Any) -> list[str]:
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
            *net.hidden(p, f, s),
            f"\\Omega_{{{s}}} &= V \\cdot h_{{{s}}} + c = {param(p, 'V')} \\cdot {bmatrix(f.h[s])}"
            f" + {param(p, 'c')}",
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


def _bptt_section(spec: ModelSpec, net: Network, p: Any, f: Any, g: Any, after: Any
                  ) -> list[str]:
    eta = f"{spec.learning_rate:g}"
    delta = output_delta(f)  # (T, K)
    out = ["## 4 Backpropagation through time\n", *net.bptt_intro,
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
    for i, name in enumerate(net.updates):
        n = tex_name(name)
        out.append(f"### 4.{i + 2} Update ${n}$\n")
        out.append(block([
            f"\\frac{{\\partial L}}{{\\partial {n}}} &= {net.sums[name]}",
            f"\\frac{{\\partial L}}{{\\partial {n}}} &= {bmatrix(g.get(name))}",
            f"{n}{net.new} &= {n} - \\eta \\frac{{\\partial L}}{{\\partial {n}}}"
            + ("" if p.get(name).size > MAX_INLINE else
               f" = {bmatrix(p.get(name))} - {eta} \\cdot {bmatrix(g.get(name))}"),
            f"{n}{net.new} &= {bmatrix(after.get(name))}",
        ]))
    return out


LATEX_HEAD = r"""\documentclass{article}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage[T1]{fontenc}
\setlength{\parindent}{0pt}
\begin{document}
"""


def to_latex(markdown: str) -> str:
    """The same document as LaTeX: headings become sections, $$ blocks stay."""
    body = []
    for line in markdown.splitlines():
        if line.startswith("### "):
            body.append(r"\subsubsection*{" + _tex_text(line[4:]) + "}")
        elif line.startswith("## "):
            body.append(r"\section*{" + _tex_text(line[3:]) + "}")
        elif line.startswith("# "):
            body.append(r"\section*{" + _tex_text(line[2:]) + "}")
        elif line.startswith("$$"):
            body.append(line.replace("$$\\begin{aligned}", "\\begin{align*}")
                        .replace("\\end{aligned}$$", "\\end{align*}")
                        if "aligned" in line else "\\[" + line.strip("$") + "\\]")
        elif line.rstrip().endswith("$$") and "aligned" in line:
            body.append(line.replace("\\end{aligned}$$", "\\end{align*}"))
        else:
            body.append(line.rstrip().removesuffix("  ") + ("\n" if line.strip() else ""))
    return LATEX_HEAD + "\n".join(body) + "\n\\end{document}\n"


def _tex_text(text: str) -> str:
    return "".join({"_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#"}.get(c, c) for c in text)
