"""Marks the test modules share."""

from __future__ import annotations

from collections.abc import Iterable

import pytest


def slow_after(keep: int, cases: Iterable[object], *, one: bool = False) -> list[object]:
    """A parametrised matrix's cases with all but the first ``keep`` marked
    slow: the quick loop (``pytest -m "not slow"``) runs a representative,
    the full suite (the README's command, CI) runs every case. A case is a
    ``pytest.param``, a tuple of the arguments, or the one argument (``one``:
    always the one argument, a tuple too)."""
    out: list[object] = []
    for n, case in enumerate(cases):
        if n < keep:
            out.append(case)
        elif hasattr(case, "values") and hasattr(case, "marks"):  # a pytest.param
            out.append(pytest.param(*case.values, marks=[*case.marks, pytest.mark.slow],
                                    id=case.id))
        elif isinstance(case, tuple) and not one:
            out.append(pytest.param(*case, marks=pytest.mark.slow))
        else:
            out.append(pytest.param(case, marks=pytest.mark.slow))
    return out
