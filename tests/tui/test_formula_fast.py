"""The formula layout's fast fit (rows measured before they are built, cell
widths from the numbers, one memo per fit) shows exactly what the old fit
showed (tests/helpers/old_formula_layout.py: every level rendered, every
cell formatted): the same rows, spans and styles, the same hidden count and
scroll, on every step of epoch 1 of a 3-unit model and a K64 model, with a
student's differences marked, at the formula box of 80x24, 120x40 and 160x50
screens and at random sizes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.text import Text

from rnn_tui.core.compare import compare_file
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase, Stepper
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets import formula_lines
from rnn_tui.tui.widgets.formula_layout import LEVELS, Eq, Vec, fit, measure, widest
from rnn_tui.tui.widgets.formula_rows import Memo, padded, widths
from rnn_tui.tui.widgets.marks import NO_MARKS, Marks

from helpers import old_formula_layout as old
from helpers.models import random_spec
from helpers.scenarios import student_file, student_model

# the formula box of 80x24, 120x40 and 160x50 screens, and two odd ones
BOXES = [(76, 7), (76, 13), (102, 18), (40, 30), (157, 9)]


def equations(view: StepView, height: int, scroll: int, marks: Marks) -> tuple[list[Eq], str]:
    """What formula_lines.formula lays out (checked against it below)."""
    ph = view.phase
    if ph is Phase.FORWARD:
        return formula_lines.forward(view), "lines"
    if ph is Phase.OUTPUT:
        return formula_lines.output(view, marks), "lines"
    if ph is Phase.BPTT:
        return formula_lines.bptt(view, height + abs(scroll), marks), "factors"
    name = UPDATE_ORDER[view.pos.index]
    return formula_lines.update(view, name, height + scroll, marks), "lines"


def exact(lines: list[Text]) -> list[tuple[object, ...]]:
    """Everything a row draws (Text's == ignores the base style)."""
    return [(t.plain, t.style, tuple(t.spans), t.end, t.justify, t.overflow) for t in lines]


def same(view: StepView, width: int, height: int, scroll: int = 0,
         marks: Marks = NO_MARKS) -> None:
    eqs, what = equations(view, height, scroll, marks)
    new = fit(eqs, width, height, scroll, what)
    eqs, what = equations(view, height, scroll, marks)
    was = old.fit(eqs, width, height, scroll, what)
    where = f"{view.label} in {width}x{height}, scroll {scroll}"
    assert exact(new.lines) == exact(was.lines), where
    assert (new.hidden, new.scroll) == (was.hidden, was.scroll), where
    shown = formula_lines.formula(view, width, height, scroll, marks)
    assert exact(shown.lines) == exact(new.lines), f"equations() is not formula(): {where}"


def measured(eqs: list[Eq], width: int) -> None:
    """What fit() decides by, without building rows: the old render's rows and numbers."""
    memo = Memo()
    for eq in eqs:
        for level in range(len(LEVELS)):
            rows = old.render(eq, width, level)
            assert measure(eq, width, level, memo) == (len(rows), old._numbers(rows)), (
                width, level, [r.plain for r in rows])


def walk(spec: ModelSpec, boxes: list[tuple[int, int]], scrolls: tuple[int, ...] = (0,),
         trace: object = None) -> int:
    s = Stepper(spec)
    steps = 0
    while s.position.epoch == 1:
        view = s.view()
        marks = Marks(trace.blocks_at(s.position)) if trace is not None else NO_MARKS
        for width, height in boxes:
            for scroll in scrolls:
                same(view, width, height, scroll, marks)
        s.next()
        steps += 1
    return steps


@pytest.mark.slow  # the quick loop keeps the random models and boxes below
def test_every_step_of_a_three_unit_model() -> None:
    spec = random_spec(K=8, D=2, H=3, T=10, seed=0)
    assert walk(spec, BOXES[:3]) == 10 + 10 + 55 + 6


@pytest.mark.slow  # the walk above in two more boxes, scrolled
def test_every_step_of_a_three_unit_model_scrolled() -> None:
    spec = random_spec(K=8, D=2, H=3, T=10, seed=0)
    assert walk(spec, BOXES, scrolls=(2, 5)) == 10 + 10 + 55 + 6


@pytest.mark.slow
def test_every_step_of_a_k64_model() -> None:
    spec = random_spec(K=64, D=32, H=128, T=6, seed=1)
    assert walk(spec, BOXES[:3]) == 6 + 6 + 21 + 6


@pytest.mark.slow
def test_every_step_with_a_students_differences_marked(tmp_path) -> None:
    spec = student_model()
    report = compare_file(spec, student_file(spec, "h_k", tmp_path), 1e-6, "x_k")
    walk(spec, [(60, 14), (100, 24), (160, 40), (76, 7)], trace=report)


@pytest.mark.slow
def test_late_rows_of_a_long_sequence() -> None:
    """BPTT rows far into a T = 200 sequence: chains of 100+ factors."""
    s = Stepper(random_spec(K=64, D=32, H=128, T=200, seed=2))
    for phase, index in ((Phase.BPTT, 150 * 151 // 2 + 3), (Phase.BPTT, 20099),
                         (Phase.UPDATE, 0), (Phase.UPDATE, 2)):
        s.goto(s.position.__class__(epoch=1, phase=phase, index=index))
        for width, height in BOXES[:3]:
            same(s.view(), width, height)
            same(s.view(), width, height, scroll=40)


@pytest.mark.slow  # ~2.5 s; the quick loop's fixed models and boxes walk the same comparison
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(K=st.integers(2, 40), D=st.integers(1, 40), H=st.integers(1, 40), T=st.integers(1, 5),
       seed=st.integers(0, 2**16), scale=st.sampled_from([0.5, 2.0, 50.0, 1e6]),
       width=st.integers(10, 220), height=st.integers(1, 60), scroll=st.integers(0, 4))
def test_random_models_and_boxes(K: int, D: int, H: int, T: int, seed: int, scale: float,
                                 width: int, height: int, scroll: int) -> None:
    """Numbers of every size (wide cells, scientific notation) and any box."""
    s = Stepper(random_spec(K, D, H, T, seed, scale=scale))
    last = T * (T + 1) // 2 - 1
    for phase, index in ((Phase.FORWARD, T - 1), (Phase.OUTPUT, 0), (Phase.BPTT, last),
                         (Phase.UPDATE, 0), (Phase.UPDATE, 2)):
        s.goto(s.position.__class__(epoch=1, phase=phase, index=index))
        same(s.view(), width, height, scroll)
        measured(equations(s.view(), height, scroll, NO_MARKS)[0], width)


def test_nonfinite_and_odd_text() -> None:
    """NaN, inf, numbers that touch their labels, blank and wide text atoms."""
    v = np.array([np.nan, np.inf, -np.inf, 1e300, -0.0, 9.99995, -99999.5])
    eqs = [Eq([["a1", Vec(v)], ["1.5", "x"], ["  "], ["字字 NaN", Vec(v[:2], post="²")]]),
           Eq([[Text("inf", style="bold"), Vec(v, keep=True)]], beside=Text(".5 ≠ 1.5")),
           Eq([["x 1", ".5"], ["In"], ["f 2."], ["5 N"], ["aN"]], style="bold"),
           Eq([["= ", Vec(v[:3], keep=True), " 1"]], beside=Text("5 ≠")),
           Eq([["   "]]), Eq([])]
    for width in (3, 8, 20, 45, 90):
        measured(eqs, width)
        for height in (1, 3, 12):
            assert exact(fit(eqs, width, height).lines) == exact(old.fit(eqs, width, height).lines)


def test_cell_widths_are_measured_cells() -> None:
    """widths() says without formatting what padded() gives, at the edges too."""
    edge = [9.98999, 9.99, 9.99994, 9.99995, 10.0, 99.99995, 1e5 - 0.00005, 1e5, 1e100,
            -1e100, np.nan, np.inf, -np.inf, -0.0, -0.00004, 5e-324]
    a = np.array([edge, [-x for x in edge]])
    assert widths(a) == [max(len(padded(x)) for x in a[:, j]) for j in range(a.shape[1])]
    rng = np.random.default_rng(0)
    b = rng.normal(0, 3, (9, 50))
    assert widths(b) == [max(len(padded(x)) for x in b[:, j]) for j in range(50)]
    assert widest(b) == max(len(padded(x)) for x in b.ravel())


@pytest.mark.slow  # every step of epoch 1 of a T = 12 K64 model
def test_every_step_of_a_longer_k64_model() -> None:
    spec = random_spec(K=64, D=32, H=128, T=12, seed=3)
    assert walk(spec, BOXES[:3], scrolls=(0, 3)) == 12 + 12 + 78 + 6
