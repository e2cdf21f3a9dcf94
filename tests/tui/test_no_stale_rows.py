"""Panels repaint only the rows that changed; the screen must still equal a
full repaint after every key and resize (the bug: rows of a panel that was
laid out again, or made visible, kept the old numbers)."""

from __future__ import annotations

import pytest

from helpers.scenarios import make_app, settle, walk_plan

pytestmark = pytest.mark.slow  # every screen of an epoch against a full repaint

N = "right_square_bracket"
PLAN = ["n"] * 5 + [N, "n", "n", N, "n", "n", (80, 24), N, "n", "p", (160, 50), N, N, "n",
        "z", "n", "z", "e", "0", "n"]


def screen(app):
    return [[(s.text, str(s.style)) for s in strip]
            for strip in app.screen._compositor.render_strips()]


async def test_every_screen_equals_a_full_repaint() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        async for where in walk_plan(pilot, PLAN):
            shown = screen(app)
            for widget in app.screen.walk_children():
                widget.refresh()
            await settle(pilot)
            assert screen(app) == shown, f"stale rows after {where}"
