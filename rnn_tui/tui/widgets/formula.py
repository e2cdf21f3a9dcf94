"""The equation of the current step with the actual numbers substituted,
in the handout's notation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.text import Text

from rnn_tui.core.maths import Array
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import marked_vector
from rnn_tui.tui.widgets.numbers import CHANGED, LABEL, MUTED, cell, inline, vector
from rnn_tui.tui.widgets.panel import Panel

T_ = Text


def eq(*parts: str | Text) -> Text:
    out = Text()
    for p in parts:
        out.append_text(p if isinstance(p, Text) else Text(p))
    return out


Part = str | Text | Callable[[], Text]


def fitted(build: Callable[[int], list[Part]], w: int) -> Text:
    """The widest version of a line that fits ``w``, eliding its vectors to
    a budget q of w, w/2, ... cells each (the narrowest if none fits).

    ``build(q)`` gives the line's parts, the costly ones as thunks: a try
    stops at the first part that takes the line past ``w``, so on a big
    model (a 128x128 W) the widths that cannot fit cost one matrix each,
    not the whole line."""
    *tries, last = (w, w // 2, w // 3, w // 4, w // 6, 10)
    for q in tries:
        out = Text()
        for part in build(q):
            piece = part() if callable(part) else part
            out.append_text(piece if isinstance(piece, Text) else Text(piece))
            if out.cell_len > w:
                break
        else:
            return out
    return eq(*(part() if callable(part) else part for part in build(last)))


class FormulaPanel(Panel):
    TITLE = "Formula"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        ph = view.phase
        if ph is Phase.FORWARD:
            self.border_title = f"Formula  forward step {view.focus_t}"
            return self.forward(view, width)
        if ph is Phase.OUTPUT:
            self.border_title = f"Formula  δ_{view.focus_t}"
            return self.output(view, width)
        if ph is Phase.BPTT:
            t, k = view.term
            self.border_title = f"Formula  BPTT term (t={t}, k={k})"
            return self.bptt(view, width, height)
        name = UPDATE_ORDER[view.pos.index]
        self.border_title = f"Formula  update {name}"
        return self.update(view, width, name, height)

    # ------------------------------------------------------------ forward

    def forward(self, v: StepView, w: int) -> list[Text]:
        t = v.focus_t
        f, p, vocab = v.fwd, v.epoch.params, v.spec.alphabet
        i_in, i_out = int(f.inputs[t - 1]), int(f.targets[t - 1])
        x, hp, h = f.x[t - 1], f.h[t - 1], f.h[t]
        pad = " " * (len(str(t)) + 3)

        out = [
            eq(f"x_{t} = x°_{t}·E = row {char(vocab[i_in])!r} of E = ", vector(x, w - 26)),
            eq(f"h_{t} = tanh(U·x_{t} + W·h_{t - 1} + b)"),
            fitted(lambda q: [pad, "= tanh(", lambda: inline(p.U, q), "·",
                              lambda: vector(x, q), " + ", lambda: inline(p.W, q), "·",
                              lambda: vector(hp, q), " + ", lambda: vector(p.b, q), ")"], w),
            fitted(lambda q: [pad, "= tanh(", lambda: vector(f.Ux[t - 1], q), " + ",
                              lambda: vector(f.Wh[t - 1], q), " + ", lambda: vector(p.b, q),
                              ") = tanh(", lambda: vector(v.preactivation(t), q), ")"], w),
            eq(pad, "= ", vector(h, w - 8)),
        ]
        pred = int(f.predictions[t - 1])
        styles = {i_out: "target", pred: "argmax" if pred != i_out else "target"}
        out += [
            eq(f"Ω_{t} = V·h_{t} + c = ", vector(f.omega[t - 1], w - 16, styles, focus=pred)),
            eq(f"ŷ_{t} = softmax(Ω_{t}) = ", vector(f.y_hat[t - 1], w - 22, styles, focus=pred)),
            eq(f"L_{t} = −ln ŷ_{t}[{char(vocab[i_out])!r}] = −ln ",
               cell(float(f.y_hat[t - 1, i_out])), " = ", cell(float(f.loss[t - 1])),
               Text(f"    predicts {char(vocab[pred])!r}", style="argmax"),
               Text(", right" if pred == i_out else f", we want {char(vocab[i_out])!r}",
                    style="right" if pred == i_out else "wrong")),
        ]
        return out

    # ------------------------------------------------------------- output

    def output(self, v: StepView, w: int) -> list[Text]:
        t = v.focus_t
        f, vocab = v.fwd, v.spec.alphabet
        i_out = int(f.targets[t - 1])
        y = np.zeros(len(vocab))
        y[i_out] = 1.0
        dV_t, dc_t = v.output_term(t)
        m = self.marks  # where theirs differs (widgets/marks.py)
        third = max(12, (w - 20) // 3)
        return [
            Text(f"δ_{t} = ∂L_{t}/∂Ω_{t} = ŷ_{t} − y_{t}    (y_{t}: {char(vocab[i_out])!r})"),
            eq("    = ", vector(f.y_hat[t - 1], third), " − ", _onehot(y, third)),
            eq("    = ", marked_vector(v.delta[t - 1], w - 6, m, "delta", {i_out: "target"})),
            Text(""),
            m.append_beside(eq(f"dV += δ_{t}·h_{t}ᵀ = ", inline(dV_t, w - 16,
                                                               m.cells("out.dV"))), w, "out.dV"),
            eq(f"dc += δ_{t}      = ", marked_vector(dc_t, w - 16, m, "out.dc")),
        ]

    # --------------------------------------------------------------- BPTT

    def bptt(self, v: StepView, w: int, height: int) -> list[Text]:
        t, k = v.term
        row = v.row
        term = v.term_sums
        assert row is not None and term is not None
        f, vocab = v.fwd, v.spec.alphabet
        factors = list(range(t - 1, k - 1, -1))  # j = t-1 .. k
        chain = "".join(f"·Wᵀ(1−h_{j + 1}²)" for j in factors[:3])
        chain += "·…" if len(factors) > 3 else ""
        col = max(len(f"× Wᵀ(1−h_{t}²)"), len(f"δ_{t}ᵀV"), len(f"× (1−h_{k}²)")) + 1
        vw = max(12, w - col - 16)

        def row_line(name: str, value: Array, note: str, field: str = "") -> Text:
            return eq(f"{name:<{col}}= ", marked_vector(value, vw, self.marks, field),
                      Text(f"  {note}", style=LABEL))

        out = [
            Text(f"term(t={t}, k={k}) = δ_{t}ᵀV{chain}·(1−h_{k}²)", style=LABEL),
            row_line(f"δ_{t}ᵀV", row.dh[t - 1], f"∂L_{t}/∂h_{t}"),
        ]
        room = max(2, height - 9)
        keep: list[int] = factors
        if len(factors) > room:
            keep = [*factors[: room // 2], -1, *factors[-(room - room // 2 - 1):]]
        for j in keep:
            if j == -1:
                out.append(Text(f"   ⋮ {len(factors) - room + 1} more factors", style=MUTED))
            else:
                out.append(row_line(f"× Wᵀ(1−h_{j + 1}²)", row.dh[j - 1], f"∂L_{t}/∂h_{j}"))
        out.append(row_line(f"× (1−h_{k}²)", row.da[k - 1], f"term, ∂L_{t}/∂a_{k}", "term"))
        x_row = int(f.inputs[k - 1] if v.mode == "x_k" else f.inputs[t - 1])
        which = f"x_{k}" if v.mode == "x_k" else f"x_{t}: handout's dE"
        heads = [f"dW += term·h_{k - 1}ᵀ", f"dU += term·x_{k}ᵀ", "db += term",
                 f"dE[{char(vocab[x_row])!r}] += Uᵀ·term"]
        pad = max(len(h) for h in heads) + 1
        vw = max(12, w - pad - 2)
        m = self.marks  # where theirs differs: the cells, and their first number

        def share(head: str, value: Array, field: str) -> Text:
            return m.append_beside(eq(f"{head:<{pad}}= ", inline(value, vw, m.cells(field))),
                                   w, field)

        dE_cells = {c: s for (r, c), s in m.cells("term.dE").items() if r == x_row}
        out += [
            share(heads[0], term.W, "term.dW"),
            share(heads[1], term.U, "term.dU"),
            share(heads[2], term.b, "term.db"),
            m.append_beside(eq(f"{heads[3]:<{pad}}= ", vector(term.E[x_row], vw - 24, dE_cells),
                               Text(f"  row of {which}", style=LABEL)), w, "term.dE"),
        ]
        return out

    # ------------------------------------------------------------- update

    def update(self, v: StepView, w: int, name: str, height: int = 8) -> list[Text]:
        p0 = v.epoch.params.get(name)
        g = v.epoch.grads.get(name)
        step = v.update_step(name)
        new = v.params.get(name)
        eta = f"{v.spec.learning_rate:g}"
        out = [Text(f"{name}_new = {name} − η·∂L/∂{name} = {name} + (−η·∂L/∂{name}),  η = {eta}")]
        m, new_field = self.marks, f"new.{name}"  # where theirs differs (widgets/marks.py)
        if p0.ndim == 1 or p0.shape[1] == 1:  # a vector or a column: one line each
            q = max(12, (w - 12) // 2)
            out += [
                eq("  ", inline(p0, q), f" − {eta}·", inline(g, q)),
                eq("  = ", inline(p0, q), " + ", inline(step, q)),
                m.append_beside(eq("  = ", inline(new, w - 4, {**_changed(p0, new),
                                                              **m.cells(new_field)})),
                                w, new_field),
            ]
            return out
        names = v.spec.alphabet if name in ("E", "V") else None
        q = max(12, (w - 24) // 3)
        rows = range(p0.shape[0])
        if len(rows) > height - 1:
            rows = range(height - 2)
        for r in rows:
            tag = f"row {r + 1}" if names is None else f"row {char(names[r])!r}"
            differ = {c: s for (row, c), s in m.cells(new_field).items() if row == r}
            out.append(eq(f"  {tag:<8}", vector(p0[r], q), " + ", vector(step[r], q), " = ",
                          vector(new[r], q, {**{c: CHANGED for c in range(new.shape[1])
                                                if new[r, c] != p0[r, c]}, **differ})))
        if len(rows) < p0.shape[0]:
            out.append(Text(f"  ⋮ {p0.shape[0] - len(rows)} more rows", style=MUTED))
        return out


def _onehot(y: Array, width: int) -> Text:
    return Text("[" + " ".join("1" if v else "0" for v in y) + "]") if len(y) * 2 < width else (
        Text(f"[one-hot at {int(np.argmax(y)) + 1}]")
    )


def _changed(before: Array, after: Array) -> dict[tuple[int, int], str]:
    a, b = np.atleast_2d(before), np.atleast_2d(after)
    diff = np.argwhere(~np.isclose(a, b, rtol=0, atol=0) & np.isfinite(b))
    if before.ndim == 1:
        return {(0, c): CHANGED for _, c in diff[:64].tolist()}
    return {(r, c): CHANGED for r, c in diff[:64].tolist()}
