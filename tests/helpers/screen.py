"""What the running app shows, as plain text (for pilot tests)."""

from __future__ import annotations

from rich.console import Group

from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.widgets.panel import Panel


def text_of(app: RnnApp, selector: str) -> str:
    """What a panel shows, as plain text, rendered at its current size."""
    panel = app.query_one(selector, Panel)
    rendered = panel.render()
    assert isinstance(rendered, Group)
    return "\n".join(t.plain for t in rendered.renderables)  # type: ignore[attr-defined]


def screen_text(app: RnnApp) -> str:
    return "\n".join(text_of(app, f"#{i}") for i in
                     ("status", "sequence", "formula", "forward", "bptt", "gradients", "update"))


def screen_rows(app: RnnApp) -> list[str]:
    """Every row of the app's current screen as plain text (what a terminal
    of the app's size shows), trailing blanks removed."""
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strip).rstrip() for strip in strips]
