"""What the model generates with the parameters of this step (issue 16):
greedy, and at the temperature τ with a seed, from the prime; then one
generated character at a time with its numbers substituted:

    h_t = tanh(U x_t + W h_{t-1} + b),   Ω_t = V h_t + c,
    ŷ_t = softmax(Ω_t / τ),   next = argmax (τ = 0) or the draw from ŷ_t.

Takes the formula panel's place while on (tui/generate.py has the keys);
in the GRU/LSTM debugger the step panel's, with h_t (and the LSTM's C_t)
from the cell's step instead of tanh (the gates are the forward step's)."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import Array, Params
from rnn_tui.core.sample import Generation, SampleStep, preactivation
from rnn_tui.core.text import char, fmt
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import ARGMAX, CURRENT, LABEL, MUTED, NONFINITE, cell, vector
from rnn_tui.tui.widgets.panel import Panel


class GenerationPanel(Panel):
    TITLE = "Generation"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        mode = getattr(self.app, "generation", None)
        if mode is None or not mode.on:
            return []
        spec, p = view.spec, view.params
        greedy, drawn = mode.walks(spec, p)
        tau = mode.temperature
        prime = mode.prime(spec)
        self.border_title = (f"Generation from {printable_prime(prime)} with the parameters of "
                             f"epoch {view.pos.epoch}, {view.label}")
        vocab = spec.alphabet
        k = min(mode.cursor, max(0, len(drawn.steps) - 1))
        lines: list[tuple[int, Text]] = []  # (priority: 1 is kept longest, line)
        what = "greedy" if tau == 0 else f"τ = {tau:g}"
        label = max(9, len(what) + 1)  # both lines' primes start in one column
        if tau != 0:
            lines.append((2, _walk_line("greedy", prime, greedy, vocab, None, width, label)))
        lines.append((1, _walk_line(what, prime, drawn, vocab, k, width, label)))
        if drawn.steps:
            lines += _step_lines(drawn, k, vocab, tau, width, height - len(lines), mode.seed, p,
                                 len(prime))
        elif drawn.error:
            lines.append((1, Text(f"stopped: {drawn.error}", style=NONFINITE)))
        while len(lines) > height:  # drop the least needed line
            worst = max(range(len(lines)), key=lambda i: (lines[i][0], i))
            del lines[worst]
        return [line for _, line in lines]


def printable_prime(prime: str) -> str:
    return repr("".join(char(c) for c in prime))


def _walk_line(what: str, prime: str, g: Generation, vocab: str, k: int | None,
               width: int, label: int = 9) -> Text:
    """``what  'he'│llo hel...``: ``what`` in a column ``label`` wide, the
    prime, then the characters generated (the step-through's character
    highlighted), elided around it."""
    head = Text(f"{what:<{label}}", style=LABEL)
    head.append("".join(char(c) for c in prime), style=MUTED)
    head.append("│", style=LABEL)
    chars = [char(vocab[s.next]) for s in g.steps]
    room = width - head.cell_len - (1 if g.error else 0)
    lo = 0
    if k is not None and sum(len(c) for c in chars[: k + 1]) > room - 1:
        lo = k
        while lo > 0 and sum(len(c) for c in chars[lo - 1: k + 1]) <= room - 2:
            lo -= 1
        head.append("…", style=MUTED)
    for i in range(lo, len(chars)):
        head.append(chars[i], style=CURRENT if i == k else "")
    if g.error:
        head.append("✗", style=NONFINITE)
    return head


def _step_lines(g: Generation, k: int, vocab: str, tau: float, width: int, room: int,
                seed: int, p: Params | CellParams, primed: int) -> list[tuple[int, Text]]:
    """Character k's numbers; t counts the inputs from the prime's first (t = 1)."""
    s: SampleStep = g.steps[k]
    t, n = primed + k, len(g.steps)
    w = width - 2
    out: list[tuple[int, Text]] = []
    head = Text(f"character {k + 1}/{n}: ", style=LABEL).append(
        f"input x_{t} = E[{char(vocab[s.input])!r}]")
    if s.h_prev is not None:
        head.append(f",  h_{t - 1} = ", style=LABEL).append_text(
            vector(s.h_prev, w - head.cell_len - 8))
    out.append((5, head))
    out.append((1, _h_line(p, s, t, w)))
    chosen = CURRENT if tau > 0 else ARGMAX
    with np.errstate(all="ignore"):
        scaled = s.omega / tau if tau > 0 else s.omega
    K = len(vocab)
    if room - len(out) - 1 >= K + 1:  # a table: a row per character
        out.append((1, Text(f"{'':<6}{'Ω_' + str(t):>10}{'Ω/τ':>11}  ŷ_{t} = softmax(Ω/τ)",
                            style=LABEL) if tau > 0 else Text(
                            f"{'':<6}{'Ω_' + str(t):>10}  ŷ_{t} = softmax(Ω)", style=LABEL)))
        for i in range(K):
            row = Text(f"{char(vocab[i])!r:<6}", style=chosen if i == s.next else LABEL)
            row.append_text(_right(cell(float(s.omega[i])), 10))
            if tau > 0:
                row.append_text(_right(cell(float(scaled[i])), 11))
            row.append("  ").append_text(cell(float(s.y_hat[i]), chosen if i == s.next else ""))
            out.append((1, row))
    else:
        omega = Text(f"Ω_{t} = V h_{t} + c = ", style=LABEL)
        out.append((3, omega.append_text(vector(s.omega, w - omega.cell_len,
                                               focus=s.next))))
        if tau > 0:
            over = Text(f"Ω_{t}/τ = Ω_{t}/{tau:g} = ", style=LABEL)
            out.append((4, over.append_text(vector(scaled, w - over.cell_len, focus=s.next))))
        y = Text(f"ŷ_{t} = softmax(Ω_{t}{'/τ' if tau > 0 else ''}) = ", style=LABEL)
        out.append((1, y.append_text(_labelled(s.y_hat, vocab, s.next, chosen,
                                               w - y.cell_len))))
    choice = _choice(s, t, k + 1, vocab, tau, seed, w)
    out += [(1 if i == 0 else 2, line) for i, line in enumerate(choice)]
    return out


def _h_line(p: Params | CellParams, s: SampleStep, t: int, w: int) -> Text:
    """``h_t = tanh(U x_t + W h_{t-1} + b) = tanh([..]) = [..]``, or a cell's
    ``h_t = LSTM(x_t, h_{t-1}, C_{t-1}) = [..]``."""
    if isinstance(p, CellParams):
        state = f"h_{t - 1}" + (f", C_{t - 1}" if p.cell == "lstm" else "")
        line = Text(f"h_{t} = {p.cell.upper()}(x_{t}, {state}) = ", style=LABEL)
        return line.append_text(vector(s.h, w - line.cell_len))
    a = preactivation(p, s)  # (H,)
    line = Text(f"h_{t} = tanh(U x_{t} + W h_{t - 1} + b) = tanh(", style=LABEL)
    half = max(12, (w - line.cell_len - 6) // 2)
    line.append_text(vector(a, half)).append(") = ", style=LABEL).append_text(
        vector(s.h, w - line.cell_len - 4))
    return line


def _right(text: Text, width: int) -> Text:
    return Text(" " * max(0, width - text.cell_len)).append_text(text)


def _labelled(y: Array, vocab: str, pick: int, style: str, width: int) -> Text:
    """``'h' 0.2100  'e' 0.3300 …``: each probability after its character,
    elided around the chosen one."""
    cells = [Text(f"{char(vocab[i])!r} ", style=LABEL).append_text(
        cell(float(y[i]), style if i == pick else "")) for i in range(len(vocab))]
    lo = hi = pick
    used = cells[pick].cell_len
    while True:
        grew = False
        if hi + 1 < len(cells) and used + cells[hi + 1].cell_len + 2 <= width - 4:
            hi += 1
            used += cells[hi].cell_len + 2
            grew = True
        if lo > 0 and used + cells[lo - 1].cell_len + 2 <= width - 4:
            lo -= 1
            used += cells[lo].cell_len + 2
            grew = True
        if not grew:
            break
    out = Text("… " if lo > 0 else "", style=MUTED)
    out.append_text(Text("  ").join(cells[lo: hi + 1]))
    if hi + 1 < len(cells):
        out.append(" …", style=MUTED)
    return out


def _choice(s: SampleStep, t: int, draw: int, vocab: str, tau: float, seed: int,
            width: int) -> list[Text]:
    """``next = 'l' (ŷ = 0.57): ...``: the choice first, then how it was made;
    the draw's u goes on a line of its own when one line would be cut."""
    picked = f"{char(vocab[s.next])!r}"
    out = Text("next = ", style=LABEL).append(picked, style=ARGMAX if tau == 0 else CURRENT)
    out.append(f" (ŷ = {fmt(float(s.y_hat[s.next]))})", style=LABEL)
    if tau == 0:
        return [out.append(f" = argmax Ω_{t}", style=LABEL)]
    out.append(f": draw {draw} of default_rng({seed}) from ŷ_{t}", style=LABEL)
    if s.u is None:
        return [out]
    cdf = float(np.cumsum(s.y_hat)[s.next])
    why = f"u = {fmt(s.u)}: Σŷ up to {picked} = {fmt(cdf)} is the first > u"
    if out.cell_len + 2 + len(why) <= width:
        return [out.append(f", {why}", style=LABEL)]
    return [out.append(",", style=LABEL), Text(f"  {why}", style=LABEL)]
