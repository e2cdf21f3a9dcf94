"""A second, independent implementation of the handout's RNN, differentiated
by HIPS autograd (reverse mode over plain NumPy, float64).

It shares no code with rnn_tui.core.maths: it writes the handout's formulas
literally (one-hot row vectors times E, an explicit loop, softmax then -ln)
and lets autograd find every gradient. The handout's "x_t" dE is not a true
gradient, so it is assembled from true ones: the gradient of each L_t
alone with respect to the embedded inputs, put into the row of x_t^o.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad

from rnn_tui.core.params import FILE_ORDER

NAMES = FILE_ORDER


def _onehot(i: int, K: int) -> np.ndarray:
    v = np.zeros(K)
    v[i] = 1.0
    return v


def losses(params: dict, inputs, targets, xs=None):
    """Per-step losses L_t; ``xs`` overrides the embedded inputs x_t."""
    E, U, W, b, V, c = (params[n] for n in NAMES)
    K = E.shape[0]
    h = anp.zeros(W.shape[0])
    out = []
    for t, (i, j) in enumerate(zip(inputs, targets, strict=True)):
        x_t = anp.dot(_onehot(i, K), E) if xs is None else xs[t]  # x_t = x_t^o E
        h = anp.tanh(anp.dot(U, x_t) + anp.dot(W, h) + b)
        omega = anp.dot(V, h) + c
        y_hat = anp.exp(omega) / anp.sum(anp.exp(omega))
        out.append(-anp.dot(_onehot(j, K), anp.log(y_hat)))  # L_t = -y_t ln y_hat_t
    return out


def forward(params: dict, inputs, targets) -> dict:
    """h_t, y_hat_t, L_t written out again, for the forward comparison."""
    E, U, W, b, V, c = (np.asarray(params[n]) for n in NAMES)
    h = np.zeros(W.shape[0])
    hs, ys = [], []
    for i in inputs:
        h = np.tanh(U @ E[i] + W @ h + b)
        omega = V @ h + c
        ys.append(np.exp(omega) / np.exp(omega).sum())
        hs.append(h)
    L = [-np.log(y[j]) for y, j in zip(ys, targets, strict=True)]
    return {"h": np.array(hs), "y_hat": np.array(ys), "loss": np.array(L)}


def gradients(params: dict, inputs, targets, embedding_rows: str = "x_k") -> dict:
    total = grad(lambda p: anp.sum(anp.array(losses(p, inputs, targets))))
    g = {n: np.asarray(v) for n, v in total(params).items()}
    if embedding_rows == "x_t":
        E = params["E"]
        xs = np.array([E[i] for i in inputs])
        dE = np.zeros_like(E)
        for t in range(len(inputs)):
            g_x = grad(lambda xs_, t=t: losses(params, inputs[: t + 1], targets[: t + 1], xs_)[t])
            dE[inputs[t]] += np.asarray(g_x(xs[: t + 1])).sum(axis=0)
        g["E"] = dE
    return g


def sgd(params: dict, g: dict, lr: float) -> dict:
    return {n: params[n] - lr * g[n] for n in NAMES}
