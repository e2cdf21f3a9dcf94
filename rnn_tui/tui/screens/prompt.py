"""A one-line question (an epoch number, a loss threshold, a model to open)
in a modal, and the checks of what is typed; the base of every modal that
asks for a line (this one, the quiz's)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

if TYPE_CHECKING:
    from rnn_tui.core.model_file import ModelSpec

R = TypeVar("R")


class InputModal(ModalScreen[R]):
    """A modal around one Input, focused at once, its cursor blinking as the
    app's does (snapshot tests turn it off)."""

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = getattr(self.app, "cursor_blink", True)
        field.focus()


class PromptScreen(InputModal[str | None]):
    """Returns the text typed, or None when cancelled; ``check`` returns an
    error message for bad text, shown in place without closing."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt_cancel")]
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

    def on_input_submitted(self, event: Input.Submitted) -> None:
        error = self.check(event.value) if self.check else None
        if error:
            self.query_one("#prompt-error", Label).update(error)
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def whole_number(lo: int, hi: int) -> Callable[[str], str | None]:
    """A check for a whole number from lo to hi (the epoch prompt)."""
    def check(text: str) -> str | None:
        try:
            n = int(text)
        except ValueError:
            return f"Type a whole number from {lo} to {hi}."
        return None if lo <= n <= hi else f"Epochs run from {lo} to {hi}."

    return check


def finite_number(text: str) -> str | None:
    """A check for a finite number (the loss prompt)."""
    try:
        x = float(text)
    except ValueError:
        return "Type a number, e.g. 2.5."
    return None if math.isfinite(x) else "Type a finite number."


def open_model(app: App[object], opened: Callable[[ModelSpec], object]) -> None:
    """Ask for a model file or a built-in name; a file that does not load
    gets its one-line error in place. Disabled in a served session."""
    from rnn_tui.core.model_file import ModelFileError, load
    from rnn_tui.tui.screenshot import served

    if served():
        app.notify("Opening files is disabled in a served session.", severity="warning")
        return
    loaded: dict[str, ModelSpec] = {}

    def check(text: str) -> str | None:
        if not text.strip():
            return "Type a path to a .toml file or a built-in name (hello, hello-handout)."
        try:
            loaded["spec"] = load(text.strip())[0]
        except ModelFileError as err:
            return str(err)
        return None

    def done(text: str | None) -> None:
        if text is not None and "spec" in loaded:
            opened(loaded["spec"])

    app.push_screen(PromptScreen("Open model (a .toml file or a built-in name):",
                                 "models/hello.toml", check), done)
