"""Baselines for the gated cells: plain NumPy GRU and LSTM training in the
style of Karpathy's min-char-rnn (one timestep at a time, dicts of per-step
vectors, outer products accumulated into zeroed gradients, in-place SGD).

Written independently of rnn_tui.core (it imports nothing from it), from
issue 17's equations, with x_t = E[c_t]:

    GRU:  z = σ(U_z x + W_z h + b_z)   r = σ(U_r x + W_r h + b_r)
          h~ = tanh(U_h x + W_h (r*h) + b_h)   h = z*h + (1-z)*h~
    LSTM: i, f, o = σ(U_. x + W_. h + b_.)   g = tanh(U_g x + W_g h + b_g)
          C = f*C + i*g   h = o*tanh(C)
    Omega = V h + c, y_hat = softmax(Omega), L = sum_t -ln y_hat[target]

Exact dE only (each step's term into the row of its own input).
"""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


class MinCharGated:
    def __init__(self, cell: str, params: dict, inputs, targets, lr: float) -> None:
        self.cell = cell
        self.P = {n: np.array(a, dtype=np.float64) for n, a in params.items()}  # own copies
        self.inputs = [int(i) for i in inputs]
        self.targets = [int(i) for i in targets]
        self.lr = lr

    def epoch(self) -> float:
        """One forward pass, BPTT and SGD step; returns the total loss before it."""
        return self.gru_epoch() if self.cell == "gru" else self.lstm_epoch()

    def gru_epoch(self) -> float:
        P, inputs, targets = self.P, self.inputs, self.targets
        E, V, c = P["E"], P["V"], P["c"]
        Uz, Wz, bz, Ur, Wr, br = P["U_z"], P["W_z"], P["b_z"], P["U_r"], P["W_r"], P["b_r"]
        Uh, Wh, bh = P["U_h"], P["W_h"], P["b_h"]
        xs, hs, zs, rs, hts, ps = {}, {}, {}, {}, {}, {}
        hs[-1] = np.zeros(V.shape[1])
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = E[inputs[t]]
            zs[t] = sigmoid(Uz @ xs[t] + Wz @ hs[t - 1] + bz)
            rs[t] = sigmoid(Ur @ xs[t] + Wr @ hs[t - 1] + br)
            hts[t] = np.tanh(Uh @ xs[t] + Wh @ (rs[t] * hs[t - 1]) + bh)
            hs[t] = zs[t] * hs[t - 1] + (1.0 - zs[t]) * hts[t]
            o = V @ hs[t] + c
            e = np.exp(o - o.max())
            ps[t] = e / e.sum()
            loss += -np.log(ps[t][targets[t]])
        d = {n: np.zeros_like(a) for n, a in P.items()}
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0
            d["V"] += np.outer(dy, hs[t])
            d["c"] += dy
            dh = V.T @ dy + dhnext
            dah = dh * (1.0 - zs[t]) * (1.0 - hts[t] * hts[t])
            daz = dh * (hs[t - 1] - hts[t]) * zs[t] * (1.0 - zs[t])
            drh = Wh.T @ dah
            dar = drh * hs[t - 1] * rs[t] * (1.0 - rs[t])
            for g, da in (("z", daz), ("r", dar), ("h", dah)):
                d["U_" + g] += np.outer(da, xs[t])
                d["b_" + g] += da
            d["W_z"] += np.outer(daz, hs[t - 1])
            d["W_r"] += np.outer(dar, hs[t - 1])
            d["W_h"] += np.outer(dah, rs[t] * hs[t - 1])
            d["E"][inputs[t]] += Uz.T @ daz + Ur.T @ dar + Uh.T @ dah
            dhnext = dh * zs[t] + drh * rs[t] + Wz.T @ daz + Wr.T @ dar
        for n, a in P.items():
            a -= self.lr * d[n]
        return float(loss)

    def lstm_epoch(self) -> float:
        P, inputs, targets = self.P, self.inputs, self.targets
        E, V, c = P["E"], P["V"], P["c"]
        gates = ("i", "f", "o", "g")
        xs, hs, Cs, ps = {}, {}, {}, {}
        a = {g: {} for g in gates}
        hs[-1] = np.zeros(V.shape[1])
        Cs[-1] = np.zeros(V.shape[1])
        loss = 0.0
        for t in range(len(inputs)):
            xs[t] = E[inputs[t]]
            for g in gates:
                pre = P["U_" + g] @ xs[t] + P["W_" + g] @ hs[t - 1] + P["b_" + g]
                a[g][t] = np.tanh(pre) if g == "g" else sigmoid(pre)
            Cs[t] = a["f"][t] * Cs[t - 1] + a["i"][t] * a["g"][t]
            hs[t] = a["o"][t] * np.tanh(Cs[t])
            o = V @ hs[t] + c
            e = np.exp(o - o.max())
            ps[t] = e / e.sum()
            loss += -np.log(ps[t][targets[t]])
        d = {n: np.zeros_like(x) for n, x in P.items()}
        dhnext, dCnext = np.zeros_like(hs[0]), np.zeros_like(hs[0])
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1.0
            d["V"] += np.outer(dy, hs[t])
            d["c"] += dy
            dh = V.T @ dy + dhnext
            i, f, o, g = (a[k][t] for k in gates)
            tc = np.tanh(Cs[t])
            dC = dCnext + dh * o * (1.0 - tc * tc)
            da = {"o": dh * tc * o * (1.0 - o), "f": dC * Cs[t - 1] * f * (1.0 - f),
                  "i": dC * g * i * (1.0 - i), "g": dC * i * (1.0 - g * g)}
            dhnext = np.zeros_like(dh)
            for k in gates:
                d["U_" + k] += np.outer(da[k], xs[t])
                d["W_" + k] += np.outer(da[k], hs[t - 1])
                d["b_" + k] += da[k]
                d["E"][inputs[t]] += P["U_" + k].T @ da[k]
                dhnext += P["W_" + k].T @ da[k]
            dCnext = dC * f
        for n, x in P.items():
            x -= self.lr * d[n]
        return float(loss)

    def train(self, n: int) -> list[float]:
        return [self.epoch() for _ in range(n)]
