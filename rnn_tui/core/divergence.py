"""When training diverges: "diverging" is not "finite ✓".

A run is diverging when its total loss has grown by a factor of
``GROWTH`` (10x) over the epochs run so far (the largest finite loss
against the first), or when a parameter has an entry larger
than ``HUGE`` (1e6) in size: the numbers are still finite, but they will
not stay so, and the learning rate is the usual cause.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rnn_tui.core.maths import Params
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import FILE_ORDER
from rnn_tui.core.text import fmt

GROWTH = 10.0
CHECK_EPOCHS = 50  # what `rnn-tui check` runs
HUGE = 1e6


def diverging(history: Sequence[float], params: Params | None = None) -> str:
    """Why the run is diverging, in a few words, or "" if it is not."""
    finite = [x for x in history if math.isfinite(x)]
    if len(finite) >= 2 and finite[0] > 0:
        peak = max(finite)
        if peak >= GROWTH * finite[0]:
            growth = peak / finite[0]
            return f"loss grew {growth:.0f}x" if growth < 1e5 else f"loss grew {growth:.1e}x"
    if params is not None:
        for name in getattr(params, "names", FILE_ORDER):  # a GRU's or LSTM's too
            with np.errstate(all="ignore"):
                big = float(np.nanmax(np.abs(params.get(name)), initial=0.0))
            if math.isfinite(big) and big > HUGE:
                return f"|{name}| reaches {big:.1e}"
    return ""


def trial(spec: ModelSpec, epochs: int = CHECK_EPOCHS) -> str:
    """How the first ``epochs`` epochs go (for `rnn-tui check`), trained as
    `train` trains (with the [train] table's options): "diverging" is not
    "finite"."""
    from rnn_tui.core.report import loss_and_params

    with np.errstate(all="ignore"):
        rows = list(loss_and_params(spec, epochs, every=epochs))
    history = [loss for loss, _ in rows]
    p = rows[-1][1]
    first, last = fmt(history[0]), fmt(history[-1])
    if not all(np.isfinite(history)) or p is None or not np.all(
            [np.isfinite(p.get(n)).all() for n in getattr(p, "names", FILE_ORDER)]):
        return f"NOT FINITE within {epochs} epochs: lower the learning rate"
    why = diverging(history, p)
    if why:
        return (f"diverging in {epochs} epochs ({why}; loss {first} -> {last}): "
                "lower the learning rate")
    return f"finite over {epochs} epochs, loss {first} -> {last}"
