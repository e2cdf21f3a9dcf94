"""A panel with a ``memo`` (widgets/panel.py: the loss chart, the update
panel, the forward panel) keeps its lines while what they depend on stays the same; after
every key, resize and comparison, show() must give the lines it would
build afresh."""

from __future__ import annotations

from rnn_tui.tui.widgets.forward import ForwardPanel
from rnn_tui.tui.widgets.loss_chart import LossChart
from rnn_tui.tui.widgets.panel import Panel
from rnn_tui.tui.widgets.update import UpdatePanel

from helpers.scenarios import make_app, student_file, student_model, walk_plan

N = "right_square_bracket"
# every phase, the updates and the epoch boundary, back again, a resize, presenting,
# the other dE convention (m: the epoch is recomputed)
PLAN = ["n"] * 3 + [N, "n", N, "n", "p", N] + ["n"] * 7 + ["p", "p", (80, 24), "n", "n",
                                                          (160, 50), "z", "n", "e", "p", "m",
                                                          "n", N, N, "n"]


def drawn(panel: Panel) -> list[tuple[object, ...]]:
    return [(t.plain, tuple(t.spans), t.style) for t in panel._lines] + [panel.border_title]


async def walk(app) -> int:
    checked = 0
    async with app.run_test(size=(160, 50)) as pilot:
        async for where in walk_plan(pilot, PLAN):
            for panel in (app.query_one(LossChart), app.query_one(UpdatePanel),
                          app.query_one(ForwardPanel)):
                panel.show(app.stepper.view())  # as the next repaint would: memo and all
                kept = drawn(panel)
                panel._shown = None  # forget the memo: build afresh
                panel.show(app.stepper.view())
                assert drawn(panel) == kept, f"{type(panel).__name__} after {where}"
                checked += 1
    return checked


async def test_memo_panels_equal_a_fresh_build() -> None:
    assert await walk(make_app(student_model())) == 3 * len(PLAN)


async def test_memo_panels_equal_a_fresh_build_with_a_comparison(tmp_path) -> None:
    spec = student_model()
    app = make_app(spec, compare=student_file(spec, "no_dtanh", tmp_path))
    assert await walk(app) == 3 * len(PLAN)
