"""The debugger: a Textual app that drives a :class:`Stepper`.

The app's only reactive state is :class:`Shown`, a small immutable key of
what is on screen (epoch, phase, index, mode). Every key that moves the
stepper sets it; a change schedules one repaint of the panels from a fresh
StepView. Repaints are coalesced: a burst of 1,000 key presses moves the
stepper 1,000 times but builds the panels once, after the burst.

Long jobs (go to epoch 5000, run until...) run in a thread worker that
reports progress and can be cancelled with Esc; the event loop stays free.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Grid
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from rnn_tui.core import conformance
from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.model_file import ModelFileError, ModelSpec, load
from rnn_tui.core.stepper import MAX_EPOCH, Cancelled, Phase, Position, Stepper
from rnn_tui.core.text import printable
from rnn_tui.tui.themes import CYCLE, MONO, PROJECTOR, THEMES, default_theme
from rnn_tui.tui.widgets.bptt import BpttPanel
from rnn_tui.tui.widgets.formula import FormulaPanel
from rnn_tui.tui.widgets.forward import ForwardPanel
from rnn_tui.tui.widgets.gradients import GradientsPanel
from rnn_tui.tui.widgets.handout import HandoutStrip
from rnn_tui.tui.widgets.loss import LossPanel
from rnn_tui.tui.widgets.panel import Panel
from rnn_tui.tui.widgets.sequence import SequenceStrip
from rnn_tui.tui.widgets.status import StatusBar
from rnn_tui.tui.widgets.update import UpdatePanel

if TYPE_CHECKING:
    from rnn_tui.core.follow import Presenter, RoomState

# Screens, the quiz, the why view, the gradient check and follow mode are
# imported where they are first used: the first frame needs none of them,
# and startup is mostly imports.

MIN_WIDTH, MIN_HEIGHT = 80, 24
WIDE_WIDTH, WIDE_HEIGHT = 120, 34
SPEEDS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.02)  # seconds per step when playing
CANCELLED = "Cancelled; the position is unchanged."
PHASE_CLASSES = tuple(f"-phase-{p.name.lower()}" for p in Phase)
RUN_LIMIT = 100_000  # epochs a run-until searches before giving up
FOLLOW_POLL = 0.2  # seconds between reads of the lecturer's state


@dataclass(frozen=True, slots=True)
class Shown:
    """What the screen shows: small, immutable, cheap to compare."""

    epoch: int
    phase: Phase
    index: int
    mode: EmbeddingRows


class RnnApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "rnn-tui"

    BINDINGS = [
        Binding("space,n,right", "step(1)", "Next", id="next",
                tooltip="Next step (space, n, right arrow)"),
        Binding("p,left,backspace", "step(-1)", "Prev", id="prev",
                tooltip="Previous step, exactly the same numbers as before"),
        Binding("right_square_bracket", "phase(1)", "Phase", id="next_phase",
                tooltip="Next phase (forward, output gradients, BPTT, update)"),
        Binding("left_square_bracket", "phase(-1)", "Phase back", id="prev_phase", show=False,
                tooltip="Start of this phase, or of the previous one"),
        Binding("e", "next_epoch", "Epoch", id="next_epoch", tooltip="Start of the next epoch"),
        Binding("g", "goto_epoch", "Go to", id="goto_epoch", show=False,
                tooltip="Go to epoch N"),
        Binding("r", "play", "Run", id="play", tooltip="Run (play) or pause"),
        Binding("plus,equals_sign", "speed(1)", "Faster", id="faster", show=False,
                tooltip="Play faster"),
        Binding("minus", "speed(-1)", "Slower", id="slower", show=False,
                tooltip="Play slower"),
        Binding("c", "until_correct", "Until right", id="until_correct", show=False,
                tooltip="Run until every prediction of an epoch is right"),
        Binding("l", "until_loss", "Until loss <", id="until_loss", show=False,
                tooltip="Run until the total loss is below a value"),
        Binding("f", "until_nonfinite", "Until NaN", id="until_nonfinite", show=False,
                tooltip="Run until the first value that is not finite (NaN, inf)"),
        Binding("0,home", "reset", "Reset", id="reset", show=False,
                tooltip="Back to epoch 1, forward t=1"),
        Binding("m", "toggle_mode", "Mode", id="toggle_mode",
                tooltip="Toggle exact dE / the handout's dE"),
        Binding("d", "gradcheck", "Grad check", id="gradcheck", show=False,
                tooltip="Check this epoch's gradients against finite differences"),
        Binding("w", "why", "Why", id="why",
                tooltip="Why: break the current step's values down into what made them"),
        Binding("o", "open_model", "Open", id="open_model", show=False,
                tooltip="Open another model file (or a built-in model by name)"),
        Binding("k", "quiz", "Quiz", id="quiz", show=False,
                tooltip="Quiz mode: predict each value before the step reveals it"),
        Binding("j", "next_difference", "Next difference", id="next_difference", show=False,
                tooltip="Handout model: jump to the next printed number that differs from ours"),
        Binding("s", "sync", "Sync", id="sync", show=False,
                tooltip="Follow mode: jump back to the lecturer's position and keep following"),
        Binding("z", "presenter", "Present", id="presenter", show=False,
                tooltip="Presenter mode: only the formula and the current step's panel, large"),
        Binding("t", "cycle_theme", "Theme", id="cycle_theme", show=False,
                tooltip="Next theme: dark, light, projector, mono"),
        Binding("escape", "cancel", "Cancel", id="cancel", show=False,
                tooltip="Stop playing or cancel a long run"),
        Binding("question_mark", "help", "Help", id="help", tooltip="This help"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit"),
        Binding("ctrl+c", "interrupt", "Interrupt", id="interrupt", show=False,
                tooltip="Stop now (exit status 130)"),
    ]

    state: var[Shown | None] = var(None)  # no repaint of its own: panels refresh themselves

    def __init__(self, spec: ModelSpec, mode: EmbeddingRows | None = None, *,
                 cursor_blink: bool = True, theme: str | None = None,
                 presenter: Presenter | None = None, follow_room: Path | None = None,
                 follow_owner: str | None = None) -> None:
        super().__init__()
        self.stepper = Stepper(spec, mode)
        self.presenter = presenter
        self.follow_room = follow_room
        self.follow_owner = follow_owner
        self.following = follow_room is not None
        self._room: RoomState | None = None  # last state read from the room
        self._applied: RoomState | None = None  # last state shown here
        self._follow_note = ""
        self.quiz = False
        self.quiz_right = 0
        self.quiz_asked = 0
        self._asked: set[tuple[int, int]] = set()  # (epoch, step) already asked
        self.cursor_blink = cursor_blink
        self.register_theme(PROJECTOR)
        self.register_theme(MONO)
        self.theme_name = theme or default_theme()
        self.theme = THEMES[self.theme_name]
        self.busy = False
        self._render_pending = False
        self._phase_class: str | None = None
        self._key_arrived: float | None = None
        self._key_time: float | None = None
        self.latencies: list[float] = []  # seconds, key event -> panels refreshed
        self._speed = 2
        self._player: Timer | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # Layout classes go on the screen before its children are styled:
        # adding them later restyles every widget again.
        self._phase_class = _phase_class(self.stepper.position.phase)
        self._fit(self.size.width, self.size.height)
        yield StatusBar(id="status")
        yield SequenceStrip(id="sequence")
        yield HandoutStrip(id="handout")
        with Grid(id="main"):
            yield FormulaPanel(id="formula")
            yield ForwardPanel(id="forward")
            yield BpttPanel(id="bptt")
            yield GradientsPanel(id="gradients")
            yield UpdatePanel(id="update")
            yield LossPanel(id="loss")
        yield Static(f"Enlarge the terminal to at least {MIN_WIDTH}x{MIN_HEIGHT}.",
                     id="too-small")
        yield Footer(compact=True)

    @property
    def monochrome(self) -> bool:
        """Draw with bold/underline/reverse only (read by the panels' palette)."""
        return self.theme == "mono"

    present_on_start = False
    _mounted = False

    def on_mount(self) -> None:
        self._mounted = True
        self._catch_signals()
        if self.present_on_start:
            self.screen.add_class("-presenter")
        if self.quiz:
            self._status(self._quiz_label())
        self._sync()
        self._render_panels()  # now, so that the first frame shows the model
        if self.follow_room is not None:
            self._poll_room()
            self.set_interval(FOLLOW_POLL, self._poll_room)

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP end the app through Textual, which restores the
        terminal (raw mode off, cursor shown), instead of killing it mid-frame."""
        loop = asyncio.get_running_loop()
        for sig, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 129)):
            try:
                loop.add_signal_handler(sig, partial(self._signalled, sig.name, code))
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (e.g. under a test pilot)

    def _signalled(self, name: str, code: int) -> None:
        self.exit_message = f"rnn-tui: stopped by {name}"
        self.workers.cancel_all()
        self.exit(return_code=code)

    def action_interrupt(self) -> None:
        self.exit_message = "rnn-tui: interrupted"
        self.workers.cancel_all()
        self.exit(return_code=130)

    exit_message = ""

    def on_unmount(self) -> None:
        if self.presenter is not None:
            self.presenter.close(self.stepper.mode, self.stepper.position)

    def watch_theme(self, theme: str) -> None:
        """Panels cache their lines with the old colours: rebuild them all."""
        if self._mounted:
            self._repaint_all()

    def _repaint_all(self) -> None:
        for panel in self.query(Panel):
            panel.forget()
        self._sync()
        self.call_later(self._render_panels)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        screen = self.screen
        screen.set_class(width < MIN_WIDTH or height < MIN_HEIGHT, "-too-small")
        screen.set_class(width >= WIDE_WIDTH and height >= WIDE_HEIGHT, "-wide")
        self._set_phase_class()

    def _set_phase_class(self) -> None:
        """Put the current phase's class on the screen, where it shows.

        It picks the panels of the narrow and the presenter layouts. A class
        change on the screen re-applies the stylesheet to every widget (tens
        of ms, the slowest part of a key that changes phase), so the wide
        layout, which shows every panel anyway, skips it, and a change is
        one restyle, not two (remove, then add)."""
        screen, wanted = self.screen, self._phase_class
        if wanted is None or screen.has_class(wanted):
            return
        if screen.has_class("-wide") and not screen.has_class("-presenter"):
            return
        screen.remove_class(*PHASE_CLASSES, update=False)
        screen.add_class(wanted)

    # ------------------------------------------------------------- state

    def _sync(self) -> None:
        """Publish the stepper's position as the reactive state."""
        pos = self.stepper.position
        self.state = Shown(pos.epoch, pos.phase, pos.index, self.stepper.mode)

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
        self._phase_class = _phase_class(view.phase)
        self._set_phase_class()
        if self.presenter is not None:
            self._publish()
        status = self.query_one(StatusBar)
        status.follow = self._follow_label()
        marks = conformance.marks(self.stepper) if self._handout_model else []
        for panel in self.query(Panel):
            if isinstance(panel, HandoutStrip):
                panel.show_marks(view, marks)
            else:
                panel.show(view)
        self.query_one(LossPanel).show(view)
        if self._key_time is not None:
            started, self._key_time = self._key_time, None
            self.call_after_refresh(self._record_latency, started)

    def _record_latency(self, started: float) -> None:
        self.latencies.append(time.perf_counter() - started)
        del self.latencies[:-1000]

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._key_arrived = time.perf_counter()
        await super().on_event(event)

    def _moved(self) -> None:
        """The stepper moved because of a key: time it to the repaint."""
        if self._key_time is None:
            self._key_time = self._key_arrived or time.perf_counter()
        self._key_arrived = None
        self._sync()

    def _status(self, text: str) -> None:
        self.query_one(StatusBar).set_activity(text)

    # ----------------------------------------------------------- actions

    def _guard(self) -> bool:
        """Stepping keys are ignored while a long run works in the background;
        in follow mode they break away from the lecturer to explore."""
        if self.busy:
            return False
        if self.following:
            self.following = False
            self.notify("Exploring on your own; press s to follow the lecturer again.",
                        timeout=3)
        return True

    def action_step(self, delta: int) -> None:
        if not self._guard():
            return
        if delta > 0 and self.quiz and self._ask_next():
            return
        self.stepper.next() if delta > 0 else self.stepper.prev()
        self._moved()

    # ------------------------------------------------------------- quiz

    def action_quiz(self) -> None:
        self.quiz = not self.quiz
        self.notify("Quiz on: predict each value before it is revealed." if self.quiz
                    else f"Quiz off. Score: {self.quiz_score}.", timeout=3)
        self._status(self._quiz_label())

    @property
    def quiz_score(self) -> str:
        return f"{self.quiz_right}/{self.quiz_asked} right"

    def _quiz_label(self) -> str:
        return f"quiz {self.quiz_score}" if self.quiz else ""

    def _ask_next(self) -> bool:
        """Ask about the step that next() would reveal; True if a question is up."""
        lay = self.stepper.layout
        here = lay.step_of(self.stepper.position) + 1
        epoch = self.stepper.position.epoch
        if here == lay.steps_per_epoch:
            epoch, here = epoch + 1, 0
        if (epoch, here) in self._asked:
            return False
        self._asked.add((epoch, here))
        from rnn_tui.core import quiz
        from rnn_tui.tui.screens.quiz import QuizScreen

        question = quiz.question_for(self.stepper.peek(lay.at(epoch, here)))
        if question is None:
            return False

        def answered(result: bool | None) -> None:
            if result is not None:
                self.quiz_asked += 1
                self.quiz_right += int(result)
            self._status(self._quiz_label())
            self.stepper.next()
            self._moved()

        self.push_screen(QuizScreen(question, self.quiz_score), answered)
        return True

    def action_phase(self, delta: int) -> None:
        if not self._guard():
            return
        self.stepper.next_phase() if delta > 0 else self.stepper.prev_phase()
        self._moved()

    def action_next_epoch(self) -> None:
        if self._guard():
            self.stepper.goto_epoch(self.stepper.position.epoch + 1)
            self._moved()

    def action_reset(self) -> None:
        if self._guard():
            self._stop_playing()
            self.stepper.reset()
            self._moved()

    def action_goto_epoch(self) -> None:
        from rnn_tui.tui.screens.prompt import PromptScreen

        if not self._guard():
            return

        def check(text: str) -> str | None:
            try:
                n = int(text)
            except ValueError:
                return f"Type a whole number from 1 to {MAX_EPOCH}."
            return None if 1 <= n <= MAX_EPOCH else f"Epochs run from 1 to {MAX_EPOCH}."

        def go(text: str | None) -> None:
            if text is not None:
                n = int(text)
                self._run(f"epoch {n}", partial(self._job_goto, n))

        self.push_screen(PromptScreen("Go to epoch:", "e.g. 100", check), go)

    def action_until_correct(self) -> None:
        if self._guard():
            self._run("until all right",
                      partial(self._job_until, lambda st, **kw: st.run_until_correct(**kw)))

    def action_until_loss(self) -> None:
        from rnn_tui.tui.screens.prompt import PromptScreen

        if not self._guard():
            return

        def check(text: str) -> str | None:
            try:
                x = float(text)
            except ValueError:
                return "Type a number, e.g. 2.5."
            return None if math.isfinite(x) else "Type a finite number."

        def go(text: str | None) -> None:
            if text is not None:
                x = float(text)
                self._run(f"until loss < {x}", partial(
                    self._job_until, lambda st, **kw: st.run_until_loss_below(x, **kw)))

        self.push_screen(PromptScreen("Run until the total loss is below:", "e.g. 2.5", check),
                         go)

    def action_until_nonfinite(self) -> None:
        if self._guard():
            self._run("until not finite",
                      partial(self._job_until, lambda st, **kw: st.run_until_nonfinite(**kw)))

    def action_toggle_mode(self) -> None:
        if self._guard():
            mode: EmbeddingRows = "x_t" if self.stepper.mode == "x_k" else "x_k"
            self._run("switching mode", partial(self._job_mode, mode))

    def action_play(self) -> None:
        if self._player is not None:
            self._stop_playing()
            return
        if not self._guard():
            return
        self._player = self.set_interval(SPEEDS[self._speed], self._tick)
        self._status(self._play_label())

    def _play_label(self) -> str:
        return f"▶ playing, {1 / SPEEDS[self._speed]:g} steps/s (+/- speed, r pause)"

    def _tick(self) -> None:
        if not self.busy:
            self.stepper.next()
            self._sync()

    def _stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None
            self._status(self._quiz_label())

    def action_speed(self, delta: int) -> None:
        self._speed = max(0, min(len(SPEEDS) - 1, self._speed + delta))
        if self._player is not None:
            self._player.stop()
            self._player = self.set_interval(SPEEDS[self._speed], self._tick)
            self._status(self._play_label())
        else:
            self.notify(f"Play speed: {1 / SPEEDS[self._speed]:g} steps/s", timeout=2)

    def action_cancel(self) -> None:
        self._stop_playing()
        if self._stop_job is not None:
            # The job stops at its next check; busy clears when it really has
            # (cancelling the Textual worker would report CANCELLED at once,
            # while the thread still runs, or never, if it had not started).
            self._stop_job.set()

    def action_gradcheck(self) -> None:
        if self._guard():
            self._run("gradient check", self._job_gradcheck)

    def _job_gradcheck(self, should_stop: Callable[[], bool], **kw: object) -> str | None:
        from rnn_tui.core import gradcheck
        from rnn_tui.tui.screens.report import ReportScreen

        ep = self.stepper.current
        results = gradcheck.check(ep.params, self.stepper.inputs, self.stepper.targets,
                                  self.stepper.mode, should_stop=should_stop)
        lines = gradcheck.report(results, self.stepper.mode)
        title = (f"Gradient check, epoch {ep.number}: central differences (eps 1e-5) vs "
                 "backward, up to 64 entries per parameter")
        self.call_from_thread(self.push_screen, ReportScreen(title, lines))
        return None

    def action_why(self) -> None:
        if not self._guard():
            return
        from rnn_tui.core.why import Explainer
        from rnn_tui.tui.screens.why import WhyScreen

        view = self.stepper.view()
        title = f"Why? epoch {view.pos.epoch}, {view.label}"
        self.push_screen(WhyScreen(title, Explainer(view).roots()))

    def action_open_model(self) -> None:
        if not self._guard():
            return
        if os.environ.get("RNN_TUI_SERVED"):
            self.notify("Opening files is disabled in a served session.", severity="warning")
            return
        from rnn_tui.tui.screens.prompt import PromptScreen

        loaded: dict[str, ModelSpec] = {}

        def check(text: str) -> str | None:
            if not text.strip():
                return "Type a path to a .toml file or a built-in name (hello, hello-handout)."
            try:
                loaded["spec"] = load(text.strip())[0]
            except ModelFileError as err:
                return str(err)
            return None

        def opened(text: str | None) -> None:
            if text is not None and "spec" in loaded:
                self.open_spec(loaded["spec"])

        self.push_screen(PromptScreen("Open model (a .toml file or a built-in name):",
                                      "models/hello.toml", check), opened)

    def open_spec(self, spec: ModelSpec) -> None:
        """Replace the model: a new stepper at epoch 1, in the file's mode."""
        self._stop_playing()
        self.stepper = Stepper(spec)
        self._repaint_all()
        self.notify(f"Opened {printable(spec.name)}", timeout=3, markup=False)

    # ------------------------------------------------------ follow mode

    def _publish(self) -> None:
        from rnn_tui.core.follow import FollowError

        assert self.presenter is not None
        try:
            self.presenter.publish(self.stepper.mode, self.stepper.position)
        except FollowError as err:
            self.notify(str(err), severity="error", timeout=6)
            self.presenter = None

    def _follow_label(self) -> str:
        if self.presenter is not None:
            return f"presenting in {self.presenter.room}"
        if self.follow_room is None:
            return ""
        state = "following" if self.following else "exploring (s syncs)"
        return f"{state}{': ' + self._follow_note if self._follow_note else ''}"

    def _set_note(self, note: str) -> None:
        if note != self._follow_note:
            self._follow_note = note
            status = self.query_one(StatusBar)
            status.follow = self._follow_label()
            status.forget()

    def _poll_room(self) -> None:
        """Read the lecturer's state; apply it when following and it moved."""
        from rnn_tui.core.follow import STATE_FILE, FollowError, read_state

        assert self.follow_room is not None
        try:
            room = read_state(self.follow_room, self.follow_owner, self._room)
        except FollowError as err:  # the header names the problem, not the long path
            self._set_note(str(err).removeprefix(f"{self.follow_room / STATE_FILE}: "))
            return
        self._room = room
        if room.ended:
            self._set_note(f"{room.presenter} stopped presenting")
            return
        self._set_note("")
        if self.following and not self.busy and not room.same_place(self._applied):
            self._apply(room)

    def _apply(self, room: RoomState) -> None:
        from rnn_tui.core.follow import FollowError, load_model

        if self._applied is None or (room.model, room.sha256) != (
                self._applied.model, self._applied.sha256):
            try:
                spec = load_model(room)
            except FollowError as err:
                self._set_note(str(err))
                return
            self.stepper = Stepper(spec, room.mode)  # type: ignore[arg-type]
            self._repaint_all()
        self._applied = room
        target = room.position
        try:
            self.stepper.layout.check(target)
        except ValueError as err:
            self._set_note(f"presenter's position is not valid here: {err}")
            return
        if room.mode != self.stepper.mode or abs(target.epoch - self.stepper.position.epoch) > 50:
            self._run("following", partial(self._job_follow, room.mode, target))
        else:
            self.stepper.goto(target)
            self._sync()

    def _job_follow(self, mode: EmbeddingRows, target: Position, **kw: object) -> str | None:
        self.stepper.set_mode(mode)
        self.stepper.goto(target, **kw)  # type: ignore[arg-type]
        return None

    @property
    def _handout_model(self) -> bool:
        spec = self.stepper.spec
        if getattr(self, "_handout_spec", None) is not spec:
            self._handout_spec = spec
            self._is_handout = conformance.is_handout_model(spec)
        return self._is_handout

    def action_next_difference(self) -> None:
        if not self._guard():
            return
        if not self._handout_model:
            self.notify("Only the handout's model has printed numbers to compare with.",
                        timeout=3)
            return
        pos = conformance.next_difference(self.stepper)
        if pos is None:
            self.notify("No more differences from the handout after this step.", timeout=3)
            return
        self._run("next difference", partial(self._job_goto_position, pos))

    def _job_goto_position(self, pos: Position, **kw: object) -> str | None:
        self.stepper.goto(pos, **kw)  # type: ignore[arg-type]
        return None

    def action_sync(self) -> None:
        if self.follow_room is None:
            self.notify("Not in follow mode (start with: rnn-tui follow).", timeout=3)
            return
        self.following = True
        if self._room is not None and not self._room.ended and not self.busy:
            self._apply(self._room)
        status = self.query_one(StatusBar)
        status.follow = self._follow_label()
        status.forget()

    toast_time_scale = 1.0  # snapshot tests stretch it so toasts never expire mid-test

    def notify(self, message: str, *, timeout: float | None = None, **kwargs: object) -> None:
        seconds = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        super().notify(message, timeout=seconds * self.toast_time_scale, **kwargs)  # type: ignore[arg-type]

    def action_cycle_theme(self) -> None:
        names = CYCLE
        self.theme_name = names[(names.index(self.theme_name) + 1) % len(names)]
        self.theme = THEMES[self.theme_name]
        self.notify(f"Theme: {self.theme_name}", timeout=2)

    def action_presenter(self) -> None:
        self.screen.toggle_class("-presenter")
        self._repaint_all()

    def action_help(self) -> None:
        from rnn_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    # ------------------------------------------------------ long jobs

    _stop_job: threading.Event | None = None

    def _run(self, label: str, job: Callable[..., str | None]) -> None:
        if self.busy:  # one job at a time (a prompt answered as another started)
            return
        self._stop_playing()
        self.busy = True
        self._stop_job = threading.Event()
        self._status(f"⟳ {label}… (esc cancels)")
        self._long(label, job, self._stop_job)

    @work(thread=True, group="long")
    def _long(self, label: str, job: Callable[..., str | None],
              stop: threading.Event) -> str | None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                self.call_from_thread(self._status, f"⟳ {label}: {done}/{total} (esc cancels)")

        try:
            return job(progress=progress, should_stop=stop.is_set)
        except (Cancelled, InterruptedError):  # the stepper's and gradcheck's "stopped"
            return CANCELLED

    def _job_goto(self, n: int, **kw: object) -> str | None:
        self.stepper.goto_epoch(n, **kw)  # type: ignore[arg-type]
        return None

    def _job_until(self, find: Callable[..., Position | None], **kw: object) -> str | None:
        found = find(self.stepper, max_epochs=RUN_LIMIT, **kw)
        return None if found is not None else f"Not found within {RUN_LIMIT} epochs."

    def _job_mode(self, mode: EmbeddingRows, **kw: object) -> str | None:
        self.stepper.set_mode(mode)
        return "Mode: the handout's dE (term (t,k) into row x_t)" if mode == "x_t" else (
            "Mode: exact dE (term (t,k) into row x_k)")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "long" or event.state in (WorkerState.PENDING,
                                                           WorkerState.RUNNING):
            return
        self.busy = False
        self._status(self._quiz_label())
        if event.state is WorkerState.SUCCESS and event.worker.result:
            self.notify(str(event.worker.result), timeout=4)
        elif event.state is WorkerState.CANCELLED:  # only when the app shuts down
            self.notify(CANCELLED, timeout=3)
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            if not isinstance(error, Cancelled):
                self.notify(f"Stopped: {error}", severity="error", timeout=6)
        self._moved()

    # ---------------------------------------------------- command palette

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Save an SVG of the screen (ctrl+p, Screenshot) without ever losing a
        file: written atomically, never over an existing one, one-line errors."""
        if os.environ.get("RNN_TUI_SERVED"):  # it would write a file on the server
            self.notify("Screenshots are disabled in a served session.", severity="warning")
            return None
        from platformdirs import user_downloads_path
        from textual._files import generate_datetime_filename

        from rnn_tui.core.files import WriteError, write_atomic

        name = filename or generate_datetime_filename(self.title, ".svg", time_format)
        target = Path(path).expanduser() if path else user_downloads_path()
        try:
            write_atomic(target / name, self.export_screenshot())
        except WriteError as err:
            self.notify(str(err), severity="error", timeout=8)
            return None
        self.notify(f"Screenshot saved to {target / name}", timeout=5)
        return str(target / name)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        served = bool(os.environ.get("RNN_TUI_SERVED"))
        for command in super().get_system_commands(screen):
            if not (served and command.title == "Screenshot"):
                yield command
        for binding in self.BINDINGS:
            assert isinstance(binding, Binding)
            action = binding.action
            yield SystemCommand(
                binding.description,
                binding.tooltip or binding.description,
                partial(self.run_action, action),
            )


def _phase_class(phase: Phase) -> str:
    """The screen class that picks the panels of a phase (see app.tcss)."""
    return f"-phase-{phase.name.lower()}"


def run_app(spec: ModelSpec, mode: EmbeddingRows | None = None, theme: str | None = None,
            present: bool = False, presenter: Presenter | None = None,
            follow_room: Path | None = None, follow_owner: str | None = None,
            quiz: bool = False) -> int:
    """Open the debugger; returns the exit status."""
    np.seterr(all="ignore")  # a diverging model shows NaN, it does not warn
    app = RnnApp(spec, mode, theme=theme, presenter=presenter, follow_room=follow_room,
                 follow_owner=follow_owner)
    app.present_on_start = present
    app.quiz = quiz
    app.run()
    if app.exit_message:
        print(app.exit_message, file=sys.stderr)
    return app.return_code or 0
