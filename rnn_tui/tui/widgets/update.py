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
from rnn_tui.core.text import factored, fmt
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import marked_block
from rnn_tui.tui.widgets.numbers import CHANGED, CURRENT, LABEL, MUTED, block, inline, stacking
from rnn_tui.tui.widgets.panel import Panel


class UpdatePanel(Panel):
    TITLE = "Updates θ ← θ − η·∂L/∂θ"

    def memo(self, view: StepView) -> object:
        # the epoch's parameters, its updates so far, and the comparison's
        # differences (marks with none all mark nothing, whatever the object)
        return view.epoch, view.updated, self.marks or None

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
        cur = view.updated - 1
        optimizer = []
        if not handout:  # settings the title has no room for go below the optimizer's lines
            title, rest = _titled(ep, f"η = {view.spec.learning_rate}", width)
            self.border_title = title
            optimizer = [*_optimizer_lines(ep, UPDATE_ORDER[cur], width),
                         *_wrapped(rest, width, MUTED, "   ")]
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
        return _fitted(done, current, pending, height, width, UPDATE_ORDER[:view.updated - 1],
                       UPDATE_ORDER[view.updated:])


def _fitted(done: list[Text], current: list[Text], pending: list[Text], height: int, width: int,
            done_names: tuple[str, ...], pending_names: tuple[str, ...]) -> list[Text]:
    """The parameters updated, the one being updated and those pending, in
    ``height`` lines: the current one whole first; the others, when they do
    not fit, summed up in an explicit ``⋮`` line instead of being cut (the
    line count left off that line when it is too wide)."""
    def more(*groups: tuple[tuple[str, ...], str, list[Text]], cut: int = 0) -> list[Text]:
        """``⋮ V c updated; U b E pending (5 more lines)``; ``cut``: lines of
        the current one also left off, said first."""
        said = [f"{' '.join(names)} {word}" for names, word, lines in groups if lines]
        n = sum(len(lines) for _, _, lines in groups)
        if not n and not cut:
            return []
        tries = [f"⋮ {'; '.join(said)} ({n} more line{'s' * (n > 1)})", f"⋮ {'; '.join(said)}"]
        if cut:
            lines = f"{cut} more line{'s' * (cut > 1)}"
            tries = [f"⋮ {'; '.join([lines, *said])}", f"⋮ {'; '.join([f'{cut} more', *said])}",
                     f"⋮ {lines}"]
        return [Text(next((t for t in tries if len(t) <= width), tries[-1]), style=MUTED)]

    d, p = (done_names, "updated", done), (pending_names, "pending", pending)
    tries = [
        [*done, *current, *pending],
        [*done, *current, *more(p)],
        [*more(d), *current, *more(p)],
        [*current, *more(d, p)],
    ]
    for lines in tries:
        if len(lines) <= height:
            return lines
    cut = len(current) - height + 1
    return [*current[:height - 1], *more(d, p, cut=cut)]


def _fit(titles: tuple[str, ...], width: int) -> str:
    """The first title that the top border has room for whole, else the last."""
    return next((t for t in titles if len(t) <= width - 2), titles[-1])


def _rule(ep: Epoch) -> tuple[str, str, list[str]]:
    """The optimizer's name, its update rule (none for Adam, whose rule is in
    the formula panel) and its settings: its constants and clipping."""
    o = ep.options
    name, rule, settings = {
        "sgd": ("SGD", "θ ← θ − η g", []),
        "momentum": ("momentum", f"v ← {o.momentum} v + g; θ ← θ − η v", []),
        "adagrad": ("Adagrad", "m ← m + g²; θ ← θ − η g/√(m + 1e-8)", []),
        "adam": ("Adam", "", [f"β1 = {o.beta1}", f"β2 = {o.beta2}", f"ε = {o.eps}"]),
    }[o.optimizer]
    if o.clip_value is not None:
        settings.append(f"g clipped to ±{o.clip_value}")
    elif o.clip_norm is not None:
        settings.append(f"g scaled to ‖g‖ ≤ {o.clip_norm}")
    return name, rule, settings


def _titled(ep: Epoch, eta: str, width: int) -> tuple[str, list[str]]:
    """The longest title that the top border has room for whole (``Updates:
    Adam β1 = 0.9, β2 = 0.999`` down to ``Updates: Adam``), and what it
    leaves for the panel, in words that a line may break between."""
    name, rule, settings = _rule(ep)
    settings.append(eta)
    room = width - 2
    head, sep, below = f"Updates: {rule}", ", ", []
    if not rule or len(head) > room:
        head, sep, below = f"Updates: {name}", " ", [f"{p};" for p in rule.split("; ") if p]
        below[-1:] = [below[-1][:-1]] if below else []
    n = 0 if below else len(settings)
    while n and len(head + sep + ", ".join(settings[:n])) > room:
        n -= 1
    title = head + (sep + ", ".join(settings[:n]) if n else "")
    words = [*below, *settings[n:]]
    return title, [w if w.endswith(";") or i == len(words) - 1 else w + ","
                   for i, w in enumerate(words)]


def _wrapped(words: list[str], width: int, style: str, indent: str = "") -> list[Text]:
    """``words`` (each with its punctuation) joined by spaces, broken
    between words to lines ``width`` wide."""
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(indent + word)
    return [Text(line, style=style) for line in lines]


def _optimizer_lines(ep: Epoch, name: str, width: int) -> list[Text]:
    """What the optimizer did to one parameter: g, clipping, state, step
    (and Adam's bias corrections)."""
    indent = Text("   ")

    def numbers(a: np.ndarray, room: int) -> Text:
        """``[a]``, or ``1e-5·[a/1e-5]`` when its entries are all tiny (Adam's v)."""
        factor, scaled = factored(a)
        return Text(factor).append_text(inline(scaled, room - len(factor)))

    def line(title: str, a: np.ndarray) -> Text:
        head = indent.copy().append(f"{title:<9}", style=LABEL)
        return head.append_text(numbers(a, width - head.cell_len))

    def row(title: str, a: np.ndarray, b: np.ndarray | None = None) -> list[Text]:
        """``title [a]``, and ``title ← [b]`` (on the same line when both fit)."""
        if b is None:
            return [line(title, a)]
        both = line(title, a).append(" → ").append_text(numbers(b, width))
        if both.cell_len <= width:
            return [both]
        return [line(title, a), line(f"{title} ←", b)]

    g, clipped = ep.grads.get(name), ep.clipped.grads.get(name)
    out = row("g", g)
    if ep.options.clip_value is not None or ep.options.clip_norm is not None:
        out += [line("g ← clip", clipped)]
        if ep.clipped.norm is not None:
            out += _wrapped([f"‖g‖₂ = {fmt(ep.clipped.norm)} (all six),",
                             f"scale = {fmt(ep.clipped.scale)}"], width, MUTED, indent.plain)
    s0, s1 = ep.state_before, ep.state_after
    if isinstance(s0, MomentumState) and isinstance(s1, MomentumState):
        out += row("v", s0.v.get(name), s1.v.get(name))
    elif isinstance(s0, AdagradState) and isinstance(s1, AdagradState):
        out += row("m", s0.m.get(name), s1.m.get(name))
    elif isinstance(s0, AdamState) and isinstance(s1, AdamState):
        out += row("m", s0.m.get(name), s1.m.get(name))
        out += row("v", s0.v.get(name), s1.v.get(name))
    with np.errstate(all="ignore"):
        out.append(line("step", ep.params_after.get(name) - ep.params.get(name)))
    if isinstance(s1, AdamState):  # (the formula panel shows them too: first to go)
        o, n = ep.options, s1.n
        out += _wrapped([f"n = {n}: 1 − β1ⁿ = {fmt(1.0 - o.beta1**n)},",
                         f"1 − β2ⁿ = {fmt(1.0 - o.beta2**n)}"], width, MUTED, indent.plain)
    return out
