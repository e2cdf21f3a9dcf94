"""A modal page of text: the gradient check's table and other reports."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# The page is 90% of the terminal wide (app.tcss); its text is that less the
# thick border, the padding and a scrollbar: 66 columns at 80x24.
BORDER_PADDING_SCROLLBAR = 6

Lines = list[str] | Callable[[int], list[str]]  # the lines, or the lines for a width


def text_width(terminal_width: int) -> int:
    """Columns of text the page has on a terminal ``terminal_width`` wide."""
    return terminal_width * 9 // 10 - BORDER_PADDING_SCROLLBAR


class ReportScreen(ModalScreen[None]):
    """``lines`` may be a function of the width, so that a table can lay
    itself out to fit (the gradient check's rows take two lines when one
    would be cut); a line still too wide wraps at a space, never cut."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="close_report")]

    def __init__(self, title: str, lines: Lines) -> None:
        super().__init__()
        self.title_text = title
        self._lines_for = lines if callable(lines) else (lambda width: lines)
        self.lines = self._lines_for(text_width(self.app.size.width))

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.title_text, style="bold"))
            yield Static(self._body(), id="report-body")
            yield Static(Text("esc closes", style="dim"))

    def _body(self) -> Text:
        return Text("\n".join(self.lines))

    def on_resize(self, event: events.Resize) -> None:
        lines = self._lines_for(text_width(event.size.width))
        if lines != self.lines:
            self.lines = lines
            self.query_one("#report-body", Static).update(self._body())
