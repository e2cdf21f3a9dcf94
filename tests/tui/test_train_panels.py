"""The update and forward panels with a [train] table (issue 16): the
optimizer's numbers and the carried h_0, as the engine computes them."""

from __future__ import annotations

import numpy as np

from rnn_tui.core.model_file import validate
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.text import fmt
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.widgets.numbers import inline
from rnn_tui.tui.widgets.panel import Panel

from helpers.models import random_spec
from helpers.scenarios import make_app, settle
from helpers.screen import text_of


def chunked_app(**train: object):
    base = random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)
    return make_app(validate({**base.model_dump(), "train": {"seq_length": 6, **train}}, "t"))


def every_line(app: RnnApp, selector: str) -> str:
    """What a panel would show if it were tall enough, its lines joined by spaces."""
    panel = app.query_one(selector, Panel)
    assert panel.view is not None
    return " ".join(line.plain.strip() for line in panel.lines(panel.view,
                                                               panel.content_size.width, 400))


async def test_update_panel_shows_what_adam_and_clip_norm_do() -> None:
    app = chunked_app(optimizer="adam", clip_norm=0.5)
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=2, chunk=1, phase=Phase.UPDATE, index=1))
        await pilot.press("n")  # W, the third update
        await settle(pilot)
        ep = app.stepper.current
        text = text_of(app, "#update")
        title = str(app.query_one("#update").border_title)
        # the title whole, the settings it has no room for below the optimizer's
        # lines (here under the ⋮ line: the panel is 11 lines tall)
        assert title.startswith("Updates: Adam β1 = 0.9, β2 = 0.999")
        assert "ε = 1e-08, g scaled to ‖g‖ ≤ 0.5, η = 0.1" in every_line(app, "#update")
        assert f"‖g‖₂ = {fmt(ep.clipped.norm)} (all six)," in text
        assert f"scale = {fmt(ep.clipped.scale)}" in text
        assert "g ← clip " + inline(ep.clipped.grads.W, 200).plain[:16] in text
        state = ep.state_after
        assert f"n = {state.n}: 1 − β1ⁿ = {fmt(1 - 0.9**state.n)}" in every_line(app, "#update")
        assert state.n == 4 + 2  # epoch 2, chunk 2: the sixth update
        assert "m ← " in text and "v ← " in text and "step " in text
        # every line shown, or named in a ⋮ line: W's lines whole, the others summed up
        assert len(text.splitlines()) <= app.query_one("#update").content_size.height
        assert "; V c updated; U b E pending" in text.splitlines()[-1]


async def test_update_panel_shows_adagrads_memory_and_sgd_stays_the_handouts() -> None:
    app = chunked_app(optimizer="adagrad", clip_value=0.3)
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=1, chunk=2, phase=Phase.UPDATE, index=5))
        await pilot.press("p")
        await pilot.press("n")
        await settle(pilot)
        text = text_of(app, "#update")
        title = str(app.query_one("#update").border_title)
        assert title == "Updates: Adagrad"  # the rule wraps below, whole
        assert "m ← m + g²; θ ← θ − η g/√(m + 1e-8)," in every_line(app, "#update")
        assert "g ← clip" in text and "m " in text and "‖g‖₂" not in text
    plain = chunked_app()  # SGD, no clipping: the handout's panel, chunk or not
    async with plain.run_test(size=(160, 50)) as pilot:
        plain.stepper.goto(Position(epoch=1, chunk=1, phase=Phase.UPDATE, index=0))
        await pilot.press("n")
        await settle(pilot)
        text = text_of(plain, "#update")
        assert "θ ← θ − η·∂L/∂θ" in str(plain.query_one("#update").border_title)
        assert "g ← clip" not in text and "step " not in text


async def test_forward_panel_shows_the_carried_h0() -> None:
    app = chunked_app(optimizer="momentum")
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=1, chunk=1, phase=Phase.FORWARD, index=2))
        await pilot.press("p")  # t = 2 of chunk 2
        await settle(pilot)
        h0 = app.stepper.current.h0
        assert h0.any()
        text = text_of(app, "#forward")
        assert "carried from chunk 1" in text and f"{fmt(h0[0])}" in text
        await pilot.press("p")  # t = 1: h_{t-1} is h_0
        await settle(pilot)
        assert "h_0" in text_of(app, "#forward") and "carried from chunk 1" in text_of(
            app, "#forward")
        app.stepper.goto(Position(epoch=1, chunk=0, phase=Phase.FORWARD, index=1))
        await pilot.press("n")
        await settle(pilot)
        assert "carried" not in text_of(app, "#forward")


async def test_gradcheck_key_checks_the_current_chunk_from_its_carried_h0() -> None:
    """d checks the gradient the screen shows (the chunk's, from its carried
    h_0); the old check (the whole text from h_0 = 0) disagrees with it."""
    from rnn_tui.core import gradcheck
    from rnn_tui.tui.screens.report import ReportScreen

    app = chunked_app(optimizer="adagrad", clip_value=5.0)
    async with app.run_test(size=(120, 40)) as pilot:
        app.stepper.goto(Position(epoch=2, chunk=2, phase=Phase.FORWARD, index=0))
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        body = "\n".join(app.screen.lines)
        assert "chunk 3/4 (text 13..18, its carried h_0)" in app.screen.title_text
        assert "DIFFERS" not in body and body.count(" ok") == 6
        ep = app.stepper.current
        assert np.abs(ep.h0).max() > 0.01  # a real carried state
        ours = gradcheck.check(ep.params, ep.fwd.inputs, ep.fwd.targets, h0=ep.h0,
                               grads=ep.grads)
        assert all(r.ok for r in ours)
        assert ["backward " + f"{r.analytic:.6g}" in body for r in ours] == [True] * 6
        old = gradcheck.check(ep.params, app.stepper.inputs, app.stepper.targets,
                              grads=ep.grads)
        assert not all(r.ok for r in old)
        from_zero = gradcheck.check(ep.params, ep.fwd.inputs, ep.fwd.targets, grads=ep.grads)
        assert not all(r.ok for r in from_zero)  # the chunk from h_0 = 0 is wrong too
