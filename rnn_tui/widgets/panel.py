"""The base of every panel: holds the current StepView and re-renders it to
its own size, so a resize re-fits the numbers instead of wrapping them."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Span, Text
from textual.geometry import Region
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
    # On a projector dim text washes out: labels take a colour instead.
    projector = widget.app.theme == "projector"
    label = Style.parse(theme.secondary or "cyan") if projector else Style(dim=True)
    muted = Style.parse("#B0B0B0") if projector else Style(dim=True)
    return {
        N.ARGMAX: Style.parse(f"bold {warning}"),
        N.TARGET: Style.parse(f"bold underline {success}"),
        N.RIGHT: Style.parse(f"bold {success}"),
        N.WRONG: Style.parse(f"bold {error}"),
        N.NONFINITE: Style.parse(f"bold reverse {error}"),
        N.MUTED: muted,
        N.CURRENT: Style.parse(f"bold reverse {accent}"),
        N.DONE: Style.parse(primary),
        N.CHANGED: Style.parse(f"bold {accent}"),
        N.LABEL: label,
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
    """A bordered box titled by ``TITLE``; subclasses implement ``lines``.

    ``show`` builds the lines at once, for the panel's current size, and
    repaints only when they differ from what is on screen: most keys change
    two or three panels, and an unchanged panel costs nothing to keep.
    """

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
        self._lines: list[Text] = []
        self._built_for: tuple[int, int] | None = None
        self._signature: object = None

    def _build(self) -> None:
        if self.view is None:
            return
        width = max(10, self.content_size.width)
        height = max(1, self.content_size.height)
        lines = self.lines(self.view, width, height)[:height]
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        self._lines = lines
        self._built_for = (width, height)

    def forget(self) -> None:
        """Drop the cached lines (after a theme or layout change)."""
        self._built_for = None
        self._signature = None
        self.refresh()

    def show(self, view: StepView) -> None:
        self.view = view
        title = self.border_title
        old = self._signature if isinstance(self._signature, list) else []
        self._build()
        new = [(t.plain, tuple(t.spans)) for t in self._lines]
        self._signature = new
        if self.border_title != title or not self.region:
            self.refresh()
            return
        # Repaint only the rows that changed: a repaint costs per row, and
        # most rows of a tall panel are the same from one step to the next.
        width = self.content_size.width  # regions are relative to the content
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new) or old[y] != new[y]:
                self.refresh(Region(0, y, width, 1))

    def render(self) -> RenderableType:
        if self.view is None:
            return Text("")
        if self._built_for != (max(10, self.content_size.width), max(1, self.content_size.height)):
            self._build()  # resized since the last show
        styles = palette(self)
        return Group(*(themed(line.copy(), styles) for line in self._lines))

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        raise NotImplementedError
