"""The RNN's, the GRU's and the LSTM's BPTT triangles for the same text (issue 17).

For one text, each model's triangle holds ‖∂L_t/∂s_k‖ for every term
(t, k), k ≤ t: how much of the loss at step t reaches the state at step k,

    ∂L_t/∂s_k = ∂L_t/∂s_t ∏_{j=t−1}^{k} ∂s_{j+1}/∂s_j,   ∂L_t/∂s_t = (V^T δ_t, 0)

with s = h for the RNN and the GRU and s = (h, C) for the LSTM (the norm
over h and C together, as cells.bptt.bptt_norms). For the RNN the step
Jacobian is diag(1 − h_{j+1}^2) W, so the product shrinks by about W's
spectral radius times the tanh slope per step; the LSTM's cell state
carries diag(f) instead, which stays near 1 when the forget gate is open.
The per-lag medians (:meth:`Triangle.by_lag`) and their ratio lag T−1 over
lag 0 make that decay a number.

Comparable initialisation (one choice, stated so the numbers can be
reproduced): the same seed for every model, every matrix drawn from
N(0, σ^2) with ``rnn-tui new``'s fan-in scaling, σ = scale for E,
scale/√D for every U (U_g), scale/√H for every W (W_g) and V; biases 0,
except the LSTM's forget-gate bias b_f = ``forget_bias`` (default 0, as
PyTorch's nn.LSTM; 1 is the usual remedy of Gers et al. 2000 and
Jozefowicz et al. 2015). E is the generator's first draw in every model,
so all models start from the same embedding; the recurrent weights are
different draws of the same distribution.

Training (``epochs`` > 0) uses the project's own fused kernels, bit for
bit the handout's SGD over the whole text: core/fast_train.py for the RNN,
core/cells/fast.py for the GRU and the LSTM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rnn_tui.core import cells, fast_train, maths
from rnn_tui.core.cells import fast as cells_fast
from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array, Params
from rnn_tui.core.model_file import DEFAULT_SCALE, MAX_VOCAB, seeded_params
from rnn_tui.core.text import fmt, sci

MODELS = ("rnn", "gru", "lstm")
MIN_TEXT = 3  # T >= 2: at least one lag beyond 0
MAX_TEXT = 400  # the triangle costs O(T^2 H^2) per model
MAX_SIZE = 128  # H and D: an LSTM of H = 128 on T = 399 takes about 1.5 s
TITLES = {"rnn": "RNN ‖∂L_t/∂h_k‖", "gru": "GRU ‖∂L_t/∂h_k‖", "lstm": "LSTM ‖∂L_t/∂(h,C)_k‖"}


class CompareError(ValueError):
    """Input the comparison cannot use: the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class Triangle:
    """One model's triangle for the text, after ``epochs`` epochs of training."""

    cell: str  # "rnn" | "gru" | "lstm"
    norms: Array  # (T, T) norms[t-1, k-1] = ‖∂L_t/∂s_k‖ for k <= t; NaN above the diagonal
    losses: Array  # (epochs + 1,) total loss before each epoch's update, then after the last

    @property
    def T(self) -> int:
        return int(self.norms.shape[0])

    def by_lag(self) -> Array:
        """(T,) the median over t of ‖∂L_t/∂s_{t−ℓ}‖ at each lag ℓ = t − k = 0..T−1
        (the T − ℓ terms of the ℓ-th diagonal; NaN if one of them is NaN)."""
        T = self.T
        return np.array([float(np.median(np.diagonal(self.norms, -lag)))
                         for lag in range(T)])

    def ratio(self) -> float:
        """by_lag at lag T−1 over by_lag at lag 0: how much of a step's gradient
        survives the whole text (1 keeps it, 1e-6 loses it)."""
        lags = self.by_lag()
        with np.errstate(all="ignore"):
            return float(lags[-1] / lags[0]) if lags[0] != 0 else math.nan

    def per_step(self) -> float:
        """The geometric mean factor per step, ratio^(1/(T−1))."""
        r = self.ratio()
        return r ** (1.0 / (self.T - 1)) if math.isfinite(r) and r >= 0 else math.nan


@dataclass(frozen=True, slots=True)
class Comparison:
    text: str
    vocab: str
    hidden: int
    embed: int
    seed: int
    scale: float
    epochs: int
    learning_rate: float
    forget_bias: float
    triangles: dict[str, Triangle]

    def top(self) -> float:
        """The largest finite norm of every triangle: one shading scale for all."""
        tops = [float(np.nanmax(np.where(np.isfinite(t.norms), t.norms, np.nan)))
                for t in self.triangles.values() if np.isfinite(t.norms).any()]
        return max(tops, default=0.0)


def vocabulary(text: str) -> str:
    """The text's characters by first appearance (as a model file without vocab)."""
    return "".join(dict.fromkeys(text))


def check_text(text: str) -> None:
    if len(text) < MIN_TEXT:
        raise CompareError(f"TEXT needs at least {MIN_TEXT} characters (T >= 2), "
                           f"got {len(text)}")
    if len(text) > MAX_TEXT:
        raise CompareError(f"TEXT has {len(text)} characters, at most {MAX_TEXT}")
    K = len(vocabulary(text))
    if K < 2:
        raise CompareError("TEXT needs at least 2 distinct characters (K >= 2)")
    if K > MAX_VOCAB:
        raise CompareError(f"TEXT has {K} distinct characters, at most {MAX_VOCAB}")


def initial(cell: str, K: int, D: int, H: int, seed: int, scale: float = DEFAULT_SCALE,
            forget_bias: float = 0.0) -> Params | CellParams:
    """The model's initial parameters (the module docstring's choice)."""
    if cell == "rnn":
        return seeded_params(K, D, H, seed, scale, fan_in=True)
    unit = cells.seeded_params(cell, K, D, H, seed, 1.0)  # type: ignore[arg-type]
    over = {"E": scale, "U": scale / math.sqrt(D), "W": scale / math.sqrt(H),
            "V": scale / math.sqrt(H), "b": 1.0, "c": 1.0}
    arrays = {n: unit[n] * over[n.split("_")[0]] for n in unit.names}
    if cell == "lstm":
        arrays["b_f"] = np.full(H, float(forget_bias))
    return CellParams(unit.cell, arrays)


def rnn_norms(p: Params, f: maths.Forward) -> Array:
    """(T, T) ‖∂L_t/∂h_k‖, NaN above the diagonal: all rows walked back together,
    g_t ← V^T δ_t at k = t, then ∂L_t/∂h_{k−1} = W^T ((1 − h_k^2) ⊙ ∂L_t/∂h_k)."""
    T, H = f.T, p.W.shape[0]
    delta = maths.output_delta(f)  # (T, K)
    norms = np.full((T, T), np.nan)
    g = np.zeros((T, H))  # g[t-1] = ∂L_t/∂h_k for the rows t >= k
    with np.errstate(all="ignore"):
        for k in range(T, 0, -1):
            g[k - 1] = delta[k - 1] @ p.V  # row t = k starts: V^T δ_t
            norms[k - 1:, k - 1] = np.sqrt((g[k - 1:] ** 2).sum(axis=1))
            g[k - 1:] = (g[k - 1:] * (1.0 - f.h[k] ** 2)) @ p.W  # (m, H)
    return norms


def cell_norms(p: CellParams, f: cells.CellForward) -> Array:
    """(T, T) ‖∂L_t/∂s_k‖ from cells.bptt_norms (every row at once), NaN above the diagonal."""
    T = f.T
    rows = cells.bptt_norms(p, f, maths.output_delta(f), range(1, T + 1))  # type: ignore[arg-type]
    norms = np.full((T, T), np.nan)
    for t, r in rows.items():
        norms[t - 1, :t] = r
    return norms


def triangle(cell: str, p: Params | CellParams, inputs: NDArray[np.intp],
             targets: NDArray[np.intp], learning_rate: float, epochs: int) -> Triangle:
    """Train ``epochs`` epochs (the fused kernels), then the triangle of the trained model."""
    losses = np.empty(0)
    if isinstance(p, Params):
        if epochs:
            losses, p = fast_train.train(p, inputs, targets, learning_rate, epochs)
        rf = maths.forward(p, inputs, targets)
        return Triangle(cell, rnn_norms(p, rf), np.append(losses, rf.total_loss))
    if epochs:
        losses, p = cells_fast.train(p, inputs, targets, learning_rate, epochs)
    cf = cells.forward(p, inputs, targets)
    return Triangle(cell, cell_norms(p, cf), np.append(losses, cf.total_loss))


def compare(text: str, models: Sequence[str] = ("rnn", "lstm"), hidden: int = 8,
            embed: int = 4, seed: int = 0, scale: float = DEFAULT_SCALE, epochs: int = 0,
            learning_rate: float = 0.1, forget_bias: float = 0.0) -> Comparison:
    """Every model's triangle for ``text`` (inputs text[:-1], targets text[1:])."""
    check_text(text)
    for name, n in (("H", hidden), ("D", embed)):
        if not 1 <= n <= MAX_SIZE:
            raise CompareError(f"{name} must be in 1..{MAX_SIZE}, got {n}")
    for m in models:
        if m not in MODELS:
            raise CompareError(f"unknown cell {m!r}; choose from {', '.join(MODELS)}")
    vocab = vocabulary(text)
    lookup = {ch: i for i, ch in enumerate(vocab)}
    idx = np.array([lookup[ch] for ch in text], dtype=np.intp)
    inputs, targets = idx[:-1], idx[1:]
    out = {m: triangle(m, initial(m, len(vocab), embed, hidden, seed, scale, forget_bias),
                       inputs, targets, learning_rate, epochs)
           for m in dict.fromkeys(models)}
    return Comparison(text=text, vocab=vocab, hidden=hidden, embed=embed, seed=seed,
                      scale=scale, epochs=epochs, learning_rate=learning_rate,
                      forget_bias=forget_bias, triangles=out)


def summary_lags(T: int, most: int = 8) -> list[int]:
    """Lags worth a column in a summary: all of 0..T−1 if at most ``most``,
    else 0 and lags spread geometrically from 1 to T−1 (T−1 always)."""
    if T <= most:
        return list(range(T))
    if most <= 2:
        return [0, T - 1]
    spread = np.unique(np.round(np.geomspace(1, T - 1, most - 1)).astype(int))
    return [0, *(int(lag) for lag in spread)]


NAMES = {"rnn": "RNN", "gru": "GRU", "lstm": "LSTM"}


def summary_lines(c: Comparison, width: int = 100) -> list[str]:
    """The per-lag medians as a table no wider than ``width`` (at least 30):
    a row per model with as many lags as fit (0 and T−1 always), the ratio
    lag T−1 / lag 0, then, with room, its geometric mean per step and the
    total loss."""
    T = next(iter(c.triangles.values())).T
    extra = [("per step", lambda tr: fmt(tr.per_step()), 9),
             ("loss", lambda tr: fmt(float(tr.losses[-1])), 11)]
    while extra and 6 + 8 * 3 + sum(w for _, _, w in extra) > width:
        extra.pop()
    cols = [(f"{T - 1}/0", lambda tr: sci(tr.ratio()), 8), *extra]
    room = (width - 6 - sum(w for _, _, w in cols)) // 8
    lags = summary_lags(T, max(2, room))
    def cell(s: str, w: int) -> str:  # at least one space before every number
        return " " + s.rjust(w - 1)

    head = "lag".ljust(6) + "".join(cell(str(lag), 8) for lag in lags)
    head += "".join(cell(name, w) for name, _, w in cols)
    out = [f"median ‖∂L_t/∂s_k‖ by lag t−k (T={T})", head]
    for m, tr in c.triangles.items():
        by = tr.by_lag()
        line = NAMES[m].ljust(6) + "".join(cell(sci(float(by[lag])), 8) for lag in lags)
        out.append(line + "".join(cell(get(tr), w) for _, get, w in cols))
    return out
