"""Baseline (a): plain NumPy BPTT in the style of Karpathy's min-char-rnn.

One timestep at a time, forward and backward, with dicts of per-step
vectors, outer products accumulated into zeroed gradients and an in-place
SGD update. Written independently of rnn_tui.core.maths (it imports nothing from
it) so the comparison is against what a reader would write first; the bench
checks it computes the same losses as the project.

    x_t = E[c_t]                     h_t = tanh(U x_t + W h_{t-1} + b)
    Omega_t = V h_t + c              y_hat_t = softmax(Omega_t)
    L = sum_t -ln y_hat_t[target_t]  theta <- theta - eta dL/dtheta

Only the exact gradient of E (each term into the row of x_k) is written, as
in min-char-rnn; the benchmark models use it.
"""

from __future__ import annotations

import numpy as np


class MinCharRnn:
    def __init__(self, spec) -> None:  # spec: rnn_tui.core.model_file.ModelSpec
        if spec.bptt.embedding_rows != "x_k":
            raise ValueError("the min-char-rnn baseline computes the exact dE (x_k) only")
        p = spec.initial_params()
        # Own copies: this loop updates them in place.
        self.E, self.U, self.W = p.E.copy(), p.U.copy(), p.W.copy()
        self.b, self.V, self.c = p.b.copy(), p.V.copy(), p.c.copy()
        inputs, targets = spec.indices()
        self.inputs = [int(i) for i in inputs]
        self.targets = [int(i) for i in targets]
        self.lr = spec.learning_rate

    def epoch(self) -> float:
        """One forward pass, BPTT and SGD step; returns the total loss before it."""
        E, U, W, b, V, c = self.E, self.U, self.W, self.b, self.V, self.c
        inputs, targets = self.inputs, self.targets
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.zeros(W.shape[0])
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = E[inputs[t]]
            hs[t] = np.tanh(U @ xs[t] + W @ hs[t - 1] + b)
            o = V @ hs[t] + c
            e = np.exp(o - o.max())
            ps[t] = e / e.sum()
            loss += -np.log(ps[t][targets[t]])
        dE, dU, dW = np.zeros_like(E), np.zeros_like(U), np.zeros_like(W)
        db, dV, dc = np.zeros_like(b), np.zeros_like(V), np.zeros_like(c)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0
            dV += np.outer(dy, hs[t])
            dc += dy
            dh = V.T @ dy + dhnext
            dhraw = (1.0 - hs[t] * hs[t]) * dh
            db += dhraw
            dU += np.outer(dhraw, xs[t])
            dW += np.outer(dhraw, hs[t - 1])
            dE[inputs[t]] += U.T @ dhraw
            dhnext = W.T @ dhraw
        for param, grad in ((E, dE), (U, dU), (W, dW), (b, db), (V, dV), (c, dc)):
            param -= self.lr * grad
        return float(loss)

    def train(self, n: int) -> list[float]:
        return [self.epoch() for _ in range(n)]


def losses(spec, n: int) -> list[float]:
    return MinCharRnn(spec).train(n)
