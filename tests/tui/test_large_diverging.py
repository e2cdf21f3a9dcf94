"""A large model that overflows in BPTT must not freeze the app (issue 19,
point 2): the status bar names the first non-finite step without walking the
BPTT triangle on the event loop, and q quits at once."""

from __future__ import annotations

import time

import pytest

from rnn_tui.core.stepper import Phase

from helpers.models import exploding
from helpers.scenarios import make_app
from helpers.screen import text_of


@pytest.mark.slow
async def test_large_diverging_model_answers_keys_and_quits() -> None:
    # H = 512, T = 600, chain gain 4 per step: the first non-finite term is in
    # row ~513. Walking the triangle row by row (what the status bar did)
    # takes minutes here; finding it by bisection takes seconds, in a thread.
    app = make_app(exploding(600, 4.0, 0, H=512))
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        for key in ("right_square_bracket",) * 3:
            await pilot.press(key)
        await pilot.pause()
        assert app.stepper.position.phase is Phase.UPDATE
        status = text_of(app, "#status")
        assert "NOT FINITE since epoch 1" in status
        await pilot.press("q")
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"] ] ] q took {elapsed:.1f} s"


@pytest.mark.slow
async def test_the_first_non_finite_step_appears_when_found() -> None:
    app = make_app(exploding(600, 4.0, 0, H=512))
    async with app.run_test(size=(160, 50)) as pilot:
        for key in ("right_square_bracket",) * 3:
            await pilot.press(key)
        for _ in range(300):  # up to a minute on a slow machine
            await pilot.pause(0.2)
            if "finding" not in text_of(app, "#status"):
                break
        assert "NOT FINITE since epoch 1, BPTT t=513 k=2" in text_of(app, "#status")
        await pilot.press("q")
