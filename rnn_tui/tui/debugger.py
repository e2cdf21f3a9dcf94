"""What both debuggers are, once: the RNN's (tui/app.py) and the GRU/LSTM's
(tui/cells/app.py) differ in their panels and in what they explain, not in
how they run.

:class:`Debugger` is the base of both apps: the stepping keys and long jobs
(stepping.StepKeys, jobs.LongJobs), the controllers (quiz.py, play.py,
generate.py, probe.py), the user's keymap and themes, the size classes
app.tcss reads (-too-small, -wide), the reactive :class:`Shown` and the one
coalesced repaint it schedules, the why/quiz/generation/help/theme keys, and
stopping (esc-cancelled jobs, ctrl+c, the watchdog's hangup or SIGTERM).
Each app supplies ``panels()`` (compose's), ``_render_panels()``, ``show_activity()``
and ``why()``, and may refine ``laid_out()`` (the RNN sizes its grid).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import Footer, Static

from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.stepper import Phase, Stepper
from rnn_tui.tui.generate import GenerationMode
from rnn_tui.tui.layout import MIN_HEIGHT, MIN_WIDTH, WIDE_HEIGHT, WIDE_WIDTH
from rnn_tui.tui.play import Player
from rnn_tui.tui.probe import LatencyProbe
from rnn_tui.tui.quiz import QuizMode
from rnn_tui.tui.stepping import StepKeys
from rnn_tui.tui.themes import CYCLE, MONO, PROJECTOR, STYLESHEET, THEMES, default_theme
from rnn_tui.tui.user_config import RUN_LIMIT
from rnn_tui.tui.watchdog import Stop, Watchdog
from rnn_tui.tui.widgets.panel import Panel

if TYPE_CHECKING:
    from textual.screen import Screen

    from rnn_tui.core.why import Why
    from rnn_tui.tui.user_config import UserConfig


@dataclass(frozen=True, slots=True)
class Shown:
    """What the screen shows: small, immutable, cheap to compare."""

    epoch: int
    phase: Phase
    index: int
    chunk: int
    mode: str


class Debugger(StepKeys):
    CSS_PATH = STYLESHEET  # the one stylesheet, app.tcss (an absolute path: subclasses too)
    TITLE = "rnn-tui"

    state: var[Shown | None] = var(None)  # no repaint of its own: panels refresh themselves
    exit_message = ""
    run_limit = RUN_LIMIT  # epochs a run-until searches (c, l, f)
    toast_time_scale = 1.0  # snapshot tests stretch it so toasts never expire mid-test
    _mounted = False

    def __init__(self, stepper: Stepper, *, cursor_blink: bool = True,
                 theme: str | None = None, config: UserConfig | None = None,
                 quiz: bool = False) -> None:
        super().__init__()
        if config is not None:  # the user's keys.toml (user_config.py)
            self.set_keymap(config.keys)
            self.run_limit = config.run_limit
        self.stepper = stepper  # LongJobs drives it through Stepper's methods
        self.quiz = QuizMode(self, quiz)
        self.player = Player(self)
        self.generation = GenerationMode(self)
        self.probe = LatencyProbe()
        self.cursor_blink = cursor_blink
        self.register_theme(PROJECTOR)
        self.register_theme(MONO)
        self.theme_name = theme or default_theme()
        self.theme = THEMES[self.theme_name]
        self._render_pending = False

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Layout classes go on the screen before its children are styled:
        # adding them later restyles every widget again.
        self._fit(self.size.width, self.size.height)
        yield from self.panels()
        yield Static(f"Enlarge the terminal to at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                     id="too-small")
        yield Footer(compact=True)

    def panels(self) -> ComposeResult:
        """The app's panels, between the size classes and the footer."""
        raise NotImplementedError

    @property
    def monochrome(self) -> bool:
        """Draw with bold/underline/reverse only (read by the panels' palette)."""
        return self.theme == "mono"

    def on_mount(self) -> None:
        self._mounted = True
        self.show_activity(self.quiz.label())
        self.sync()
        self.size_rows()
        self._render_panels()  # now, so that the first frame shows the model
        self.started()

    def started(self) -> None:
        """The first frame is built: the RNN app starts following a room here."""

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """The size classes app.tcss reads (also from compose(), before the
        panels are styled), then the app's own layout."""
        screen = self.main_screen
        was_wide = screen.has_class("-wide")
        screen.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")
        screen.set_class(width >= WIDE_WIDTH and height >= WIDE_HEIGHT, "-wide")
        self.laid_out(width, height, was_wide)

    def laid_out(self, width: int, height: int, was_wide: bool) -> None:
        """After a resize: panels hidden while narrow were not painted."""
        if self._mounted and self.main_screen.has_class("-wide") != was_wide:
            self.repaint_all()

    def size_rows(self, size: tuple[int, int] | None = None) -> None:
        """Fit rows to the model (the RNN's grid, layout.py; the generation
        controller calls it too); a layout of app.tcss's alone has none."""

    def watch_theme(self, theme: str) -> None:
        """Panels keep their rows painted in the old colours: repaint them all."""
        if self._mounted:
            self.repaint_all()

    def repaint_all(self) -> None:
        for panel in self.query(Panel):
            panel.forget()
        self.sync()
        self.call_later(self._render_panels)

    # ------------------------------------------------------------- state

    def sync(self) -> None:
        """Publish the stepper's position as the reactive state."""
        pos = self.stepper.position
        self.state = Shown(pos.epoch, pos.phase, pos.index, pos.chunk, self.stepper.mode)

    def moved(self) -> None:
        """The stepper moved because of a key (timed to the repaint)."""
        self.probe.moved()
        self.sync()

    def watch_state(self, old: Shown | None, new: Shown | None) -> None:
        if new is not None and self._mounted and not self._render_pending:
            self._render_pending = True
            self.call_later(self._render_if_pending)

    def _render_if_pending(self) -> None:
        if self._render_pending:
            self._render_panels()

    def _render_panels(self) -> None:
        """Show the stepper's view in every panel (and ``probe.painting``)."""
        raise NotImplementedError

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.probe.key()
        await super().on_event(event)

    def show_activity(self, text: str) -> None:
        raise NotImplementedError

    def _guard(self) -> bool:
        """Stepping keys wait while a long job's thread runs (it moves the stepper)."""
        return not self.busy

    # ----------------------------------------------------------- actions

    def _has_text(self, what: str) -> bool:
        """A model without a model file (a cells trace) has no text to generate from."""
        if self.stepper.spec is None:
            self.notify(f"{what}: this model has no model file (no text, no characters).",
                        timeout=3)
            return False
        return True

    def action_generate(self) -> None:
        if self._has_text("Generation"):
            self.generation.toggle()

    def action_generate_step(self, delta: int) -> None:
        if self._has_text("Generation"):
            self.generation.step(delta)

    def action_generate_settings(self) -> None:
        if self._has_text("Generation"):
            self.generation.ask()

    def action_compare_cells(self) -> None:
        """The RNN's, the GRU's and the LSTM's triangles for this model's text (modal)."""
        from rnn_tui.tui.screens.cell_compare import screen_for

        if self._has_text("Compare cells"):
            self.push_screen(screen_for(self.stepper.spec))

    def action_quiz(self) -> None:
        self.quiz.toggle()

    def action_why(self) -> None:
        from rnn_tui.tui.screens.why import WhyScreen

        if self._guard():
            view = self.stepper.view()
            self.push_screen(WhyScreen(*self.why(view, f"Why? epoch {view.pos.epoch}, "
                                                       f"{view.label}")))

    def why(self, view: Any, title: str) -> tuple[str, list[Why]]:
        """The why view's title and roots for ``view`` (the app's explainer)."""
        raise NotImplementedError

    def update_order(self) -> tuple[str, ...]:
        """The parameters in the order the update steps take them (the help's)."""
        return UPDATE_ORDER

    def action_help(self) -> None:
        from rnn_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.update_order()))

    def action_cycle_theme(self) -> None:
        self.theme_name = CYCLE[(CYCLE.index(self.theme_name) + 1) % len(CYCLE)]
        self.theme = THEMES[self.theme_name]
        self.notify(f"Theme: {self.theme_name}", timeout=2)

    # ---------------------------------------------------- command palette

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        from rnn_tui.tui.screenshot import save_screenshot

        return save_screenshot(self, filename, path, time_format)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every binding once, then Textual's commands that are not ours
        already (its Theme and Quit are), without Screenshot when served."""
        from rnn_tui.tui.screenshot import served

        titles = set()
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            titles.add(binding.description)
            yield SystemCommand(binding.description, binding.tooltip or binding.description,
                                partial(self.run_action, binding.action))
        for command in super().get_system_commands(screen):
            if command.title not in titles and not (served() and command.title == "Screenshot"):
                yield command

    def notify(self, message: str, *, timeout: float | None = None, **kwargs: object) -> None:
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        super().notify(message, timeout=seconds * self.toast_time_scale, **kwargs)  # type: ignore[arg-type]

    # -------------------------------------------------------------- stop

    def on_stop(self, message: Stop) -> None:
        """The watchdog's: a hangup or SIGTERM (it ends the process if this hangs)."""
        self._stop(f"rnn-tui: stopped by {message.name}", message.code)

    def action_interrupt(self) -> None:
        self._stop("rnn-tui: interrupted", 130)

    def _stop(self, message: str, code: int) -> None:
        self.exit_message = message
        self.workers.cancel_all()
        self.exit(return_code=code)


def run_debugger(make: Callable[[], Debugger]) -> int:
    """Build the app and run it under the watchdog (a hangup or SIGTERM ends
    the process even if shutdown hangs); returns the exit status."""
    np.seterr(all="ignore")  # a diverging model shows NaN, it does not warn
    app = make()
    Watchdog(lambda name, code: app.post_message(Stop(name, code))).install()
    app.run()
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    return app.return_code or 0
