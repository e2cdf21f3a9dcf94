"""The training text with the current input and target highlighted, and
each step's prediction marked right or wrong under its target."""

from __future__ import annotations

import math

from rich.text import Text

from rnn_tui.core.text import char
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.numbers import CURRENT, LABEL, MUTED, RIGHT, TARGET, WRONG, fmt
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
        top = Text.assemble(("text   ", LABEL))
        bottom = Text.assemble(("pred   ", LABEL))
        predictions, targets = f.predictions, f.targets  # (T,): argmax once, not per cell
        if lo > 0:
            top.append("…", style=MUTED)
            bottom.append(" ")
        for i in range(lo, hi):
            style = CURRENT if i == t - 1 else TARGET if i == t else ""
            top.append(char(text[i]), style=style).append(" ")
            step = i  # the prediction made at step i (1-based) is for text[i]
            if 1 <= step <= view.visible_t:
                pred = int(predictions[step - 1])
                ok = pred == int(targets[step - 1])
                bottom.append(char(vocab[pred]), style=RIGHT if ok else WRONG).append(" ")
            else:
                bottom.append("  ")
        if hi < len(text):
            top.append("…", style=MUTED)
        bottom.append(f"  {view.correct_count}/{view.visible_t} right", style=LABEL)
        history = view.loss_history
        if history:
            finite = [v for v in history if math.isfinite(v)]
            summary = Text(f"   loss {fmt(history[-1])}", style=LABEL)
            if finite:
                summary.append(f"  min {fmt(min(finite))}", style=LABEL)
            top.append_text(summary)
        return [top, bottom]
