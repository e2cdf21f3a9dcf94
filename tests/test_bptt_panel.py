"""The BPTT triangle keeps the rows it built and rebuilds only the rows a
key changed: every row it shows must be the row a fresh panel would build,
at every step, forwards and backwards, numeric and shaded."""

from __future__ import annotations

import pytest

from rnn_tui.stepper import Stepper
from rnn_tui.widgets.bptt import BpttPanel

from conftest import random_spec


def lines_of(panel: BpttPanel, stepper: Stepper, width: int, height: int) -> list:
    return [(line.plain, tuple(line.spans)) for line in
            panel.lines(stepper.view(), width, height)]


@pytest.mark.parametrize(("width", "height"), [(120, 12), (30, 6)], ids=["numeric", "shaded"])
def test_kept_rows_equal_fresh_rows_at_every_step(width: int, height: int) -> None:
    spec = random_spec(5, 3, 4, 9, seed=4)
    stepper, kept = Stepper(spec), BpttPanel()
    n = stepper.layout.steps_per_epoch
    walk = ["next"] * (2 * n + 3) + ["prev"] * (n + 5)  # into epoch 3 and back
    seen = set()
    for move in walk:
        getattr(stepper, move)()
        got = lines_of(kept, stepper, width, height)
        assert got == lines_of(BpttPanel(), stepper, width, height), stepper.position
        seen.add(tuple(got))
    assert len(seen) > 9 * 10 // 2  # more screens than BPTT terms in an epoch: rows changed
