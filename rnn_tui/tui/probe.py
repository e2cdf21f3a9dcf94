"""The app's one latency probe: seconds from a key reaching the app to the
end of the screen refresh the move it caused.

The app calls ``key()`` when a key event arrives, ``moved()`` when a key
moved the stepper and ``painting()`` when it repaints the panels; the end of
that refresh is recorded in ``latencies`` (the last 1,000). Nothing in the
app reads them: the latency benchmark does (bench/latency.py under the test
pilot, bench/pty_child.py in a real terminal)."""

from __future__ import annotations

import time
from typing import Protocol


class Refreshes(Protocol):
    def call_after_refresh(self, callback: object, *args: object) -> bool: ...


class LatencyProbe:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, key event -> screen refreshed
        self._arrived: float | None = None  # the last key event, not yet a move
        self._moved: float | None = None  # the key whose move is not painted yet

    def key(self) -> None:
        self._arrived = time.perf_counter()

    def moved(self) -> None:
        if self._moved is None:  # a burst of keys: timed from the first
            self._moved = self._arrived or time.perf_counter()
        self._arrived = None

    def painting(self, app: Refreshes) -> None:
        if self._moved is not None:
            started, self._moved = self._moved, None
            app.call_after_refresh(self.record, started)

    def record(self, started: float) -> None:
        self.latencies.append(time.perf_counter() - started)
        del self.latencies[:-1000]
