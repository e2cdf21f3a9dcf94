"""The RNN's and the LSTM's (or GRU's) BPTT triangles side by side (issue 17):
``rnn-tui compare-cells TEXT`` opens it as an app of its own, and the
debugger's key opens it for the model's text.

Side by side when every triangle fits the width with one column per term,
else one at a time (tab shows the next); rows that do not fit the height
give way to a ⋮ line. Every triangle is shaded on one scale (the largest
norm of all), so equal shades are equal sizes across models; the per-lag
medians below put the decay in numbers.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from rnn_tui.core.cell_compare import (
    MAX_SIZE,
    MAX_TEXT,
    TITLES,
    Comparison,
    compare,
    summary_lines,
)
from rnn_tui.core.model_file import DEFAULT_SCALE, ModelSpec
from rnn_tui.core.text import printable
from rnn_tui.tui.themes import MONO, PROJECTOR, STYLESHEET, THEMES, default_theme
from rnn_tui.tui.widgets.cell_triangle import CellTriangle, legend
from rnn_tui.tui.widgets.panel import palette, themed

NUMBERS = (None, True, False)  # auto, numbers (eliding columns), shades
NUMBERS_NAME = {None: "auto", True: "numbers", False: "shades"}


class CellCompareHelp(ModalScreen[None]):
    """The view's keys, from the live bindings of the screen below."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close help", id="cells_help_close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        lines = [Text("compare-cells keys", style="bold")]
        lines += [Text.assemble((keys.ljust(12), "bold"), what) for keys, what in self.rows]
        lines.append(Text("\nThe triangles show ‖∂L_t/∂s_k‖ (s = h; (h, C) for the LSTM), "
                          "each shade a factor 10 below the largest of all. esc closes.",
                          style="dim"))
        with VerticalScroll():
            yield Static(Text("\n").join(lines))


class CellCompareScreen(ModalScreen[None]):
    """Modal, so the debugger's keys do not step the model underneath it."""

    BINDINGS = [
        Binding("tab,right", "next_cell", "Next cell", tooltip="One at a time: show the next model",
                id="cells_next"),
        Binding("v", "layout", "Layout", tooltip="Side by side (when it fits) or one at a time",
                id="cells_layout"),
        Binding("n", "numbers", "Numbers", tooltip="Each term as a number, shades only, or "
                "numbers when they fit (auto)", id="cells_numbers"),
        Binding("question_mark", "help", "Help", tooltip="This help", id="cells_help"),
        Binding("q,escape", "close", "Close", tooltip="Close the view", id="cells_close"),
    ]
    def __init__(self, comparison: Comparison | None = None,
                 compute: Callable[[], Comparison] | None = None) -> None:
        super().__init__()
        self.comparison = comparison
        self.compute = compute
        self.current = 0  # the model shown when one at a time
        self.one_at_a_time = False  # forced by the layout key
        self.numbers: bool | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="cells-head")
        yield Horizontal(id="cells-triangles")
        yield Static(id="cells-legend")
        yield Static(id="cells-summary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.comparison is not None:
            self._show()
        elif self.compute is not None:
            self.query_one("#cells-head", Static).update("computing the triangles…")
            self._run(self.compute)

    @work(thread=True, exclusive=True)
    def _run(self, compute: Callable[[], Comparison]) -> None:
        try:
            result = compute()
        except ValueError as err:
            self.app.call_from_thread(self._failed, str(err))
            return
        self.app.call_from_thread(self._ready, result)

    def _gone(self) -> bool:
        """Closed before a worker's result or a deferred fit arrived (a
        storm of keys: b, then q at once): nothing left to update."""
        return not self.is_attached or not self.query("#cells-summary")

    def _failed(self, why: str) -> None:
        if not self._gone():
            self.query_one("#cells-head", Static).update(Text(printable(why), style="bold"))

    def _ready(self, result: Comparison) -> None:
        self.comparison = result
        if not self._gone():
            self._show()

    def _show(self) -> None:
        c = self.comparison
        assert c is not None
        top = c.top()
        box = self.query_one("#cells-triangles", Horizontal)
        box.remove_children()
        box.mount_all([CellTriangle(tr.norms, TITLES[m], top=top, numbers=self.numbers,
                                    fit_height=True, show_legend=False, id=f"cells-{m}")
                       for m, tr in c.triangles.items()])
        self.query_one("#cells-head", Static).update(Text(
            f"{printable(c.text)}  T={len(c.text) - 1} K={len(c.vocab)} H={c.hidden} "
            f"D={c.embed} seed {c.seed} scale {c.scale} b_f {c.forget_bias} "
            f"epochs {c.epochs} lr {c.learning_rate}", no_wrap=True, overflow="ellipsis"))
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        if self.comparison is not None:
            self._fit()

    def side_by_side(self) -> bool:
        """Every triangle fits its share of the width with one column per term."""
        c = self.comparison
        if c is None or self.one_at_a_time:
            return False
        T = next(iter(c.triangles.values())).T
        need = len(f"t={T}") + 1 + T + 2  # labels, one column per term, padding
        return len(c.triangles) * need <= self.size.width

    def _fit(self) -> None:
        c = self.comparison
        if c is None or self._gone():
            return
        side = self.side_by_side()
        names = list(c.triangles)
        for i, m in enumerate(names):
            tri = self.query(f"#cells-{m}")
            if tri:
                tri.first().set_class(not side and i != self.current % len(names), "-hidden")
        width = max(30, self.size.width)
        styles = palette(self)
        self.query_one("#cells-legend", Static).update(
            Text("\n").join(themed(line, styles) for line in legend(c.top(), width)))
        mode = "side by side" if side else f"{self.current % len(names) + 1} of {len(names)}"
        lines = [Text(line) for line in summary_lines(c, width)]
        lines[0].append(f"   [{mode}, {NUMBERS_NAME[self.numbers]}]", style="dim")
        self.query_one("#cells-summary", Static).update(Text("\n").join(lines))

    # ------------------------------------------------------------- keys

    def action_next_cell(self) -> None:
        if self.comparison is not None:
            self.current = (self.current + 1) % len(self.comparison.triangles)
            if self.side_by_side():
                self.one_at_a_time = True  # tab asks for one at a time
            self._fit()

    def action_layout(self) -> None:
        self.one_at_a_time = not self.one_at_a_time
        self._fit()

    def action_numbers(self) -> None:
        self.numbers = NUMBERS[(NUMBERS.index(self.numbers) + 1) % len(NUMBERS)]
        for tri in self.query(CellTriangle):
            tri.update(numbers=self.numbers)
        self._fit()

    def action_help(self) -> None:
        rows = []
        for b in self.BINDINGS:
            assert isinstance(b, Binding)
            keys = ", ".join(self.app.get_key_display(b.with_key(k.strip(), key_display=None))
                             for k in b.key.split(","))
            rows.append((keys, b.tooltip or b.description))
        self.app.push_screen(CellCompareHelp(rows))

    def action_close(self) -> None:
        if isinstance(self.app, CellCompareApp):
            self.app.exit()
        else:
            self.dismiss()


class CellCompareApp(App[None]):
    """``rnn-tui compare-cells``: the screen above as an app of its own."""

    TITLE = "rnn-tui compare-cells"
    CSS_PATH = STYLESHEET  # the one stylesheet, app.tcss (an absolute path: subclasses too)

    def __init__(self, comparison: Comparison, theme: str | None = None) -> None:
        super().__init__()
        self.comparison = comparison
        self.register_theme(PROJECTOR)
        self.register_theme(MONO)
        self.theme = THEMES[theme or default_theme()]

    @property
    def monochrome(self) -> bool:
        return self.theme == "mono"

    def get_default_screen(self) -> Screen:
        return CellCompareScreen(self.comparison)


def run_view(comparison: Comparison, theme: str | None = None) -> int:
    app = CellCompareApp(comparison, theme)
    app.run()
    return app.return_code or 0


def screen_for(spec: ModelSpec) -> CellCompareScreen:
    """The debugger's key: the RNN, the GRU and the LSTM for the model's text
    (its first MAX_TEXT characters), H and D (at most MAX_SIZE) and seed (0
    when the file gives explicit values), computed in a worker thread."""
    text = spec.text[:MAX_TEXT]
    init = spec.init
    scale = init.scale if init.scale is not None else DEFAULT_SCALE

    def compute() -> Comparison:
        return compare(text, ("rnn", "gru", "lstm"), min(spec.hidden_size, MAX_SIZE),
                       min(spec.embedding_dim, MAX_SIZE), init.seed or 0, scale)

    return CellCompareScreen(compute=compute)
