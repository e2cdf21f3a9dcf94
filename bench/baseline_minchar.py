"""Baseline for truncated BPTT: Karpathy's min-char-rnn training loop.

Plain NumPy, written independently of rnn_tui.core (it imports nothing from
it): ``lossFun`` over one chunk with dicts of per-step vectors, the hidden
state carried from chunk to chunk (``hprev``), every gradient clipped to
[-5, 5] in place, and Adagrad (``mem += dparam * dparam``; ``param +=
-learning_rate * dparam / np.sqrt(mem + 1e-8)``). One change to fit the
issue's definition: an epoch is one pass over the whole text in chunks of
seq_length (the last one shorter), with hprev = 0 at every epoch's start,
where min-char-rnn drops the last partial chunk. The model is rnn-tui's (an
embedding E, then U), so the two compute the same numbers.

    x_t = E[c_t]                     h_t = tanh(U x_t + W h_{t-1} + b)
    Omega_t = V h_t + c              y_hat_t = softmax(Omega_t)
"""

from __future__ import annotations

import numpy as np


class MinCharRnnAdagrad:
    def __init__(self, params: dict, data: list[int], learning_rate: float,
                 seq_length: int = 25, clip: float = 5.0) -> None:
        # Own copies: this loop updates them in place.
        self.E, self.U, self.W = (params[n].copy() for n in ("E", "U", "W"))
        self.b, self.V, self.c = (params[n].copy() for n in ("b", "V", "c"))
        self.mem = [np.zeros_like(p) for p in self.params()]
        self.data = data  # vocabulary indices of the text, T + 1 of them
        self.lr, self.seq_length, self.clip = learning_rate, seq_length, clip
        self.p, self.hprev = 0, np.zeros(self.W.shape[0])

    def params(self) -> list[np.ndarray]:
        return [self.E, self.U, self.W, self.b, self.V, self.c]

    def loss_fun(self, inputs: list[int], targets: list[int], hprev: np.ndarray):
        E, U, W, b, V, c = self.params()
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(hprev)
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
            dy = np.copy(ps[t])
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
        grads = [dE, dU, dW, db, dV, dc]
        for dparam in grads:
            np.clip(dparam, -self.clip, self.clip, out=dparam)  # mitigate exploding gradients
        return float(loss), grads, hs[len(inputs) - 1]

    def chunk(self) -> float:
        """One chunk: loss, clipped gradients, one Adagrad update; returns its loss."""
        T = len(self.data) - 1
        if self.p >= T:  # a new epoch: back to the start, h = 0
            self.p, self.hprev = 0, np.zeros_like(self.hprev)
        stop = min(self.p + self.seq_length, T)
        inputs = self.data[self.p:stop]
        targets = self.data[self.p + 1:stop + 1]
        loss, grads, self.hprev = self.loss_fun(inputs, targets, self.hprev)
        for param, dparam, mem in zip(self.params(), grads, self.mem, strict=True):
            mem += dparam * dparam
            param += -self.lr * dparam / np.sqrt(mem + 1e-8)  # adagrad update
        self.p = stop
        return loss

    def train(self, n: int) -> list[float]:
        return [self.chunk() for _ in range(n)]
