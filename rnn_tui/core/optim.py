"""Optimizers and gradient clipping beyond the handout's SGD (issue 16).

Written as the issue writes them, over the six parameters V, c, W, U, b, E
(``params.UPDATE_ORDER``), with g = dL/dtheta and eta the learning rate:

    sgd:       theta <- theta - eta g
    momentum:  v <- mu v + g;               theta <- theta - eta v          (v starts at 0)
    adagrad:   m <- m + g*g;                theta <- theta - eta g / sqrt(m + 1e-8)
    adam:      m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g*g;
               n = update count from 1;
               theta <- theta - eta (m / (1 - beta1^n)) / (sqrt(v / (1 - beta2^n)) + eps)
    clip_value: each entry of g clipped to [-c, c]
    clip_norm:  all six gradients scaled by min(1, theta_clip / ||g||_2),
                ||g||_2 over every entry of all six

The optimizer's state is an explicit immutable value: every step takes the
state before and returns the state after, so a step recomputed from the same
inputs (stepping back, a checkpoint) is bit-identical. Each optimizer comes
twice: per parameter on arrays (what the debugger's update phase shows one
parameter at a time) and over all six (:func:`step`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnn_tui.core.maths import Array, Grads, Params
from rnn_tui.core.params import UPDATE_ORDER

if TYPE_CHECKING:
    from rnn_tui.core.train_options import TrainOptions

ADAGRAD_EPS = 1e-8
"""The constant inside Adagrad's square root (min-char-rnn's)."""


# ------------------------------------------------------- one parameter


def sgd_param(theta: Array, g: Array, eta: float) -> Array:
    """theta <- theta - eta g   (the handout's update; same shape as theta)."""
    with np.errstate(all="ignore"):
        return theta - eta * g


def momentum_param(
    theta: Array, g: Array, v: Array, eta: float, mu: float
) -> tuple[Array, Array]:
    """v <- mu v + g;  theta <- theta - eta v.   Returns (theta, v)."""
    with np.errstate(all="ignore"):
        v_new = mu * v + g  # same shape as theta
        return theta - eta * v_new, v_new


def adagrad_param(theta: Array, g: Array, m: Array, eta: float) -> tuple[Array, Array]:
    """m <- m + g*g;  theta <- theta - eta g / sqrt(m + 1e-8).   Returns (theta, m)."""
    with np.errstate(all="ignore"):
        m_new = m + g * g  # same shape as theta
        return theta - eta * g / np.sqrt(m_new + ADAGRAD_EPS), m_new


def adam_param(
    theta: Array, g: Array, m: Array, v: Array, n: int,
    eta: float, beta1: float, beta2: float, eps: float,
) -> tuple[Array, Array, Array]:
    """m <- beta1 m + (1 - beta1) g;  v <- beta2 v + (1 - beta2) g*g;
    theta <- theta - eta (m / (1 - beta1^n)) / (sqrt(v / (1 - beta2^n)) + eps),
    n the update count from 1.   Returns (theta, m, v)."""
    with np.errstate(all="ignore"):
        m_new = beta1 * m + (1.0 - beta1) * g  # same shape as theta
        v_new = beta2 * v + (1.0 - beta2) * (g * g)
        m_hat = m_new / (1.0 - beta1**n)  # bias corrections
        v_hat = v_new / (1.0 - beta2**n)
        return theta - eta * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new


# ---------------------------------------------------- optimizer states


@dataclass(frozen=True, slots=True)
class SgdState:
    """SGD keeps nothing."""


@dataclass(frozen=True, slots=True)
class MomentumState:
    v: Params  # velocity, one array per parameter; starts at 0


@dataclass(frozen=True, slots=True)
class AdagradState:
    m: Params  # sum of g*g so far; starts at 0


@dataclass(frozen=True, slots=True)
class AdamState:
    m: Params  # first moment; starts at 0
    v: Params  # second moment; starts at 0
    n: int  # updates made so far (the next update is number n + 1)


OptimizerState = SgdState | MomentumState | AdagradState | AdamState


def zeros_like(p: Params) -> Params:
    return Params(**{n: np.zeros_like(p.get(n)) for n in UPDATE_ORDER})


def initial_state(optimizer: str, p: Params) -> OptimizerState:
    """The state before the first update: zeros, n = 0."""
    if optimizer == "sgd":
        return SgdState()
    if optimizer == "momentum":
        return MomentumState(v=zeros_like(p))
    if optimizer == "adagrad":
        return AdagradState(m=zeros_like(p))
    if optimizer == "adam":
        return AdamState(m=zeros_like(p), v=zeros_like(p), n=0)
    raise ValueError(f"unknown optimizer {optimizer!r}")


# ------------------------------------------------------- all six at once


def sgd(p: Params, g: Grads, eta: float) -> Params:
    """theta <- theta - eta g for every parameter (bit-identical to maths.sgd)."""
    return Params(**{n: sgd_param(p.get(n), g.get(n), eta) for n in UPDATE_ORDER})


def momentum(
    p: Params, g: Grads, state: MomentumState, eta: float, mu: float
) -> tuple[Params, MomentumState]:
    """v <- mu v + g;  theta <- theta - eta v."""
    out = {n: momentum_param(p.get(n), g.get(n), state.v.get(n), eta, mu) for n in UPDATE_ORDER}
    return (Params(**{n: o[0] for n, o in out.items()}),
            MomentumState(v=Params(**{n: o[1] for n, o in out.items()})))


def adagrad(p: Params, g: Grads, state: AdagradState, eta: float) -> tuple[Params, AdagradState]:
    """m <- m + g*g;  theta <- theta - eta g / sqrt(m + 1e-8)."""
    out = {n: adagrad_param(p.get(n), g.get(n), state.m.get(n), eta) for n in UPDATE_ORDER}
    return (Params(**{n: o[0] for n, o in out.items()}),
            AdagradState(m=Params(**{n: o[1] for n, o in out.items()})))


def adam(
    p: Params, g: Grads, state: AdamState, eta: float, beta1: float, beta2: float, eps: float
) -> tuple[Params, AdamState]:
    """m <- beta1 m + (1-beta1) g;  v <- beta2 v + (1-beta2) g*g;  n <- n + 1;
    theta <- theta - eta (m / (1 - beta1^n)) / (sqrt(v / (1 - beta2^n)) + eps)."""
    n_up = state.n + 1
    out = {
        n: adam_param(p.get(n), g.get(n), state.m.get(n), state.v.get(n), n_up,
                      eta, beta1, beta2, eps)
        for n in UPDATE_ORDER
    }
    return (Params(**{n: o[0] for n, o in out.items()}),
            AdamState(m=Params(**{n: o[1] for n, o in out.items()}),
                      v=Params(**{n: o[2] for n, o in out.items()}), n=n_up))


def step(
    options: TrainOptions, p: Params, g: Grads, state: OptimizerState, eta: float
) -> tuple[Params, OptimizerState]:
    """One update of all six parameters with the optimizer the options name."""
    if isinstance(state, SgdState):
        return sgd(p, g, eta), state
    if isinstance(state, MomentumState):
        return momentum(p, g, state, eta, options.momentum)
    if isinstance(state, AdagradState):
        return adagrad(p, g, state, eta)
    return adam(p, g, state, eta, options.beta1, options.beta2, options.eps)


# ------------------------------------------------------------- clipping


@dataclass(frozen=True, slots=True)
class Clipped:
    """Gradients after clipping, and what clipping saw."""

    grads: Grads  # what the optimizer uses
    norm: float | None  # ||g||_2 over all six, before clipping (clip_norm only)
    scale: float  # min(1, theta_clip / ||g||_2) for clip_norm; 1.0 otherwise


def clip_value(g: Grads, c: float) -> Grads:
    """Each entry of each gradient clipped to [-c, c]."""
    with np.errstate(all="ignore"):
        return Grads(**{n: np.clip(g.get(n), -c, c) for n in UPDATE_ORDER})


def grad_norm(g: Grads) -> float:
    """||g||_2 over every entry of all six gradients."""
    with np.errstate(all="ignore"):
        return float(np.sqrt(sum(float(np.sum(g.get(n) * g.get(n))) for n in UPDATE_ORDER)))


def clip_norm(g: Grads, theta: float) -> Clipped:
    """g <- g min(1, theta / ||g||_2) for all six together (d2l's grad_clipping)."""
    norm = grad_norm(g)
    scale = min(1.0, theta / norm) if norm > 0 else 1.0
    if scale == 1.0:  # nothing to scale: the same arrays, bit for bit
        return Clipped(grads=g, norm=norm, scale=1.0)
    with np.errstate(all="ignore"):
        scaled = Grads(**{n: g.get(n) * scale for n in UPDATE_ORDER})
    return Clipped(grads=scaled, norm=norm, scale=scale)


def clip(options: TrainOptions, g: Grads) -> Clipped:
    """The clipping the options ask for (none, clip_value or clip_norm)."""
    if options.clip_value is not None:
        return Clipped(grads=clip_value(g, options.clip_value), norm=None, scale=1.0)
    if options.clip_norm is not None:
        return clip_norm(g, options.clip_norm)
    return Clipped(grads=g, norm=None, scale=1.0)
