"""A one-line question (an epoch number, a loss threshold) in a modal."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class PromptScreen(ModalScreen[str | None]):
    """Returns the text typed, or None when cancelled; ``check`` returns an
    error message for bad text, shown in place without closing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    def __init__(self, question: str, placeholder: str = "",
                 check: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-error")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = getattr(self.app, "cursor_blink", True)
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self.check(event.value) if self.check else None
        if error:
            self.query_one("#prompt-error", Label).update(error)
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
