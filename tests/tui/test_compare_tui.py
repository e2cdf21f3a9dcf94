"""The debugger with ``--compare THEIRS.json``: a student's trace against
ours, on screen. The counts, the jump and the marked numbers are checked
against the core's Report for the same file (rnn_tui/core/compare.py); the
handout's printed numbers are the same mechanism without --compare."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text

from rnn_tui.core import conformance
from rnn_tui.core.compare import Report, compare_file
from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.core.text import fmt_apart
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.widgets.numbers import DIFFERS
from rnn_tui.tui.widgets.panel import Panel

from helpers.marks import slow_after
from helpers.scenarios import make_app, settle, student_file, student_model
from helpers.screen import screen_text, text_of

SPEC = student_model()
SIZE = (160, 50)
WIDE = (200, 50)  # Ω of K = 6, sign-padded, shown whole beside the formula
COUNT = re.compile(r"(\w+): (\d+) differs? here · (\d+) in all")


def report_for(path: Path, mode: str = "x_k") -> Report:
    return compare_file(SPEC, path, 1e-6, mode)  # type: ignore[arg-type]


def header(app: RnnApp) -> tuple[str, int, int]:
    found = COUNT.search(text_of(app, "#status"))
    assert found, text_of(app, "#status")
    return found[1], int(found[2]), int(found[3])


def marked(app: RnnApp, selector: str) -> list[str]:
    """The cells a panel draws in the DIFFERS style, as shown."""
    panel = app.query_one(selector, Panel)
    assert panel.view is not None
    width, height = panel.content_size.width, panel.content_size.height
    lines: list[Text] = panel.lines(panel.view, width, height)
    return [line.plain[s.start:s.end] for line in lines for s in line.spans
            if s.style == DIFFERS]


def notes(app: RnnApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


@pytest.mark.parametrize(("bug", "where"), slow_after(1, [
    ("no_dtanh", Position(epoch=1, phase=Phase.BPTT, index=0)),
    ("dc_one_step", Position(epoch=1, phase=Phase.UPDATE, index=1)),
]))
async def test_header_counts_and_j_lands_on_the_first_difference(
        tmp_path: Path, bug: str, where: Position) -> None:
    path = student_file(SPEC, bug, tmp_path)
    report = report_for(path)
    first = report.first()
    assert first is not None and first.position == where  # not the start: j has to move
    app = make_app(SPEC, compare=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        start = app.stepper.position
        assert header(app) == ("compare", len(report.differences_at(start)), report.differ)
        await pilot.press("j")
        await settle(pilot)
        assert app.stepper.position == where
        assert header(app) == ("compare", len(report.differences_at(where)), report.differ)
        assert len(report.differences_at(where)) > 0
        strip = text_of(app, "#handout")
        assert f"✗ {len(report.differences_at(where))} differ" in strip
        ours, theirs = fmt_apart(first.expected, first.got)
        assert f"✗ {first.name} theirs {theirs}, ours {ours}" in strip
        assert "diagnosis: " in strip
        await pilot.press("j")  # the next one, as the report has it
        await settle(pilot)
        assert app.stepper.position == report.next_difference(where)
        assert header(app)[1] == len(report.differences_at(app.stepper.position))


async def test_the_marked_cells_show_their_number(tmp_path: Path) -> None:
    """no_dtanh: the term itself differs from BPTT t=1 k=1 on; the formula
    panel marks the term's entries and shows theirs beside ours; at the
    update of W the gradients panel marks dW with their number."""
    path = student_file(SPEC, "no_dtanh", tmp_path)
    report = report_for(path)
    app = make_app(SPEC, compare=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert marked(app, "#formula") == marked(app, "#forward") == []
        await pilot.press("j")
        await settle(pilot)
        term = [c for c in report.differences_at(app.stepper.position) if c.field == "term"]
        assert term
        shown = marked(app, "#formula")
        ours = fmt_apart(term[0].expected, term[0].got)
        assert ours[0] in shown  # the term's cells, marked
        formula = text_of(app, "#formula")
        assert f"≠ {ours[1]} at [{term[0].entry[0] + 1}]" in formula
        # the update of W: dW as a whole
        app.stepper.goto(Position(epoch=1, phase=Phase.UPDATE, index=2))
        app.moved()
        await settle(pilot)
        dW = [c for c in report.differences_at(app.stepper.position) if c.field == "grad.W"]
        assert dW
        c = dW[0]
        ours, theirs = fmt_apart(c.expected, c.got)
        assert ours in marked(app, "#gradients")  # one line a matrix here: no room beside
        assert f"✗ {c.name} theirs {theirs}, ours {ours}" in text_of(app, "#handout")
        new_W = [c for c in report.differences_at(app.stepper.position) if c.field == "new.W"]
        assert new_W and marked(app, "#update") and marked(app, "#formula")


async def test_a_forward_bug_is_marked_at_the_start(tmp_path: Path) -> None:
    """no_b: h_1 differs at the first step; the forward panel marks it."""
    path = student_file(SPEC, "no_b", tmp_path)
    report = report_for(path)
    app = make_app(SPEC, compare=path)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        first = report.first()
        assert first is not None and first.position == app.stepper.position
        h = [c for c in report.differences_at(first.position) if c.field == "h"]
        forward = text_of(app, "#forward")
        h_line = next(line for line in forward.splitlines() if line.startswith("h_1"))
        assert f"≠ {fmt_apart(h[0].expected, h[0].got)[1]} at [1]" in h_line
        assert len(marked(app, "#forward")) == len(report.differences_at(first.position)) - sum(
            1 for c in report.differences_at(first.position) if c.field.startswith("param."))


async def test_a_correct_trace_marks_nothing(tmp_path: Path) -> None:
    path = student_file(SPEC, None, tmp_path)
    report = report_for(path)
    assert report.all_agree
    app = make_app(SPEC, compare=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(3):
            for selector in ("#formula", "#forward", "#gradients", "#update"):
                assert marked(app, selector) == []
            assert "≠" not in screen_text(app)
            assert f"compare: all {report.compared} agree" in text_of(app, "#status")
            await pilot.press("right_square_bracket")
            await settle(pilot)
        before = app.stepper.position
        await pilot.press("j")
        await settle(pilot)
        assert app.stepper.position == before
        assert f"No difference: all {report.compared} values agree (compare correct.json)." \
            in notes(app)


async def test_the_other_mode_compares_again(tmp_path: Path) -> None:
    """dE_x_t is the handout's convention: wrong in exact mode, right once m
    switches to the handout's dE."""
    path = student_file(SPEC, "dE_x_t", tmp_path)
    exact, handout = report_for(path, "x_k"), report_for(path, "x_t")
    assert exact.differ > 0 and handout.all_agree
    app = make_app(SPEC, compare=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert header(app)[2] == exact.differ
        await pilot.press("m")
        await settle(pilot)
        assert app.stepper.mode == "x_t"
        assert f"compare: all {handout.compared} agree" in text_of(app, "#status")


async def test_the_handout_model_is_the_same_mechanism() -> None:
    """Without --compare the handout's model compares with the printed
    numbers: the header counts them, the cells are marked, j finds them."""
    app = make_app("hello-handout")
    report = conformance.report(Stepper(load("hello-handout")[0]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert header(app) == ("handout", 0, report.differ)
        await pilot.press("j")
        await settle(pilot)
        pos = app.stepper.position
        assert pos == Position(epoch=1, phase=Phase.FORWARD, index=1) == \
            report.next_difference(Position(epoch=1, phase=Phase.FORWARD, index=0))
        assert header(app) == ("handout", len(report.differences_at(pos)), report.differ)
        h_line = next(line for line in text_of(app, "#forward").splitlines()
                      if line.startswith("h_2"))
        assert "≠ 0.0537 at [1]" in h_line  # the printing slip NOTES.md lists
        assert "0.0538" in marked(app, "#forward")


async def test_another_model_leaves_the_trace_behind(tmp_path: Path) -> None:
    """The trace belongs to the model it was read for: opening hello (o)
    switches to the handout's comparison."""
    app = make_app(SPEC, compare=student_file(SPEC, "h_k", tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert header(app)[0] == "compare"
        app.open_spec(load("hello")[0])
        await settle(pilot)
        assert header(app)[0] == "handout"
        assert "compare h_k.json" not in text_of(app, "#handout")
