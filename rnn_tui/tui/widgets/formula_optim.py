"""The formula panel's update step with a [train] table (issue 16): the
clipping, the optimizer's state and its step, each substituted, as the
update panel (widgets/update.py) shows them per parameter.

    clip_value:  g = clip(∂L/∂θ, −a, a)         clip_norm: g = ∂L/∂θ·min(1, a/‖∂L/∂·‖₂)
    momentum:    v ← μ·v + g;                   θ ← θ − η·v
    adagrad:     m ← m + g⊙g;                   θ ← θ − η·g/√(m + 1e-8)
    adam:        m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g⊙g;  m̂ = m/(1−β1ⁿ);  v̂ = v/(1−β2ⁿ)
                 θ ← θ − η·m̂/(√v̂ + ε)
"""

from __future__ import annotations

import numpy as np

from rnn_tui.core.epochs import Epoch
from rnn_tui.core.optim import AdagradState, AdamState, MomentumState
from rnn_tui.core.text import factored, fmt
from rnn_tui.tui.widgets.formula_layout import Atom, Eq, Mat, Segment


def is_handout(ep: Epoch) -> bool:
    """SGD without clipping: the handout's θ − η·∂L/∂θ."""
    return ep.options.optimizer == "sgd" and ep.clipped.grads is ep.grads


def rule(ep: Epoch, name: str, eta: str) -> list[Segment]:
    """The update of ``name`` (its first row in the panel, when it fits), in
    segments that a narrow panel breaks between: after a ``;`` or a ``,``,
    never before one."""
    o, t, g = ep.options, name, "g"
    parts = {
        "sgd": [f"{t}_new = {t} − η·{g},"],
        "momentum": [f"v ← μ·v + {g};", f"  {t}_new = {t} − η·v,", f"  μ = {o.momentum:g},"],
        "adagrad": [f"m ← m + {g}⊙{g};", f"  {t}_new = {t} − η·{g}/√(m + 1e-8),"],
        "adam": [f"m ← β1·m + (1−β1)·{g};", f"  v ← β2·v + (1−β2)·{g}⊙{g};",
                 f"  {t}_new = {t} − η·m̂/(√v̂ + ε),"],
    }[o.optimizer]
    parts[-1] += f"  η = {eta}"  # η stays with the step it scales
    return [[p] for p in parts]


def _mat(a: np.ndarray, keep: bool = False) -> list[Atom]:
    """A matrix as atoms, with a power of ten factored out when its entries
    are all below 1e-3 (Adam's v: ``1e-5·[ 1.2345 …]``, not ``[ 0.0000 …]``)."""
    factor, b = factored(a)
    return [factor, Mat(b, keep=keep)] if factor else [Mat(a, keep=keep)]


def optimizer_eqs(ep: Epoch, name: str) -> list[Eq]:
    """Clipping, the state before → after, and the step, with numbers."""
    o = ep.options
    raw, g = ep.grads.get(name), ep.clipped.grads.get(name)
    out: list[Eq] = []
    if o.clip_value is None and o.clip_norm is None:
        out.append(Eq([[f"g = ∂L/∂{name}"], [" = ", *_mat(g, keep=True)]]))
    elif o.clip_value is not None:
        a = f"{o.clip_value:g}"
        out.append(Eq([[f"g = clip(∂L/∂{name}, −{a}, {a})"], [" = clip(", *_mat(raw), ")"],
                       [" = ", *_mat(g, keep=True)]]))
    elif o.clip_norm is not None and ep.clipped.norm is not None:
        out.append(Eq([[f"g = ∂L/∂{name}·min(1, {o.clip_norm:g}/‖g‖₂),"],
                       [f"  ‖g‖₂ = {fmt(ep.clipped.norm)} (all six)"],
                       [" = ", *_mat(raw), f"·{fmt(ep.clipped.scale)}"],
                       [" = ", *_mat(g, keep=True)]]))
    s0, s1 = ep.state_before, ep.state_after
    with np.errstate(all="ignore"):
        if isinstance(s0, MomentumState) and isinstance(s1, MomentumState):
            out.append(Eq([["v ← μ·v + g"], [f" = {o.momentum:g}·", *_mat(s0.v.get(name))],
                           [" + ", *_mat(g)], [" = ", *_mat(s1.v.get(name), keep=True)]]))
        elif isinstance(s0, AdagradState) and isinstance(s1, AdagradState):
            out.append(Eq([["m ← m + g⊙g"], [" = ", *_mat(s0.m.get(name))],
                           [" + ", *_mat(g * g)], [" = ", *_mat(s1.m.get(name), keep=True)]]))
            out.append(Eq([["√(m + 1e-8)"], [" = ", *_mat(np.sqrt(s1.m.get(name) + 1e-8))]]))
        elif isinstance(s0, AdamState) and isinstance(s1, AdamState):
            n, m1, v1 = s1.n, s1.m.get(name), s1.v.get(name)
            c1, c2 = 1.0 - o.beta1**n, 1.0 - o.beta2**n
            out.append(Eq([["m ← β1·m + (1−β1)·g"], [f" = {o.beta1:g}·", *_mat(s0.m.get(name))],
                           [f" + {1.0 - o.beta1:g}·", *_mat(g)], [" = ", *_mat(m1, keep=True)]]))
            out.append(Eq([["v ← β2·v + (1−β2)·g⊙g"], [f" = {o.beta2:g}·", *_mat(s0.v.get(name))],
                           [f" + {1.0 - o.beta2:g}·", *_mat(g * g)],
                           [" = ", *_mat(v1, keep=True)]]))
            out.append(Eq([["m̂ = m/(1−β1ⁿ)"], [f" = m/{fmt(c1)}"], [" = ", *_mat(m1 / c1), ","],
                           [f"  n = {n}"]]))
            out.append(Eq([["v̂ = v/(1−β2ⁿ)"], [f" = v/{fmt(c2)}"], [" = ", *_mat(v1 / c2), ","],
                           [f"  ε = {o.eps:g}"]]))
    return out


def step_eq(ep: Epoch, name: str, eta: str) -> Eq:
    """``θ_new = θ − η·(...)`` with θ and η substituted (vectors and columns)."""
    o, p0 = ep.options, ep.params.get(name)
    what = {"sgd": "g", "momentum": "v", "adagrad": "g/√(m + 1e-8)",
            "adam": "m̂/(√v̂ + ε)"}[o.optimizer]
    return Eq([["= ", Mat(p0)], [f" − {eta}·{what}"]], lead=2, cont=4)
