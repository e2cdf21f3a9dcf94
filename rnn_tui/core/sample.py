"""Generation: feed a starting text, then let the model write (issue 16).

From h_0 = 0 the prime's characters go in one at a time,

    x_t = E[x_t^o];   h_t = tanh(U x_t + b + W h_{t-1});   Omega_t = V h_t + c,

and after the last of them every step picks the next character from
Omega_t and feeds it back in. With temperature tau > 0 the pick is a draw
from y_hat = softmax(Omega_t / tau) with NumPy's ``default_rng(seed)``;
tau = 0 is greedy: argmax Omega_t (y_hat is then reported as softmax(Omega_t)).

:func:`records` is the same walk with everything the debugger's generation
panel shows per character (h_{t-1}, the preactivation, Omega_t / tau, the
uniform number behind a draw), and stops at the first step it cannot take.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    h_prev: Array | None = None  # (H,) h_{t-1}
    u: float | None = None  # the draw's uniform number (tau > 0), when it explains the pick


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
    # A second generator, set to rng's state before each draw, tells the
    # draw's uniform number without touching rng (deepcopy costs 30x more).
    replay = np.random.Generator(copy.copy(rng.bit_generator)) if temperature > 0 else None
    for _ in range(length):
        h_prev = s[0] if isinstance(p, CellParams) else h
        if isinstance(p, CellParams):
            s, omega = step_cell(p, current, s)
            h = s[0]
        else:
            h, omega = step_h(p, current, h)
        before = rng.bit_generator.state if replay is not None else None
        y_hat, nxt = choose(omega, temperature, rng)
        u = None
        if replay is not None:
            replay.bit_generator.state = before
            u = uniform_of_draw(replay, y_hat, nxt)
        steps.append(SampleStep(input=current, h=h, omega=omega, y_hat=y_hat, next=nxt,
                                h_prev=h_prev, u=u))
        current = nxt
    return steps


def uniform_of_draw(rng: np.random.Generator, y_hat: Array, pick: int) -> float | None:
    """The uniform number u in [0, 1) that ``rng.choice(K, p=y_hat)`` turns
    into ``pick``: the first index whose cumulative probability exceeds u.
    None if this NumPy draws differently (then the pick stands unexplained)."""
    u = float(rng.random())
    cdf = np.cumsum(y_hat)  # (K,)
    cdf /= cdf[-1]
    return u if int(np.searchsorted(cdf, u, side="right")) == pick else None


@dataclass(frozen=True)
class Generation:
    """What the model writes from ``prime``: the steps it took, and why it
    stopped early (``error``) if it did."""

    prime: tuple[int, ...]
    temperature: float
    seed: int
    steps: list[SampleStep] = field(default_factory=list)
    error: str | None = None


def records(p: Params, prime: Sequence[int], length: int, temperature: float = 0.0,
            seed: int = 0) -> Generation:
    """:func:`generate`, step by step, keeping the steps taken before a model
    whose numbers are not finite stops it (never raises SampleError)."""
    done: list[SampleStep] = []
    error = None
    try:
        done = generate(p, prime, length, temperature, seed)
    except SampleError as err:
        error = str(err)
        for n in range(length - 1, 0, -1):  # the longest run that still works
            try:
                done = generate(p, prime, n, temperature, seed)
                break
            except SampleError:
                continue
    return Generation(tuple(prime), temperature, seed, done, error)


def greedy_line(spec: ModelSpec, p: Params | CellParams, length: int | None = None) -> str:
    """``train --sample``: the text's first character and ``length`` greedy
    characters after it (default T, at most 200), as one quoted line."""
    vocab = spec.alphabet
    try:
        steps = generate(p, [vocab.index(spec.text[0])], length or min(spec.T, 200))
    except SampleError as err:
        return f"(none: {err})"
    return repr(printable(spec.text[0] + "".join(vocab[s.next] for s in steps)))


def preactivation(p: Params, s: SampleStep) -> Array:
    """a_t = U x_t + W h_{t-1} + b of a step (h_t = tanh(a_t)), (H,)."""
    h_prev = np.zeros(p.W.shape[0]) if s.h_prev is None else s.h_prev
    with np.errstate(all="ignore"):
        return p.E[s.input] @ p.U.T + p.b + p.W @ h_prev
