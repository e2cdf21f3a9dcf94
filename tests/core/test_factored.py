"""core/text.factored: a power of ten factored out of a tiny vector (Adam's
v), so that fmt's 4 decimals keep its digits."""

from __future__ import annotations

import numpy as np

from rnn_tui.core.text import factored, fmt


def test_tiny_entries_keep_their_digits() -> None:
    v = np.array([1.2345e-5, 3e-8, -2e-6])
    factor, scaled = factored(v)
    assert factor == "1e-5·"
    assert [fmt(x) for x in scaled] == ["1.2345", "0.0030", "-0.2000"]
    np.testing.assert_allclose(scaled * 1e-5, v, rtol=1e-15)
    assert factored(np.array([9.99e-4]))[0] == "1e-4·"


def test_zero_large_or_nonfinite_stay_as_they_are() -> None:
    for a in (np.zeros(3), np.array([1e-3, 1e-6]), np.array([np.nan, 1e-5]),
              np.array([np.inf, 1e-5]), np.zeros((0,))):
        factor, same = factored(a)
        assert factor == "" and same is a
