"""Play: one step every so often, until paused (r), at one of SPEEDS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

if TYPE_CHECKING:
    from rnn_tui.tui.debugger import Debugger

SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.02)  # seconds per step


class Player:
    def __init__(self, app: Debugger) -> None:
        self.app = app
        self.speed = 2  # an index into SPEEDS
        self._timer: Timer | None = None

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def label(self) -> str:
        return f"▶ playing, {1 / SPEEDS[self.speed]:g} steps/s (+/- speed, r pause)"

    def start(self) -> None:
        self._timer = self.app.set_interval(SPEEDS[self.speed], self._tick)
        self.app.show_activity(self.label())

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
            self.app.show_activity(self.app.quiz.label())

    def change_speed(self, delta: int) -> None:
        self.speed = max(0, min(len(SPEEDS) - 1, self.speed + delta))
        if self._timer is not None:
            self._timer.stop()
            self.start()
        else:
            self.app.notify(f"Play speed: {1 / SPEEDS[self.speed]:g} steps/s", timeout=2)

    def _tick(self) -> None:
        if not self.app.busy:
            self.app.stepper.next()
            self.app.sync()
