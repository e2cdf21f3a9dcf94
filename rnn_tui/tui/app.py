"""The debugger: a Textual app that drives a :class:`Stepper`.

The app's only reactive state is debugger.Shown, a small immutable key of
what is on screen (epoch, phase, index, chunk, mode). Every key that moves the
stepper sets it; a change schedules one repaint of the panels from a fresh
StepView. Repaints are coalesced: a burst of 1,000 key presses moves the
stepper 1,000 times but builds the panels once, after the burst.

What it shares with the GRU/LSTM debugger (tui/cells/app.py) is its base,
debugger.Debugger: the stepping keys, long jobs in a Textual thread worker
(``run_job``, jobs.py) that esc cancels, the quiz (quiz.py), play
(play.py), generation (generate.py), the latency probe (probe.py), the
size classes, the coalesced repaint, themes, and the watchdog (watchdog.py)
that ends the process on a hangup or SIGTERM even if shutdown hangs. This
app adds its panels, the wide grid's rows and the phase classes (layout.py),
follow mode and presenting (follow.py), the comparison (comparison.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Grid

from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.stepper import Stepper
from rnn_tui.core.text import printable
from rnn_tui.tui.comparison import ActiveComparison, Trace
from rnn_tui.tui.debugger import Debugger, run_debugger
from rnn_tui.tui.follow import FollowMode
from rnn_tui.tui.keys import KEYS
from rnn_tui.tui.layout import ScreenLayout, phase_class
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
    from rnn_tui.core.view import StepView
    from rnn_tui.core.why import Why
    from rnn_tui.tui.user_config import UserConfig

# Screens, the quiz, the why view and the gradient check are imported where
# they are first used: the first frame needs none of them, and startup is
# mostly imports.


class RnnApp(ScreenLayout, Debugger):
    BINDINGS = KEYS  # keys.py: every key, its id, footer label and help line

    def __init__(self, spec: ModelSpec, mode: EmbeddingRows | None = None, *,
                 cursor_blink: bool = True, theme: str | None = None,
                 presenter: Presenter | None = None, follow_room: Path | None = None,
                 follow_owner: str | None = None, quiz: bool = False,
                 present: bool = False, compare: Trace | None = None,
                 config: UserConfig | None = None) -> None:
        super().__init__(Stepper(spec, mode), cursor_blink=cursor_blink, theme=theme,
                         config=config, quiz=quiz)
        self.comparison = ActiveComparison(self, compare)
        self.follow = FollowMode(self, presenter, follow_room, follow_owner)
        self.present_on_start = present
        self._phase_class: str | None = None

    # ------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        # the phase's and the presenter's classes, before the panels are styled
        self._phase_class = phase_class(self.stepper.position.phase)
        self.main_screen.set_class(self.present_on_start, "-presenter")
        yield from super().compose()

    def panels(self) -> ComposeResult:
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

    def started(self) -> None:
        self.follow.start()

    def mode_switched(self) -> None:
        self.comparison.prepare()

    def on_unmount(self) -> None:
        self.follow.close()

    # ------------------------------------------------------------- state

    def _render_panels(self) -> None:
        self._render_pending = False
        view = self.stepper.view()
        self._phase_class = phase_class(view.phase)
        self._set_phase_class()
        self.follow.publish()
        status = self.query_one(StatusBar)
        status.set_follow(self.follow.labels())
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

    def show_activity(self, text: str) -> None:
        self.query_one(StatusBar).set_activity(text)
        self.query_one(HandoutStrip).set_activity(text)

    def show_follow(self, forms: tuple[str, ...]) -> None:
        status = self.query_one(StatusBar)
        status.set_follow(forms)
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
        if not super()._guard():
            return False
        self.follow.break_away()
        return True

    def action_sync(self) -> None:
        self.follow.sync()

    def action_scroll_formula(self, delta: int) -> None:
        self.query_one(FormulaPanel).scroll_formula(delta)

    # -------------------------------------------------------- other views

    def why(self, view: StepView, title: str) -> tuple[str, list[Why]]:
        """The step's explanation, after the generation panel's character (if shown)."""
        from rnn_tui.core.why import Explainer

        roots = Explainer(view).roots()
        here = self.generation.current()
        if here is not None:
            from rnn_tui.core.why_train import generation_roots

            walk, k, primed = here
            title += f" · generated character {k + 1}"
            roots = [*generation_roots(walk, k, self.stepper.spec.alphabet, primed), *roots]
        return title, roots

    def action_open_model(self) -> None:
        from rnn_tui.tui.screens.prompt import open_model

        if self._guard():
            open_model(self, self.open_spec)

    def open_spec(self, spec: ModelSpec) -> None:
        """Replace the model: a new stepper at epoch 1, in the file's mode."""
        self.replace_stepper(Stepper(spec))
        self.notify(f"Opened {printable(spec.name)}", timeout=3, markup=False)

    def action_presenter(self) -> None:
        self.screen.toggle_class("-presenter")
        self.size_rows()
        self.repaint_all()


def run_app(spec: ModelSpec, mode: EmbeddingRows | None = None, theme: str | None = None,
            present: bool = False, presenter: Presenter | None = None,
            follow_room: Path | None = None, follow_owner: str | None = None,
            quiz: bool = False, compare: Trace | None = None,
            config: UserConfig | None = None) -> int:
    """Open the debugger; returns the exit status."""
    return run_debugger(lambda: RnnApp(
        spec, mode, theme=theme, presenter=presenter, follow_room=follow_room,
        follow_owner=follow_owner, quiz=quiz, present=present, compare=compare, config=config))
