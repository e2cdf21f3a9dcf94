"""The GRU/LSTM debugger (tui/cells/) under the real pilot: every step of
epoch 1, into epoch 2 and back, at 80x24 and 160x50; every line whole."""

from __future__ import annotations

import re

import numpy as np
import pytest
from rich.console import Group
from rich.text import Text
from textual.binding import Binding

from rnn_tui.core.cells import CellParams
from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.cells.app import CellApp
from rnn_tui.tui.widgets.panel import Panel

from helpers.marks import slow_after
from helpers.models import random_cell
from helpers.screen import palette_titles

NUMBER = re.compile(r"^-?(\d+\.\d{4}|\d\.\d{3}e[+-]\d+|NaN|inf)$")


def app_for(cell: str, T: int = 4, H: int = 3, lr: float = 0.1, seed: int = 7) -> CellApp:
    p, x, y = random_cell(cell, 5, 2, H, T, seed=seed)
    return CellApp(CellStepper(p, x, y, lr), cursor_blink=False, theme="dark")


def shown_lines(panel: Panel) -> list[Text]:
    rendered = panel.render()
    assert isinstance(rendered, Group)
    return list(rendered.renderables)  # type: ignore[arg-type]


def check_panel(panel: Panel, where: str) -> None:
    """Every line fits, no line twice, every vector whole or elided with … (never cut)."""
    width = panel.content_size.width
    lines = shown_lines(panel)
    plain = [t.plain for t in lines]
    assert len(lines) <= panel.content_size.height, where
    for s in plain:
        assert len(s) <= width, f"{where}: {s!r} is wider than {width}"
        assert s.count("[") == s.count("]"), f"{where}: a cut vector in {s!r}"
        for inner in re.findall(r"\[([^\[\]]*)\]", s):
            if inner.isdigit():  # an index: dV[1], W_z[3]
                continue
            for cell in inner.replace(";", " ").split():
                assert cell == "…" or NUMBER.match(cell) or (not cell[0].isdigit() and \
                    not cell.startswith("-")), f"{where}: a cut number {cell!r} in {s!r}"
    # every line names what it shows, but a formula's continuations ("    = [..]")
    # and a stacked matrix's rows ("       [..]") may repeat in value (two gates of NaN)
    filled = [s for s in plain if s.strip() and not s.lstrip().startswith(("= ", "["))]
    assert len(filled) == len(set(filled)), f"{where}: a line twice: {filled}"


def check_screen(app: CellApp, where: str) -> None:
    wide = app.screen.has_class("-wide")
    ids = ["cell-status", "cell-step"] + (["cell-triangle", "cell-states", "cell-sums"]
                                          if wide else [])
    for i in ids:
        check_panel(app.query_one(f"#{i}", Panel), f"{where} #{i}")


# Every walk is slow (the full suite walks them); the quick loop steps in the tests below.
WALKS = [pytest.param("gru", (80, 24), id="gru-80x24", marks=pytest.mark.slow),
         pytest.param("gru", (160, 50), id="gru-160x50", marks=pytest.mark.slow),
         pytest.param("lstm", (80, 24), id="lstm-80x24", marks=pytest.mark.slow),
         pytest.param("lstm", (160, 50), id="lstm-160x50", marks=pytest.mark.slow)]


@pytest.mark.parametrize(("cell", "size"), WALKS)
async def test_every_step_of_epoch_one_and_back(cell: str, size: tuple[int, int]) -> None:
    app = app_for(cell)
    async with app.run_test(size=size) as pilot:
        st = app.stepper
        n = st.layout.steps_per_epoch + 3
        seen = []
        for _ in range(n):
            await pilot.pause()
            where = f"{cell} {size} {st.view().label} epoch {st.position.epoch}"
            check_screen(app, where)
            seen.append((st.position, [t.plain for t in shown_lines(app.query_one(
                "#cell-step", Panel))]))
            await pilot.press("space")
        assert st.position.epoch == 2
        for pos, lines in reversed(seen):
            await pilot.press("p")
            await pilot.pause()
            assert st.position == pos
            assert [t.plain for t in shown_lines(app.query_one("#cell-step", Panel))] == lines


async def test_the_step_panel_shows_the_formulas_substituted() -> None:
    app = app_for("lstm")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("space", "space")
        await pilot.pause()
        text = "\n".join(t.plain for t in shown_lines(app.query_one("#cell-step", Panel)))
        for want in ("i_3 = σ(U_i x_3 + W_i h_2 + b_i)", "g_3 = tanh(U_g x_3", "C_3 = f_3 ⊙ C_2",
                     "h_3 = o_3 ⊙ tanh(C_3)", "Ω_3 = V h_3 + c", "L_3 = −ln"):
            assert want in text, want
        v = app.stepper.view()
        assert N_fmt(v.fwd.C[3][0]) in text  # C_3's numbers are on screen
        st = app.stepper  # a BPTT term: the chain and the Jacobians (8x8 fits at 160)
        st.goto(st.layout.at(1, st.layout.offset(Phase.BPTT) + 5))  # (t=3, k=1)
        app.moved()
        await pilot.pause()
        text = "\n".join(t.plain for t in shown_lines(app.query_one("#cell-step", Panel)))
        assert "term (3, 1)" in text and "× (∂s_3/∂s_2)ᵀ = J_3ᵀ  (6x6):" in text
        assert "∂L_3/∂C_1 = " in text
        tri = "\n".join(t.plain for t in shown_lines(app.query_one("#cell-triangle", Panel)))
        norm = float(np.linalg.norm(np.concatenate([s[0] for s in v.epoch.row(3).ds])))
        assert N_fmt(norm) in tri


def N_fmt(x: float) -> str:
    from rnn_tui.core.text import fmt

    return fmt(float(x))


async def test_scrolling_the_step_panel_shows_every_line_once() -> None:
    app = app_for("lstm", T=5, H=3)
    async with app.run_test(size=(80, 24)) as pilot:
        st = app.stepper
        st.goto(st.layout.at(1, st.layout.offset(Phase.BPTT) + 14))  # (t=5, k=1)
        app.moved()
        await pilot.pause()
        panel = app.query_one("#cell-step", Panel)
        first = [t.plain for t in shown_lines(panel)]
        assert first[-1].startswith("⋮ ") and "more" in first[-1]
        got = first[:-1]
        for _ in range(20):
            await pilot.press("shift+down")
            await pilot.pause()
            lines = [t.plain for t in shown_lines(panel)]
            check_panel(panel, "scrolled")
            body = [s for s in lines if not s.startswith("⋮ ")]
            got += [s for s in body if s not in got]
            if not lines[-1].startswith("⋮ "):
                break
        assert got[-1].startswith("  d") and "E = " in got[-1]  # the last sum: dE


@pytest.mark.slow  # every step of a NaN epoch at 160x50
async def test_a_diverging_model_never_crashes() -> None:
    """V and W_f of size 1e300 and η = 1e300: epoch 1's update overflows, epoch 2 is
    NaN from its first step; every step of it is drawn, at 160x50 and 80x24."""
    p, x, y = random_cell("lstm", 5, 2, 3, 4, seed=3)
    big = CellParams("lstm", {n: a * 1e300 if n in ("V", "W_f") else a
                              for n, a in p.arrays.items()})
    app = CellApp(CellStepper(big, x, y, 1e300), cursor_blink=False, theme="dark")
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        status = shown_lines(app.query_one("#cell-status", Panel))[0].plain
        assert "NOT FINITE" in status
        for _ in range(app.stepper.layout.steps_per_epoch):
            await pilot.press("space")
            await pilot.pause()
            check_screen(app, f"diverging {app.stepper.view().label}")
        await pilot.resize_terminal(80, 24)
        for key in ("p", "right_square_bracket", "w", "escape", "0", "e", "space"):
            await pilot.press(key)
        await pilot.pause()
        check_screen(app, "diverging 80x24")
        step = "\n".join(t.plain for t in shown_lines(app.query_one("#cell-step", Panel)))
        assert "NaN" in step


async def test_help_lists_the_live_bindings_and_a_keymap_moves_them() -> None:
    from rnn_tui.tui.screens.help import HelpScreen

    app = app_for("gru")
    app.set_keymap({"next": "x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        assert app.stepper.position.index == 1
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = dict(app.screen.rows())
        assert "x" in rows and rows["x"] == "Next step"


@pytest.mark.slow
async def test_the_latency_walk_repaints_every_key() -> None:
    """bench/cell_latency.py's walk on a mid-sized LSTM: every key repainted
    (the probe recorded it), the screen whole at the end of the walk."""
    from bench.cell_latency import stepper, walk

    rows = await walk(stepper("lstm", 16, 8, 32, 40))
    keys = [s for kind, s in rows if not kind.startswith("(")]
    assert len(keys) == 108
    assert all(s > 0 for s in keys)


async def test_why_and_quiz_for_the_cells() -> None:
    from textual.widgets import Tree

    from rnn_tui.core.cells.why import CellExplainer, cell_question
    from rnn_tui.tui.screens.quiz import QuizScreen
    from rnn_tui.tui.screens.why import WhyScreen

    app = app_for("lstm")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("space", "space")  # forward t=3
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WhyScreen)
        tree = app.screen.query_one(Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert labels[0].startswith("L_3 = −ln ŷ_3[") and any(s.startswith("C_3 = f_3 ⊙ C_2")
                                                             for s in labels)
        await pilot.press("escape")
        v = app.stepper.view()
        C = CellExplainer(v).C(3, 0)  # C_3[1] = f·C_2 + i·g, its parts its children
        f = v.fwd
        assert C.label.endswith(N_fmt(f.C[3, 0]))
        assert [w.label.split(" =")[0] for w in C.open()] == ["f_3[1]", "C_2[1]", "i_3[1]",
                                                               "g_3[1]"]
        gate = CellExplainer(v).gate(3, "i", 1)
        assert gate.label.endswith(N_fmt(f.i[2, 1]))
        assert gate.open()[2].label == f"b_i[2] = {N_fmt(v.epoch.params['b_i'][1])}"
        q = cell_question(app.stepper.peek(app.stepper.layout.at(1, 3)))  # forward t=4: C_4
        assert q is not None and q.check(N_fmt(f.C[4, 0]))[0]
        assert not q.check(N_fmt(f.C[4, 0] + 0.01))[0]
        await pilot.press("k", "space")  # the quiz asks before forward t=4 shows
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen)
        assert "C_4[1]" in app.screen.question.prompt


@pytest.mark.parametrize("size", slow_after(1, [(80, 24), (160, 50), (60, 20)], one=True),
                         ids=["80x24", "160x50", "60x20"])
async def test_a_bigger_model_with_train_options_fits(size: tuple[int, int]) -> None:
    """H = 32 (elided vectors, Jacobians as norms), adam, clipping, seq_length
    chunks: selected steps of every phase, the chunk in the header."""
    from rnn_tui.core.train_options import TrainOptions

    p, x, y = random_cell("lstm", 16, 8, 32, 12, seed=2)
    options = TrainOptions(optimizer="adam", clip_norm=1.0, seq_length=7)
    app = CellApp(CellStepper(p, x, y, 0.01, options), cursor_blink=False, theme="dark")
    async with app.run_test(size=size) as pilot:
        st = app.stepper
        for chunk in (0, 1):
            for phase, index in ((Phase.FORWARD, 2), (Phase.OUTPUT, 1), (Phase.BPTT, 14),
                                 (Phase.UPDATE, 3), (Phase.UPDATE, 14)):
                n = st.layout.count(phase, chunk)
                st.goto(st.layout.at(1, chunk * st.layout.steps_in_chunk(0)
                                     + st.layout.offset(phase, chunk) + min(index, n - 1)))
                app.moved()
                await pilot.pause()
                if size[0] >= 80:
                    check_screen(app, f"{size} {st.view().label}")
                    assert st.view().label.startswith(f"chunk {chunk + 1}/2 · ")
        text = "\n".join(t.plain for t in shown_lines(app.query_one("#cell-step", Panel)))
        if size[0] >= 80:
            assert "optimizer n = 2" in text or "⋮" in text
        await pilot.press("space", "p", "right_square_bracket", "e")


async def test_the_command_palette_lists_the_cells_keys_once() -> None:
    """ctrl+p in the GRU/LSTM debugger lists its own bindings (as the RNN's
    does), and Textual's commands only where they are not ours already."""
    app = app_for("lstm")
    async with app.run_test(size=(120, 40)) as pilot:
        listed = await palette_titles(app, pilot)
    assert len(listed) == len(set(listed)), sorted(listed)
    assert {"Next", "Prev", "Why", "Theme", "Quit", "Help"} <= set(listed)
    shown = {b.description for b in app.BINDINGS if isinstance(b, Binding)}
    assert shown <= set(listed)
