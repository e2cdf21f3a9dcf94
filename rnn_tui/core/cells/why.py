"""The why view and the quiz for a GRU's or an LSTM's step (core/why.py and
core/quiz.py for the cells): each value broken down into what made it,
one level at a time (gates into U_g x_t, W_g h_{t−1} and b_g; C_t into
f ⊙ C_{t−1} + i ⊙ g; a BPTT term into its factor chain), and the question
a step answers, asked before it runs. Pure NumPy and strings."""

from __future__ import annotations

import numpy as np

from rnn_tui.core.cells.view import CellView
from rnn_tui.core.quiz import Question
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import char, fmt
from rnn_tui.core.why import Why, largest, vec

MAX_ENTRIES = 24  # entries of a vector listed (the rest summarised)


class CellExplainer:
    """Builds the Why trees for one CellView (1-based t, k and entries in labels)."""

    def __init__(self, v: CellView) -> None:
        self.v = v
        self.f = v.fwd
        self.p = v.epoch.params
        spec = v.spec
        self.vocab = getattr(spec, "alphabet", None) if spec is not None else None

    def _char(self, i: int) -> str:
        return repr(char(self.vocab[i])) if self.vocab else f"#{i + 1}"

    def roots(self) -> list[Why]:
        v = self.v
        t = v.focus_t
        if v.phase is Phase.FORWARD:
            states = [self.h_vec(t)] + ([self.C_vec(t)] if v.cell == "lstm" else [])
            return [self.loss(t), *states, *(self.gate_vec(t, g) for g in self.p.gates)]
        if v.phase is Phase.OUTPUT:
            return [self.delta_vec(t)]
        if v.phase is Phase.BPTT:
            tt, k = v.term
            return [self.chain(tt, k), *(self.da_vec(tt, k, g) for g in self.p.gates)]
        return [self.update_tree(v.update_name)]

    # ---------------------------------------------------------- forward

    def _entries(self, label: str, a: np.ndarray, entry) -> Why:  # type: ignore[no-untyped-def]
        def expand() -> list[Why]:
            out = [entry(i) for i in range(min(a.size, MAX_ENTRIES))]
            if a.size > MAX_ENTRIES:
                out.append(Why(f"… {a.size - MAX_ENTRIES} more entries"))
            return out
        return Why(f"{label} = {vec(a)}", expand)

    def gate_vec(self, t: int, g: str) -> Why:
        part = next(x for x in self.v.gates(t) if x.gate == g)
        return self._entries(f"{part.symbol}_{t} = {part.act}(U_{g} x_{t} + W_{g} "
                             f"{'(r ⊙ h)' if '⊙' in part.W_arg else 'h'}_{t - 1} + b_{g})",
                             part.value, lambda i: self.gate(t, g, i))

    def gate(self, t: int, g: str, i: int) -> Why:
        part = next(x for x in self.v.gates(t) if x.gate == g)
        x = self.f.x[t - 1]
        W_in = self.f.W_input(g)[t - 1]
        U = self.p[f"U_{g}"]
        arg = f"r_{t} ⊙ h_{t - 1}" if "⊙" in part.W_arg else f"h_{t - 1}"

        def expand() -> list[Why]:
            return [
                Why(f"(U_{g} x_{t})[{i + 1}] = Σ_d U_{g}[{i + 1},d] x_{t}[d] = "
                    + " + ".join(f"{fmt(U[i, d])}·{fmt(x[d])}" for d in range(min(x.size, 6)))
                    + (" + …" if x.size > 6 else "") + f" = {fmt(part.Ux[i])}"),
                Why(f"(W_{g} {arg})[{i + 1}] = Σ_j W_{g}[{i + 1},j] ({arg})[j], "
                    f"{arg} = {vec(W_in)}: {fmt(part.Wa[i])}"),
                Why(f"b_{g}[{i + 1}] = {fmt(part.b[i])}"),
            ]
        return Why(f"{part.symbol}_{t}[{i + 1}] = {part.act}({fmt(part.Ux[i])} + "
                   f"{fmt(part.Wa[i])} + {fmt(part.b[i])}) = {part.act}({fmt(part.pre[i])}) = "
                   f"{fmt(part.value[i])}", expand)

    def C_vec(self, t: int) -> Why:
        return self._entries(f"C_{t} = f_{t} ⊙ C_{t - 1} + i_{t} ⊙ g_{t}", self.f.C[t],
                             lambda i: self.C(t, i))

    def C(self, t: int, i: int) -> Why:
        f, j = self.f, t - 1

        def expand() -> list[Why]:
            prev = self.C(t - 1, i) if t > 1 else Why(f"C_0[{i + 1}] = {fmt(f.C[0, i])}")
            return [self.gate(t, "f", i), prev, self.gate(t, "i", i), self.gate(t, "g", i)]
        return Why(f"C_{t}[{i + 1}] = f·C_{t - 1} + i·g = {fmt(f.f[j, i])}·{fmt(f.C[j, i])} + "
                   f"{fmt(f.i[j, i])}·{fmt(f.g[j, i])} = {fmt(f.C[t, i])}", expand)

    def h_vec(self, t: int) -> Why:
        formula = (f"h_{t} = o_{t} ⊙ tanh(C_{t})" if self.v.cell == "lstm"
                   else f"h_{t} = z_{t} ⊙ h_{t - 1} + (1 − z_{t}) ⊙ h̃_{t}")
        return self._entries(formula, self.f.h[t], lambda i: self.h(t, i))

    def h(self, t: int, i: int) -> Why:
        f, j = self.f, t - 1
        if t == 0:
            return Why(f"h_0[{i + 1}] = {fmt(f.h[0, i])}")
        if self.v.cell == "lstm":
            return Why(f"h_{t}[{i + 1}] = o·tanh(C_{t}) = {fmt(f.o[j, i])}·tanh({fmt(f.C[t, i])})"
                       f" = {fmt(f.h[t, i])}", lambda: [self.gate(t, "o", i), self.C(t, i)])
        return Why(f"h_{t}[{i + 1}] = z·h_{t - 1} + (1 − z)·h̃ = {fmt(f.z[j, i])}·"
                   f"{fmt(f.h[j, i])} + (1 − {fmt(f.z[j, i])})·{fmt(f.h_tilde[j, i])} = "
                   f"{fmt(f.h[t, i])}",
                   lambda: [self.gate(t, "z", i), self.h(t - 1, i), self.gate(t, "h", i)])

    def loss(self, t: int) -> Why:
        f, y = self.f, int(self.f.targets[t - 1])
        V, c, h = self.p["V"], self.p["c"], f.h[t]

        def omega() -> list[Why]:
            return [Why(f"Ω_{t}[{y + 1}] = V[{y + 1},:]·h_{t} + c[{y + 1}] = "
                        f"{fmt(float(V[y] @ h))} + {fmt(c[y])} = {fmt(f.omega[t - 1, y])}",
                        lambda: [self.h_vec(t)]),
                    Why(f"ln Σ_j e^Ω_{t}[j] = {fmt(float(np.log(np.exp(f.omega[t - 1]).sum())))}")]
        return Why(f"L_{t} = −ln ŷ_{t}[{self._char(y)}] = −ln {fmt(f.y_hat[t - 1, y])} = "
                   f"{fmt(f.loss[t - 1])}", omega)

    # ----------------------------------------------------- output, BPTT

    def delta_vec(self, t: int) -> Why:
        y = int(self.f.targets[t - 1])
        return self._entries(f"δ_{t} = ŷ_{t} − y_{t}", self.v.delta[t - 1], lambda j: Why(
            f"δ_{t}[{j + 1}] = {fmt(self.f.y_hat[t - 1, j])} − {int(j == y)} = "
            f"{fmt(self.v.delta[t - 1, j])}"))

    def chain(self, t: int, k: int) -> Why:
        """∂L_t/∂s_k as its factors, the Jacobians ∂s_{j+1}/∂s_j, j = t−1..k."""
        ds = self.v.ds(t, k)

        def expand() -> list[Why]:
            out = [Why(f"∂L_{t}/∂s_{t} = {'Vᵀ δ' if self.v.cell == 'gru' else '(Vᵀ δ, 0)'}"
                       f"_{t} = {vec(self.v.ds(t, t))}")]
            for j in range(t - 1, k - 1, -1):
                n = self.v.epoch.jacobian_norm(j)
                out.append(Why(f"× (∂s_{j + 1}/∂s_{j})ᵀ (‖·‖_F = {fmt(n)}) → ∂L_{t}/∂s_{j} = "
                               f"{vec(self.v.ds(t, j))}"))
            return out
        return Why(f"∂L_{t}/∂s_{k} = {vec(ds)}  (‖·‖ = {fmt(float(np.linalg.norm(ds)))})",
                   expand)

    def da_vec(self, t: int, k: int, g: str) -> Why:
        da = self.v.epoch.row(t).da[g][k - 1]
        term = self.v.term_sums or {}

        def expand() -> list[Why]:
            items = [(float(np.abs(term[f"{m}_{g}"]).sum()),
                      Why(f"d{m}_{g} += {vec(np.ravel(term[f'{m}_{g}']))}")) for m in "WUb"]
            return largest(items)
        return Why(f"∂L_{t}/∂a_{g} at step {k} = {vec(da)}", expand)

    # ---------------------------------------------------------- update

    def update_tree(self, name: str) -> Why:
        before = np.ravel(self.v.epoch.params[name])
        after = np.ravel(self.v.epoch.params_after[name])
        g = np.ravel(self.v.grad(name))
        eta = self.v.stepper.learning_rate
        sgd = self.v.stepper.options.optimizer == "sgd"
        return self._entries(f"{name}_new", after, lambda i: Why(
            f"{name}_new[{i + 1}] = {fmt(before[i])} − {fmt(eta)}·{fmt(g[i])} = {fmt(after[i])}"
            if sgd else f"{name}_new[{i + 1}] = {fmt(after[i])} (was {fmt(before[i])}, "
            f"d{name} = {fmt(g[i])}, {self.v.stepper.options.optimizer})"))


def cell_question(view: CellView) -> Question | None:
    """The question the step at ``view`` answers (None for BPTT terms)."""
    why = CellExplainer(view)
    f = view.fwd
    if view.phase is Phase.FORWARD:
        t = view.pos.index + 1
        if view.cell == "lstm" and t % 2 == 0:
            return Question(f"Step {t}: what is C_{t}[1]?  (C_{t} = f_{t} ⊙ C_{t - 1} + "
                            f"i_{t} ⊙ g_{t})", float(f.C[t, 0]), why.C(t, 0).label)
        g = view.epoch.params.gates[(t - 1) % len(view.epoch.params.gates)]
        part = next(x for x in view.gates(t) if x.gate == g)
        return Question(f"Step {t}: what is {part.symbol}_{t}[1]?  ({part.symbol}_{t} = "
                        f"{part.act}(U_{g} x_{t} + W_{g} {part.W_arg} + b_{g}))",
                        float(part.value[0]), why.gate(t, g, 0).label)
    if view.phase is Phase.OUTPUT:
        t = view.pos.index + 1
        j = int(f.targets[t - 1])
        return Question(f"δ_{t} = ŷ_{t} − y_{t}: what is δ_{t}[{j + 1}], at the target?",
                        float(view.delta[t - 1, j]), why.delta_vec(t).open()[j].label)
    if view.phase is Phase.UPDATE:
        name = view.update_name
        value = view.epoch.params_after[name]
        return Question(f"Update {name}: what is {name}_new[{','.join('1' * value.ndim)}]?",
                        float(np.ravel(value)[0]), why.update_tree(name).open()[0].label)
    return None
