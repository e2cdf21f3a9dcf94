"""The RNN app's other keys on a GRU or an LSTM (tui/cells/app.py), under
the real pilot: g (go to epoch N), r with + and - (play), esc (cancel),
c, l, f (run until...), d (gradient check), b (compare cells), and the
status naming the first step that is not finite."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.cells import CellParams
from rnn_tui.core.cells.epochs import CellEpoch
from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.model_file import parse_bytes
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.tui.cells.app import CellApp
from rnn_tui.tui.widgets.panel import Panel

from helpers.marks import slow_after
from helpers.models import random_cell
from helpers.scenarios import settle

LSTM_FILE = b"""name = "lstm"
text = "hello"
cell = "lstm"
embedding_dim = 2
hidden_size = 3
learning_rate = 0.1

[init]
seed = 7
"""


def app_for(cell: str, lr: float = 0.1, **kw: object) -> CellApp:
    p, x, y = random_cell(cell, 5, 2, 3, 4, seed=7)
    return CellApp(CellStepper(p, x, y, lr, **kw), cursor_blink=False, theme="dark")  # type: ignore[arg-type]


def status(app: CellApp) -> str:
    return app.query_one("#cell-status", Panel).render().renderables[0].plain  # type: ignore[attr-defined]


def same_numbers(a: CellStepper, b: CellStepper) -> None:
    """Every number of the two steppers' current chunks, bit for bit."""
    ea, eb = a.current, b.current
    for n in ea.params.names:
        assert np.array_equal(ea.params[n], eb.params[n], equal_nan=True), n
        assert np.array_equal(ea.grads[n], eb.grads[n], equal_nan=True), n
        assert np.array_equal(ea.params_after[n], eb.params_after[n], equal_nan=True), n
    for s, t in zip(ea.fwd.states, eb.fwd.states, strict=True):
        assert np.array_equal(s, t, equal_nan=True)
    assert np.array_equal(ea.fwd.y_hat, eb.fwd.y_hat, equal_nan=True)
    assert a.position == b.position


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"]))
async def test_go_to_epoch_is_bit_identical_to_stepping(cell: str) -> None:
    app = app_for(cell)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", *"abc", "enter")  # not a number: the prompt says so and stays
        assert app.screen.query_one("#prompt-error").render().plain.startswith("Type a whole")
        await pilot.press(*["backspace"] * 3, "5", "enter")
        await settle(pilot)
        assert app.stepper.position == Position(epoch=5, phase=Phase.FORWARD, index=0)
        assert "epoch 5" in status(app)
        stepped = app_for(cell).stepper
        for _ in range(4 * stepped.layout.steps_per_epoch):
            stepped.next()
        same_numbers(app.stepper, stepped)
        await pilot.press("p")  # and one back over the epoch boundary, as stepping does
        stepped.prev()
        same_numbers(app.stepper, stepped)


@pytest.mark.slow  # minutes of epochs, cancelled: about 10 s
async def test_a_long_jump_shows_progress_takes_no_step_and_esc_cancels_it() -> None:
    app = app_for("lstm")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("space")
        here = app.stepper.position
        await pilot.press("g", *"900000", "enter")  # ~0.5 ms an epoch: minutes
        await pilot.pause(0.6)
        assert app.busy and "/900000 (esc cancels)" in status(app)
        await pilot.press("space", "right_square_bracket", "e", "0")  # ignored: the job has it
        assert app.busy
        await pilot.press("escape")
        await settle(pilot)
        assert not app.busy and app.stepper.position == here
        assert "⟳" not in status(app)
        await pilot.press("space")  # the keys step again
        assert app.stepper.position.index == here.index + 1


async def test_play_steps_by_itself_faster_and_slower_and_pauses() -> None:
    app = app_for("gru")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("r")
        assert app.player.playing and "▶ playing, 2 steps/s" in status(app)
        await pilot.press("plus", "plus", "plus", "plus")  # 0.5 → 0.25 → 0.1 → 0.05 → 0.02 s
        assert "50 steps/s" in status(app)
        for _ in range(50):  # a loaded machine may be slow: up to 5 s for 3 steps
            await pilot.pause(0.1)
            if app.stepper.layout.step_of(app.stepper.position) >= 3:
                break
        assert app.stepper.layout.step_of(app.stepper.position) >= 3
        await pilot.press("minus")
        assert "20 steps/s" in status(app)
        await pilot.press("r")
        assert not app.player.playing and "playing" not in status(app)
        stopped = app.stepper.position
        await pilot.pause(0.3)
        assert app.stepper.position == stopped
        await pilot.press("r")
        await pilot.press("escape")  # esc stops playing too
        assert not app.player.playing


@pytest.mark.slow  # the quick loop runs until-not-finite below
async def test_until_every_prediction_right_and_until_loss_below() -> None:
    app = app_for("lstm", lr=0.5)
    ref = app_for("lstm", lr=0.5).stepper
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("c")
        await settle(pilot)
        pos = app.stepper.position
        first = next(n for n in range(1, 100) if ref.epoch(n).all_correct)
        assert pos == Position(epoch=first, phase=Phase.FORWARD, index=3) and first > 1
        assert app.stepper.current.all_correct
        await pilot.press("0", "l", *"2.5", "enter")
        await settle(pilot)
        losses = ref.checkpoints.losses
        for n in range(1, 200):
            ref.epoch(n)
        want = next(n for n in range(1, 200) if ref.epoch(n).total_loss < 2.5)
        assert app.stepper.position.epoch == want
        assert min(losses[: want - 1]) >= 2.5
        ref.goto(app.stepper.position)
        same_numbers(app.stepper, ref)


def diverging() -> tuple[CellParams, np.ndarray, np.ndarray]:
    """V and W_f of size 1e300 and η = 1e300: epoch 1's update overflows."""
    p, x, y = random_cell("lstm", 5, 2, 3, 4, seed=3)
    big = CellParams("lstm", {n: a * 1e300 if n in ("V", "W_f") else a
                              for n, a in p.arrays.items()})
    return big, x, y


async def test_until_not_finite_and_the_status_names_where() -> None:
    big, x, y = diverging()
    app = CellApp(CellStepper(big, x, y, 1e300), cursor_blink=False, theme="dark")
    ref = CellStepper(big, x, y, 1e300)
    kind, index = CellEpoch(1, ref.current.record, "x_k").first_nonfinite()  # type: ignore[misc]
    where = Position(epoch=1, phase=Phase(kind), index=index)
    async with app.run_test(size=(160, 50)) as pilot:
        assert "diverging (|V| reaches" in status(app)  # finite, but 1e300
        await pilot.press("f")
        await settle(pilot)
        assert app.stepper.position == where
        assert not app.stepper.view().finite
        assert app.stepper.peek(ref.layout.at(1, ref.layout.step_of(where) - 1)).finite
        text = status(app)
        assert f"NOT FINITE since epoch 1, {ref.layout.label(where)}" in text, text
        await pilot.press("e", "space", "space")  # a later epoch: still named
        await settle(pilot)
        assert f"since epoch 1, {ref.layout.label(where)}" in status(app)
        await pilot.resize_terminal(80, 24)  # where it failed before the mode
        await settle(pilot)
        text = status(app)
        assert text.endswith(f"NOT FINITE since epoch 1, {ref.layout.label(where)}".rsplit(
            " (", 1)[0]), text


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"]))
async def test_gradient_check_of_the_current_chunk_from_its_carried_state(cell: str) -> None:
    """With seq_length the second chunk starts from the first's h (and C):
    checked from those, every parameter agrees with central differences
    (from s_0 = 0 they would not)."""
    from rnn_tui.core.train_options import TrainOptions
    from rnn_tui.tui.screens.report import ReportScreen

    p, x, y = random_cell(cell, 5, 2, 3, 8, seed=7)
    st = CellStepper(p, x, y, 0.1, TrainOptions(seq_length=4))
    app = CellApp(st, cursor_blink=False, theme="dark")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press(*["right_square_bracket"] * 4)  # chunk 2's forward
        assert app.stepper.position.chunk == 1
        assert np.abs(app.stepper.current.s0[0]).max() > 0.01
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert "chunk 2/2" in app.screen.title_text
        assert ("h_0, C_0" if cell == "lstm" else "its carried h_0)") in app.screen.title_text
        rows = app.screen.lines[1:]
        assert len(rows) == len(p.names) and all(r.endswith("ok") for r in rows), rows
        assert any(r.startswith("dW_f" if cell == "lstm" else "dW_z") for r in rows)
        await pilot.press("escape")
        assert not isinstance(app.screen, ReportScreen)


async def test_compare_cells_is_modal_over_the_model_text() -> None:
    from rnn_tui.tui.screens.cell_compare import CellCompareScreen

    spec = parse_bytes(LSTM_FILE, "lstm.toml")
    app = CellApp(CellStepper.from_spec(spec), cursor_blink=False, theme="dark")
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("space")
        here = app.stepper.position
        await pilot.press("b")
        await settle(pilot)
        assert isinstance(app.screen, CellCompareScreen)
        assert app.screen.comparison is not None
        assert set(app.screen.comparison.triangles) == {"rnn", "gru", "lstm"}
        await pilot.press("space", "e", "0", "g")  # not the debugger's: nothing moves
        await pilot.pause()
        assert app.stepper.position == here
        await pilot.press("escape")
        assert not isinstance(app.screen, CellCompareScreen)


async def test_the_help_lists_the_new_keys() -> None:
    from rnn_tui.tui.screens.help import HelpScreen

    app = app_for("gru")
    app.set_keymap({"goto_epoch": "G"})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = dict(app.screen.rows())
        for key, what in (("G", "Go to epoch N"), ("r", "Run (play) or pause"),
                          ("c", "Run until every prediction of an epoch is right"),
                          ("l", "Run until the total loss is below a value"),
                          ("f", "Run until the first value that is not finite (NaN, inf)"),
                          ("d", "Check the gradients against finite differences"),
                          ("b", "The RNN's BPTT triangle beside"),
                          ("esc", "Stop playing or cancel a long run")):
            assert any(key in k.split(", ") and v.startswith(what) for k, v in rows.items()), (
                key, rows)


# Slow: the quick loop keeps the generation panel in test_generation.py and the
# cells' sampling in test_cell_commands.py; the full suite runs both sizes here.
@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
@pytest.mark.slow
async def test_generation_with_the_cell_of_this_step(size: tuple[int, int]) -> None:
    """v: what the LSTM writes now (greedy and at τ), in the step panel's
    place; . and , move through the characters; e trains it further; a sets
    the prime."""
    from rnn_tui.core.sample import generate
    from rnn_tui.tui.widgets.generation import GenerationPanel

    spec = parse_bytes(LSTM_FILE, "lstm.toml")
    app = CellApp(CellStepper.from_spec(spec), cursor_blink=False, theme="dark")

    def shown() -> str:
        panel = app.query_one("#generate", GenerationPanel)
        assert panel.display and panel.region.width > 0
        return "\n".join(t.plain for t in panel.render().renderables)  # type: ignore[attr-defined]

    def greedy(p: CellParams, prime: str = "h") -> str:
        return "".join(spec.alphabet[s.next] for s in generate(
            p, [spec.alphabet.index(c) for c in prime], 16))

    async with app.run_test(size=size) as pilot:
        await pilot.press("v")
        await pilot.pause()
        assert not app.query_one("#cell-step").display
        text = shown()
        assert f"h│{greedy(app.stepper.current.params)}" in text.replace(" ", "")
        assert "h_1 = LSTM(x_1, h_0, C_0) = [" in text and "character 1/16" in text
        await pilot.press("full_stop", "full_stop")
        await pilot.pause()
        assert "character 3/16" in shown() and "h_3 = LSTM(x_3, h_2, C_2)" in shown()
        await pilot.press("comma")
        await pilot.pause()
        assert "character 2/16" in shown()
        for _ in range(30):
            await pilot.press("e")
        await pilot.pause()
        assert app.stepper.position.epoch == 31
        assert f"h│{greedy(app.stepper.current.params)}" in shown().replace(" ", "")
        await pilot.press("a", *["backspace"] * 20, *"he | 0", "enter")
        await pilot.pause()
        assert f"he│{greedy(app.stepper.current.params, 'he')}" in shown().replace(" ", "")
        await pilot.press("v")
        await pilot.pause()
        assert app.query_one("#cell-step").display
        assert not app.query_one("#generate").display
