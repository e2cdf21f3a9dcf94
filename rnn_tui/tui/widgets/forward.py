"""x_t^o, x_t, h_{t-1}, h_t, Omega_t, y_hat_t and L_t of the focused step."""

from __future__ import annotations

import numpy as np
from rich.text import Text

from rnn_tui.core.text import char
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.marks import DIFFERS, marked_vector
from rnn_tui.tui.widgets.numbers import (
    ARGMAX,
    LABEL,
    RIGHT,
    TARGET,
    WRONG,
    cell,
    cell_width,
    heading,
    vector,
)
from rnn_tui.tui.widgets.panel import Panel


def label(name: str, pad: int = 6) -> Text:
    return Text.assemble((f"{name:<{pad}}", LABEL))


class ForwardPanel(Panel):
    TITLE = "Forward"

    def memo(self, view: StepView) -> object:
        # step t of the epoch's forward pass, ΣL so far, the chunk (h_0 carried),
        # and the comparison's differences (marks with none all mark nothing)
        return view.epoch, view.focus_t, view.visible_t, view.pos.chunk, self.marks or None

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        t = view.focus_t
        f, vocab = view.fwd, view.spec.alphabet
        i_in, i_out = int(f.inputs[t - 1]), int(f.targets[t - 1])
        pred = int(f.predictions[t - 1])
        w = width - 6
        self.border_title = f"Forward  t={t}"
        onehot = np.zeros(len(vocab))
        onehot[i_in] = 1.0
        xo = Text("[")
        if len(vocab) <= max(4, (w - 8) // 2):
            xo.append(" ".join("1" if i == i_in else "0" for i in range(len(vocab))))
        else:
            xo.append(f"… 1 at {i_in + 1} of {len(vocab)} …")
        xo.append(f"] {char(vocab[i_in])!r}")
        y_styles = {i_out: TARGET}
        y_styles[pred] = TARGET if pred == i_out else ARGMAX
        m = self.marks  # the active comparison's differences at this step
        L = f.loss[t - 1]
        loss = label(f"L_{t}").append_text(cell(float(L), DIFFERS if m.of("loss") else ""))
        m.append_beside(loss, width, "loss")
        loss.append("   ΣL = ", style=LABEL).append_text(
            cell(view.running_loss, DIFFERS if m.of("total_loss") else ""))
        m.append_beside(loss, width, "total_loss")
        verdict = Text.assemble((f"predicts {char(vocab[pred])!r}", ARGMAX))
        if pred == i_out:
            verdict.append(", right", style=RIGHT)
        else:
            verdict.append(f", we want {char(vocab[i_out])!r}", style=WRONG)
        carried: list[Text] = []  # truncated BPTT: h_0 comes from the previous chunk
        previous = label(f"h_{t - 1}").append_text(vector(f.h[t - 1], w))
        if view.pos.chunk > 0:
            note = Text(f"  carried from chunk {view.pos.chunk}", style=LABEL)
            h0 = label("h_0").append_text(vector(f.h[0], w - note.cell_len)).append_text(note)
            if t == 1:
                previous = h0
            else:
                carried = [h0]
        # Ω_t and ŷ_t in one table: the same columns, named by their characters
        # (on a line of their own when the panel has room for it).
        at = m.focus("omega", "y_hat")  # vectors elided around a difference, else the argmax
        at = pred if at is None else at
        cw = max(cell_width(f.omega[t - 1], w, at), cell_width(f.y_hat[t - 1], w, at))
        named = [heading(vocab, 6, w, cw, at)] if height > 9 + len(carried) else []
        x = label(f"x_{t}").append_text(marked_vector(f.x[t - 1], w, m, "x"))
        inputs = [label(f"x°_{t}").append_text(xo), x]
        if height < 8 + len(carried):  # short (80x24): x_t names its character, the
            # verdict goes beside the loss, so that every line has a row
            x.append(f" {char(vocab[i_in])!r}")
            inputs = [x]
            short = Text.assemble(("✓ " if pred == i_out else "✗ ", RIGHT if pred == i_out
                                   else WRONG), (f"{char(vocab[pred])!r}", ARGMAX))
            if pred != i_out:
                short.append(f"≠{char(vocab[i_out])!r}", style=WRONG)
            if loss.cell_len + 2 + short.cell_len <= width:
                loss.append("  ").append_text(short)
                verdict = Text("")
        lines = [
            *carried,
            *inputs,
            previous,
            label(f"h_{t}").append_text(marked_vector(f.h[t], w, m, "h")),
            *named,
            label(f"Ω_{t}").append_text(marked_vector(f.omega[t - 1], w, m, "omega", y_styles,
                                                      focus=at, cw=cw)),
            label(f"ŷ_{t}").append_text(marked_vector(f.y_hat[t - 1], w, m, "y_hat", y_styles,
                                                      focus=at, cw=cw)),
            loss,
            verdict,
        ]
        return [line for line in lines if line.plain]
