"""The debugger for a GRU or an LSTM: a Textual app driving a CellStepper.

The RNN app's keys (tui/keys.py, the same ids, so a keymap moves them and
the help screen reads them live), its help screen, its panel base and its
stylesheet; the panels are the cells' own (step.py, panels.py). Layouts:
80x24 shows the status line, the step panel and the footer; 120x34 and up
adds the BPTT triangle, the states and the gradient sums beside it.

The RNN app's controllers, shared: long jobs (go to epoch N, run until...,
switching mode, the gradient check) in a thread worker that esc cancels
(tui/jobs.py; the cells' gradient check is cells/jobs.py's), play
(play.py), the watchdog for a hangup or SIGTERM (watchdog.py, installed by
run_cell_app as run_app does), generation (generate.py, in the step
panel's place), the compare-cells view (modal).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.widgets import Footer, Static

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.cells.panels import CellStates, CellStatus, CellSums, CellTriangle
from rnn_tui.tui.cells.step import CellStepPanel
from rnn_tui.tui.generate import GenerationMode
from rnn_tui.tui.jobs import switch_mode
from rnn_tui.tui.keys import KEYS
from rnn_tui.tui.layout import MIN_HEIGHT, MIN_WIDTH, WIDE_HEIGHT, WIDE_WIDTH
from rnn_tui.tui.play import Player
from rnn_tui.tui.probe import LatencyProbe
from rnn_tui.tui.quiz import QuizMode
from rnn_tui.tui.stepping import StepKeys
from rnn_tui.tui.themes import CYCLE, MONO, PROJECTOR, STYLESHEET, THEMES, default_theme
from rnn_tui.tui.user_config import RUN_LIMIT
from rnn_tui.tui.watchdog import Stop, Watchdog
from rnn_tui.tui.widgets.generation import GenerationPanel
from rnn_tui.tui.widgets.panel import Panel

if TYPE_CHECKING:
    from rnn_tui.tui.user_config import UserConfig

CELL_KEYS = ("next", "prev", "next_phase", "prev_phase", "formula_down", "formula_up",
             "next_epoch", "goto_epoch", "play", "faster", "slower", "until_correct",
             "until_loss", "until_nonfinite", "reset", "toggle_mode", "gradcheck", "generate",
             "generate_next", "generate_prev", "generate_settings", "why", "compare_cells",
             "quiz", "cycle_theme", "cancel", "help", "quit", "interrupt")
"""The RNN app's bindings this app has (by id): the same keys, remappable."""


@dataclass(frozen=True, slots=True)
class Shown:
    epoch: int
    phase: Phase
    index: int
    chunk: int
    mode: str


class CellApp(StepKeys):
    CSS_PATH = STYLESHEET  # the one stylesheet, app.tcss (an absolute path: subclasses too)
    TITLE = "rnn-tui"
    BINDINGS = [b for b in KEYS if b.id in CELL_KEYS]

    state: var[Shown | None] = var(None)
    exit_message = ""
    run_limit = RUN_LIMIT  # epochs a run-until searches (c, l, f)
    _mounted = False

    def __init__(self, stepper: CellStepper, *, cursor_blink: bool = True,
                 theme: str | None = None, config: UserConfig | None = None,
                 quiz: bool = False) -> None:
        super().__init__()
        if config is not None:
            self.set_keymap(config.keys)
            self.run_limit = config.run_limit
        self.stepper = stepper  # LongJobs drives it through Stepper's methods
        self.probe = LatencyProbe()
        self.quiz = QuizMode(self, quiz)  # type: ignore[arg-type]  # the RNN app's, duck-typed
        self.player = Player(self)  # type: ignore[arg-type]  # the RNN app's, duck-typed
        self.generation = GenerationMode(self)  # type: ignore[arg-type]  # the RNN app's
        self.cursor_blink = cursor_blink
        self.register_theme(PROJECTOR)
        self.register_theme(MONO)
        self.theme_name = theme or default_theme()
        self.theme = THEMES[self.theme_name]
        self._render_pending = False

    @property
    def monochrome(self) -> bool:
        return self.theme == "mono"

    def compose(self) -> ComposeResult:
        self._fit(self.size.width, self.size.height)
        yield CellStatus(id="cell-status")
        with Horizontal(id="cell-body"):
            yield CellStepPanel(id="cell-step")
            yield GenerationPanel(id="generate")  # in the step panel's place (v)
            with Vertical(id="cell-side"):
                yield CellTriangle(id="cell-triangle")
                yield CellStates(id="cell-states")
                yield CellSums(id="cell-sums")
        yield Static(f"Enlarge the terminal to at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                     id="too-small")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._mounted = True
        self.show_activity(self.quiz.label())
        self.sync()
        self._render_panels()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        wide = width >= WIDE_WIDTH and height >= WIDE_HEIGHT
        screen = self.main_screen
        was = screen.has_class("-wide")
        screen.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")
        screen.set_class(wide, "-wide")
        if self._mounted and wide != was:
            self.repaint_all()  # the side panels were not painted while hidden

    # ------------------------------------------------------------- state

    def sync(self) -> None:
        pos = self.stepper.position
        self.state = Shown(pos.epoch, pos.phase, pos.index, pos.chunk, self.stepper.mode)

    def moved(self) -> None:
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
        self._render_pending = False
        view = self.stepper.view()
        wide = self.main_screen.has_class("-wide")
        for panel in self.query(Panel):
            if wide or isinstance(panel, CellStepPanel | CellStatus | GenerationPanel):
                panel.show(view)  # type: ignore[arg-type]
            else:
                panel.view = view  # type: ignore[assignment]  # painted when shown
                panel.forget()
        self.probe.painting(self)

    def repaint_all(self) -> None:
        for panel in self.query(Panel):
            panel.forget()
        self.call_later(self._render_panels)

    def watch_theme(self, theme: str) -> None:
        if self._mounted:
            self.repaint_all()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.probe.key()
        await super().on_event(event)

    # ----------------------------------------------------------- actions

    def show_activity(self, text: str) -> None:
        status = self.query_one(CellStatus)
        status.activity = text
        status.forget()

    def _guard(self) -> bool:
        """Stepping keys wait while a long job's thread runs (it moves the stepper)."""
        return not self.busy

    def action_toggle_mode(self) -> None:
        """The exact dE or the handout's (the row of x_t): later epochs change,
        recomputed in a thread (a job, as the RNN app does)."""
        if self._guard():
            self.start_job("switching mode", switch_mode(self.stepper))

    def action_gradcheck(self) -> None:
        from rnn_tui.tui.cells.jobs import gradcheck

        if self._guard():
            self.start_job("gradient check", gradcheck(self, self.stepper))

    def size_rows(self) -> None:
        """The generation controller's hook (the RNN app sizes its grid; this
        layout is app.tcss's alone)."""

    def _has_text(self, what: str) -> bool:
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
        from rnn_tui.core.cells.why import CellExplainer
        from rnn_tui.tui.screens.why import WhyScreen

        if self._guard():
            view = self.stepper.view()
            self.push_screen(WhyScreen(f"Why? epoch {view.pos.epoch}, {view.label}",
                                       CellExplainer(view).roots()))

    def action_scroll_formula(self, delta: int) -> None:
        self.query_one(CellStepPanel).scroll(delta)

    def action_cycle_theme(self) -> None:
        self.theme_name = CYCLE[(CYCLE.index(self.theme_name) + 1) % len(CYCLE)]
        self.theme = THEMES[self.theme_name]
        self.notify(f"Theme: {self.theme_name}", timeout=2)

    def action_help(self) -> None:
        from rnn_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.stepper.current.params.names))

    def on_stop(self, message: Stop) -> None:
        """The watchdog's: a hangup or SIGTERM (it ends the process if this hangs)."""
        self._stop(f"rnn-tui: stopped by {message.name}", message.code)

    def action_interrupt(self) -> None:
        self._stop("rnn-tui: interrupted", 130)

    def _stop(self, message: str, code: int) -> None:
        self.exit_message = message
        self.workers.cancel_all()
        self.exit(return_code=code)


def run_cell_app(stepper: CellStepper, theme: str | None = None,
                 config: UserConfig | None = None, quiz: bool = False) -> int:
    """Open the GRU/LSTM debugger; returns the exit status."""
    np.seterr(all="ignore")  # a diverging model shows NaN, it does not warn
    app = CellApp(stepper, theme=theme, config=config, quiz=quiz)
    Watchdog(lambda name, code: app.post_message(Stop(name, code))).install()
    app.run()
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    return app.return_code or 0
