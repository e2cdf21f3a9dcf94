"""The formula panel never repeats or silently drops a line, never cuts a
vector, substitutes every operand, and keeps the four += lines of a BPTT
term on screen: stepped through every step of epoch 1 in the real app at
80x24, 120x40 and 200x60, for the handout model and a 3-unit model; and a
property test of the pure layout for random models and widths."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.core.compare import compare_file
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets.formula import FormulaPanel
from rnn_tui.tui.widgets.formula_layout import padded
from rnn_tui.tui.widgets.formula_lines import formula
from rnn_tui.tui.widgets.marks import Marks
from rnn_tui.tui.widgets.numbers import DIFFERS

from helpers.cli import run
from helpers.marks import slow_after
from helpers.models import random_spec
from helpers.scenarios import make_app, settle, student_file, student_model
from helpers.screen import text_of

SIZES = [(80, 24), (120, 40), (200, 60)]
PAIRS = {"[": "]", "⎡": "⎤", "⎢": "⎥", "⎣": "⎦"}


def balanced(line: str) -> bool:
    """Every bracket of the line closed on the line, properly nested."""
    stack: list[str] = []
    for ch in line:
        if ch in PAIRS:
            stack.append(PAIRS[ch])
        elif ch in PAIRS.values():
            if not stack or stack.pop() != ch:
                return False
    return not stack


def three_unit(tmp: Path) -> ModelSpec:
    out = tmp / "h3.toml"
    got = run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0",
              "-o", str(out))
    assert got.returncode == 0, got.stderr
    return load(str(out))[0]


def check_step(text: str, view: StepView, size: tuple[int, int]) -> None:
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    where = f"{view.label} at {size[0]}x{size[1]}:\n{text}"
    # (two rows of a stacked matrix may hold the same numbers)
    unique = [line for line in lines if line.strip()[:1] not in ("⎡", "⎢", "⎣")]
    assert len(unique) == len(set(unique)), f"a line twice, {where}"
    for line in lines:
        assert balanced(line), f"brackets not closed on {line!r}, {where}"
    assert all("more" in line for line in lines if line.startswith("⋮")), where
    f, t = view.fwd, view.focus_t
    if view.phase is Phase.BPTT:
        for head in ("dW += ", "dU += ", "db += ", "dE["):
            assert sum(line.startswith(head) for line in lines) == 1, f"{head} missing, {where}"
    if view.phase is Phase.FORWARD:
        target = int(f.targets[t - 1])
        y_rows = text[text.index(f"ŷ_{t} = softmax"):text.index(f"L_{t} = ")]
        assert padded(f.y_hat[t - 1, target]).strip() in y_rows, f"target of ŷ, {where}"
        assert padded(f.h[t][0]).strip() in text, where


def operands_shown(text: str, view: StepView) -> None:
    """Every entry of U, W, b, x_t, h_{t-1} in the forward formula."""
    p, f, t = view.epoch.params, view.fwd, view.focus_t
    cells = re.findall(r"-?\d+\.\d{4}", text)
    for name, a in (("U", p.U), ("W", p.W), ("b", p.b), ("x_t", f.x[t - 1]),
                    ("h_t-1", f.h[t - 1])):
        for x in np.ravel(a):
            assert padded(x).strip() in cells, f"{name} entry {x} missing at t={t}:\n{text}"


async def step_epoch_1(spec: ModelSpec, size: tuple[int, int]) -> int:
    app = make_app(spec)
    engine = Stepper(spec)
    steps = 0
    async with app.run_test(size=size) as pilot:
        while app.stepper.position.epoch == 1:
            await settle(pilot)
            view = engine.view()
            assert app.stepper.position == engine.position
            text = text_of(app, "#formula")
            check_step(text, view, size)
            if size == (120, 40) and view.phase is Phase.FORWARD and spec.hidden_size <= 3:
                operands_shown(text, view)
            await pilot.press("n")
            engine.next()
            steps += 1
    return steps


@pytest.mark.parametrize("size", slow_after(1, SIZES, one=True))  # 80x24 in the quick loop
async def test_every_step_of_epoch_1_hello(size: tuple[int, int]) -> None:
    assert await step_epoch_1(load("hello")[0], size) == 24


@pytest.mark.slow  # 81 steps x 3 sizes; hello's walk at 80x24 stays in the quick loop
@pytest.mark.parametrize("size", SIZES)
async def test_every_step_of_epoch_1_three_units(size: tuple[int, int], tmp_path: Path) -> None:
    assert await step_epoch_1(three_unit(tmp_path), size) == 10 + 10 + 55 + 6


@pytest.mark.slow
async def test_scroll_keys_show_the_hidden_lines(tmp_path: Path) -> None:
    """At 80x24 the last BPTT term of the 3-unit model hides factor lines
    behind one ⋮ row; } scrolls down through them, { back."""
    spec = three_unit(tmp_path)
    app = make_app(spec)
    async with app.run_test(size=(80, 24)) as pilot:
        app.stepper.goto(Position(epoch=1, phase=Phase.BPTT, index=54))  # term (10, 1)
        app.moved()
        await settle(pilot)
        first = text_of(app, "#formula")
        assert "⋮" in first and "more" in first
        seen = set(first.splitlines())
        panel = app.query_one(FormulaPanel)
        for _ in range(40):
            await pilot.press("right_curly_bracket")
            await settle(pilot)
            text = text_of(app, "#formula")
            seen |= set(text.splitlines())
            check_step(text, app.stepper.view(), (80, 24))
        assert panel.scroll_by > 0 and "more above" in text
        # every factor line of the chain was on screen at some point
        for j in range(10, 1, -1):
            assert any(line.startswith(f"× Wᵀ(1−h_{j}²)") for line in seen), j
        for _ in range(60):
            await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert text_of(app, "#formula") == first


def views(spec: ModelSpec) -> list[StepView]:
    """One view per phase: first and last step of each."""
    s = Stepper(spec)
    T = s.layout.T
    out = []
    for phase, last in ((Phase.FORWARD, T - 1), (Phase.OUTPUT, T - 1),
                        (Phase.BPTT, T * (T + 1) // 2 - 1), (Phase.UPDATE, 5)):
        for index in sorted({0, last}):
            s.goto(Position(epoch=1, phase=phase, index=index))
            out.append(s.view())
    return out


def check_layout(view: StepView, width: int, height: int, scroll: int = 0) -> None:
    got = formula(view, width, height, scroll)
    assert len(got.lines) <= height
    for line in got.lines:
        assert line.cell_len <= width, (width, line.plain)
        assert balanced(line.plain), line.plain
    if view.phase is Phase.BPTT and height >= 8 and width >= 60:
        heads = [line.plain for line in got.lines]
        for head in ("dW += ", "dU += ", "db += ", "dE["):
            assert any(h.startswith(head) for h in heads), (width, height, heads)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(K=st.integers(2, 64), D=st.integers(1, 64), H=st.integers(1, 64), T=st.integers(1, 6),
       seed=st.integers(0, 2**16), width=st.integers(20, 200), height=st.integers(1, 60),
       scroll=st.integers(0, 5))
def test_random_models_fit_any_width(K: int, D: int, H: int, T: int, seed: int, width: int,
                                     height: int, scroll: int) -> None:
    """No row wider than the box, every bracket closed, the += rows of a
    BPTT term on screen, for random sizes up to 64 and widths 20..200."""
    for view in views(random_spec(K, D, H, T, seed, scale=2.0)):
        check_layout(view, width, height, scroll)


@pytest.mark.parametrize(("K", "D", "H", "T"), slow_after(1, [(256, 2, 2, 3), (3, 1024, 2, 3),
                                                  (3, 2, 1024, 3), (2, 2, 2, 4999)]))
def test_huge_models_never_raise(K: int, D: int, H: int, T: int) -> None:
    """Large models are elided, never formatted whole (and never raise)."""
    for view in views(random_spec(K, D, H, T, seed=1, scale=0.1)):
        for width, height in ((20, 4), (76, 8), (400, 60)):
            check_layout(view, width, height)


def test_nonfinite_numbers() -> None:
    spec = random_spec(4, 2, 3, 4, seed=3, lr=1e308, scale=1e300)
    for view in views(spec):
        for width in (20, 76, 157):
            check_layout(view, width, 10)


SHOWN = {Phase.OUTPUT: ("delta", "out.dV", "out.dc"),
         Phase.BPTT: ("term", "term.dW", "term.dU", "term.db")}  # fields drawn whole


@pytest.mark.parametrize("bug", ["no_dtanh", *(pytest.param(b, marks=pytest.mark.slow)
                                                for b in ("h_k", "dc_one_step", "dE_x_t"))])
def test_compare_marks_keep_the_guarantees(bug: str, tmp_path: Path) -> None:
    """A student's differences on every step of epoch 1: the formula still
    never repeats a line, cuts a vector or loses a += line, no row is wider
    than the box; where a field it draws differs, its cells are marked and
    (in a wide box) their number is beside ours."""
    spec = student_model()
    report = compare_file(spec, student_file(spec, bug, tmp_path), 1e-6, "x_k")
    s = Stepper(spec)
    marked_steps = beside_steps = 0
    while s.position.epoch == 1:
        view = s.view()
        marks = Marks(report.blocks_at(s.position))
        assert not any(sp.style == DIFFERS for line in formula(view, 160, 40).lines
                       for sp in line.spans)  # no marks by default
        fields = (f"new.{UPDATE_ORDER[view.pos.index]}",) if view.phase is Phase.UPDATE \
            else SHOWN.get(view.phase, ())
        for width, height in ((60, 14), (100, 24), (160, 40)):
            got = formula(view, width, height, 0, marks)
            assert len(got.lines) <= height
            assert all(line.cell_len <= width for line in got.lines), width
            text = "\n".join(line.plain for line in got.lines)
            check_step(text, view, (width, height))
            differs = [line.plain[sp.start:sp.end] for line in got.lines for sp in line.spans
                       if sp.style == DIFFERS]
            if view.phase is not Phase.FORWARD and marks.of(*fields) and width == 160:
                marked_steps += 1
                assert differs, f"{view.label}: nothing marked\n{text}"
                field = next(f for f in fields if marks.of(f))
                assert marks.beside(field).plain.strip() in text, f"{view.label}\n{text}"
                beside_steps += 1
            if not marks:
                assert not differs and "≠" not in text
        s.next()
    assert marked_steps > 0 and beside_steps > 0
