"""Quiz mode: before the step that shows a value, ask for it.

Each (epoch, step) is asked once; stepping back and forth does not ask
again. The question and its check are core logic (rnn_tui.core.quiz)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnn_tui.tui.debugger import Debugger


class QuizMode:
    def __init__(self, app: Debugger, on: bool = False) -> None:
        self.app = app
        self.on = on
        self.right = 0
        self.asked = 0
        self._seen: set[tuple[int, int]] = set()  # (epoch, step) already asked

    @property
    def score(self) -> str:
        return f"{self.right}/{self.asked} right"

    def label(self) -> str:
        """The status bar's activity while nothing else runs."""
        return f"quiz {self.score}" if self.on else ""

    def toggle(self) -> None:
        self.on = not self.on
        self.app.notify("Quiz on: predict each value before it is revealed." if self.on
                        else f"Quiz off. Score: {self.score}.", timeout=3)
        self.app.show_activity(self.label())

    def ask_before_next(self) -> bool:
        """Ask about the step that next() would reveal; True if a question is
        up (the step is revealed once it is answered or skipped)."""
        if not self.on:
            return False
        stepper = self.app.stepper
        lay = stepper.layout
        epoch, here = stepper.position.epoch, lay.step_of(stepper.position) + 1
        if here == lay.steps_per_epoch:
            epoch, here = epoch + 1, 0
        if (epoch, here) in self._seen:
            return False
        self._seen.add((epoch, here))
        from rnn_tui.core import quiz
        from rnn_tui.tui.screens.quiz import QuizScreen

        question = quiz.question_for(stepper.peek(lay.at(epoch, here)))
        if question is None:
            return False

        def answered(result: bool | None) -> None:
            if result is not None:
                self.asked += 1
                self.right += int(result)
            self.app.show_activity(self.label())
            self.app.stepper.next()
            self.app.moved()

        self.app.push_screen(QuizScreen(question, self.score), answered)
        return True
