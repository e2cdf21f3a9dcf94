"""The startup baseline: the smallest Textual app that paints the word
"hello", run the same way as ``rnn-tui`` (in a pty, 160x50), so startup can
be compared with what Textual itself costs. ``q`` quits."""

from textual.app import App, ComposeResult
from textual.widgets import Static


class Minimal(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("hello")


if __name__ == "__main__":
    Minimal().run()
