"""The stepping keys both debuggers share (the RNN's, tui/app.py, and the
GRU/LSTM's, tui/cells/app.py): next/prev, phases, the next epoch, reset,
play and its speed, and the screen the panels are on. Their base,
debugger.Debugger, supplies ``stepper``, ``player``, ``quiz``, ``_guard()``
and ``moved()``."""

from __future__ import annotations

from textual.screen import Screen

from rnn_tui.tui.jobs import LongJobs


class StepKeys(LongJobs):
    """Stepping actions over any stepper with the core's navigation
    (next, prev, next_phase, prev_phase, goto_epoch, reset)."""

    @property
    def main_screen(self) -> Screen:
        """The screen the panels are on: the bottom of the stack, also while
        a modal (help, a report, a prompt) is on top and the terminal is resized."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    def action_step(self, delta: int) -> None:
        if not self._guard() or (delta > 0 and self.quiz.ask_before_next()):
            return
        self.stepper.next() if delta > 0 else self.stepper.prev()
        self.moved()

    def action_phase(self, delta: int) -> None:
        if self._guard():
            self.stepper.next_phase() if delta > 0 else self.stepper.prev_phase()
            self.moved()

    def action_next_epoch(self) -> None:
        if self._guard():
            self.stepper.goto_epoch(self.stepper.position.epoch + 1)
            self.moved()

    def action_reset(self) -> None:
        if self._guard():
            self.player.stop()
            self.stepper.reset()
            self.moved()

    def action_play(self) -> None:
        if self.player.playing:
            self.player.stop()
        elif self._guard():
            self.player.start()

    def action_speed(self, delta: int) -> None:
        self.player.change_speed(delta)
