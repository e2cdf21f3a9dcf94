"""The debugger for a GRU or an LSTM: a Textual app driving a CellStepper.

What it shares with the RNN debugger is their base, tui/debugger.Debugger:
the keys (tui/keys.py, the same ids, so a keymap moves them and the help
screen reads them live), the stepping keys, long jobs (go to epoch N, run
until..., switching mode, the gradient check: the cells' is cells/jobs.py's)
in a thread worker that esc cancels (tui/jobs.py), play, the quiz,
generation (generate.py, in the step panel's place), the compare-cells view
(modal), the help screen, the coalesced repaint, themes, the watchdog for a
hangup or SIGTERM; and the panel base and the stylesheet. The panels are
the cells' own (step.py, panels.py). Layouts: 80x24 shows the status line,
the step panel and the footer; 120x34 and up adds the BPTT triangle, the
states and the gradient sums beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.tui.cells.panels import CellStates, CellStatus, CellSums, CellTriangle
from rnn_tui.tui.cells.step import CellStepPanel
from rnn_tui.tui.debugger import Debugger, run_debugger
from rnn_tui.tui.jobs import Work
from rnn_tui.tui.keys import KEYS
from rnn_tui.tui.widgets.generation import GenerationPanel
from rnn_tui.tui.widgets.panel import Panel

if TYPE_CHECKING:
    from rnn_tui.core.cells.view import CellView
    from rnn_tui.core.why import Why
    from rnn_tui.tui.user_config import UserConfig

CELL_KEYS = ("next", "prev", "next_phase", "prev_phase", "formula_down", "formula_up",
             "next_epoch", "goto_epoch", "play", "faster", "slower", "until_correct",
             "until_loss", "until_nonfinite", "reset", "toggle_mode", "gradcheck", "generate",
             "generate_next", "generate_prev", "generate_settings", "why", "compare_cells",
             "quiz", "cycle_theme", "cancel", "help", "quit", "interrupt")
"""The RNN app's bindings this app has (by id): the same keys, remappable."""


class CellApp(Debugger):
    BINDINGS = [b for b in KEYS if b.id in CELL_KEYS]

    stepper: CellStepper

    def panels(self) -> ComposeResult:
        yield CellStatus(id="cell-status")
        with Horizontal(id="cell-body"):
            yield CellStepPanel(id="cell-step")
            yield GenerationPanel(id="generate")  # in the step panel's place (v)
            with Vertical(id="cell-side"):
                yield CellTriangle(id="cell-triangle")
                yield CellStates(id="cell-states")
                yield CellSums(id="cell-sums")

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

    # ----------------------------------------------------------- actions

    def show_activity(self, text: str) -> None:
        status = self.query_one(CellStatus)
        status.activity = text
        status.forget()

    def gradcheck_job(self) -> Work:
        from rnn_tui.tui.cells.jobs import gradcheck

        return gradcheck(self, self.stepper)

    def action_scroll_formula(self, delta: int) -> None:
        self.query_one(CellStepPanel).scroll(delta)

    def why(self, view: CellView, title: str) -> tuple[str, list[Why]]:
        from rnn_tui.core.cells.why import CellExplainer

        return title, CellExplainer(view).roots()

    def update_order(self) -> tuple[str, ...]:
        return self.stepper.current.params.names


def run_cell_app(stepper: CellStepper, theme: str | None = None,
                 config: UserConfig | None = None, quiz: bool = False) -> int:
    """Open the GRU/LSTM debugger; returns the exit status."""
    return run_debugger(lambda: CellApp(stepper, theme=theme, config=config, quiz=quiz))
