"""fitted() picks the widest version of a formula line that fits, and
abandons a width at the first part that overflows: the line it returns is
the one the plain search returns."""

from __future__ import annotations

import numpy as np
import pytest
from rich.text import Text

from rnn_tui.tui.widgets.formula import eq, fitted
from rnn_tui.tui.widgets.numbers import inline, vector


@pytest.mark.parametrize("w", [24, 60, 100, 157])
@pytest.mark.parametrize("shape", [(1, 1), (4, 2), (128, 128)])
def test_fitted_stops_early_but_picks_the_same_line(w: int, shape: tuple[int, int]) -> None:
    """fitted() abandons a width as soon as the line is too long; the line
    it returns is the one the plain search (build every width in full,
    keep the first that fits, else the last) returns."""
    rng = np.random.default_rng(w)
    M, v = rng.normal(0, 3, shape), rng.normal(0, 3, shape[1])

    def build(q: int) -> list:
        return ["= tanh(", lambda: inline(M, q), "·", lambda: vector(v, q), " + ",
                lambda: inline(M, q), ")"]

    def plain_search() -> Text:
        for q in (w, w // 2, w // 3, w // 4, w // 6, 10):
            line = eq(*(p() if callable(p) else p for p in build(q)))
            if line.cell_len <= w:
                return line
        return line

    got, want = fitted(build, w), plain_search()
    assert (got.plain, got.spans) == (want.plain, want.spans)
