"""The GRU/LSTM status line and forward step of a diverging model, under
the real pilot: the pre-activation shown is the one the forward used (σ(+inf)
is 1, never 0), "NOT FINITE" at the step whose numbers are not, "diverging"
as the RNN's status says it, and the loss so far at 80x24."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.cells.common import sigmoid
from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.model_file import parse_bytes
from rnn_tui.core.stepper import Phase
from rnn_tui.core.text import fmt
from rnn_tui.tui.cells.app import CellApp

from helpers.scenarios import settle
from helpers.screen import text_of


def model(cell: str, lr: str) -> bytes:
    return f"""name = "m"
text = "hello world"
cell = "{cell}"
embedding_dim = 2
hidden_size = 3
learning_rate = {lr}

[init]
seed = 0
""".encode()


def app_for(cell: str, lr: str) -> CellApp:
    spec = parse_bytes(model(cell, lr), "m.toml")
    return CellApp(CellStepper.from_spec(spec), cursor_blink=False, theme="dark")


@pytest.mark.parametrize("cell", ["gru", "lstm"])
async def test_overflowing_gates_show_the_forwards_numbers_and_not_finite(cell: str) -> None:
    app = app_for(cell, "1e300")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("e", "e", "e")
        await settle(pilot)
        view = app.stepper.view()
        for g in view.gates(1):
            act = sigmoid if g.act == "σ" else np.tanh
            with np.errstate(all="ignore"):
                assert np.array_equal(act(g.pre), g.value, equal_nan=True), (g.gate, g.pre,
                                                                            g.value)
        overflow = not all(np.isfinite(g.pre).all() for g in view.gates(1))
        assert overflow, "the model no longer overflows at epoch 4: pick another"
        status = text_of(app, "#cell-status")  # type: ignore[arg-type]
        assert "NOT FINITE" in status and "finite ✓" not in status, status
        step = text_of(app, "#cell-step")  # type: ignore[arg-type]
        assert "inf" in step


@pytest.mark.parametrize("cell", ["gru", "lstm"])
async def test_until_not_finite_stops_where_a_gate_overflows(cell: str) -> None:
    app = app_for(cell, "1e300")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        pos = app.stepper.position
        assert (pos.phase, pos.index) == (Phase.FORWARD, 0) and 1 < pos.epoch <= 4, pos
        assert not app.stepper.view().finite
        assert "inf" in text_of(app, "#cell-step")  # type: ignore[arg-type]
        status = text_of(app, "#cell-status")  # type: ignore[arg-type]
        assert f"NOT FINITE since epoch {pos.epoch}, forward t=1" in status, status


async def test_a_diverging_lstm_says_so_and_the_loss_is_shown() -> None:
    app = app_for("lstm", "50")
    async with app.run_test(size=(80, 24)) as pilot:
        status = text_of(app, "#cell-status")  # type: ignore[arg-type]
        assert "Σ L = " in status and "finite ✓" in status, status
        await pilot.press("g", "7", "1", "enter")
        await settle(pilot)
        assert app.stepper.position.epoch == 71
        status = text_of(app, "#cell-status")  # type: ignore[arg-type]
        assert "diverging" in status and "finite ✓" not in status, status
        loss = app.stepper.view().running_loss
        assert f"Σ L = {fmt(loss)}" in status, status


async def test_the_help_names_the_cells_parameters_and_the_gru_title_its_state() -> None:
    from textual.widgets import Static

    from rnn_tui.tui.screens.help import HelpScreen

    app = app_for("gru", "0.1")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        about = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "the updates of V, c, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h, E." in about
        await pilot.press("escape", "]", "]")
        await settle(pilot)
        step = text_of(app, "#cell-step")  # type: ignore[arg-type]
        assert step.startswith("term (1, 1) = (∂L_1/∂s_1) (∂s_1/∂θ at step 1),  s = h\n"), step


async def test_the_non_finite_status_is_whole_at_80x24() -> None:
    """Where it stopped, in the fewest words that fit, never cut with …."""
    app = app_for("lstm", "1e300")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("e", "e")
        await settle(pilot)
        status = text_of(app, "#cell-status")  # type: ignore[arg-type]
        assert "NOT FINITE" in status and "epoch" in status and "…" not in status, status
