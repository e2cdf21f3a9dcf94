"""Which layout the screen shows: too small, narrow (80x24: the current
phase's panel), wide (120x34 and up: every panel, rows sized to the model by
fit.py) or presenter. All of it is classes on the screen that app.tcss
reads; this mixin of the app sets them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnn_tui.core.stepper import Phase
from rnn_tui.tui.widgets.network import NetworkPanel

if TYPE_CHECKING:
    from textual.screen import Screen

MIN_WIDTH, MIN_HEIGHT = 80, 24
WIDE_WIDTH, WIDE_HEIGHT = 120, 34
PHASE_CLASSES = tuple(f"-phase-{p.name.lower()}" for p in Phase)


def phase_class(phase: Phase) -> str:
    """The screen class that picks the panels of a phase (see app.tcss)."""
    return f"-phase-{phase.name.lower()}"


class ScreenLayout:
    """The app's layout classes: a mixin of RnnApp (an App: screen, size,
    query_one), kept apart so that app.py is about stepping. The size classes
    (-too-small, -wide) are debugger.Debugger's, which both apps share."""

    screen: Screen
    screen_stack: list[Screen]
    size: tuple[int, int]
    _mounted: bool
    _phase_class: str | None
    _rows_for: tuple[int, int] | None = None  # the size the rows were last sized at
    main_screen: Screen  # stepping.StepKeys: the screen the panels are on

    def laid_out(self, width: int, height: int, was_wide: bool) -> None:
        """debugger.Debugger._fit's hook, after the size classes: the phase's
        class and the wide grid's rows for the new size."""
        self._set_phase_class()
        if self._mounted and (width, height) != self._rows_for:  # (mount sized them)
            self.size_rows((width, height))

    def size_rows(self, size: tuple[int, int] | None = None) -> None:
        """Size the wide layout's rows to the model (fit.py) for a terminal
        of ``size`` (default: the app's size; a Resize passes its own, as
        the app's size is the old one while the event is handled); the
        narrow and presenter layouts are fixed in app.tcss."""
        from rnn_tui.tui import fit

        screen, main = self.main_screen, self.query_one("#main")
        network = self.query_one(NetworkPanel)
        width, height = size or (self.size[0], self.size[1])
        self._rows_for = (width, height)
        if not screen.has_class("-wide") or screen.has_class("-presenter"):
            main.styles.grid_rows = None
            network.styles.height = None
            return
        rows = fit.wide_rows(height - 6, *fit.panel_heights(self, width))
        main.styles.grid_rows = f"{rows.upper} {rows.lower} {rows.loss or 1}"
        network.styles.height = rows.network
        screen.set_class(not rows.loss, "-chart-side")
        # below 160 columns a quarter is narrower than a panel at 80x24: the
        # gradients and parameters keep a third, the chart and triangle share
        # the rest (a bigger terminal never shows less)
        screen.set_class(not rows.loss and width < 4 * MIN_WIDTH // 2, "-chart-tight")

    def _set_phase_class(self) -> None:
        """Put the current phase's class on the screen, where it picks the
        panels of the narrow and the presenter layouts. A class change on the
        screen restyles every widget (tens of ms), so the wide layout, which
        shows every panel anyway, skips it, and a change is one restyle."""
        screen, wanted = self.main_screen, self._phase_class
        if wanted is None or screen.has_class(wanted):
            return
        if screen.has_class("-wide") and not screen.has_class("-presenter"):
            return
        screen.remove_class(*PHASE_CLASSES, update=False)
        screen.add_class(wanted)
