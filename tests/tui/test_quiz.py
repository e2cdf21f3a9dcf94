"""Predict, then reveal: questions of each kind, checked at 4 decimals, a
score, and the step revealed after the answer, on any model."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.model_file import load
from rnn_tui.core.quiz import Question, question_for
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.tui.screens.quiz import QuizScreen

from helpers.models import random_spec
from helpers.scenarios import make_app, settle
from helpers.screen import text_of


def test_questions_of_each_phase() -> None:
    st = Stepper(load("hello")[0])
    q2 = question_for(st.peek(Position(epoch=1, phase=Phase.FORWARD, index=1)))
    assert q2 is not None and q2.answer == "h" and "predict" in q2.prompt
    q3 = question_for(st.peek(Position(epoch=1, phase=Phase.FORWARD, index=2)))
    assert q3 is not None and np.isclose(q3.answer, -0.046122, atol=1e-6)
    d = question_for(st.peek(Position(epoch=1, phase=Phase.OUTPUT, index=0)))
    assert d is not None and np.isclose(d.answer, 0.2490 - 1, atol=1e-4)
    u = question_for(st.peek(Position(epoch=1, phase=Phase.UPDATE, index=2)))
    assert u is not None and "W_new[1,1]" in u.prompt and np.isclose(u.answer, -0.534379)
    assert question_for(st.peek(Position(epoch=1, phase=Phase.BPTT, index=0))) is None
    assert st.position == Position(epoch=1, phase=Phase.FORWARD, index=0)  # peek moved nothing


def test_checking_at_the_displayed_precision() -> None:
    q = Question("h?", -0.046122, "because")
    assert q.check("-0.0461")[0] and q.check(" -0.04612 ")[0]
    assert not q.check("-0.0462")[0] and not q.check("-0.046")[0]
    ok, message = q.check("x")  # not an answer: asked again, nothing scored or given away
    assert ok is None and "not a number" in message and "-0.0461" not in message
    c = Question("char?", " ", "because")
    assert c.check("␣")[0] and c.check("' '")[0] and not c.check("a")[0]


def test_every_model_has_questions() -> None:
    st = Stepper(random_spec(9, 3, 5, 7, seed=2))
    lay = st.layout
    asked = [question_for(st.peek(lay.at(1, s))) for s in range(lay.steps_per_epoch)]
    assert sum(q is not None for q in asked) == 7 + 7 + 6


@pytest.mark.slow
async def test_quiz_in_the_app() -> None:
    app = make_app()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("k", "n")
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        assert app.stepper.position.index == 0  # not revealed yet
        await pilot.press("h", "enter")
        await pilot.pause()
        assert "Right" in str(app.screen.query_one("#quiz-result").render())
        await pilot.press("enter")
        await settle(pilot)
        assert app.stepper.position.index == 1 and not isinstance(app.screen, QuizScreen)
        await pilot.press("n", *"abc", "enter")  # h_3[1]: not a number, asked again
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen) and "try again" in str(
            app.screen.query_one("#quiz-result").render())
        await pilot.press(*"-0.0461", "enter", "enter")
        await settle(pilot)
        await pilot.press("n", "e", "enter")  # step 4 predicts 'h', not 'e'
        await pilot.pause()
        assert "Not quite" in str(app.screen.query_one("#quiz-result").render())
        await pilot.press("enter")
        await settle(pilot)
        assert (app.quiz.right, app.quiz.asked) == (2, 3)
        assert "quiz 2/3 right" in text_of(app, "#status")
        await pilot.press("p", "n")  # stepping back and forth does not ask again
        await settle(pilot)
        assert not isinstance(app.screen, QuizScreen) and app.stepper.position.index == 3
        await pilot.press("n", "escape")  # δ_1: skipped, not scored, still revealed
        await settle(pilot)
        assert app.stepper.position.phase is Phase.OUTPUT and app.quiz.asked == 3
