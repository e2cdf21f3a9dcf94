"""Where a GRU's or an LSTM's numbers first stop being finite (the status
line names it): the step found is the first whose numbers are not finite,
and a search through BPTT stops when asked (quitting the app asks)."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.cells import CellParams
from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.epochs import Cancelled
from rnn_tui.core.stepper import Phase, Position

from helpers.models import random_cell


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_exploding_bptt_is_found_at_its_first_term_and_the_search_stops(cell: str) -> None:
    """V of 3e307 (K 64, H 16, T 20): the forward pass is finite, the BPTT
    sums overflow after a few terms."""
    p, x, y = random_cell(cell, 64, 2, 16, 20, seed=1)
    big = CellParams(cell, {n: a * 3e307 if n == "V" else a for n, a in p.arrays.items()})
    with np.errstate(all="ignore"):
        st = CellStepper(big, x, y, 0.1)
        ep = st.current
        assert not ep.grads.is_finite() and np.isfinite(ep.fwd.loss).all()
        found = ep.first_nonfinite()
        assert found is not None and found[0] == "BPTT" and found[1] > 0
        pos = Position(epoch=1, phase=Phase.BPTT, index=found[1])
        assert not st.peek(pos).finite
        before = st.layout.at(1, st.layout.step_of(pos) - 1)
        assert st.peek(before).finite
        with pytest.raises(Cancelled):
            st.current.__class__(1, ep.record, "x_k").first_nonfinite(lambda: True)
