"""The fast path of truncated BPTT: many chunks in one loop (issue 16).

What :func:`fast_train.train` is to the handout's loop, :func:`train_chunks` is to
:func:`tbptt.training`: the same operations in the same order, so the chunk
losses, the parameters and the optimizer state are bit-for-bit those of
``tbptt.training`` (tested for every optimizer and clipping), for when only
the losses are wanted (long runs, ``train``, the benchmark). The six
parameters live in one flat buffer, and so do the gradients and the
optimizer's buffers; every update and clipping is then a handful of NumPy
calls on all six at once (element by element, the same arithmetic), and every
intermediate lives in a buffer allocated once per chunk length.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core.chunk_loop import epoch_totals, spans
from rnn_tui.core.fused import RnnWork, flat, views
from rnn_tui.core.maths import Array, EmbeddingRows, Params
from rnn_tui.core.optim import (
    ADAGRAD_EPS,
    AdagradState,
    AdamState,
    MomentumState,
    OptimizerState,
    SgdState,
    initial_state,
)
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.train_options import TrainOptions


def _named(p: Params) -> dict[str, Array]:
    return {n: p.get(n) for n in UPDATE_ORDER}


def _params(buf: Array, like: Params) -> Params:
    return Params(**{n: v.copy() for n, v in views(buf, _named(like)).items()})


def train_chunks(p: Params, inputs: NDArray[np.intp], targets: NDArray[np.intp],
                 learning_rate: float, options: TrainOptions, n_chunks: int,
                 mode: EmbeddingRows = "x_k", state: OptimizerState | None = None
                 ) -> tuple[Array, Params, OptimizerState]:
    """``n_chunks`` chunks from the start of an epoch (wrapping into the next
    epochs) and the optimizer state ``state`` (default: the initial one):
    each chunk's total loss before its update, and the parameters and
    optimizer state after the last update."""
    T = int(inputs.shape[0])
    K, H = p.V.shape
    D = p.E.shape[1]
    parts = spans(T, options.seq_length)
    named = _named(p)
    theta = flat(named)
    grad = np.empty_like(theta)
    P, G = views(theta, named), views(grad, named)
    eta, opt = learning_rate, options.optimizer
    state0 = initial_state(opt, p) if state is None else state
    buf_a = np.zeros_like(theta)  # momentum's v, Adagrad's m, Adam's m
    buf_b = np.zeros_like(theta)  # Adam's v
    n_up = 0
    if isinstance(state0, MomentumState):
        buf_a = flat(_named(state0.v))
    elif isinstance(state0, AdagradState):
        buf_a = flat(_named(state0.m))
    elif isinstance(state0, AdamState):
        buf_a, buf_b, n_up = flat(_named(state0.m)), flat(_named(state0.v)), state0.n
    t1, t2 = np.empty_like(theta), np.empty_like(theta)
    works: dict[int, RnnWork] = {}
    losses = np.empty(n_chunks)
    add, sub, mul = np.add, np.subtract, np.multiply
    h_last = np.zeros(H)
    with np.errstate(all="ignore"):
        for k in range(n_chunks):
            j = k % len(parts)
            if j == 0:
                h_last = np.zeros(H)  # every epoch starts from h_0 = 0
            i0, i1 = parts[j]
            n = i1 - i0
            w = works.get(n) or works.setdefault(n, RnnWork(n, K, D, H))
            xs, ys = inputs[i0:i1], targets[i0:i1]
            w.h[0] = h_last  # forward from the carried h_0
            losses[k] = w.forward(P, xs, np.arange(n) * K + ys)
            w.backward(P, G, xs, ys, mode)
            h_last = w.h[n].copy()
            _clip(options, grad, G)
            # the update, on all six at once
            if opt == "sgd":
                mul(grad, eta, out=grad)  # theta - eta g
                sub(theta, grad, out=theta)
            elif opt == "momentum":
                mul(buf_a, options.momentum, out=buf_a)  # v <- mu v + g
                add(buf_a, grad, out=buf_a)
                mul(buf_a, eta, out=t1)  # theta <- theta - eta v
                sub(theta, t1, out=theta)
            elif opt == "adagrad":
                mul(grad, grad, out=t1)  # m <- m + g*g
                add(buf_a, t1, out=buf_a)
                add(buf_a, ADAGRAD_EPS, out=t2)  # sqrt(m + 1e-8)
                np.sqrt(t2, out=t2)
                mul(grad, eta, out=t1)  # eta g / sqrt(...)
                np.divide(t1, t2, out=t1)
                sub(theta, t1, out=theta)
            else:
                n_up += 1
                b1, b2 = options.beta1, options.beta2
                mul(buf_a, b1, out=buf_a)  # m <- beta1 m + (1 - beta1) g
                mul(grad, 1.0 - b1, out=t1)
                add(buf_a, t1, out=buf_a)
                mul(grad, grad, out=t1)  # v <- beta2 v + (1 - beta2) g*g
                mul(t1, 1.0 - b2, out=t1)
                mul(buf_b, b2, out=buf_b)
                add(buf_b, t1, out=buf_b)
                np.divide(buf_a, 1.0 - b1**n_up, out=t1)  # m_hat
                np.divide(buf_b, 1.0 - b2**n_up, out=t2)  # v_hat
                np.sqrt(t2, out=t2)
                add(t2, options.eps, out=t2)
                mul(t1, eta, out=t1)
                np.divide(t1, t2, out=t1)
                sub(theta, t1, out=theta)
    return losses, _params(theta, p), _state(state0, buf_a, buf_b, n_up, p)


def _clip(options: TrainOptions, grad: Array, G: dict[str, Array]) -> None:
    """optim.clip in place on the flat gradient (the same arithmetic)."""
    if options.clip_value is not None:
        np.clip(grad, -options.clip_value, options.clip_value, out=grad)
    elif options.clip_norm is not None:
        # the norm summed parameter by parameter, as optim.grad_norm does
        norm = float(np.sqrt(sum(float(np.sum(G[n] * G[n])) for n in UPDATE_ORDER)))
        scale = min(1.0, options.clip_norm / norm) if norm > 0 else 1.0
        if scale != 1.0:
            np.multiply(grad, scale, out=grad)


def _state(state0: OptimizerState, a: Array, b: Array, n_up: int, p: Params) -> OptimizerState:
    if isinstance(state0, SgdState):
        return state0
    if isinstance(state0, MomentumState):
        return MomentumState(v=_params(a, p))
    if isinstance(state0, AdagradState):
        return AdagradState(m=_params(a, p))
    return AdamState(m=_params(a, p), v=_params(b, p), n=n_up)


def train(p: Params, inputs: NDArray[np.intp], targets: NDArray[np.intp], learning_rate: float,
          options: TrainOptions, epochs: int, mode: EmbeddingRows = "x_k",
          state: OptimizerState | None = None) -> tuple[Array, Params, OptimizerState]:
    """``epochs`` epochs from the optimizer state ``state`` (default: the
    initial one): each epoch's total loss (its chunks' losses added in order,
    as tbptt.train adds them), the parameters and optimizer state after."""
    per_epoch = len(spans(int(inputs.shape[0]), options.seq_length))
    chunk_losses, after, state = train_chunks(p, inputs, targets, learning_rate, options,
                                              epochs * per_epoch, mode, state)
    return epoch_totals(chunk_losses.tolist(), per_epoch, epochs), after, state
