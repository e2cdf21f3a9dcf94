"""Each parameter before and after its update; changed values marked.

With a [train] table (issue 16) the parameter being updated also shows what
the optimizer does to it: the raw gradient, clipping (before -> after, and
the norm for clip_norm), the optimizer's state before -> after (momentum's
v, Adagrad's m, Adam's m, v and bias corrections) and the step added."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.epochs import Epoch
from rnn_tui.core.optim import AdagradState, AdamState, MomentumState
from rnn_tui.core.params import UPDATE_ORDER, by_char
from rnn_tui.core.text import fmt
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import marked_block
from rnn_tui.tui.widgets.numbers import CHANGED, CURRENT, LABEL, MUTED, block, inline, stacking
from rnn_tui.tui.widgets.panel import Panel


class UpdatePanel(Panel):
    TITLE = "Updates θ ← θ − η·∂L/∂θ"

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        params = [view.epoch.params.get(n) for n in UPDATE_ORDER]
        vocab = view.spec.alphabet
        names = [vocab if by_char(n) else None for n in UPDATE_ORDER]
        named = [n is not None for n in names]
        full = stacking(params, named, height)
        out: list[Text] = []
        if not view.updated:
            self.border_title = _fit(("Parameters (updated after BPTT)", "Parameters"), width)
            for i, (name, p) in enumerate(zip(UPDATE_ORDER, params, strict=True)):
                out += marked_block(Text.assemble((f"{name:<3}", LABEL)), p, width, full[i],
                                    self.marks, (f"param.{name}",), labels=names[i])
            return out
        ep = view.epoch
        handout = ep.options.optimizer == "sgd" and ep.clipped.grads is ep.grads
        if handout:
            eta = view.spec.learning_rate
            self.border_title = _fit((f"Updates θ ← θ − η·∂L/∂θ, η = {eta}", f"Updates, η = {eta}",
                                      "Updates"), width)
        else:
            self.border_title = f"Updates: {_rule(ep)}, η = {view.spec.learning_rate}"
        cur = view.updated - 1
        optimizer = [] if handout else _optimizer_lines(ep, UPDATE_ORDER[cur], width)
        full = stacking(params, named, height - len(optimizer), first=cur)
        done: list[Text] = []
        current: list[Text] = []
        pending: list[Text] = []
        for i, (name, before) in enumerate(zip(UPDATE_ORDER, params, strict=True)):
            head = Text.assemble((f"{name:<2}", CURRENT if i == cur else LABEL), " ")
            if i >= view.updated:
                lines = block(head, before, width - 10, full[i], labels=names[i])
                lines[-1].append(" (pending)", style=MUTED)
                pending += lines
                continue
            after = view.params.get(name)
            diff = np.atleast_2d(before) != np.atleast_2d(after)
            styles = {(r, c): CHANGED for r, c in np.argwhere(diff)[:256].tolist()}
            lines = marked_block(head, before, width, full[i], self.marks, (), after=after,
                                 after_fields=(f"new.{name}",), after_styles=styles,
                                 labels=names[i])
            if i == cur:
                current = [*lines, *optimizer]
            else:
                done += lines
        return _fitted(done, current, pending, height, UPDATE_ORDER[:view.updated - 1],
                       UPDATE_ORDER[view.updated:])


def _fitted(done: list[Text], current: list[Text], pending: list[Text], height: int,
            done_names: tuple[str, ...], pending_names: tuple[str, ...]) -> list[Text]:
    """The parameters updated, the one being updated and those pending, in
    ``height`` lines: the current one whole first; the others, when they do
    not fit, summed up in an explicit ``⋮`` line instead of being cut."""
    def more(*groups: tuple[tuple[str, ...], str, list[Text]]) -> list[Text]:
        said = [f"{' '.join(names)} {word}" for names, word, lines in groups if lines]
        n = sum(len(lines) for _, _, lines in groups)
        if not n:
            return []
        return [Text(f"⋮ {'; '.join(said)} ({n} more line{'s' * (n > 1)})", style=MUTED)]

    d, p = (done_names, "updated", done), (pending_names, "pending", pending)
    tries = [
        [*done, *current, *pending],
        [*done, *current, *more(p)],
        [*more(d), *current, *more(p)],
    ]
    for lines in tries:
        if len(lines) <= height:
            return lines
    return [*current, *more(d, p)]


def _fit(titles: tuple[str, ...], width: int) -> str:
    """The first title that the top border has room for whole, else the last."""
    return next((t for t in titles if len(t) <= width - 2), titles[-1])


def _rule(ep: Epoch) -> str:
    """The optimizer's update rule in one line, with its clipping."""
    o = ep.options
    rule = {
        "sgd": "θ ← θ − η g",
        "momentum": f"v ← {o.momentum} v + g; θ ← θ − η v",
        "adagrad": "m ← m + g²; θ ← θ − η g/√(m + 1e-8)",
        "adam": f"Adam β1 = {o.beta1}, β2 = {o.beta2}, ε = {o.eps}",
    }[o.optimizer]
    if o.clip_value is not None:
        rule += f", g clipped to ±{o.clip_value}"
    elif o.clip_norm is not None:
        rule += f", g scaled to ‖g‖ ≤ {o.clip_norm}"
    return rule


def _optimizer_lines(ep: Epoch, name: str, width: int) -> list[Text]:
    """What the optimizer did to one parameter: g, clipping, state, step."""
    indent = Text("   ")

    def line(title: str, a: np.ndarray) -> Text:
        head = indent.copy().append(f"{title:<9}", style=LABEL)
        return head.append_text(inline(a, width - head.cell_len))

    def row(title: str, a: np.ndarray, b: np.ndarray | None = None) -> list[Text]:
        """``title [a]``, and ``title ← [b]`` (on the same line when both fit)."""
        if b is None:
            return [line(title, a)]
        both = line(title, a).append(" → ").append_text(inline(b, width))
        if both.cell_len <= width:
            return [both]
        return [line(title, a), line(f"{title} ←", b)]

    g, clipped = ep.grads.get(name), ep.clipped.grads.get(name)
    out = row("g", g)
    if ep.options.clip_value is not None or ep.options.clip_norm is not None:
        out += [line("g ← clip", clipped)]
        if ep.clipped.norm is not None:
            out.append(indent.copy().append(
                f"‖g‖₂ = {fmt(ep.clipped.norm)} (all six), scale = {fmt(ep.clipped.scale)}",
                style=MUTED))
    s0, s1 = ep.state_before, ep.state_after
    if isinstance(s0, MomentumState) and isinstance(s1, MomentumState):
        out += row("v", s0.v.get(name), s1.v.get(name))
    elif isinstance(s0, AdagradState) and isinstance(s1, AdagradState):
        out += row("m", s0.m.get(name), s1.m.get(name))
    elif isinstance(s0, AdamState) and isinstance(s1, AdamState):
        o, n = ep.options, s1.n
        out += row("m", s0.m.get(name), s1.m.get(name))
        out += row("v", s0.v.get(name), s1.v.get(name))
        out.append(indent.copy().append(
            f"n = {n}: 1 − β1ⁿ = {fmt(1.0 - o.beta1**n)}, 1 − β2ⁿ = {fmt(1.0 - o.beta2**n)}",
            style=MUTED))
    with np.errstate(all="ignore"):
        out.append(line("step", ep.params_after.get(name) - ep.params.get(name)))
    return out
