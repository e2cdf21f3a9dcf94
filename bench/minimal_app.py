"""Baselines: the smallest Textual apps, run the same way as ``rnn-tui``, so
its numbers can be read against what Textual itself costs on this machine
at this moment.

``Minimal`` paints the word "hello" (the startup baseline, in a pty at
160x50). ``MinimalKeys`` redraws one line of text on every ``n`` and times
key event -> end of the refresh the way ``RnnApp.latencies`` does (the
latency baseline). ``q`` quits."""

from __future__ import annotations

import time

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static


class Minimal(App[None]):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("hello")


class MinimalKeys(App[None]):
    BINDINGS = [("n", "next", "Next"), ("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.latencies: list[float] = []
        self._key_arrived = 0.0

    def compose(self) -> ComposeResult:
        yield Static("hello 0", id="text")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._key_arrived = time.perf_counter()
        await super().on_event(event)

    def action_next(self) -> None:
        self.count += 1
        self.query_one("#text", Static).update(f"hello {self.count}")
        started = self._key_arrived
        self.call_after_refresh(lambda: self.latencies.append(time.perf_counter() - started))


if __name__ == "__main__":
    Minimal().run()
