"""What the formula panel shows: a pure function of (step view, width,
height, scroll) to the panel's title, rows and the count of hidden rows.

Every step writes its equation in the handout's notation, then again with
every operand substituted (forward: U, x_t, W, h_{t−1}, b; BPTT: δ_t, V,
Wᵀ, 1−h_j², h_{k−1}, x_k, Uᵀ), then the result; formula_layout.fit lays the
equations out in the box.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from rich.text import Text

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.formula_layout import Eq, Mat, Vec, fit, widest
from rnn_tui.tui.widgets.formula_optim import is_handout, optimizer_eqs, rule, step_eq
from rnn_tui.tui.widgets.marks import NO_MARKS, Marks
from rnn_tui.tui.widgets.numbers import ARGMAX, CHANGED, LABEL, MUTED, RIGHT, TARGET, WRONG


@dataclass
class Formula:
    title: str
    lines: list[Text]
    hidden: int  # rows behind the ⋮ marker
    scroll: int  # the scroll offset used (clamped to what there is to scroll)


def formula(view: StepView, width: int, height: int, scroll: int = 0,
            marks: Marks = NO_MARKS) -> Formula:
    """The formula of ``view``'s step in ``width`` x ``height`` cells; where
    ``marks`` (an active comparison, widgets/marks.py) says theirs differs,
    the cells are marked and their number put beside ours where it fits."""
    ph = view.phase
    if ph is Phase.FORWARD:
        title, eqs = f"Formula  forward step {view.focus_t}", forward(view)
    elif ph is Phase.OUTPUT:
        title, eqs = f"Formula  δ_{view.focus_t}", output(view, marks)
    elif ph is Phase.BPTT:
        t, k = view.term
        title, eqs = (f"Formula  BPTT term (t={t}, k={k})",
                      bptt(view, height + abs(scroll), marks))
    else:
        name = UPDATE_ORDER[view.pos.index]
        title, eqs = f"Formula  update {name}", update(view, name, height + scroll, marks)
    done = fit(eqs, width, height, scroll, "factors" if ph is Phase.BPTT else "lines")
    return Formula(title, done.lines, done.hidden, done.scroll)


def _label(text: str) -> Text:
    return Text(text, style=LABEL)


def _vec(values: np.ndarray, marks: Marks, field: str, styles: Mapping[int, str] | None = None,
         focus: int | None = None, keep: bool = False) -> Vec:
    """A vector with the field's differing entries marked (the first kept in view)."""
    differ = marks.entries(field) if field else {}
    if not differ:
        return Vec(values, styles or {}, focus=focus, keep=keep)
    return Vec(values, {**(styles or {}), **differ}, focus=marks.focus(field), keep=keep)


def _beside(marks: Marks, field: str) -> Text | None:
    """Their first differing number of the field, for Eq.beside."""
    return marks.beside(field) if marks.of(field) else None


# ------------------------------------------------------------------ forward


def forward(v: StepView) -> list[Eq]:
    t = v.focus_t
    f, p, vocab = v.fwd, v.epoch.params, v.spec.alphabet
    i_in, i_out = int(f.inputs[t - 1]), int(f.targets[t - 1])
    pred = int(f.predictions[t - 1])
    x, hp = f.x[t - 1], f.h[t - 1]
    lead = len(f"h_{t} ")
    styles = {pred: ARGMAX, i_out: TARGET}
    right = pred == i_out
    return [
        Eq([[f"x_{t} = x°_{t}·E"], [f" = E[{char(vocab[i_in])!r}]"], [" = ", Vec(x)]]),
        Eq([[f"h_{t} = tanh(U·x_{t}"], [f" + W·h_{t - 1}"], [" + b)"]]),
        Eq([["= tanh(", Mat(p.U)], ["·", Vec(x)], [" + ", Mat(p.W)], ["·", Vec(hp)],
            [" + ", Vec(p.b), ")"]], lead=lead, cont=lead + 2, chain=True),
        Eq([["= tanh(", Vec(f.Ux[t - 1])], [" + ", Vec(f.Wh[t - 1])], [" + ", Vec(p.b), ")"],
            [" = tanh(", Vec(v.preactivation(t)), ")"], [" = ", Vec(f.h[t], keep=True)]],
           lead=lead, cont=lead + 2, spare=True),
        Eq([[f"Ω_{t} = V·h_{t} + c"],
            [" = ", Vec(f.omega[t - 1], styles, focus=i_out, keep=True)]]),
        Eq([[f"ŷ_{t} = softmax(Ω_{t})"],
            [" = ", Vec(f.y_hat[t - 1], styles, focus=i_out, keep=True)]]),
        Eq([[f"L_{t} = −ln ŷ_{t}[{char(vocab[i_out])!r}]"],
            [" = −ln ", Text(fmt(float(f.y_hat[t - 1, i_out])), style=TARGET)],
            [f" = {fmt(float(f.loss[t - 1]))}"],
            ["    ", Text(f"predicts {char(vocab[pred])!r}", style=ARGMAX)],
            [Text(", right" if right else f", we want {char(vocab[i_out])!r}",
                  style=RIGHT if right else WRONG)]]),
    ]


# ------------------------------------------------------------------- output


def output(v: StepView, marks: Marks = NO_MARKS) -> list[Eq]:
    t = v.focus_t
    f, vocab = v.fwd, v.spec.alphabet
    i_out = int(f.targets[t - 1])
    y = np.zeros(len(vocab))
    y[i_out] = 1.0
    dV_t, dc_t = v.output_term(t)
    mark = {i_out: TARGET}
    return [
        Eq([[f"δ_{t} = ∂L_{t}/∂Ω_{t}"], [f" = ŷ_{t} − y_{t}"],
            ["    ", _label(f"y_{t}: one-hot at {char(vocab[i_out])!r}")]]),
        Eq([["= ", Vec(f.y_hat[t - 1], mark, focus=i_out)],
            [" − ", Vec(y, mark, focus=i_out, cell=lambda a: "1" if a else "0")]],
           lead=4, cont=6, chain=True),
        Eq([["= ", _vec(v.delta[t - 1], marks, "delta", mark, focus=i_out, keep=True)]],
           lead=4, cont=6, beside=_beside(marks, "delta")),
        Eq([[f"dV += δ_{t}·h_{t}ᵀ"], [" = ", _vec(v.delta[t - 1], marks, "delta", mark, i_out)],
            ["·", Vec(f.h[t], post="ᵀ")], [" = ", Mat(dV_t, marks.cells("out.dV"), keep=True)]],
           cont=len(f"dV += δ_{t}·h_{t}ᵀ "), chain=True, beside=_beside(marks, "out.dV")),
        Eq([[f"dc += δ_{t}"], [" = ", _vec(dc_t, marks, "out.dc", mark, i_out, keep=True)]],
           cont=len(f"dc += δ_{t} "), beside=_beside(marks, "out.dc")),
    ]


# --------------------------------------------------------------------- BPTT


def bptt(v: StepView, room: int, marks: Marks = NO_MARKS) -> list[Eq]:
    """term(t, k) = δ_tᵀV · Wᵀ(1−h_t²) · … · Wᵀ(1−h_{k+1}²) · (1−h_k²), each
    factor substituted, then its four contributions (pinned: never hidden)."""
    t, k = v.term
    row, term = v.row, v.term_sums
    assert row is not None and term is not None
    f, p, vocab = v.fwd, v.epoch.params, v.spec.alphabet
    factors = list(range(t, k, -1))  # Wᵀ(1−h_j²) for j = t .. k+1
    head: list[list[str | Text | Vec | Mat]] = [[f"term({t},{k}) = δ_{t}ᵀV"]]
    head += [[f"·Wᵀ(1−h_{j}²)"] for j in factors[:3]]
    head += [["·…"]] if len(factors) > 3 else []
    head += [[f"·(1−h_{k}²)"]]
    col = max(len(f"× Wᵀ(1−h_{t}²)"), len(f"δ_{t}ᵀV") + 2)
    out = [Eq(head, style=LABEL)]
    out.append(Eq([[f"{'  ' + f'δ_{t}ᵀV':<{col}}"],
                   [" = ", Vec(v.delta[t - 1])], ["·", Mat(p.V)],
                   [" = ", Vec(row.dh[t - 1], keep=True)], ["  ", _label(f"∂L_{t}/∂h_{t}")]],
                  cont=col + 1, chain=True))
    # a chain of thousands of factors: only those that can be shown are built
    keep = factors
    if len(factors) > 2 * room + 8:
        keep = [*factors[: room + 4], -1, *factors[-(room + 4):]]
    for j in keep:
        if j == -1:
            skipped = len(factors) - 2 * (room + 4)
            out.append(Eq([[Text(f"   ⋮ {skipped} more factors", style=MUTED)]], chain=True))
            continue
        out.append(Eq([[f"{f'× Wᵀ(1−h_{j}²)':<{col}}"],
                       [" = ", Mat(p.W.T)], ["·(1 − ", Vec(f.h[j], post="²"), ")"],
                       [" → ", Vec(row.dh[j - 2], keep=True)],
                       ["  ", _label(f"∂L_{t}/∂h_{j - 1}")]],
                      cont=col + 1, chain=True))
    out.append(Eq([[f"{f'× (1−h_{k}²)':<{col}}"], [" = (1 − ", Vec(f.h[k], post="²"), ")"],
                   [" → ", _vec(row.da[k - 1], marks, "term", keep=True), " = term"]],
                  cont=col + 1, chain=True, beside=_beside(marks, "term")))
    x_row = int(f.inputs[k - 1] if v.mode == "x_k" else f.inputs[t - 1])
    heads = [f"dW += term·h_{k - 1}ᵀ", f"dU += term·x_{k}ᵀ", "db += term",
             f"dE[{char(vocab[x_row])!r}] += Uᵀ·term"]
    pad = max(map(len, heads)) + 1
    a = _vec(row.da[k - 1], marks, "term")  # the term, its differing entries marked
    dE_cells = {c: s for (r, c), s in marks.cells("term.dE").items() if r == x_row}
    dE_first = marks.of("term.dE")[0].entry[0] if marks.of("term.dE") else -1  # its row
    note = [] if v.mode == "x_k" else [["  ", _label(f"row of x_{t}: the handout's dE")]]
    out += [
        Eq([[heads[0].ljust(pad)], [" = ", a], ["·", Vec(f.h[k - 1], post="ᵀ")],
            [" = ", Mat(term.W, marks.cells("term.dW"), keep=True)]], cont=pad + 1, pinned=True,
           beside=_beside(marks, "term.dW")),
        Eq([[heads[1].ljust(pad)], [" = ", a], ["·", Vec(f.x[k - 1], post="ᵀ")],
            [" = ", Mat(term.U, marks.cells("term.dU"), keep=True)]], cont=pad + 1, pinned=True,
           beside=_beside(marks, "term.dU")),
        Eq([[heads[2].ljust(pad)], [" = ", _vec(term.b, marks, "term.db", keep=True)]],
           cont=pad + 1, pinned=True, beside=_beside(marks, "term.db")),
        Eq([[heads[3].ljust(pad)], [" = ", Mat(p.U.T)], ["·", a],
            [" = ", Vec(term.E[x_row], dE_cells, keep=True)], *note], cont=pad + 1,
           pinned=True, beside=_beside(marks, "term.dE") if dE_first == x_row else None),
    ]
    return out


# ------------------------------------------------------------------- update


def update(v: StepView, name: str, room: int, marks: Marks = NO_MARKS) -> list[Eq]:
    """θ_new = θ − η·∂L/∂θ; a matrix row by row (the rows that can be shown built)."""
    p0 = v.epoch.params.get(name)
    g = v.epoch.grads.get(name)
    step = v.update_step(name)
    new = v.params.get(name)
    eta = f"{v.spec.learning_rate:g}"
    handout = is_handout(v.epoch)  # else the [train] table's optimizer (formula_optim.py)
    if handout:
        out = [Eq([[f"{name}_new = {name} − η·∂L/∂{name}"], [f" = {name} + (−η·∂L/∂{name})"],
                   [f",  η = {eta}"]])]
    else:
        out = [Eq(rule(v.epoch, name, eta)), *optimizer_eqs(v.epoch, name)]
    field = f"new.{name}"  # where theirs differs: marked over the changed cells
    changed = {**_changed(p0, new), **marks.cells(field)}
    beside = _beside(marks, field)
    if p0.ndim == 1 or p0.shape[1] == 1:  # a vector or a column
        return [
            *out,
            Eq([["= ", Mat(p0)], [f" − {eta}·", Mat(g)]], lead=2, cont=4) if handout
            else step_eq(v.epoch, name, eta),
            Eq([[f"= {name}"], [" + ", Mat(step)]], lead=2, cont=4),
            Eq([["= ", Mat(new, changed, keep=True)]], lead=2, cont=4, beside=beside),
        ]
    names = v.spec.alphabet if name in ("E", "V") else None
    tags = [f"{char(names[r])!r}" if names is not None else f"row {r + 1}"
            for r in range(min(p0.shape[0], room + 2))]
    tw = max(map(len, tags)) + 1
    rows = by_row(changed)
    cw = [_width(a) for a in (p0, step, new)]  # one cell width per column of the table
    first = marks.of(field)[0].entry[0] if beside is not None else -1  # its row
    differ = {r: min(cs) for r, cs in by_row(marks.cells(field)).items()}  # kept in view
    for r, tag in enumerate(tags):
        out.append(Eq([[f"{tag:<{tw}}"], [Vec(p0[r], cw=cw[0])], [" + ", Vec(step[r], cw=cw[1])],
                       [" = ", Vec(new[r], rows.get(r, {}), differ.get(r), cw=cw[2],
                                   keep=True)]],
                      lead=2, cont=tw + 2, beside=beside if r == first else None))
    if p0.shape[0] > len(tags):
        out.append(Eq([[Text(f"⋮ {p0.shape[0] - len(tags)} more rows", style=MUTED)]], lead=2))
    return out


def _width(a: np.ndarray) -> int:
    """The widest sign-padded cell of the part of ``a`` that can be shown."""
    return widest(a[:64, :64])


def by_row(styles: dict[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    rows: dict[int, dict[int, str]] = {}
    for (r, c), s in styles.items():
        rows.setdefault(r, {})[c] = s
    return rows


def _changed(before: np.ndarray, after: np.ndarray) -> dict[tuple[int, int], str]:
    a, b = np.atleast_2d(before), np.atleast_2d(after)
    diff = np.argwhere((a != b) & np.isfinite(b))
    if before.ndim == 1:
        return {(0, int(c)): CHANGED for _, c in diff[:256].tolist()}
    return {(int(r), int(c)): CHANGED for r, c in diff[:256].tolist()}
