"""The step panel of the GRU/LSTM debugger: the current step written out.

Forward t: every gate with its formula substituted, C_t and tanh(C_t) for
the LSTM, h_t, Ω_t, ŷ_t, L_t. Output t: δ_t and the sums of dV, dc. BPTT
term (t, k): the factor chain from ∂L_t/∂s_t down to ∂L_t/∂s_k, each step
Jacobian (its rows when they fit, else its Frobenius norm) and the vector
after it, then the term's contribution to every parameter. Update: the
parameter before and after, its gradient, the optimizer's state.

Lines are built lazily (a thunk each) and only the visible ones are made, so
a term at t = 200 of an H = 128 LSTM costs the Jacobians on screen, not 199
of them. What does not fit is scrolled with the formula keys and announced
as ``⋮ N more``; every vector is whole or elided with ``…``, never cut.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.text import Text

from rnn_tui.core.cells.view import CellView
from rnn_tui.core.maths import Array
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.tui.widgets import numbers as N
from rnn_tui.tui.widgets.panel import Panel

Line = Callable[[], Text]
INDENT = "    "


def fits_whole(a: Array, width: int) -> bool:
    """Would ``[a b c]`` fit in ``width`` cells unelided (measured only when small)?"""
    n = a.size
    if n * 7 + 1 > width * 2 or n == 0:
        return n == 0
    return N.vector(np.ravel(a)).cell_len <= width  # as drawn: sign padding, aligned cells


def keeping(a: Array, width: int, keep: tuple[int, ...]) -> int:
    """The focus of an elided ``[…]`` in ``width`` that shows every index of
    ``keep`` if it can, else ``keep[0]`` (the target before the prediction)."""
    mid = (min(keep) + max(keep)) // 2
    lo, hi = N.span(len(a), width, N.cell_width(a, width, mid), mid)
    return mid if all(lo <= k < hi for k in keep) else keep[0]


def vec_line(head: str, a: Array, width: int, tail: str = "", style: str = "",
             keep: tuple[int, ...] = ()) -> Line:
    def make() -> Text:
        out = Text(head, style=style)
        room = max(10, width - len(head) - len(tail))
        out.append_text(N.vector(a, room, focus=keeping(a, room, keep) if keep else None))
        return out.append(tail)
    return make


def text_line(s: str, style: str = "") -> Line:
    return lambda: Text(s, style=style)


def mat_inline(m: Array, width: int) -> Text:
    """A matrix on one line, ``[r1; r2; …]``, rows whole (the first elided if it
    alone is too wide); never wider than ``width``."""
    if m.ndim == 1:
        return N.vector(m, width)
    out = Text("[")
    for r in range(m.shape[0]):
        last = r == m.shape[0] - 1
        room = width - out.cell_len - (1 if last else 4) - (2 if r else 0)
        if r and 7 * m.shape[1] - 1 > room:  # 6 cells a number at least: cannot fit whole
            return out.append("; …", style=N.MUTED).append("]")
        row = N.vector(m[r], room if r == 0 else 10**6, brackets="")
        if r and row.cell_len > room:
            return out.append("; …", style=N.MUTED).append("]")
        out.append("; " if r else "").append_text(row)
    return out.append("]")


class Mat:
    """A matrix: on one line ``head [r1; r2; …]`` (called as a Line), or, when
    the panel has the lines, a row a line under each other, the first after
    ``head``; a row per character labelled as the RNN's panels (``'h' [ 0.1 …]``)."""

    def __init__(self, head: str, m: Array, width: int, labels: list[str] | None) -> None:
        self.head, self.m, self.width = head, m, width
        w = max(map(len, labels)) if labels else 0
        self.labels = [f"{lab:>{w}} " for lab in labels] if labels else [""] * m.shape[0]

    def __call__(self) -> Text:
        return Text(self.head).append_text(mat_inline(self.m, max(10, self.width - len(self.head))))

    def rows(self) -> list[Line]:
        pad = " " * len(self.head)

        def row(r: int) -> Text:
            lead = (self.head if r == 0 else pad) + self.labels[r]
            return Text(lead).append_text(N.vector(self.m[r], max(10, self.width - len(lead))))
        return [lambda r=r: row(r) for r in range(self.m.shape[0])]


def mat_line(head: str, m: Array, width: int, labels: list[str] | None = None) -> Line:
    return Mat(head, m, width, labels) if m.ndim == 2 and m.shape[0] > 1 else (
        lambda: Text(head).append_text(mat_inline(m, max(10, width - len(head)))))


def stacked(thunks: list[Line], height: int) -> list[Line]:
    """Matrices a row a line, first to last, while the whole still fits ``height``."""
    n = len(thunks)
    out: list[Line] = []
    for f in thunks:
        if isinstance(f, Mat) and n + f.m.shape[0] - 1 <= height:
            n += f.m.shape[0] - 1
            out += f.rows()
        else:
            out.append(f)
    return out


class CellStepPanel(Panel):
    """The current step, written out (the cells' formula panel)."""

    TITLE = "step"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scrolled = 0  # lines scrolled past (the formula keys)
        self._at: object = None
        self.total = 0

    def scroll(self, delta: int) -> None:
        _, height = self._room()
        self.scrolled = max(0, min(self.scrolled + delta * max(1, height - 3),
                                   max(0, self.total - height + 1)))
        self.forget()

    def lines(self, view: CellView, width: int, height: int) -> list[Text]:  # type: ignore[override]
        if self._at != view.pos:
            self._at, self.scrolled = view.pos, 0
        thunks = stacked(step_lines(view, width), height)
        self.total = len(thunks)
        self.border_title = f"{view.cell.upper()} · {view.label}"
        n = len(thunks)
        if n <= height:
            self.scrolled = 0
            return [f() for f in thunks]
        lo = self.scrolled = max(0, min(self.scrolled, n - height + 1))
        if lo == 0:
            return [*(f() for f in thunks[: height - 1]),
                    Text(f"⋮ {n - height + 1} more (shift+↓ scrolls)", style=N.MUTED)]
        out = [Text(f"⋮ {lo} more above (shift+↑)", style=N.MUTED)]
        if lo + height - 1 >= n:
            return out + [f() for f in thunks[lo:]]
        out += [f() for f in thunks[lo: lo + height - 2]]
        out.append(Text(f"⋮ {n - (lo + height - 2)} more (shift+↓ scrolls)", style=N.MUTED))
        return out


def step_lines(view: CellView, width: int) -> list[Line]:
    if view.phase is Phase.FORWARD:
        return forward_lines(view, view.pos.index + 1, width)
    if view.phase is Phase.OUTPUT:
        return output_lines(view, view.pos.index + 1, width)
    if view.phase is Phase.BPTT:
        return bptt_lines(view, *view.term, width)
    return update_lines(view, width)


# ----------------------------------------------------------------- forward


def _vocab(view: CellView, i: int) -> str:
    spec = view.spec
    vocab = getattr(spec, "alphabet", None) if spec is not None else None  # given or by appearance
    if vocab and 0 <= i < len(vocab):
        return repr(char(vocab[i]))
    return f"#{i + 1}"


def chars(view: CellView) -> list[str]:
    """The labels of a row per character (V, E and theirs), as the RNN's panels."""
    return [_vocab(view, i) for i in range(view.epoch.params.K)]


def char_rows(view: CellView, name: str) -> list[str] | None:
    """A stacked matrix's row labels: the characters for V's and E's, none for a hidden unit's."""
    return chars(view) if name in ("V", "E") else None


def row_labels(view: CellView, name: str) -> list[str]:
    """``'h'`` for V's and E's rows, ``1``.. for a hidden unit's."""
    n = view.epoch.params[name].shape[0]
    return chars(view) if name in ("V", "E") else [str(r + 1) for r in range(n)]


def forward_lines(view: CellView, t: int, width: int) -> list[Line]:
    f, j = view.fwd, t - 1
    x_in, y = int(f.inputs[j]), int(f.targets[j])
    out: list[Line] = [vec_line(f"x_{t} = E[x°_{t} = {_vocab(view, x_in)}] = ", f.x[j], width)]
    for g in view.gates(t):
        s = g.symbol
        W_arg = f"(r_{t} ⊙ h_{t - 1})" if "r_t" in g.W_arg else f"h_{t - 1}"
        out.append(text_line(f"{s}_{t} = {g.act}(U_{g.gate} x_{t} + W_{g.gate} {W_arg}"
                             f" + b_{g.gate})", style=N.LABEL))
        budget = (width - len(INDENT) - len(g.act) - 10) // 3
        if all(fits_whole(a, budget) for a in (g.Ux, g.Wa, g.b)):
            def both(g=g) -> Text:
                out = Text(f"{INDENT}= {g.act}(")
                for n, a in enumerate((g.Ux, g.Wa, g.b)):
                    out.append(" + " if n else "").append_text(N.vector(a))
                return out.append(")")
            out.append(both)
        else:
            out.append(vec_line(f"{INDENT}U_{g.gate} x_{t} = ", g.Ux, width))
            out.append(vec_line(f"{INDENT}W_{g.gate} {W_arg} = ", g.Wa, width))
            out.append(vec_line(f"{INDENT}b_{g.gate} = ", g.b, width))
        out.append(vec_line(f"{INDENT}= {g.act}(", g.pre, width, ")"))  # the sum, always
        out.append(vec_line(f"{INDENT}= ", g.value, width, style=""))
    if view.cell == "lstm":
        out.append(text_line(f"C_{t} = f_{t} ⊙ C_{t - 1} + i_{t} ⊙ g_{t}", style=N.LABEL))
        out.append(vec_line(f"{INDENT}C_{t - 1} = ", f.C[j], width))
        with np.errstate(all="ignore"):
            out.append(_sum_line(f"{INDENT}= ", f.f[j] * f.C[j], f.i[j] * f.g[j], width))
        out.append(vec_line(f"{INDENT}= ", f.C[t], width))
        out.append(vec_line(f"tanh(C_{t}) = ", f.tanh_C[j], width))
        out.append(text_line(f"h_{t} = o_{t} ⊙ tanh(C_{t})", style=N.LABEL))
        out.append(_sum_line(f"{INDENT}= ", f.o[j], f.tanh_C[j], width, " ⊙ "))
    else:
        out.append(text_line(f"h_{t} = z_{t} ⊙ h_{t - 1} + (1 − z_{t}) ⊙ h̃_{t}", style=N.LABEL))
        out.append(vec_line(f"{INDENT}h_{t - 1} = ", f.h[j], width))
        with np.errstate(all="ignore"):
            out.append(_sum_line(f"{INDENT}= ", f.z[j] * f.h[j], (1 - f.z[j]) * f.h_tilde[j],
                                 width))
    out.append(vec_line(f"{INDENT}= ", f.h[t], width))
    pred = int(np.argmax(f.y_hat[j])) if np.isfinite(f.y_hat[j]).all() else -1
    keep = (y, pred) if pred >= 0 else (y,)  # elided around the target and the prediction
    out.append(vec_line(f"Ω_{t} = V h_{t} + c = ", f.omega[j], width, keep=keep))
    out.append(vec_line(f"ŷ_{t} = softmax(Ω_{t}) = ", f.y_hat[j], width, keep=keep))
    out.append(text_line(
        f"L_{t} = −ln ŷ_{t}[{_vocab(view, y)}] = −ln {fmt(float(f.y_hat[j, y]))}"
        f" = {fmt(float(f.loss[j]))}   (Σ L = {fmt(view.running_loss)})"))
    p_pred = f" (ŷ = {fmt(float(f.y_hat[j, pred]))})" if pred >= 0 else ""
    out.append(text_line(f"prediction {_vocab(view, pred) if pred >= 0 else '—'}{p_pred}, "
                         f"target {_vocab(view, y)} (ŷ = {fmt(float(f.y_hat[j, y]))})",
                         style=N.RIGHT if pred == y else N.WRONG))
    return out


def _sum_line(head: str, a: Array, b: Array, width: int, op: str = " + ") -> Line:
    """``head [a] op [b]``, each half of the room (elided with … if need be)."""
    half = (width - len(head) - len(op)) // 2

    def make() -> Text:
        return Text(head).append_text(N.vector(a, half)).append(op).append_text(
            N.vector(b, half))
    return make


# ------------------------------------------------------------------ output


def output_lines(view: CellView, t: int, width: int) -> list[Line]:
    d, f = view.delta[t - 1], view.fwd
    y = int(f.targets[t - 1])
    pred = int(np.argmax(f.y_hat[t - 1])) if np.isfinite(f.y_hat[t - 1]).all() else y
    dV, dc = view.output_sums or (None, None)
    out = [vec_line(f"δ_{t} = ŷ_{t} − y_{t} = ", d, width, keep=(y, pred)),
           mat_line(f"δ_{t} h_{t}ᵀ = ", np.outer(d, view.fwd.h[t]), width, chars(view)),
           text_line(f"dV = Σ_(s≤{t}) δ_s h_sᵀ, dc = Σ_(s≤{t}) δ_s", style=N.LABEL)]
    if dV is not None and dc is not None:
        out += [mat_line("dV = ", dV, width, chars(view)), vec_line("dc = ", dc, width)]
    return out


# -------------------------------------------------------------------- BPTT


def _state_lines(view: CellView, t: int, j: int, v: Array, width: int, head: str) -> list[Line]:
    if view.cell == "gru":
        return [vec_line(f"{head}∂L_{t}/∂h_{j} = ", v, width)]
    H = v.shape[0] // 2
    return [vec_line(f"{head}∂L_{t}/∂h_{j} = ", v[:H], width),
            vec_line(f"{head}∂L_{t}/∂C_{j} = ", v[H:], width)]


def _jacobian_lines(view: CellView, j: int, width: int) -> list[Line]:
    """(∂s_{j+1}/∂s_j)ᵀ: its rows when they fit whole, else its norm."""
    from rnn_tui.core.cells.bptt import jacobian

    S = view.epoch.params.H * (1 if view.cell == "gru" else 2)
    s = "h" if view.cell == "gru" else "s"
    head = f"  × (∂{s}_{j + 1}/∂{s}_{j})ᵀ"
    cache: dict[str, Array] = {}

    def J() -> Array:
        if "J" not in cache:
            with np.errstate(all="ignore"):
                cache["J"] = jacobian(view.epoch.params, view.fwd, j).T
        return cache["J"]

    if S <= 8 and 7 * S + 2 + len(INDENT) + 10 <= width:
        name = f"J_{j + 1}ᵀ"  # each row names its factor: two factors' rows never look alike
        rows: list[Line] = [text_line(head + f" = {name}  ({S}x{S}):", style=N.LABEL)]
        for r in range(S):
            label = f"{INDENT}{name}[{r + 1}] "
            rows.append(lambda r=r, label=label: Text(label).append_text(
                N.vector(J()[r], width - len(label))))
        return rows

    def norm() -> Text:
        n = view.epoch.jacobian_norm(j)
        return Text(head + f"   ‖·‖_F = {fmt(n)} ({S}x{S})", style=N.LABEL)
    return [norm]


def bptt_lines(view: CellView, t: int, k: int, width: int) -> list[Line]:
    s = "s = h" if view.cell == "gru" else "s = [h; C]"
    out: list[Line] = [text_line(
        f"term ({t}, {k}) = (∂L_{t}/∂s_{k}) (∂s_{k}/∂θ at step {k}),  {s}", style=N.LABEL)]
    start = f"Vᵀ δ_{t}" if view.cell == "gru" else f"(Vᵀ δ_{t}, 0)"
    out.append(text_line(f"∂L_{t}/∂s_{t} = {start}", style=N.LABEL))
    out += _state_lines(view, t, t, view.ds(t, t), width, INDENT)
    for j in range(t - 1, k - 1, -1):
        out += _jacobian_lines(view, j, width)
        out += _state_lines(view, t, j, view.ds(t, j), width, "")
    out.append(text_line(f"its contribution through step {k}:", style=N.LABEL))
    row = view.epoch.row(t)
    term = view.term_sums or {}
    sums = view.bptt_sums or {}
    p = view.epoch.params
    for g in p.gates:
        da = row.da[g][k - 1]
        W_in = "(r ⊙ h)" if (view.cell, g) == ("gru", "h") else "h"
        out.append(vec_line(f"  ∂L_{t}/∂a_{g} at step {k} = ", da, width))
        out.append(mat_line(f"  dW_{g} += da_{g} {W_in}_{k - 1}ᵀ = ", term[f"W_{g}"], width))
        out.append(mat_line(f"  dU_{g} += da_{g} x_{k}ᵀ = ", term[f"U_{g}"], width))
        out.append(vec_line(f"  db_{g} += ", term[f"b_{g}"], width))
    rows_E = np.flatnonzero(np.any(term.get("E", np.zeros((0, 1))) != 0, axis=1))
    for r in rows_E:
        out.append(vec_line(f"  dE[{_vocab(view, int(r))}] += Σ_g U_gᵀ da_g = ",
                            term["E"][r], width))
    out.append(text_line("sums so far:", style=N.LABEL))
    for n, a in sums.items():
        out.append(mat_line(f"  d{n} = ", a, width, char_rows(view, n)))
    return out


# ------------------------------------------------------------------ update


def update_lines(view: CellView, width: int) -> list[Line]:
    name = view.update_name
    before, after = view.epoch.params[name], view.epoch.params_after[name]
    g = view.grad(name)
    opts = view.stepper.options
    eta = fmt(view.stepper.learning_rate)
    rule = {"sgd": f"{name} ← {name} − η d{name}",
            "momentum": f"v ← μ v + d{name};  {name} ← {name} − η v",
            "adagrad": f"m ← m + d{name}²;  {name} ← {name} − η d{name} / √(m + 1e-8)",
            "adam": f"{name} ← {name} − η m̂ / (√v̂ + ε)",
            }[opts.optimizer]
    out: list[Line] = [text_line(f"{rule}   (η = {eta})", style=N.LABEL)]
    clip = view.epoch.clipped
    if opts.clip_value is not None:
        out.append(text_line(f"clip_value: every entry of d{name} in ±{fmt(opts.clip_value)}"))
    elif opts.clip_norm is not None and clip.norm is not None:
        out.append(text_line(f"clip_norm: ‖g‖ = {fmt(clip.norm)}, scale {fmt(clip.scale)}"))
    if before.ndim == 1:
        out += [vec_line(f"d{name} = ", g, width), vec_line(f"{name} before = ", before, width),
                vec_line(f"{name} after  = ", after, width)]
    elif before.shape[0] > 256:  # rows on lines of their own (scrolled), up to 256
        out += [mat_line(f"d{name} = ", g, width), mat_line(f"{name} before = ", before, width),
                mat_line(f"{name} after  = ", after, width)]
    else:
        labels = row_labels(view, name)
        w = max(map(len, labels))
        dn = [f"d{name}[{lab}]".ljust(w + len(name) + 3) for lab in labels]  # aligned columns
        pn = [f"{name}[{lab}]".ljust(w + len(name) + 2) for lab in labels]
        half = (width - len(pn[0]) - 4) // 2
        together = all(fits_whole(before[r], half) and fits_whole(after[r], half)
                       for r in range(before.shape[0]))
        for r in range(g.shape[0]):
            out.append(vec_line(f"{dn[r]} = ", g[r], width))
        for r in range(before.shape[0]):
            if together:
                out.append(lambda r=r: Text(f"{pn[r]} ").append_text(
                    N.vector(before[r])).append(" → ").append_text(N.vector(after[r])))
            else:
                out.append(vec_line(f"{pn[r]} before ", before[r], width))
                out.append(vec_line(f"{pn[r]} after  ", after[r], width))
    return out + optimizer_lines(view, name, g, width)


def optimizer_lines(view: CellView, name: str, g: Array, width: int) -> list[Line]:
    """The optimizer's state before and after, substituted as the RNN's formula
    panel does (widgets/formula_optim.py); Adam's m̂, v̂ with the bias corrections."""
    o, s0, s1 = view.stepper.options, view.epoch.state_before, view.epoch.state_after
    labels = char_rows(view, name)

    def arr(head: str, a: Array) -> Line:
        return mat_line(head, a, width, labels) if a.ndim == 2 else vec_line(head, a, width)

    d = f"d{name}"
    rules = {"momentum": [("v", f"v ← μ v + {d},  μ = {o.momentum:g}")],
             "adagrad": [("m", f"m ← m + {d}⊙{d}")],
             "adam": [("m", f"m ← β1 m + (1 − β1) {d},  β1 = {o.beta1:g}"),
                      ("v", f"v ← β2 v + (1 − β2) {d}⊙{d},  β2 = {o.beta2:g}")]}
    out: list[Line] = []
    with np.errstate(all="ignore"):
        for field, words in rules.get(o.optimizer, []):
            out += [text_line(words, style=N.LABEL),
                    arr(f"  {field} before = ", getattr(s0, field).get(name)),
                    arr(f"  {field} after  = ", getattr(s1, field).get(name))]
        if o.optimizer == "adam":
            n, m1, v1 = s1.n, s1.m.get(name), s1.v.get(name)  # type: ignore[attr-defined]
            c1, c2 = 1.0 - o.beta1**n, 1.0 - o.beta2**n
            out += [text_line(f"m̂ = m / (1 − β1ⁿ) = m / {fmt(c1)},  n = {n}", style=N.LABEL),
                    arr("  m̂ = ", m1 / c1),
                    text_line(f"v̂ = v / (1 − β2ⁿ) = v / {fmt(c2)},  ε = {o.eps:g}",
                              style=N.LABEL),
                    arr("  v̂ = ", v1 / c2),
                    arr("  η m̂ / (√v̂ + ε) = ",
                        view.stepper.learning_rate * (m1 / c1) / (np.sqrt(v1 / c2) + o.eps))]
    return out
