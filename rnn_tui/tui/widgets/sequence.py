"""The training text with the current input and target highlighted, and
each step's prediction marked right or wrong under its target."""

from __future__ import annotations

import math

from rich.text import Text

from rnn_tui.core.text import char
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import (
    CURRENT,
    LABEL,
    MUTED,
    RIGHT,
    TARGET,
    WRONG,
    assembled,
    fmt,
)
from rnn_tui.tui.widgets.panel import Panel


class SequenceStrip(Panel):
    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        text = view.spec.text
        f = view.fwd
        vocab = view.spec.alphabet
        t = view.focus_t
        cols = max(1, (width - 8) // 2)
        lo = max(0, min(t - cols // 2, len(text) - cols))
        hi = min(len(text), lo + cols)
        top: list[tuple[str, str]] = [("text   ", LABEL)]
        bottom: list[tuple[str, str]] = [("pred   ", LABEL)]
        predictions, targets = f.predictions, f.targets  # (T,): argmax once, not per cell
        if lo > 0:
            top.append(("…", MUTED))
            bottom.append((" ", ""))
        for i in range(lo, hi):
            style = CURRENT if i == t - 1 else TARGET if i == t else ""
            top += [(char(text[i]), style), (" ", "")]
            step = i  # the prediction made at step i (1-based) is for text[i]
            if 1 <= step <= view.visible_t:
                pred = int(predictions[step - 1])
                ok = pred == int(targets[step - 1])
                bottom += [(char(vocab[pred]), RIGHT if ok else WRONG), (" ", "")]
            else:
                bottom.append(("  ", ""))
        if hi < len(text):
            top.append(("…", MUTED))
        bottom.append((f"  {view.correct_count}/{view.visible_t} right", LABEL))
        first = assembled(top)
        history = view.loss_history
        if history:
            finite = [v for v in history if math.isfinite(v)]
            summary = Text(f"   loss {fmt(history[-1])}", style=LABEL)
            if finite:
                summary.append(f"  min {fmt(min(finite))}", style=LABEL)
            first.append_text(summary)
        return [first, assembled(bottom)]

