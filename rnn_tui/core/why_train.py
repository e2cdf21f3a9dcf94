"""The why view's entries for issue 16's quantities: clipping, the
optimizer's state and step, a chunk's carried h_0, and generation (Ω/τ, ŷ
and the choice). Each label substitutes the step's own numbers, as
core/why.py does for the handout's loop; why.py calls in here.

    clip_value:  g = clip(∂L/∂θ, −a, a)        clip_norm:  g = ∂L/∂θ · min(1, a/‖∂L/∂·‖₂)
    momentum:    v ← μ v + g;  θ ← θ − η v
    adagrad:     m ← m + g⊙g;  θ ← θ − η g/√(m + 1e-8)
    adam:        m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g⊙g;  θ ← θ − η m̂/(√v̂ + ε)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rnn_tui.core.epochs import Epoch
from rnn_tui.core.optim import ADAGRAD_EPS, AdagradState, AdamState, MomentumState
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.sample import Generation
from rnn_tui.core.text import char, fmt

if TYPE_CHECKING:
    from rnn_tui.core.why import Explainer, Why

Cell = tuple[int, ...]


def is_handout(ep: Epoch) -> bool:
    """SGD without clipping: the handout's θ − η·∂L/∂θ."""
    return ep.options.optimizer == "sgd" and ep.clipped.grads is ep.grads


def _why(label: str, expand: object = None) -> Why:
    from rnn_tui.core.why import Why

    return Why(label, expand)  # type: ignore[arg-type]


# ------------------------------------------------------------ the update


def optimizer_tree(x: Explainer, name: str) -> Why:
    """θ_new per entry with the optimizer's rule; each entry drills into
    the clipped gradient and the optimizer's state."""
    ep: Epoch = x.v.epoch
    o, eta = ep.options, ep.lr
    before, after = ep.params.get(name), ep.params_after.get(name)
    cells = list(np.ndindex(before.shape))[:24]
    how = {"sgd": "g", "momentum": "v", "adagrad": "g/√(m + 1e-8)", "adam": "m̂/(√v̂ + ε)"}
    what = how[o.optimizer]

    def entries() -> list[Why]:
        out = []
        for c in cells:
            at = x.at(name, c)
            step = float(direction(ep, name)[c])
            out.append(_why(
                f"{name}_new[{at}] = {name} − η·{what} = {fmt(before[c])} − {eta:g}·"
                f"{fmt(step)} = {fmt(after[c])}",
                lambda c=c: [clip_entry(x, name, c), *state_entries(x, name, c)]))
        return out

    return _why(f"{name}_new = {name} − η·{what} ({o.optimizer})", entries)


def direction(ep: Epoch, name: str) -> np.ndarray:
    """What η multiplies in the update of ``name``: g, v, g/√(m + 1e-8) or
    m̂/(√v̂ + ε), from the clipped gradient and the state after the update."""
    o, s1, g = ep.options, ep.state_after, ep.clipped.grads.get(name)
    with np.errstate(all="ignore"):
        if isinstance(s1, MomentumState):
            return s1.v.get(name)
        if isinstance(s1, AdagradState):
            return g / np.sqrt(s1.m.get(name) + ADAGRAD_EPS)
        if isinstance(s1, AdamState):
            m_hat = s1.m.get(name) / (1.0 - o.beta1**s1.n)
            v_hat = s1.v.get(name) / (1.0 - o.beta2**s1.n)
            return m_hat / (np.sqrt(v_hat) + o.eps)
        return g


def clip_entry(x: Explainer, name: str, c: Cell) -> Why:
    """g[c]: the raw gradient, clipped if the [train] table says so."""
    ep: Epoch = x.v.epoch
    o = ep.options
    raw, g = float(ep.grads.get(name)[c]), float(ep.clipped.grads.get(name)[c])
    at = x.at(name, c)
    drill = lambda: [x.grad(name, c)]  # noqa: E731  (the raw gradient's own why)
    if o.clip_value is not None:
        a = o.clip_value
        verdict = "inside, kept" if -a <= raw <= a else f"outside, set to {fmt(g)}"
        return _why(f"g[{at}] = clip(d{name}[{at}], −{a:g}, {a:g}) = clip({fmt(raw)}) = "
                    f"{fmt(g)} ({verdict})", drill)
    if o.clip_norm is not None and ep.clipped.norm is not None:
        return _why(f"g[{at}] = d{name}[{at}]·scale = {fmt(raw)}·{fmt(ep.clipped.scale)} = "
                    f"{fmt(g)}", lambda: [norm_tree(ep), x.grad(name, c)])
    return _why(f"g[{at}] = d{name}[{at}] = {fmt(g)} (no clipping)", drill)


def norm_tree(ep: Epoch) -> Why:
    """scale = min(1, a/‖g‖₂), ‖g‖₂ over every entry of all six gradients."""
    a, norm = ep.options.clip_norm, ep.clipped.norm
    assert a is not None and norm is not None
    with np.errstate(all="ignore"):
        squares = {n: float((ep.grads.get(n) ** 2).sum()) for n in UPDATE_ORDER}

    def parts() -> list[Why]:
        return [_why(f"Σ d{n}² = {fmt(s)}") for n, s in squares.items()]

    return _why(f"scale = min(1, {a:g}/‖g‖₂) = min(1, {a:g}/{fmt(norm)}) = "
                f"{fmt(ep.clipped.scale)},  ‖g‖₂ = √(Σ over all six) = "
                f"√{fmt(sum(squares.values()))} = {fmt(norm)}", parts)


def state_entries(x: Explainer, name: str, c: Cell) -> list[Why]:
    """The optimizer's state at entry c, before → after, with its rule."""
    ep: Epoch = x.v.epoch
    o, s0, s1 = ep.options, ep.state_before, ep.state_after
    g = float(ep.clipped.grads.get(name)[c])
    at = x.at(name, c)
    with np.errstate(all="ignore"):
        if isinstance(s0, MomentumState) and isinstance(s1, MomentumState):
            v0, v1 = float(s0.v.get(name)[c]), float(s1.v.get(name)[c])
            return [_why(f"v[{at}] ← μ·v + g = {o.momentum:g}·{fmt(v0)} + {fmt(g)} = "
                         f"{fmt(v1)} (momentum; v started at 0)")]
        if isinstance(s0, AdagradState) and isinstance(s1, AdagradState):
            m0, m1 = float(s0.m.get(name)[c]), float(s1.m.get(name)[c])
            return [_why(f"m[{at}] ← m + g² = {fmt(m0)} + {fmt(g * g)} = {fmt(m1)} "
                         f"(Adagrad's memory of every g² so far)"),
                    _why(f"g/√(m + 1e-8) = {fmt(g)}/{fmt(np.sqrt(m1 + ADAGRAD_EPS))} = "
                         f"{fmt(g / np.sqrt(m1 + ADAGRAD_EPS))}")]
        if isinstance(s0, AdamState) and isinstance(s1, AdamState):
            n = s1.n
            m0, m1 = float(s0.m.get(name)[c]), float(s1.m.get(name)[c])
            v0, v1 = float(s0.v.get(name)[c]), float(s1.v.get(name)[c])
            c1, c2 = 1.0 - o.beta1**n, 1.0 - o.beta2**n
            m_hat, v_hat = m1 / c1, v1 / c2
            return [
                _why(f"m[{at}] ← β1·m + (1−β1)·g = {o.beta1:g}·{fmt(m0)} + {1 - o.beta1:g}·"
                     f"{fmt(g)} = {fmt(m1)}"),
                _why(f"v[{at}] ← β2·v + (1−β2)·g² = {o.beta2:g}·{fmt(v0)} + {1 - o.beta2:g}·"
                     f"{fmt(g * g)} = {fmt(v1)}"),
                _why(f"n = {n} (updates so far, this one included): 1−β1ⁿ = 1 − {o.beta1:g}^{n} "
                     f"= {fmt(c1)},  1−β2ⁿ = 1 − {o.beta2:g}^{n} = {fmt(c2)}"),
                _why(f"m̂ = m/(1−β1ⁿ) = {fmt(m1)}/{fmt(c1)} = {fmt(m_hat)},  v̂ = v/(1−β2ⁿ) = "
                     f"{fmt(v1)}/{fmt(c2)} = {fmt(v_hat)}"),
                _why(f"m̂/(√v̂ + ε) = {fmt(m_hat)}/({fmt(np.sqrt(v_hat))} + {o.eps:g}) = "
                     f"{fmt(m_hat / (np.sqrt(v_hat) + o.eps))}"),
            ]
    return []


# ------------------------------------------------------- the carried h_0


def carried_h0(x: Explainer, i: int) -> Why:
    """h_0[i] of a chunk after the first: the previous chunk's last h."""
    v = x.v
    j, N = v.pos.chunk, v.stepper.layout.N
    value = float(v.fwd.h[0, i])
    return _why(f"h_0[{i + 1}] = h_{N}[{i + 1}] of chunk {j} = {fmt(value)} (carried over: "
                "truncated BPTT sends no gradient back through it)")


def carried_h0_vec(x: Explainer) -> Why:
    v = x.v
    H = v.fwd.h.shape[1]
    return _why(f"h_0 = the last h of chunk {v.pos.chunk} (chunk {v.pos.chunk + 1} starts from it)",
                lambda: [carried_h0(x, i) for i in range(min(H, 24))])


# ------------------------------------------------------------ generation


def generation_roots(g: Generation, k: int, vocab: str, primed: int) -> list[Why]:
    """The generated character k (0-based): Ω/τ, ŷ = softmax(Ω/τ) and the
    choice; t counts the inputs from the prime's first."""
    s = g.steps[k]
    t, tau = primed + k, g.temperature
    K = len(vocab)
    with np.errstate(all="ignore"):
        scaled = s.omega / tau if tau > 0 else s.omega  # (K,)
        z = np.exp(scaled - scaled.max())

    def name(i: int) -> str:
        return repr(char(vocab[i]))

    def y_entry(i: int) -> Why:
        return _why(f"ŷ_{t}[{name(i)}] = exp(Ω_{t}[{name(i)}]/τ) / Σ_j exp(Ω_{t}[j]/τ) = "
                    f"{fmt(z[i])} / {fmt(z.sum())} (shifted by the max) = {fmt(s.y_hat[i])}",
                    lambda: [over(i)])

    def over(i: int) -> Why:
        if tau == 0:
            return _why(f"τ = 0 (greedy): ŷ_{t} is softmax(Ω_{t}) itself, Ω_{t}[{name(i)}] = "
                        f"{fmt(s.omega[i])}")
        return _why(f"Ω_{t}[{name(i)}]/τ = {fmt(s.omega[i])}/{tau:g} = {fmt(scaled[i])}")

    picked = name(s.next)
    if tau == 0:
        choice = _why(f"next = argmax Ω_{t} = {picked}: the largest Ω_{t} is "
                      f"{fmt(s.omega[s.next])} (τ = 0 is greedy)")
    else:
        cdf = np.cumsum(s.y_hat)
        u = "" if s.u is None else (f": u = {fmt(s.u)}, and Σŷ up to {picked} = "
                                    f"{fmt(cdf[s.next])} is the first sum above u")
        choice = _why(f"next = {picked}, draw {k + 1} of default_rng({g.seed}) from ŷ_{t}{u}",
                      lambda: [y_entry(s.next)])
    return [
        choice,
        _why(f"ŷ_{t} = softmax(Ω_{t}/τ), τ = {tau:g}", lambda: [y_entry(i) for i in range(K)]),
        _why(f"Ω_{t}/τ (input {name(s.input)})", lambda: [over(i) for i in range(K)]),
    ]
