"""The unrolled network picture: the pure layout (network_draw.draw) at many
sizes and positions, and the panel in a tiny app on real steppers."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from rich.cells import cell_len
from rich.text import Span, Text
from textual.app import App, ComposeResult

from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper
from rnn_tui.tui.widgets.network import NetworkPanel, h_label, scene_of
from rnn_tui.tui.widgets.network_draw import Scene, Step, draw
from rnn_tui.tui.widgets.numbers import CHANGED, CURRENT, MUTED, NONFINITE, fmt
from rnn_tui.tui.widgets.panel import palette

from helpers.models import random_spec

NUMBER = re.compile(r"-?\d+\.\d+(?:e[+-]\d+)?|NaN|-?inf")
NODE = re.compile(r"h_(\d+)")

_steppers: dict[int, Stepper] = {}


def stepper(T: int) -> Stepper:
    """The hello model for T = 4, else a random 3-unit model of length T."""
    if T not in _steppers:
        spec = load("hello")[0] if T == 4 else random_spec(5, 2, 3, T, seed=T)
        _steppers[T] = Stepper(spec)
    return _steppers[T]


def view_at(T: int, phase: Phase, index: int):
    st = stepper(T)
    return st.peek(Position(epoch=1, phase=phase, index=index))


def styles_at(line: Text, x: int) -> set[str]:
    """The style names of the spans covering cell x (the lines are 1 cell a char
    here: the models' characters are narrow)."""
    return {str(s.style) for s in line.spans if s.start <= x < s.end}


def chain(lines: list[Text]) -> Text:
    """The row of the chain of h_t (the one with the most nodes)."""
    return max(lines, key=lambda t: len(NODE.findall(t.plain)))


def positions(T: int) -> list[tuple[Phase, int]]:
    mid = (T + 1) // 2
    out = [(Phase.FORWARD, 0), (Phase.FORWARD, mid - 1), (Phase.FORWARD, T - 1),
           (Phase.OUTPUT, mid - 1), (Phase.UPDATE, 2), (Phase.UPDATE, 5)]
    for t, k in {(T, 1), (T, T), (mid, max(1, mid - 2)), (T, max(1, T - 1))}:
        out.append((Phase.BPTT, Layout.term_index(t, k)))
    return out


def check_whole(scene: Scene, lines: list[Text], width: int, height: int) -> None:
    """Within the size; every value shown is a whole label; nodes in order."""
    assert len(lines) <= height
    for line in lines:
        assert line.cell_len <= width, (line.plain, width)
    allowed = {scene.h0.strip("‖")} | {s.loss for s in scene.steps} | {
        s.h.strip("‖") for s in scene.steps}
    chars = {s.x for s in scene.steps} | {s.y for s in scene.steps}
    for line in lines:
        text = line.plain
        for number in NUMBER.findall(text):
            assert number in allowed, (number, text)
        assert text.count("'") % 2 == 0, text
        for quoted in re.findall(r"'([^']*)'", text):
            assert quoted in chars, (quoted, text)
        assert text.count("‖") % 2 == 0, text
    nodes = [int(n) for n in NODE.findall(chain(lines).plain)]
    assert nodes == list(range(nodes[0], nodes[0] + len(nodes))), nodes
    row = chain(lines).plain
    if nodes[0] > 0:
        assert row.startswith("…"), row
    if nodes[-1] < scene.T:
        assert row.rstrip().endswith("…"), row


def arrow_into(row: Text, x: int) -> str:
    """The arrow's cells before the node at x, without its ▶."""
    start = row.plain.rfind(" ", 0, x - 2)
    return row.plain[start + 1 : x - 2]


def node_x(line: Text, t: int) -> int:
    m = re.search(rf"h_{t}(?!\d)", line.plain)
    assert m is not None, (t, line.plain)
    return m.start()


@pytest.mark.parametrize("T", [1, 4, 50, 1000])
@pytest.mark.parametrize("width", [40, 80, 120, 200])
@pytest.mark.parametrize("height", [1, 3, 9])
def test_layout_fits_and_marks_the_step(T: int, width: int, height: int) -> None:
    for phase, index in positions(T):
        view = view_at(T, phase, index)
        scene = scene_of(view)
        lines = draw(scene, width, height)
        check_whole(scene, lines, width, height)
        row = chain(lines)
        shown = [int(n) for n in NODE.findall(row.plain)]
        t = scene.t
        assert t in shown, (phase, t, shown)  # the window holds the step in focus
        if phase is Phase.FORWARD:
            assert CURRENT in styles_at(row, node_x(row, t))
            for later in shown:
                if later > t:
                    assert MUTED in styles_at(row, node_x(row, later))
        if phase is Phase.BPTT:
            k = scene.k
            for j in shown:
                x = node_x(row, j)
                if j == k:
                    assert CURRENT in styles_at(row, x)
                elif k < j <= t:
                    assert CHANGED in styles_at(row, x)
                if j >= 1:  # the arrow into h_j: heavy exactly on the path
                    assert row.plain[x - 2] == "▶"
                    bars = set(arrow_into(row, x)) - {"W"}
                    assert bars == ({"━"} if k < j <= t else {"─"}), (j, k, t, row.plain)
            if k in shown and height >= 3:  # x_k feeds a_k: marked
                x_row = lines[-1] if height < 9 else lines[-2]
                xk = node_x(row, k)
                assert CHANGED in styles_at(x_row, xk), x_row.plain
        if phase is Phase.UPDATE and height >= 9 and scene.param in "WU":
            letters = [i for line in lines for i, ch in enumerate(line.plain)
                       if ch == scene.param and CURRENT in styles_at(line, i)]
            assert letters, scene.param


def test_handout_numbers_on_the_nodes() -> None:
    """The hello model at 120 columns: every value of the sketch in its place."""
    view = view_at(4, Phase.BPTT, Layout.term_index(4, 2))
    text = "\n".join(t.plain for t in draw(scene_of(view), 118, 9))
    for label in ("L_1 1.3904", "L_4 1.3880", "ŷ_3 'e' ✗", "x_2 'e'", "0.0111", "-0.0461",
                  "h_0 ", "the path of term (4, 2): L_4 → h_4 → h_3 → h_2 ← U x_2"):
        assert label in text, label
    lines = draw(scene_of(view), 118, 9)
    row = chain(lines)
    # L_4 → ŷ_4 and ŷ_4 → h_4 heavy (┃), U x_2 heavy, other arrows light (▲)
    x4, x2, x1 = node_x(row, 4), node_x(row, 2), node_x(row, 1)
    assert lines[1].plain[x4 + 1] == "┃" and lines[3].plain[x4 + 1] == "┃"
    assert lines[6].plain[x2 + 1] == "┃" and lines[6].plain[x1 + 1] == "▲"
    assert lines[1].plain[x1 + 1] == "▲"


def test_forward_later_steps_are_not_computed_yet() -> None:
    view = view_at(4, Phase.FORWARD, 1)
    lines = draw(scene_of(view), 118, 9)
    text = "\n".join(t.plain for t in lines)
    assert "L_2 1.3950" in text and "L_3 1.3793" not in text and "L_3" in text
    row = chain(lines)
    assert CURRENT in styles_at(row, node_x(row, 2))
    assert MUTED in styles_at(row, node_x(row, 3))


def test_one_line_of_nodes_at_one_row() -> None:
    view = view_at(50, Phase.BPTT, Layout.term_index(30, 27))
    (line,) = draw(scene_of(view), 80, 1)
    assert "h_30" in line.plain and "h_27" in line.plain
    assert line.plain.startswith("…") and line.plain.rstrip().endswith("…")
    assert CURRENT in styles_at(line, node_x(line, 27))


def test_norms_on_the_nodes_of_a_3_unit_model() -> None:
    view = view_at(50, Phase.FORWARD, 2)
    h = view.fwd.h[3]
    label = h_label(h)
    assert label == f"‖{fmt(float(np.linalg.norm(h)))}‖"
    assert label in "\n".join(t.plain for t in draw(scene_of(view), 120, 9))


def nonfinite_scene(T: int, phase: Phase, t: int, k: int) -> Scene:
    values = ["NaN", "inf", "-inf", "1.234e+05", "-0.0001"]
    steps = tuple(Step(x="\\x1b" if i % 7 == 0 else "␣", y="é", ok=i % 2 == 0,
                       h=f"‖{values[i % 5]}‖" if i % 3 else values[(i + 1) % 5],
                       loss=values[(i + 2) % 5]) for i in range(T))
    return Scene(steps=steps, h0="NaN", computed=T if phase is not Phase.FORWARD else t,
                 phase=phase, t=t, k=k, param="E", norm=True)


@pytest.mark.slow
def test_never_raises_for_any_size_and_nonfinite_values() -> None:
    rng = np.random.default_rng(0)
    for _ in range(400):
        T = int(rng.choice([1, 2, 3, 7, 99, 100, 1000, 12345]))
        phase = Phase(rng.choice([p.value for p in Phase]))
        t = int(rng.integers(1, T + 1))
        k = int(rng.integers(1, t + 1)) if phase is Phase.BPTT else 0
        width, height = int(rng.integers(20, 260)), int(rng.integers(1, 30))
        scene = nonfinite_scene(T, phase, t, k)
        lines = draw(scene, width, height)
        check_whole(scene, lines, width, height)
        for line in lines:
            for m in re.finditer(r"NaN|inf", line.plain):
                assert NONFINITE in styles_at(line, m.start()), line.plain


def test_very_narrow_and_empty_do_not_raise() -> None:
    scene = nonfinite_scene(100_000, Phase.BPTT, 99_999, 3)
    for width in range(1, 25):
        for height in (1, 2, 9, 40):
            for line in draw(scene, width, height):
                assert cell_len(line.plain) <= width
    assert draw(Scene(steps=()), 40, 3)[0].plain == "no steps"


class NetworkApp(App[None]):
    CSS = "NetworkPanel { height: 1fr; }"

    def __init__(self, spec_name: str | None = None) -> None:
        super().__init__()
        spec = load("hello")[0] if spec_name == "hello" else random_spec(5, 2, 3, 12, seed=3)
        self.stepper = Stepper(spec)

    def compose(self) -> ComposeResult:
        yield NetworkPanel(id="network")

    def goto(self, pos: Position) -> None:
        self.stepper.goto(pos)
        self.query_one(NetworkPanel).show(self.stepper.view())


def shown(app: NetworkApp) -> list[Text]:
    """The panel's lines as drawn, their styles named back (current, changed, ...)."""
    panel = app.query_one(NetworkPanel)
    names = {str(style): name for name, style in palette(panel).items()}
    rendered = panel.render()
    lines = list(rendered.renderables)  # type: ignore[attr-defined]
    return [Text(line.plain, spans=[Span(s.start, s.end, names.get(str(s.style), str(s.style)))
                                    for s in line.spans]) for line in lines]


@pytest.mark.parametrize("size", [(120, 11), (80, 5), (40, 11)])
async def test_panel_in_an_app_follows_the_stepper(size: tuple[int, int]) -> None:
    app = NetworkApp("hello")
    async with app.run_test(size=size) as pilot:
        for t in (1, 3):
            app.goto(Position(epoch=1, phase=Phase.FORWARD, index=t - 1))
            await pilot.pause()
            lines = shown(app)
            panel = app.query_one(NetworkPanel)
            assert len(lines) <= panel.content_size.height
            assert all(line.cell_len <= panel.content_size.width for line in lines)
            row = chain(lines)
            assert CURRENT in styles_at(row, node_x(row, t))
            if size[1] >= 11 and size[0] >= 80:  # at 40 columns, marks only
                loss = fmt(float(app.stepper.view().fwd.loss[t - 1]))
                assert loss in "\n".join(line.plain for line in lines)
        app.goto(Position(epoch=1, phase=Phase.BPTT, index=Layout.term_index(4, 2)))
        await pilot.pause()
        row = chain(shown(app))
        assert CURRENT in styles_at(row, node_x(row, 2))
        assert set(arrow_into(row, node_x(row, 4))) - {"W"} == {"━"}


async def test_panel_shows_a_3_unit_model() -> None:
    app = NetworkApp()
    async with app.run_test(size=(100, 11)) as pilot:
        app.goto(Position(epoch=2, phase=Phase.FORWARD, index=5))
        await pilot.pause()
        view = app.stepper.view()
        text = "\n".join(line.plain for line in shown(app))
        assert h_label(view.fwd.h[6]) in text
        assert f"L_6 {fmt(float(view.fwd.loss[5]))}" in text
        assert "h_6" in text and "…" in text
        assert not any(math.isnan(x) for x in view.fwd.loss)


def test_kept_label_widths_draw_what_a_fresh_drawing_draws() -> None:
    """The panel keeps the labels' widths for its epoch (draw's ``widths``):
    walking every step of an epoch with them, at sizes where the column
    width is searched at every level, draws exactly what drawing afresh does."""
    s = Stepper(random_spec(5, 2, 3, 24, seed=5))
    widths: dict[tuple[str, int, int, bool], int] = {}
    filled = 0
    while s.position.epoch == 1:
        scene = scene_of(s.view())
        for width, height in ((60, 9), (100, 9), (170, 8), (30, 5)):
            kept = draw(scene, width, height, widths)
            fresh = draw(scene, width, height)
            assert [(t.plain, t.spans) for t in kept] == [(t.plain, t.spans) for t in fresh]
        filled = max(filled, len(widths))
        s.next()
    assert filled > 24  # the widths were kept, computed and not computed
    assert any(done for *_, done in widths) and not all(done for *_, done in widths)
