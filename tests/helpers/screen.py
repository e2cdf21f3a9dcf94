"""What the running app shows, as plain text (for pilot tests)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Group
from textual.app import App
from textual.pilot import Pilot

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


async def pause_until(pilot: Pilot, ready: Callable[[], object], seconds: float = 20) -> None:
    """Pause until ``ready()`` holds (a worker's result, an update deferred to
    after the next refresh): waits on the condition, not on a guessed delay;
    fails after ``seconds`` (a loaded machine)."""
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"not ready after {seconds} s"
        await pilot.pause(0.01)


async def palette_titles(app: App[object], pilot: Pilot, at_least: int = 20) -> list[str]:
    """What ctrl+p lists once the palette has filled (its providers run async)."""
    from textual.command import CommandList

    await pilot.press("ctrl+p")
    listed: list[str] = []
    for _ in range(100):
        await pilot.pause(0.05)
        commands = app.screen.query(CommandList)
        if commands and commands.first().option_count >= at_least:
            options = commands.first()
            listed = [str(options.get_option_at_index(i).prompt).split("\n")[0]
                      for i in range(options.option_count)]
            break
    await pilot.press("escape")
    return listed
