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


def losses(params: dict, inputs, targets, xs=None, h0=None):
    """Per-step losses L_t; ``xs`` overrides the embedded inputs x_t; ``h0``
    is a constant starting state (default 0)."""
    E, U, W, b, V, c = (params[n] for n in NAMES)
    K = E.shape[0]
    h = anp.zeros(W.shape[0]) if h0 is None else h0
    out = []
    for t, (i, j) in enumerate(zip(inputs, targets, strict=True)):
        x_t = anp.dot(_onehot(i, K), E) if xs is None else xs[t]  # x_t = x_t^o E
        h = anp.tanh(anp.dot(U, x_t) + anp.dot(W, h) + b)
        omega = anp.dot(V, h) + c
        y_hat = anp.exp(omega) / anp.sum(anp.exp(omega))
        out.append(-anp.dot(_onehot(j, K), anp.log(y_hat)))  # L_t = -y_t ln y_hat_t
    return out


def forward(params: dict, inputs, targets, h0=None) -> dict:
    """h_t, y_hat_t, L_t written out again, for the forward comparison."""
    E, U, W, b, V, c = (np.asarray(params[n]) for n in NAMES)
    h = np.zeros(W.shape[0]) if h0 is None else np.asarray(h0)
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


# ------------------------------------------- truncated BPTT and optimizers
#
# Issue 16's training loop, written again from its text: chunks of N steps,
# h_0 carried from the previous chunk as a constant (autograd sees a plain
# array, so no gradient flows into it), zero at every epoch's start; raw
# gradients by autograd, then clipping, then one optimizer update per chunk.


def clip(g: dict, clip_value=None, clip_norm=None, names=NAMES) -> dict:
    if clip_value is not None:
        return {n: np.minimum(np.maximum(g[n], -clip_value), clip_value) for n in names}
    if clip_norm is not None:
        flat = np.concatenate([np.ravel(g[n]) for n in names])
        norm = np.sqrt(np.dot(flat, flat))
        return {n: g[n] * min(1.0, clip_norm / norm) for n in names}
    return dict(g)


class Optimizer:
    """sgd, momentum, adagrad or adam on dicts of arrays; state kept here."""

    def __init__(self, kind: str, params: dict, mu=0.9, beta1=0.9, beta2=0.999, eps=1e-8,
                 names=NAMES):
        self.kind, self.mu, self.beta1, self.beta2, self.eps = kind, mu, beta1, beta2, eps
        self.names = tuple(names)
        self.a = {n: np.zeros_like(params[n]) for n in self.names}  # v, Adagrad's m, Adam's m
        self.b = {n: np.zeros_like(params[n]) for n in self.names}  # Adam's v
        self.n = 0

    def update(self, params: dict, g: dict, lr: float) -> dict:
        self.n += 1
        out = {}
        for k in self.names:
            if self.kind == "sgd":
                out[k] = params[k] - lr * g[k]
            elif self.kind == "momentum":
                self.a[k] = self.mu * self.a[k] + g[k]
                out[k] = params[k] - lr * self.a[k]
            elif self.kind == "adagrad":
                self.a[k] = self.a[k] + g[k] ** 2
                out[k] = params[k] - lr * g[k] / np.sqrt(self.a[k] + 1e-8)
            else:
                self.a[k] = self.beta1 * self.a[k] + (1 - self.beta1) * g[k]
                self.b[k] = self.beta2 * self.b[k] + (1 - self.beta2) * g[k] ** 2
                m_hat = self.a[k] / (1 - self.beta1**self.n)
                v_hat = self.b[k] / (1 - self.beta2**self.n)
                out[k] = params[k] - lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return out


def train_chunks(params: dict, inputs, targets, lr: float, seq_length: int, epochs: int,
                 optimizer: str = "sgd", clip_value=None, clip_norm=None, **constants):
    """Every chunk of ``epochs`` epochs: a dict with epoch, start, h0, loss,
    grads (raw), clipped, params (before), after, n (updates so far)."""
    opt = Optimizer(optimizer, params, **constants)
    T, H = len(inputs), params["W"].shape[0]
    out = []
    for epoch in range(1, epochs + 1):
        h0 = np.zeros(H)
        for start in range(0, T, seq_length):
            xs, ys = inputs[start:start + seq_length], targets[start:start + seq_length]
            total = grad(lambda p, xs=xs, ys=ys, h0=h0: anp.sum(anp.array(losses(p, xs, ys,
                                                                                  h0=h0))))
            g = {n: np.asarray(v) for n, v in total(params).items()}
            f = forward(params, xs, ys, h0)
            g_clipped = clip(g, clip_value, clip_norm)
            after = opt.update(params, g_clipped, lr)
            out.append({"epoch": epoch, "start": start, "h0": h0, "h": f["h"],
                        "loss": f["loss"].sum(), "grads": g, "clipped": g_clipped,
                        "params": params, "after": after, "n": opt.n})
            params, h0 = after, f["h"][-1]
    return out


# ---------------------------------------------------- GRU and LSTM (issue 17)
#
# Issue 17's equations written literally, sharing no code with rnn_tui.core.cells:
#   GRU:  z = σ(U_z x + W_z h + b_z), r = σ(U_r x + W_r h + b_r),
#         h~ = tanh(U_h x + W_h (r ⊙ h) + b_h), h <- z ⊙ h + (1 − z) ⊙ h~
#   LSTM: i, f, o = σ(U_. x + W_. h + b_.), g = tanh(U_g x + W_g h + b_g),
#         C <- f ⊙ C + i ⊙ g, h <- o ⊙ tanh(C)
# then Ω = V h + c, ŷ = exp(Ω) / Σ exp(Ω), L_t = −y_t · ln ŷ. h_0, C_0 are
# constants (zero unless given); parameters are a dict by the names.


def _sigma(a):
    return 1.0 / (1.0 + anp.exp(-a))


def cell_losses(cell: str, params: dict, inputs, targets, h0=None, C0=None, xs=None,
                record: list | None = None):
    """Per-step losses L_t; ``xs`` overrides x_t; ``record`` collects every value per step."""
    P = params
    E, V, c = P["E"], P["V"], P["c"]
    K, H = E.shape[0], V.shape[1]
    h = anp.zeros(H) if h0 is None else h0
    C = anp.zeros(H) if C0 is None else C0
    out = []
    for t, (a, b) in enumerate(zip(inputs, targets, strict=True)):
        x = anp.dot(_onehot(a, K), E) if xs is None else xs[t]  # x_t = x_t^o E
        if cell == "gru":
            z = _sigma(anp.dot(P["U_z"], x) + anp.dot(P["W_z"], h) + P["b_z"])
            r = _sigma(anp.dot(P["U_r"], x) + anp.dot(P["W_r"], h) + P["b_r"])
            h_tilde = anp.tanh(anp.dot(P["U_h"], x) + anp.dot(P["W_h"], r * h) + P["b_h"])
            h = z * h + (1.0 - z) * h_tilde
            values = {"z": z, "r": r, "h_tilde": h_tilde}
        else:
            i = _sigma(anp.dot(P["U_i"], x) + anp.dot(P["W_i"], h) + P["b_i"])
            f = _sigma(anp.dot(P["U_f"], x) + anp.dot(P["W_f"], h) + P["b_f"])
            o = _sigma(anp.dot(P["U_o"], x) + anp.dot(P["W_o"], h) + P["b_o"])
            g = anp.tanh(anp.dot(P["U_g"], x) + anp.dot(P["W_g"], h) + P["b_g"])
            C = f * C + i * g
            h = o * anp.tanh(C)
            values = {"i": i, "f": f, "o": o, "g": g, "C": C}
        omega = anp.dot(V, h) + c
        y_hat = anp.exp(omega) / anp.sum(anp.exp(omega))
        L = -anp.dot(_onehot(b, K), anp.log(y_hat))
        if record is not None:
            record.append({**values, "h": h, "omega": omega, "y_hat": y_hat, "loss": L})
        out.append(L)
    return out


def cell_forward(cell: str, params: dict, inputs, targets, h0=None, C0=None) -> dict:
    """Every value of every step, stacked over t: gates, h, C (LSTM), omega, y_hat, loss."""
    rec: list = []
    cell_losses(cell, {n: np.asarray(v) for n, v in params.items()}, inputs, targets,
                h0, C0, record=rec)
    return {name: np.array([np.asarray(step[name]) for step in rec]) for name in rec[0]}


def cell_gradients(cell: str, params: dict, inputs, targets, h0=None, C0=None,
                   embedding_rows: str = "x_k") -> dict:
    """dL/dθ by autograd; "x_t" assembles the handout's dE from dL_t/dx (each L_t alone)."""
    total = grad(lambda p: anp.sum(anp.array(cell_losses(cell, p, inputs, targets, h0, C0))))
    g = {n: np.asarray(v) for n, v in total(params).items()}
    if embedding_rows == "x_t":
        E = params["E"]
        xs = np.array([E[i] for i in inputs])
        dE = np.zeros_like(E)
        for t in range(len(inputs)):
            def L_t(xs_, t=t):
                return cell_losses(cell, params, inputs[: t + 1], targets[: t + 1], h0, C0,
                                   xs_)[t]
            dE[inputs[t]] += np.asarray(grad(L_t)(xs[: t + 1])).sum(axis=0)
        g["E"] = dE
    return g


def cell_sgd(params: dict, g: dict, lr: float) -> dict:
    return {n: params[n] - lr * g[n] for n in params}


def cell_train_chunks(cell: str, params: dict, inputs, targets, lr: float, seq_length: int,
                      epochs: int, optimizer: str = "sgd", clip_value=None, clip_norm=None,
                      **constants):
    """train_chunks for a GRU or an LSTM: h_0 (and C_0) carried from chunk to
    chunk as constants, zero at every epoch's start; autograd's raw gradients,
    clipping, one update per chunk. A list of dicts as train_chunks'."""
    names = tuple(params)
    opt = Optimizer(optimizer, params, names=names, **constants)
    T, H = len(inputs), params["V"].shape[1]
    out = []
    for epoch in range(1, epochs + 1):
        h0, C0 = np.zeros(H), (np.zeros(H) if cell == "lstm" else None)
        for start in range(0, T, seq_length):
            xs, ys = inputs[start:start + seq_length], targets[start:start + seq_length]

            def total(p, xs=xs, ys=ys, h0=h0, C0=C0):
                return anp.sum(anp.array(cell_losses(cell, p, xs, ys, h0, C0)))

            g = {n: np.asarray(v) for n, v in grad(total)(params).items()}
            f = cell_forward(cell, params, xs, ys, h0, C0)
            g_clipped = clip(g, clip_value, clip_norm, names)
            after = opt.update(params, g_clipped, lr)
            out.append({"epoch": epoch, "start": start, "h0": h0, "C0": C0, "h": f["h"],
                        "loss": f["loss"].sum(), "grads": g, "clipped": g_clipped,
                        "params": params, "after": after, "n": opt.n})
            params, h0 = after, f["h"][-1]
            C0 = f["C"][-1] if cell == "lstm" else None
    return out
