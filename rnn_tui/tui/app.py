"""The debugger: a Textual app that drives a :class:`Stepper`.

The app's only reactive state is :class:`Shown`, a small immutable key of
what is on screen (epoch, phase, index, mode). Every key that moves the
stepper sets it; a change schedules one repaint of the panels from a fresh
StepView. Repaints are coalesced: a burst of 1,000 key presses moves the
stepper 1,000 times but builds the panels once, after the burst.

The app owns small controllers for what is not stepping: follow mode and
presenting (follow.py), the quiz (quiz.py), play (play.py); long jobs run
in a Textual thread worker (``run_job``, jobs.py) that esc cancels; the
watchdog (watchdog.py) ends the process on a hangup or SIGTERM even if
shutdown hangs; probe.py is the one latency probe, for the benchmark.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Static

from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.stepper import Phase, Stepper
from rnn_tui.core.text import printable
from rnn_tui.tui.comparison import ActiveComparison, Trace
from rnn_tui.tui.follow import FollowMode
from rnn_tui.tui.generate import GenerationMode
from rnn_tui.tui.keys import KEYS
from rnn_tui.tui.layout import MIN_HEIGHT, MIN_WIDTH, ScreenLayout, phase_class
from rnn_tui.tui.play import Player
from rnn_tui.tui.probe import LatencyProbe
from rnn_tui.tui.quiz import QuizMode
from rnn_tui.tui.stepping import StepKeys
from rnn_tui.tui.themes import CYCLE, MONO, PROJECTOR, STYLESHEET, THEMES, default_theme
from rnn_tui.tui.user_config import RUN_LIMIT
from rnn_tui.tui.watchdog import Stop, Watchdog
from rnn_tui.tui.widgets.bptt import BpttPanel
from rnn_tui.tui.widgets.formula import FormulaPanel
from rnn_tui.tui.widgets.forward import ForwardPanel
from rnn_tui.tui.widgets.generation import GenerationPanel
from rnn_tui.tui.widgets.gradients import GradientsPanel
from rnn_tui.tui.widgets.handout import HandoutStrip
from rnn_tui.tui.widgets.loss_chart import LossChart
from rnn_tui.tui.widgets.network import NetworkPanel
from rnn_tui.tui.widgets.panel import Panel
from rnn_tui.tui.widgets.result import ResultPanel
from rnn_tui.tui.widgets.sequence import SequenceStrip
from rnn_tui.tui.widgets.status import StatusBar
from rnn_tui.tui.widgets.update import UpdatePanel

if TYPE_CHECKING:
    from rnn_tui.core.follow import Presenter
    from rnn_tui.tui.user_config import UserConfig

# Screens, the quiz, the why view and the gradient check are imported where
# they are first used: the first frame needs none of them, and startup is
# mostly imports.



@dataclass(frozen=True, slots=True)
class Shown:
    """What the screen shows: small, immutable, cheap to compare."""

    epoch: int
    phase: Phase
    index: int
    mode: EmbeddingRows


class RnnApp(ScreenLayout, StepKeys):
    CSS_PATH = STYLESHEET
    TITLE = "rnn-tui"

    BINDINGS = KEYS  # keys.py: every key, its id, footer label and help line

    state: var[Shown | None] = var(None)  # no repaint of its own: panels refresh themselves
    exit_message = ""
    run_limit = RUN_LIMIT  # epochs a run-until searches (c, l, f)
    toast_time_scale = 1.0  # snapshot tests stretch it so toasts never expire mid-test
    _mounted = False

    def __init__(self, spec: ModelSpec, mode: EmbeddingRows | None = None, *,
                 cursor_blink: bool = True, theme: str | None = None,
                 presenter: Presenter | None = None, follow_room: Path | None = None,
                 follow_owner: str | None = None, quiz: bool = False,
                 present: bool = False, compare: Trace | None = None,
                 config: UserConfig | None = None) -> None:
        super().__init__()
        if config is not None:  # the user's keys.toml (user_config.py)
            self.set_keymap(config.keys)
            self.run_limit = config.run_limit
        self.stepper = Stepper(spec, mode)
        self.comparison = ActiveComparison(self, compare)
        self.follow = FollowMode(self, presenter, follow_room, follow_owner)
        self.quiz = QuizMode(self, quiz)
        self.player = Player(self)
        self.generation = GenerationMode(self)
        self.probe = LatencyProbe()
        self.cursor_blink = cursor_blink
        self.present_on_start = present
        self.register_theme(PROJECTOR)
        self.register_theme(MONO)
        self.theme_name = theme or default_theme()
        self.theme = THEMES[self.theme_name]
        self._render_pending = False
        self._phase_class: str | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Layout classes go on the screen before its children are styled:
        # adding them later restyles every widget again.
        self._phase_class = phase_class(self.stepper.position.phase)
        self._fit(self.size.width, self.size.height)
        yield StatusBar(id="status")
        yield SequenceStrip(id="sequence")
        yield HandoutStrip(id="handout")
        yield NetworkPanel(id="network")
        with Grid(id="main"):
            yield FormulaPanel(id="formula")
            yield GenerationPanel(id="generate")
            yield ForwardPanel(id="forward")
            yield BpttPanel(id="bptt")
            yield GradientsPanel(id="gradients")
            yield UpdatePanel(id="update")
            yield LossChart(id="loss")
        yield ResultPanel(id="result")
        yield Static(f"Enlarge the terminal to at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                     id="too-small")
        yield Footer(compact=True)

    @property
    def monochrome(self) -> bool:
        """Draw with bold/underline/reverse only (read by the panels' palette)."""
        return self.theme == "mono"

    def on_mount(self) -> None:
        self._mounted = True
        if self.present_on_start:
            self.screen.add_class("-presenter")
        self.show_activity(self.quiz.label())
        self.sync()
        self.size_rows()
        self._render_panels()  # now, so that the first frame shows the model
        self.follow.start()

    def on_unmount(self) -> None:
        self.follow.close()

    def on_stop(self, message: Stop) -> None:
        self._stop(f"rnn-tui: stopped by {message.name}", message.code)

    def action_interrupt(self) -> None:
        self._stop("rnn-tui: interrupted", 130)

    def _stop(self, message: str, code: int) -> None:
        self.exit_message = message
        self.workers.cancel_all()
        self.exit(return_code=code)

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
        self.state = Shown(pos.epoch, pos.phase, pos.index, self.stepper.mode)

    def moved(self) -> None:
        """The stepper moved because of a key (timed to the repaint)."""
        self.probe.moved()
        self.sync()

    def watch_state(self, old: Shown | None, new: Shown | None) -> None:
        if new is not None and not self._render_pending:
            self._render_pending = True
            self.call_later(self._render_if_pending)

    def _render_if_pending(self) -> None:
        if self._render_pending:
            self._render_panels()

    def _render_panels(self) -> None:
        self._render_pending = False
        view = self.stepper.view()
        self._phase_class = phase_class(view.phase)
        self._set_phase_class()
        self.follow.publish()
        status = self.query_one(StatusBar)
        status.follow = self.follow.label()
        status.comparison = self.comparison.status(view.pos)
        marks = self.comparison.marks(view.pos)
        for panel in self.query(Panel):
            panel.marks = marks
            if isinstance(panel, HandoutStrip):
                panel.show_comparison(view, self.comparison.here(view.pos))
            else:
                panel.show(view)
        self.query_one(ResultPanel).show(view)
        self.probe.painting(self)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.probe.key()
        await super().on_event(event)

    def show_activity(self, text: str) -> None:
        self.query_one(StatusBar).set_activity(text)
        self.query_one(HandoutStrip).set_activity(text)

    def show_follow(self, text: str) -> None:
        status = self.query_one(StatusBar)
        status.follow = text
        status.forget()

    def replace_stepper(self, stepper: Stepper) -> None:
        self.player.stop()
        self.stepper = stepper
        self.generation.forget()
        self.size_rows()
        self.repaint_all()

    # ----------------------------------------------------------- stepping

    def _guard(self) -> bool:
        """Stepping keys are ignored while a long job runs; in follow mode
        they break away from the lecturer to explore."""
        if self.busy:
            return False
        self.follow.break_away()
        return True

    def action_quiz(self) -> None:
        self.quiz.toggle()

    def action_sync(self) -> None:
        self.follow.sync()

    def action_generate(self) -> None:
        self.generation.toggle()

    def action_generate_step(self, delta: int) -> None:
        self.generation.step(delta)

    def action_generate_settings(self) -> None:
        self.generation.ask()

    def action_scroll_formula(self, delta: int) -> None:
        self.query_one(FormulaPanel).scroll_formula(delta)

    # -------------------------------------------------------- other views

    def action_why(self) -> None:
        from rnn_tui.core.why import Explainer
        from rnn_tui.tui.screens.why import WhyScreen

        if self._guard():
            view = self.stepper.view()
            title, roots = f"Why? epoch {view.pos.epoch}, {view.label}", Explainer(view).roots()
            here = self.generation.current()  # the generation panel's character first
            if here is not None:
                from rnn_tui.core.why_train import generation_roots

                walk, k, primed = here
                title += f" · generated character {k + 1}"
                roots = [*generation_roots(walk, k, self.stepper.spec.alphabet, primed), *roots]
            self.push_screen(WhyScreen(title, roots))

    def action_compare_cells(self) -> None:
        from rnn_tui.tui.screens.cell_compare import screen_for

        self.push_screen(screen_for(self.stepper.spec))

    def action_open_model(self) -> None:
        from rnn_tui.tui.screens.prompt import open_model

        if self._guard():
            open_model(self, self.open_spec)

    def open_spec(self, spec: ModelSpec) -> None:
        """Replace the model: a new stepper at epoch 1, in the file's mode."""
        self.replace_stepper(Stepper(spec))
        self.notify(f"Opened {printable(spec.name)}", timeout=3, markup=False)

    def action_cycle_theme(self) -> None:
        self.theme_name = CYCLE[(CYCLE.index(self.theme_name) + 1) % len(CYCLE)]
        self.theme = THEMES[self.theme_name]
        self.notify(f"Theme: {self.theme_name}", timeout=2)

    def action_presenter(self) -> None:
        self.screen.toggle_class("-presenter")
        self.size_rows()
        self.repaint_all()

    def action_help(self) -> None:
        from rnn_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def notify(self, message: str, *, timeout: float | None = None, **kwargs: object) -> None:
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        super().notify(message, timeout=seconds * self.toast_time_scale, **kwargs)  # type: ignore[arg-type]

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


def run_app(spec: ModelSpec, mode: EmbeddingRows | None = None, theme: str | None = None,
            present: bool = False, presenter: Presenter | None = None,
            follow_room: Path | None = None, follow_owner: str | None = None,
            quiz: bool = False, compare: Trace | None = None,
            config: UserConfig | None = None) -> int:
    """Open the debugger; returns the exit status."""
    np.seterr(all="ignore")  # a diverging model shows NaN, it does not warn
    app = RnnApp(spec, mode, theme=theme, presenter=presenter, follow_room=follow_room,
                 follow_owner=follow_owner, quiz=quiz, present=present, compare=compare,
                 config=config)
    Watchdog(lambda name, code: app.post_message(Stop(name, code))).install()
    app.run()
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    return app.return_code or 0
