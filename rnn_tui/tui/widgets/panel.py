"""The base of every panel: holds the current StepView and re-renders it to
its own size, so a resize re-fits the numbers instead of wrapping them.

Panels paint through Textual's line API (``render_line``): each row is
rendered to a Strip once and kept until its line, the panel's width or its
style changes, and ``show`` repaints only the rows whose line changed (and
the title's row when the title changed). The widget layer's two caches are
here, each kept because it matters (bench/latency.py, K64 D32 H128 T200):
the painted rows (without them, every changed panel repainted whole
through Rich, a key costs 1.9x the CPU time), and the lines of a panel that
says what they depend on (``memo``), kept while that and its size stay the
same: the loss chart's and the update panel's change on about 1 key in 8
of the benchmark's walk, and kept, their median cost per key falls from
0.6 and 0.4 ms to under 0.05 ms (over 10x); the forward panel's stay the
same while a BPTT row is stepped (0.5 ms a late-row key). The other panels
change on most keys. ``render()`` returns the whole panel as a Rich Group (tests read
panels through it)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from rnn_tui.core.view import StepView
from rnn_tui.tui.widgets import numbers as N
from rnn_tui.tui.widgets.marks import NO_MARKS, Marks


def palette(widget: Widget) -> dict[str, Style]:
    """Semantic style names -> Rich styles of the app's current theme."""
    if getattr(widget.app, "monochrome", False):
        plain = {
            N.ARGMAX: "bold", N.TARGET: "underline", N.RIGHT: "bold", N.WRONG: "italic",
            N.NONFINITE: "bold reverse", N.MUTED: "dim", N.CURRENT: "reverse",
            N.DONE: "bold", N.CHANGED: "bold underline", N.LABEL: "dim",
            N.DIFFERS: "bold reverse underline",
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
        N.DIFFERS: Style.parse(f"bold underline {error}"),  # not reverse: that is CURRENT
    }


def themed(text: Text, styles: dict[str, Style]) -> Text:
    """Replace semantic style names in a Text by real styles, and join spans
    of one style that touch: Rich renders a line in time proportional to its
    spans (a row of 50 shaded BPTT terms, one span each, takes 8x as long
    as the same row as one span), and the result is the same."""
    text.spans[:] = _themed_spans(text.spans, styles)
    if isinstance(text.style, str) and text.style in styles:
        text.style = styles[text.style]
    return text


def _themed_spans(spans: list[Span], styles: dict[str, Style]) -> list[Span]:
    merged: list[Span] = []
    for s in spans:
        style = styles.get(s.style, s.style) if isinstance(s.style, str) else s.style
        if merged and merged[-1].end == s.start and merged[-1].style == style:
            merged[-1] = Span(merged[-1].start, s.end, style)
        else:
            merged.append(Span(s.start, s.end, style))
    return merged


class Panel(Widget):
    """A bordered box titled by ``TITLE``; subclasses implement ``lines``
    (which may also set ``border_title``). Styled in app.tcss."""

    TITLE = ""
    _building = False  # inside lines(): see refresh()
    _showing = False  # inside show(), which repaints a changed title's row itself
    marks: Marks = NO_MARKS  # the active comparison's differences at this step (the app sets it)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: StepView | None = None
        self.border_title = self.TITLE
        self._lines: list[Text] = []
        self._built_for: tuple[int, int] | None = None  # the content size of _lines
        self._strips: dict[int, Strip] = {}  # painted rows, kept until they change
        self._painted_with: tuple[int, Style, str] | None = None  # width, style, theme
        self._title_changed = False
        self._palette: dict[str, Style] = {}
        self._shown: object = None  # (memo, room) of the lines shown, if memo says

    def _room(self) -> tuple[int, int]:
        size = self.content_size
        return max(10, size.width), max(1, size.height)

    def _build(self) -> None:
        if self.view is None:
            return
        width, height = self._room()
        self._building = True
        try:
            lines = self.lines(self.view, width, height)
        finally:
            self._building = False
        if len(lines) > height > 1:  # never a line dropped without saying so
            hidden = len(lines) - height + 1
            lines = [*lines[:height - 1],
                     Text(f"⋮ {hidden} more line{'s' * (hidden > 1)}", style=N.MUTED)]
        lines = lines[:height]  # a one-row panel (a strip) shows its first line
        for line in lines:
            line.no_wrap = True
            line.overflow = "ellipsis"
        self._lines = lines
        self._built_for = (width, height)
        if self._title_changed and not self._showing:  # rebuilt for a new size: a title
            self._title_changed = False  # that depends on the width (the loss chart's)
            super().refresh()  # is drawn with the border, not a key later

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Panel:
        """A new border title set inside lines() asks Textual to repaint the
        whole panel; show() repaints the title's row instead (whole panels
        repainted for their title cost 1.2x the CPU per key, hello and K64)."""
        if self._building and not (regions or layout or recompose):
            self._title_changed = True
            return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def memo(self, view: StepView) -> object:
        """Everything lines() reads but the size (the view's parts, and
        ``marks`` if it reads them), for a panel whose lines seldom change:
        while it and the size stay equal, show() keeps the lines. None, the
        default: lines() runs on every show."""
        return None

    def forget(self) -> None:
        """Paint every row again (after a theme or layout change)."""
        self._built_for = None
        self._shown = None
        self._strips.clear()
        self.refresh()

    def show(self, view: StepView) -> None:
        """Show ``view``: repaint only the rows whose line changed (a repaint
        costs per row, and most rows of a tall panel stay the same)."""
        self.view = view
        memo = self.memo(view)
        shown = None if memo is None else (memo, self._room())
        if shown is not None and shown == self._shown and self._built_for == shown[1]:
            return  # the same lines
        self._shown = shown
        old = self._lines
        self._title_changed = False
        self._showing = True
        try:
            self._build()
        finally:
            self._showing = False
        new = self._lines
        changed = [y for y in range(max(len(old), len(new)))
                   if y >= len(old) or y >= len(new) or not _same(old[y], new[y])]
        for y in changed:
            self._strips.pop(y, None)
        if not self.region:
            self.refresh()
            return
        regions = []  # relative to the content; one refresh for them all
        if self._title_changed:  # the top border row, where the title is
            x0, y0 = self.content_offset
            regions.append(Region(-x0, -y0, self.outer_size.width, 1))
        width = self.content_size.width
        start = 0
        for n, y in enumerate(changed):  # each run of changed rows as one region
            if n + 1 == len(changed) or changed[n + 1] != y + 1:
                regions.append(Region(0, changed[start], width, y - changed[start] + 1))
                start = n + 1
        if regions:
            self.refresh(*regions)

    def render_line(self, y: int) -> Strip:
        """Row y of the content, painted once and kept until it changes."""
        size = self.size  # the content's, as _room() reads it
        width = size.width
        base = self.visual_style.rich_style
        if self.view is not None and self._built_for != (max(10, width), max(1, size.height)):
            self._build()  # resized since the last show
            self._strips.clear()
        if self._painted_with != (width, base, self.app.theme):
            self._painted_with = (width, base, self.app.theme)
            self._palette = palette(self)
            self._strips.clear()
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._paint(y, width, base)
        return strip

    def _paint(self, y: int, width: int, base: Style) -> Strip:
        """Row y as Rich renders it from render()'s Group: one line that never wraps."""
        if self.view is None or y >= len(self._lines):
            return Strip([]) if self.view is None and y == 0 else Strip.blank(width, base)
        # themed(line) with the line's own style turned into a first span, as
        # Text.join does (and Rich's render), built without copying the line
        line, styles = self._lines[y], self._palette
        style = styles.get(line.style, line.style) if isinstance(line.style, str) else line.style
        spans = [Span(0, len(line), style)] if style else []
        text = Text(line.plain, spans=spans + _themed_spans(line.spans, styles))
        if "\t" in text.plain:
            text.expand_tabs(8)
        text.truncate(width, overflow="ellipsis")
        return Strip(Segment.apply_style(list(text.render(self.app.console)), base))

    def render(self) -> RenderableType:
        if self.view is None:
            return Text("")
        if self._built_for != self._room():
            self._build()  # resized since the last show
        styles = palette(self)
        return Group(*(themed(line.copy(), styles) for line in self._lines))

    def lines(self, view: StepView, width: int, height: int) -> list[Text]:
        raise NotImplementedError


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.spans == b.spans and a.style == b.style
