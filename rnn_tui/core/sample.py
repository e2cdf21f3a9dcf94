"""Generation: feed a starting text, then let the model write (issue 16).

From h_0 = 0 the prime's characters go in one at a time,

    x_t = E[x_t^o];   h_t = tanh(U x_t + b + W h_{t-1});   Omega_t = V h_t + c,

and after the last of them every step picks the next character from
Omega_t and feeds it back in. With temperature tau > 0 the pick is a draw
from y_hat = softmax(Omega_t / tau) with NumPy's ``default_rng(seed)``;
tau = 0 is greedy: argmax Omega_t (y_hat is then reported as softmax(Omega_t)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array, Params, softmax
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.text import printable


class SampleError(ValueError):
    """Generation cannot go on (the model's numbers are not finite)."""


@dataclass(frozen=True, slots=True)
class SampleStep:
    """One generated character."""

    input: int  # vocabulary index fed in at this step
    h: Array  # (H,) h_t after that input
    omega: Array  # (K,) Omega_t = V h_t + c
    y_hat: Array  # (K,) softmax(Omega_t / tau), or softmax(Omega_t) when tau = 0
    next: int  # the chosen character's index


def step_h(p: Params, i: int, h: Array) -> tuple[Array, Array]:
    """h_t = tanh(U x_t + b + W h_{t-1}) with x_t = E[i]; returns (h_t, Omega_t)."""
    with np.errstate(all="ignore"):
        x = p.E[i]  # (D,)
        h_t = np.tanh(x @ p.U.T + p.b + p.W @ h)  # (H,)
        return h_t, h_t @ p.V.T + p.c  # (K,)


def step_cell(p: CellParams, i: int, s: tuple[Array, ...]) -> tuple[tuple[Array, ...], Array]:
    """A GRU's or LSTM's step from s_{t-1} = (h,) or (h, C) on x_t = E[i]
    (cells.forward on one character): returns (s_t, Omega_t)."""
    from rnn_tui.core.cells import final_state, forward

    f = forward(p, np.array([i], dtype=np.intp), np.zeros(1, dtype=np.intp), *s)
    return final_state(f), f.omega[0]


def choose(omega: Array, temperature: float, rng: np.random.Generator) -> tuple[Array, int]:
    """(y_hat, next index): greedy when temperature is 0, else a draw."""
    if temperature == 0:
        y_hat = softmax(omega)
        pick = int(np.argmax(omega))
    else:
        with np.errstate(all="ignore"):
            y_hat = softmax(omega / temperature)  # (K,)
        if not np.isfinite(y_hat).all():
            raise SampleError("the probabilities are not finite numbers (has the model "
                              "diverged?)")
        pick = int(rng.choice(y_hat.shape[0], p=y_hat))
    return y_hat, pick


def generate(
    p: Params | CellParams, prime: Sequence[int], length: int, temperature: float = 0.0,
    seed: int = 0,
) -> list[SampleStep]:
    """``length`` characters after the prime (at least one character), from h_0 = 0
    (and a GRU's or LSTM's from s_0 = 0: step_cell)."""
    if not prime:
        raise ValueError("the prime needs at least one character")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    rng = np.random.default_rng(seed)
    if isinstance(p, CellParams):
        s: tuple[Array, ...] = tuple(np.zeros(p.H) for _ in range(2 if p.cell == "lstm" else 1))
        for i in prime[:-1]:
            s, _ = step_cell(p, i, s)
    else:
        h = np.zeros(p.W.shape[0])  # h_0 = 0
        for i in prime[:-1]:
            h, _ = step_h(p, i, h)
    steps: list[SampleStep] = []
    current = int(prime[-1])
    for _ in range(length):
        if isinstance(p, CellParams):
            s, omega = step_cell(p, current, s)
            h = s[0]
        else:
            h, omega = step_h(p, current, h)
        y_hat, nxt = choose(omega, temperature, rng)
        steps.append(SampleStep(input=current, h=h, omega=omega, y_hat=y_hat, next=nxt))
        current = nxt
    return steps


def greedy_line(spec: ModelSpec, p: Params | CellParams, length: int | None = None) -> str:
    """``train --sample``: the text's first character and ``length`` greedy
    characters after it (default T, at most 200), as one quoted line."""
    vocab = spec.alphabet
    try:
        steps = generate(p, [vocab.index(spec.text[0])], length or min(spec.T, 200))
    except SampleError as err:
        return f"(none: {err})"
    return repr(printable(spec.text[0] + "".join(vocab[s.next] for s in steps)))
