"""Ask the question of the next step; answer, see why, then reveal."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Static

from rnn_tui.core.quiz import Question
from rnn_tui.tui.screens.prompt import InputModal


class QuizScreen(InputModal[bool | None]):
    """Dismisses with True/False (answered right/wrong) or None (skipped)."""

    BINDINGS = [Binding("escape", "skip", "Skip the question", id="quiz_skip")]
    def __init__(self, question: Question, score: str) -> None:
        super().__init__()
        self.question = question
        self.score = score
        self.result: bool | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Predict, then reveal  ({self.score})")
            yield Static(self.question.prompt, id="quiz-prompt")
            yield Input(placeholder="your answer, then enter (esc skips)", id="quiz-input")
            yield Static("", id="quiz-result")
            yield Static("", id="quiz-why")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.result is not None:  # second enter: reveal the step
            self.dismiss(self.result)
            return
        if not event.value.strip():
            return
        result, message = self.question.check(event.value)
        # the message quotes what the student typed: plain text, never markup
        self.query_one("#quiz-result", Static).update(Content(message))
        if result is None:  # not an answer: ask again, nothing scored
            event.input.value = ""
            return
        self.result = result
        self.query_one("#quiz-why", Static).update(
            f"{self.question.explanation}\nenter: reveal the step")
        event.input.disabled = False

    def action_skip(self) -> None:
        self.dismiss(self.result)
