"""What the panels keep between keys must never show a stale number.

The BPTT triangle keeps the rows it built and the formula the factor lines
of a BPTT row; a panel's ``memo`` says when its lines cannot have changed.
Each is checked against fresh building at every step of a walk, forwards
and backwards, across epochs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Span, Text

from rnn_tui.core.stepper import Stepper
from rnn_tui.tui.widgets.bptt import BpttPanel
from rnn_tui.tui.widgets.formula import FormulaPanel, eq, fitted
from rnn_tui.tui.widgets.gradients import GradientsPanel
from rnn_tui.tui.widgets.numbers import inline, vector
from rnn_tui.tui.widgets.panel import Panel, segments
from rnn_tui.tui.widgets.sequence import SequenceStrip
from rnn_tui.tui.widgets.update import UpdatePanel

from helpers.models import random_spec


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


def test_kept_formula_lines_equal_fresh_lines_through_bptt() -> None:
    """The formula keeps a BPTT row's factor lines; every step shows what a
    fresh panel builds."""
    spec = random_spec(5, 3, 4, 9, seed=6)
    stepper, kept = Stepper(spec), FormulaPanel()
    stepper.next_phase()
    stepper.next_phase()  # the first BPTT term
    walk = ["next"] * 50 + ["prev"] * 20 + ["next"] * 10

    def lines(panel: FormulaPanel) -> list:
        return [(t.plain, tuple(t.spans)) for t in panel.lines(stepper.view(), 100, 14)]

    seen = set()
    for move in walk:
        got = lines(kept)
        assert got == lines(FormulaPanel()), stepper.position
        seen.add(tuple(got))
        getattr(stepper, move)()
    assert len(seen) > 40


@pytest.mark.parametrize("cls", [BpttPanel, GradientsPanel, UpdatePanel, SequenceStrip],
                         ids=lambda c: c.__name__)
def test_equal_memo_means_equal_lines(cls: type[Panel]) -> None:
    """Two positions with the same memo key get the same lines: a panel
    skips rebuilding on that promise."""
    spec = random_spec(5, 3, 4, 7, seed=8)
    stepper = Stepper(spec)
    by_memo: dict = {}
    n = stepper.layout.steps_per_epoch
    for move in ["next"] * (2 * n + 4) + ["prev"] * (n + 4):
        view = stepper.view()
        key = cls().memo(view)
        lines = [(t.plain, tuple(t.spans)) for t in cls().lines(view, 90, 12)]
        if key is not None:
            assert by_memo.setdefault(key, lines) == lines, (cls.__name__, stepper.position)
        getattr(stepper, move)()
    assert by_memo, f"{cls.__name__}.memo never keyed a position"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab █·-.0123456789", max_size=40),
       st.lists(st.tuples(st.integers(0, 45), st.integers(0, 45),
                          st.sampled_from(["bold", "red", "reverse", "", "bold #ff0000"])),
                max_size=8),
       st.sampled_from(["", "dim", "blue on #101010"]))
def test_fast_segments_are_richs_segments(plain: str, raw: list, line_style: str) -> None:
    """The panels' one-pass renderer gives Rich's segments for any line:
    in-order spans take the fast path, others fall back to Rich."""
    console = Console(width=80, color_system="truecolor", force_terminal=True)
    text = Text(plain, style=line_style)
    n = len(plain) + 1
    for a, b, style in raw:  # spans inside the text, as Rich requires
        text.spans.append(Span(*sorted((a % n, b % n)), style))
    assert segments(text, console) == list(text.render(console))


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
