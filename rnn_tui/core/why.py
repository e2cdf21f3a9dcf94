"""Why is a number what it is: each value of the current step, broken down
into the values it was computed from, one level at a time.

A :class:`Why` is a label with the value and a lazy list of children, so a
student can drill from a gradient entry to the BPTT terms that make it up,
and from a term to its factor chain, without the tree ever being built whole.
Pure NumPy and strings; the app shows it in a Tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rnn_tui.core import why_train
from rnn_tui.core.maths import Array
from rnn_tui.core.params import BPTT_PARAMS, OUTPUT_PARAMS, UPDATE_ORDER
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView

MAX_CHILDREN = 24  # larger sums list their largest terms first


@dataclass
class Why:
    label: str
    expand: Callable[[], list[Why]] | None = None
    children: list[Why] = field(default_factory=list)

    def open(self) -> list[Why]:
        if self.expand is not None:
            self.children, self.expand = self.expand(), None
        return self.children


def _idx(*i: int) -> str:
    return ",".join(str(j + 1) for j in i)


def largest(items: list[tuple[float, Why]]) -> list[Why]:
    items.sort(key=lambda it: -abs(it[0]) if np.isfinite(it[0]) else -np.inf)
    shown = [w for _, w in items[:MAX_CHILDREN]]
    if len(items) > MAX_CHILDREN:
        rest = sum(v for v, _ in items[MAX_CHILDREN:])
        shown.append(Why(f"… {len(items) - MAX_CHILDREN} smaller terms, together {fmt(rest)}"))
    return shown


class Explainer:
    """Builds the Why trees for one StepView (1-based t and k in labels)."""

    def __init__(self, v: StepView) -> None:
        self.v = v
        self.f = v.fwd
        self.p = v.epoch.params
        self.vocab = v.spec.alphabet

    # ------------------------------------------------------------ roots

    def roots(self) -> list[Why]:
        v = self.v
        t = v.focus_t
        if v.phase is Phase.FORWARD:
            roots = [self.loss(t), self.y_hat_vec(t), self.omega_vec(t), self.h_vec(t)]
            return [*roots, why_train.carried_h0_vec(self)] if v.pos.chunk else roots
        if v.phase is Phase.OUTPUT:
            return [self.delta_vec(t), self.grad_tree("V"), self.grad_tree("c")]
        if v.phase is Phase.BPTT:
            tt, k = v.term
            return [self.term(tt, k), *(self.grad_tree(n) for n in BPTT_PARAMS)]
        name = UPDATE_ORDER[v.pos.index]
        return [self.update_tree(name), self.grad_tree(name)]

    # ---------------------------------------------------------- forward

    def loss(self, t: int) -> Why:
        f, j = self.f, int(self.f.targets[t - 1])
        return Why(
            f"L_{t} = −ln ŷ_{t}[{char(self.vocab[j])!r}] = −ln {fmt(f.y_hat[t - 1, j])} "
            f"= {fmt(f.loss[t - 1])}",
            lambda: [self.y_hat(t, j)],
        )

    def per_char(self, label: str, entry: Callable[[int], Why]) -> Why:
        """A (K,) vector: one entry a character, k = 0..K-1, as the children."""
        K = len(self.vocab)
        return Why(label, lambda: [entry(k) for k in range(K)])

    def y_hat_vec(self, t: int) -> Why:
        return self.per_char(f"ŷ_{t} = softmax(Ω_{t})", lambda k: self.y_hat(t, k))

    def y_hat(self, t: int, k: int) -> Why:
        f = self.f
        with np.errstate(all="ignore"):
            om = f.omega[t - 1]
            z = np.exp(om - om.max())
        return Why(
            f"ŷ_{t}[{char(self.vocab[k])!r}] = exp(Ω_{t}[{k + 1}]) / Σ_j exp(Ω_{t}[j]) = "
            f"{fmt(z[k])} / {fmt(z.sum())} (shifted by max Ω) = {fmt(f.y_hat[t - 1, k])}",
            lambda: [self.omega(t, k)],
        )

    def omega_vec(self, t: int) -> Why:
        return self.per_char(f"Ω_{t} = V h_{t} + c", lambda k: self.omega(t, k))

    def omega(self, t: int, k: int) -> Why:
        V, c, h = self.p.V, self.p.c, self.f.h[t]

        def parts() -> list[Why]:
            kids = [Why(f"V[{self.at('V', (k, j))}]·h_{t}[{j + 1}] = {fmt(V[k, j])}·{fmt(h[j])} = "
                        f"{fmt(V[k, j] * h[j])}", (lambda j=j: [self.h(t, j)]))
                    for j in range(len(h))]
            return [*kids[:MAX_CHILDREN], Why(f"c[{self.at('c', (k,))}] = {fmt(c[k])}")]

        return Why(f"Ω_{t}[{k + 1}] = Σ_j V[{k + 1},j]·h_{t}[j] + c[{k + 1}] = "
                   f"{fmt(self.f.omega[t - 1, k])}", parts)

    def h_vec(self, t: int) -> Why:
        H = self.p.W.shape[0]
        return Why(f"h_{t} = tanh(U x_{t} + W h_{t - 1} + b)",
                   lambda: [self.h(t, i) for i in range(min(H, MAX_CHILDREN))])

    def h(self, t: int, i: int) -> Why:
        f, p = self.f, self.p
        if t == 0 and self.v.pos.chunk:
            return why_train.carried_h0(self, i)
        if t == 0:
            return Why(f"h_0[{i + 1}] = 0 (the state before the first step)")
        a = self.v.preactivation(t)

        def parts() -> list[Why]:
            x = f.x[t - 1]
            row = self.vocab[int(f.inputs[t - 1])]
            kids = [
                Why(f"(U x_{t})[{i + 1}] = Σ_d U[{i + 1},d]·x_{t}[d] = {fmt(f.Ux[t - 1, i])}",
                    lambda: [Why(f"x_{t} = row {char(row)!r} of E = "
                                 + " ".join(fmt(v) for v in x[:MAX_CHILDREN]))]),
                Why(f"(W h_{t - 1})[{i + 1}] = Σ_j W[{i + 1},j]·h_{t - 1}[j] = "
                    f"{fmt(f.Wh[t - 1, i])}",
                    lambda: [Why(f"W[{_idx(i, j)}]·h_{t - 1}[{j + 1}] = {fmt(p.W[i, j])}·"
                                 f"{fmt(f.h[t - 1, j])}", (lambda j=j: [self.h(t - 1, j)]))
                             for j in range(min(p.W.shape[0], MAX_CHILDREN))]),
                Why(f"b[{i + 1}] = {fmt(p.b[i])}"),
            ]
            return kids

        return Why(f"h_{t}[{i + 1}] = tanh(a_{t}[{i + 1}]) = tanh({fmt(a[i])}) = "
                   f"{fmt(f.h[t, i])}", parts)

    # ---------------------------------------------------------- output

    def delta_vec(self, t: int) -> Why:
        return self.per_char(f"δ_{t} = ŷ_{t} − y_{t}", lambda k: self.delta(t, k))

    def delta(self, t: int, k: int) -> Why:
        y = 1.0 if int(self.f.targets[t - 1]) == k else 0.0
        return Why(f"δ_{t}[{k + 1}] = ŷ_{t}[{k + 1}] − y_{t}[{k + 1}] = "
                   f"{fmt(self.f.y_hat[t - 1, k])} − {y:g} = {fmt(self.v.delta[t - 1, k])}",
                   lambda: [self.y_hat(t, k)])

    # -------------------------------------------------------- gradients

    def grad_tree(self, name: str) -> Why:
        g = self.v.grad(name)
        if g is None:
            return Why(f"d{name}: not computed yet at this step")
        cells = list(np.ndindex(g.shape))
        order = sorted(cells, key=lambda c: -abs(float(g[c])) if np.isfinite(g[c]) else -np.inf)
        label = f"d{name} so far ({'x'.join(map(str, g.shape))})"
        return Why(label, lambda: [self.grad(name, c) for c in order[:MAX_CHILDREN]])

    def at(self, name: str, cell: tuple[int, ...]) -> str:
        """An entry's index, 1-based, its row named by character where a row
        is a character (E, V, c): ``'o',1`` for V[3, 0] of hello."""
        if name in ("E", "V", "c") and cell:
            return ",".join([repr(char(self.vocab[cell[0]])), *(str(j + 1) for j in cell[1:])])
        return _idx(*cell)

    def grad(self, name: str, cell: tuple[int, ...]) -> Why:
        g = self.v.grad(name)
        assert g is not None
        value = fmt(float(g[cell]))
        at = self.at(name, cell)
        if name in OUTPUT_PARAMS:
            return Why(f"d{name}[{at}] = Σ_t δ_t[{cell[0] + 1}]"
                       + (f"·h_t[{cell[1] + 1}]" if name == "V" else "") + f" = {value}",
                       lambda: self._output_terms(name, cell))
        what = {"W": "·h_{k−1}", "U": "·x_k", "b": "", "E": " (Uᵀ term)"}[name]
        return Why(f"d{name}[{at}] = Σ_(t,k) term(t,k){what} = {value}",
                   lambda: self._bptt_terms(name, cell))

    def _output_terms(self, name: str, cell: tuple[int, ...]) -> list[Why]:
        n = self.v.visible_deltas
        items = []
        for t in range(1, n + 1):
            d = float(self.v.delta[t - 1, cell[0]])
            if name == "V":
                hj = float(self.f.h[t, cell[1]])
                items.append((d * hj, Why(f"t={t}: δ_{t}[{cell[0] + 1}]·h_{t}[{cell[1] + 1}] = "
                                          f"{fmt(d)}·{fmt(hj)} = {fmt(d * hj)}",
                                          lambda t=t: [self.delta(t, cell[0])])))
            else:
                items.append((d, Why(f"t={t}: δ_{t}[{cell[0] + 1}] = {fmt(d)}",
                                     lambda t=t: [self.delta(t, cell[0])])))
        return largest(items)

    def _terms_so_far(self) -> list[tuple[int, int]]:
        v = self.v
        T = v.layout.T
        if v.phase is Phase.BPTT:
            last = v.pos.index
        else:
            last = T * (T + 1) // 2 - 1
        out = []
        for t in range(1, T + 1):
            for k in range(t, 0, -1):
                if len(out) > last:
                    return out
                out.append((t, k))
        return out

    def _bptt_terms(self, name: str, cell: tuple[int, ...]) -> list[Why]:
        items = []
        f, mode = self.f, self.v.mode
        for t, k in self._terms_so_far():
            da = self.v.epoch.row(t).da[k - 1]
            if name == "W":
                value = float(da[cell[0]] * f.h[k - 1, cell[1]])
                how = f"term[{cell[0] + 1}]·h_{k - 1}[{cell[1] + 1}]"
            elif name == "U":
                value = float(da[cell[0]] * f.x[k - 1, cell[1]])
                how = f"term[{cell[0] + 1}]·x_{k}[{cell[1] + 1}]"
            elif name == "b":
                value, how = float(da[cell[0]]), f"term[{cell[0] + 1}]"
            else:
                row = int(f.inputs[k - 1] if mode == "x_k" else f.inputs[t - 1])
                if row != cell[0]:
                    continue
                value = float(da @ self.p.U[:, cell[1]])
                how = f"(Uᵀ term)[{cell[1] + 1}]"
            items.append((value, Why(f"(t={t}, k={k}): {how} = {fmt(value)}",
                                     lambda t=t, k=k: [self.term(t, k)])))
        if not items:
            return [Why("no term has reached this entry yet")]
        return largest(items)

    def term(self, t: int, k: int) -> Why:
        row = self.v.epoch.row(t)
        dt = self.v.dtanh

        def chain() -> list[Why]:
            kids = [Why(f"δ_{t}ᵀV = ∂L_{t}/∂h_{t} = {vec(row.dh[t - 1])}",
                        lambda: [self.delta_vec(t)])]
            for j in range(t - 1, k - 1, -1):
                kids.append(Why(f"× Wᵀ(1−h_{j + 1}²), 1−h_{j + 1}² = {vec(dt[j + 1])} → "
                                f"∂L_{t}/∂h_{j} = {vec(row.dh[j - 1])}"))
                if len(kids) >= MAX_CHILDREN:
                    kids.append(Why("⋮ (more factors)"))
                    break
            kids.append(Why(f"× (1−h_{k}²) = {vec(dt[k])} → term = {vec(row.da[k - 1])}"))
            return kids

        size = float(row.norms()[k - 1])
        return Why(f"term(t={t}, k={k}) = δ_{t}ᵀV ∏ Wᵀ(1−h²) (1−h_{k}²), |term| = {fmt(size)}",
                   chain)

    # ----------------------------------------------------------- update

    def update_tree(self, name: str) -> Why:
        if not why_train.is_handout(self.v.epoch):  # a [train] table's optimizer or clipping
            return why_train.optimizer_tree(self, name)
        before = self.v.epoch.params.get(name)
        g = self.v.epoch.grads.get(name)
        after = self.v.params.get(name)
        eta = self.v.spec.learning_rate
        cells = list(np.ndindex(before.shape))[:MAX_CHILDREN]

        def entries() -> list[Why]:
            return [Why(f"{name}_new[{self.at(name, c)}] = {fmt(before[c])} − "
                        f"{eta:g}·{fmt(g[c])} = {fmt(after[c])}",
                        (lambda c=c: [self.grad(name, c)])) for c in cells]

        return Why(f"{name}_new = {name} − η·d{name}", entries)


def vec(a: Array) -> str:
    shown = " ".join(fmt(float(x)) for x in np.ravel(a)[:8])
    return f"[{shown}{' …' if a.size > 8 else ''}]"
