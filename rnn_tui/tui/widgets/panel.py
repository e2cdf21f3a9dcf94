"""The base of every panel: holds the current StepView and re-renders it to
its own size, so a resize re-fits the numbers instead of wrapping them.

Panels paint through Textual's line API (``render_line``): each row is
rendered to a Strip once and kept until it changes, so a key that changes
three rows of a panel re-renders three rows, not the whole panel through
Rich. ``render()`` still returns the whole panel as a Rich Group (tests read
panels through it)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets import numbers as N


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
    """Replace semantic style names in a Text by real styles, and join spans
    of one style that touch: Rich renders a line in time proportional to its
    spans (a row of 50 shaded BPTT terms, one span each, takes 8x as long
    as the same row as one span), and the result is the same."""
    merged: list[Span] = []
    for s in text.spans:
        style = styles.get(s.style, s.style) if isinstance(s.style, str) else s.style
        if merged and merged[-1].end == s.start and merged[-1].style == style:
            merged[-1] = Span(merged[-1].start, s.end, style)
        else:
            merged.append(Span(s.start, s.end, style))
    text.spans[:] = merged
    if isinstance(text.style, str) and text.style in styles:
        text.style = styles[text.style]
    return text


def segments(text: Text, console: Console) -> list[Segment]:
    """``text.render(console)`` for a line whose spans are in order and do
    not overlap (what the panels build), in one pass; any other line goes
    through Rich. Rich's general algorithm sorts span boundaries and keeps a
    stack of open spans, which costs several times more per span, and the
    panels' rows have up to one span per number. The segments are Rich's
    (snapshots of every named screen pin them)."""
    spans = text.spans
    plain = text.plain
    if not spans:
        return [Segment(plain)]
    end = 0
    for span in spans:
        if span.start < end or span.end < span.start:
            return list(text.render(console))
        end = span.end
    get_style = console.get_style
    base = get_style(text.style, default=Style.null())
    out: list[Segment] = []
    at = 0
    for span in spans:
        if span.start > at:
            out.append(Segment(plain[at : span.start], base))
        if span.end > span.start:
            out.append(Segment(plain[span.start : span.end],
                               base + get_style(span.style, default=Style.null())))
        at = span.end
    if at < len(plain):
        out.append(Segment(plain[at:], base))
    return out


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
        self._strips: dict[int, Strip] = {}  # painted rows, kept until they change
        self._building = False
        super().__init__(id=id, classes=classes)
        self.view: StepView | None = None
        self.border_title = self.TITLE
        self._lines: list[Text] = []
        self._built_for: tuple[int, int] | None = None
        self._signature: object = None
        self._palette: tuple[object, dict[str, Style]] | None = None
        self._memo: object = None
        self._kept_for: object = None  # the epoch whose lines _kept holds
        self._kept: dict[tuple[object, ...], Text] = {}

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Panel:
        if self._building and not (regions or layout or recompose):
            # A subclass set border_title inside lines(), which asks Textual
            # for a full repaint; show() repaints what changed instead.
            return self
        if repaint and not regions:
            self._strips.clear()
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _build(self) -> None:
        if self.view is None:
            return
        width = max(10, self.content_size.width)
        height = max(1, self.content_size.height)
        key = self.memo(self.view)
        if key is not None and key == self._memo and self._built_for == (width, height):
            return  # same inputs, same size: the lines are the ones built last time
        self._memo = key
        self._building = True
        try:
            lines = self.lines(self.view, width, height)[:height]
        finally:
            self._building = False
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        self._lines = lines
        self._built_for = (width, height)
        self._signature = [(t.plain, tuple(t.spans)) for t in lines]

    def memo(self, view: StepView) -> object:
        """What this panel's lines depend on besides its size, if a panel can
        say so cheaply (``None``: rebuild on every key). Several panels do
        not change for a whole phase (the BPTT triangle during the forward
        pass), and building them is most of a key's work on a big model."""
        return None

    def kept(self, view: StepView, limit: int) -> dict[tuple[object, ...], Text]:
        """Lines a panel keeps between keys, by a key of its own: a key
        moves one BPTT term, and most lines of a BPTT row are the ones built
        for the last term. Valid for one epoch; emptied past ``limit``."""
        if self._kept_for is not view.epoch or len(self._kept) > limit:
            self._kept_for, self._kept = view.epoch, {}
        return self._kept

    def forget(self) -> None:
        """Drop the cached lines (after a theme or layout change)."""
        self._built_for = None
        self._signature = None
        self._memo = None
        self.refresh()

    def show(self, view: StepView) -> None:
        self.view = view
        title = self.border_title
        old = self._signature if isinstance(self._signature, list) else []
        self._build()
        new = self._signature if isinstance(self._signature, list) else []
        if not self.region:
            self.refresh()
            return
        if self.border_title != title:  # repaint the top border row, where the title is
            x0, y0 = self.content_offset
            self.refresh(Region(-x0, -y0, self.outer_size.width, 1))
        # Repaint only the rows that changed: a repaint costs per row, and
        # most rows of a tall panel are the same from one step to the next.
        width = self.content_size.width  # regions are relative to the content
        for y in range(max(len(old), len(new))):
            if y >= len(old) or y >= len(new) or old[y] != new[y]:
                self._strips.pop(y, None)
                self.refresh(Region(0, y, width, 1))

    def _styles(self) -> dict[str, Style]:
        """palette(self), parsed once per theme."""
        app = self.app
        key = (getattr(app, "monochrome", False), app.theme, id(app.current_theme))
        if self._palette is None or self._palette[0] != key:
            self._palette = (key, palette(self))
        return self._palette[1]

    def render_line(self, y: int) -> Strip:
        """Row y of the content, from the row cache (the line API)."""
        width, height = self.size
        if self.view is not None and self._built_for != (max(10, width), max(1, height)):
            self._build()  # resized since the last show
            self._strips.clear()
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._render_row(y, width)
        return strip

    def _render_row(self, y: int, width: int) -> Strip:
        """Row y as Textual's Rich path renders it from render()'s Group (the
        same segments, checked on every named screen), without the Rich
        layout machinery: a row is one line that never wraps."""
        base = self.visual_style.rich_style
        if self.view is None or y >= len(self._lines):
            return Strip([]) if self.view is None and y == 0 else Strip.blank(width, base)
        # join() turns the line's own style into a span, as Rich's render does
        text = Text("\n").join([themed(self._lines[y].copy(), self._styles())])
        if "\t" in text.plain:
            text.expand_tabs(8)
        text.truncate(width, overflow="ellipsis")
        return Strip(Segment.apply_style(segments(text, self.app.console), base))

    def render(self) -> RenderableType:
        if self.view is None:
            return Text("")
        if self._built_for != (max(10, self.content_size.width), max(1, self.content_size.height)):
            self._build()  # resized since the last show
        styles = self._styles()
        return Group(*(themed(line.copy(), styles) for line in self._lines))

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        raise NotImplementedError
