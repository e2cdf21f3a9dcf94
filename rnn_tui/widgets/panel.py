"""The base of every panel: holds the current StepView and re-renders it to
its own size, so a resize re-fits the numbers instead of wrapping them."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Span, Text
from textual.widget import Widget

from rnn_tui.stepper import StepView
from rnn_tui.widgets import numbers as N


def palette(widget: Widget) -> dict[str, Style]:
    """Semantic style names -> Rich styles of the app's current theme."""
    if getattr(widget.app, "monochrome", False):
        plain = {
            N.ARGMAX: "bold", N.TARGET: "underline", N.RIGHT: "bold", N.WRONG: "italic",
            N.NONFINITE: "bold reverse", N.MUTED: "dim", N.CURRENT: "reverse",
            N.DONE: "bold", N.CHANGED: "bold underline", N.LABEL: "dim",
        }
        return {k: Style.parse(v) for k, v in plain.items()}
    theme = widget.app.current_theme
    warning = theme.warning or "yellow"
    success = theme.success or "green"
    error = theme.error or "red"
    accent = theme.accent or "magenta"
    primary = theme.primary or "blue"
    return {
        N.ARGMAX: Style.parse(f"bold {warning}"),
        N.TARGET: Style.parse(f"bold underline {success}"),
        N.RIGHT: Style.parse(f"bold {success}"),
        N.WRONG: Style.parse(f"bold {error}"),
        N.NONFINITE: Style.parse(f"bold reverse {error}"),
        N.MUTED: Style(dim=True),
        N.CURRENT: Style.parse(f"bold reverse {accent}"),
        N.DONE: Style.parse(primary),
        N.CHANGED: Style.parse(f"bold {accent}"),
        N.LABEL: Style(dim=True),
    }


def themed(text: Text, styles: dict[str, Style]) -> Text:
    """Replace semantic style names in a Text by real styles."""
    text.spans[:] = [
        Span(s.start, s.end, styles.get(s.style, s.style) if isinstance(s.style, str) else s.style)
        for s in text.spans
    ]
    if isinstance(text.style, str) and text.style in styles:
        text.style = styles[text.style]
    return text


class Panel(Widget):
    """A bordered box titled by ``TITLE``; subclasses implement ``lines``."""

    DEFAULT_CSS = """
    Panel {
        border: round $primary 60%;
        border-title-color: $text-accent;
        padding: 0 1;
        height: 1fr;
        width: 1fr;
    }
    """

    TITLE = ""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: StepView | None = None
        self.border_title = self.TITLE

    def show(self, view: StepView) -> None:
        self.view = view
        self.refresh(layout=False)

    def render(self) -> RenderableType:
        if self.view is None:
            return Text("")
        width = max(10, self.content_size.width)
        height = max(1, self.content_size.height)
        lines = self.lines(self.view, width, height)
        styles = palette(self)
        shown = lines[: max(1, height)]
        for line in shown:
            line.no_wrap = True
            line.overflow = "ellipsis"
        return Group(*(themed(line, styles) for line in shown))

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        raise NotImplementedError
