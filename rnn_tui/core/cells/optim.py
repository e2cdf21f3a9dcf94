"""Optimizers and clipping for the gated cells (issue 16's [train] options).

The formulas are optim.py's, applied to every parameter of the cell
(``p.names``, i.e. cells.PARAM_NAMES[cell], in that order) instead of the
RNN's six: each update is optim's per-parameter function (sgd_param,
momentum_param, adagrad_param, adam_param), and the states are optim's own
immutable state classes holding CellParams where the RNN's hold Params.

    sgd:       θ <- θ − η g
    momentum:  v <- μ v + g;  θ <- θ − η v
    adagrad:   m <- m + g*g;  θ <- θ − η g / sqrt(m + 1e-8)
    adam:      m <- β1 m + (1 − β1) g;  v <- β2 v + (1 − β2) g*g;  n <- n + 1;
               θ <- θ − η (m / (1 − β1^n)) / (sqrt(v / (1 − β2^n)) + eps)
    clip_value: each entry of g clipped to [−c, c]
    clip_norm:  every gradient scaled by min(1, θ_clip / ‖g‖_2), ‖g‖_2 over all of them
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_tui.core.cells.params import CellGrads, CellParams
from rnn_tui.core.optim import (
    AdagradState,
    AdamState,
    Clipped,
    MomentumState,
    OptimizerState,
    SgdState,
    adagrad_param,
    adam_param,
    momentum_param,
    sgd_param,
)

if TYPE_CHECKING:
    from rnn_tui.core.train_options import TrainOptions


def initial_state(optimizer: str, p: CellParams) -> OptimizerState:
    """The state before the first update: zeros shaped like every parameter, n = 0."""
    z: Any = p.zeros_like()  # optim's states are typed for Params; CellParams has its interface
    if optimizer == "sgd":
        return SgdState()
    if optimizer == "momentum":
        return MomentumState(v=z)
    if optimizer == "adagrad":
        return AdagradState(m=z)
    if optimizer == "adam":
        return AdamState(m=z, v=p.zeros_like(), n=0)  # type: ignore[arg-type]
    raise ValueError(f"unknown optimizer {optimizer!r}")


def _cells(p: CellParams, parts: dict[str, Any]) -> Any:
    return CellParams(p.cell, parts)


def step(
    options: TrainOptions, p: CellParams, g: CellGrads, state: OptimizerState, eta: float
) -> tuple[CellParams, OptimizerState]:
    """One update of every parameter with the optimizer the options name."""
    names = p.names
    if isinstance(state, SgdState):
        return _cells(p, {n: sgd_param(p[n], g[n], eta) for n in names}), state
    if isinstance(state, MomentumState):
        out = {n: momentum_param(p[n], g[n], state.v.get(n), eta, options.momentum)
               for n in names}
        return (_cells(p, {n: o[0] for n, o in out.items()}),
                MomentumState(v=_cells(p, {n: o[1] for n, o in out.items()})))
    if isinstance(state, AdagradState):
        out = {n: adagrad_param(p[n], g[n], state.m.get(n), eta) for n in names}
        return (_cells(p, {n: o[0] for n, o in out.items()}),
                AdagradState(m=_cells(p, {n: o[1] for n, o in out.items()})))
    n_up = state.n + 1
    out3 = {n: adam_param(p[n], g[n], state.m.get(n), state.v.get(n), n_up,
                          eta, options.beta1, options.beta2, options.eps) for n in names}
    return (_cells(p, {n: o[0] for n, o in out3.items()}),
            AdamState(m=_cells(p, {n: o[1] for n, o in out3.items()}),
                      v=_cells(p, {n: o[2] for n, o in out3.items()}), n=n_up))


def clip_value(g: CellGrads, c: float) -> CellGrads:
    """Each entry of each gradient clipped to [−c, c]."""
    with np.errstate(all="ignore"):
        return CellParams(g.cell, {n: np.clip(g[n], -c, c) for n in g.names})


def grad_norm(g: CellGrads) -> float:
    """‖g‖_2 over every entry of every gradient (summed in name order, as optim.grad_norm)."""
    with np.errstate(all="ignore"):
        return float(np.sqrt(sum(float(np.sum(g[n] * g[n])) for n in g.names)))


def clip_norm(g: CellGrads, theta: float) -> Clipped:
    """g <- g min(1, θ / ‖g‖_2) for all gradients together."""
    norm = grad_norm(g)
    scale = min(1.0, theta / norm) if norm > 0 else 1.0
    if scale == 1.0:  # nothing to scale: the same arrays, bit for bit
        return Clipped(grads=g, norm=norm, scale=1.0)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        scaled = CellParams(g.cell, {n: g[n] * scale for n in g.names})
    return Clipped(grads=scaled, norm=norm, scale=scale)  # type: ignore[arg-type]


def clip(options: TrainOptions, g: CellGrads) -> Clipped:
    """The clipping the options ask for (none, clip_value or clip_norm);
    ``Clipped.grads`` is then a CellParams."""
    if options.clip_value is not None:
        clipped: Any = clip_value(g, options.clip_value)
        return Clipped(grads=clipped, norm=None, scale=1.0)
    if options.clip_norm is not None:
        return clip_norm(g, options.clip_norm)
    return Clipped(grads=g, norm=None, scale=1.0)  # type: ignore[arg-type]
