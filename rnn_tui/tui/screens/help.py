"""The help screen, built from the app's live bindings (never a second list)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ABOUT = (
    "Each key press runs one step of the handout: forward t = 1..T, the output "
    "gradients δ_t, every BPTT term (t, k), then the updates of {params}. "
    "Stepping back gives exactly the same numbers. Ctrl+P opens the command palette."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close help", id="close_help"),
    ]

    def __init__(self, params: tuple[str, ...] = ("V", "c", "W", "U", "b", "E")) -> None:
        """``params``: the parameters in the order the update steps take them."""
        super().__init__()
        self.params = params

    def rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every binding of the app, in the app's
        order, with the keys the main screen binds now (a keymap moves them).
        A key the screen takes first (ctrl+c copies a selection, else falls
        through to the app) is not active for the app: it shows as declared."""
        keys: dict[str, list[str]] = {}
        for active in self.app.screen_stack[0].active_bindings.values():
            if active.binding.id is not None:
                keys.setdefault(active.binding.id, []).append(
                    self.app.get_key_display(active.binding))
        out = []
        for binding in self.app.BINDINGS:
            assert isinstance(binding, Binding)
            shown = keys.get(binding.id or "") or [
                self.app.get_key_display(binding.with_key(k.strip(), key_display=None))
                for k in binding.key.split(",")]
            out.append((", ".join(shown), binding.tooltip or binding.description))
        return out

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows():
            table.add_row(keys, what)
        with VerticalScroll():
            yield Static(Text("rnn-tui keys", style="bold"))
            yield Static(table)
            yield Static(Text("\n" + ABOUT.format(params=", ".join(self.params)),
                              style="dim"))
            yield Static(Text("\nesc, q or ? closes this help.", style="dim"))
