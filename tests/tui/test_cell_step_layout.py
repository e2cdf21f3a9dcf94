"""The cells' step panel uses its lines (tui/cells/step.py), under the real
pilot: a matrix a row a line when the panel has the room, a row per
character labelled by it (V, dV, E, dE, δ hᵀ) with the columns aligned,
and an elided ŷ_t, Ω_t, δ_t keeps the target's entry (and the prediction's when
one window holds both; the prediction line names both probabilities)."""

from __future__ import annotations

import re

import numpy as np

from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.model_file import parse_bytes
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.text import fmt
from rnn_tui.tui.cells.app import CellApp

from helpers.scenarios import go_to, settle
from helpers.screen import text_of

MODEL = b"""name = "m"
text = "hello world"
cell = "lstm"
embedding_dim = 2
hidden_size = 3
learning_rate = 0.1

[init]
seed = 0
"""
CHARS = ["'h'", "'e'", "'l'", "'o'", "'\u2423'", "'w'", "'r'", "'d'"]


async def at(position: Position, size: tuple[int, int] = (80, 24)) -> tuple[CellApp, str]:
    app = CellApp(CellStepper.from_spec(parse_bytes(MODEL, "m.toml")), cursor_blink=False,
                  theme="dark")
    async with app.run_test(size=size) as pilot:
        await go_to(pilot, position)
        return app, text_of(app, "#cell-step")  # type: ignore[arg-type]


async def test_the_output_step_stacks_dV_a_character_a_line_at_80x24() -> None:
    app, text = await at(Position(epoch=1, phase=Phase.OUTPUT, index=0))
    lines = text.splitlines()
    dV = [s for s in lines if s.startswith("dV = '") or s.startswith("     '")]
    labels = [re.search(r"'.'", s).group(0) for s in dV]  # type: ignore[union-attr]
    assert labels == CHARS, text
    assert len({s.index("[") for s in dV}) == 1, "the rows' brackets align"
    want = app.stepper.view().output_sums[0]  # type: ignore[index]
    for s, row in zip(dV, want, strict=True):
        assert s.split("[", 1)[1].rstrip("]").split() == [fmt(float(v)) for v in row], (s, row)
    assert "⋮" not in text


async def test_the_update_names_rows_by_character_with_columns_aligned() -> None:
    _, text = await at(Position(epoch=1, phase=Phase.UPDATE, index=0))
    lines = text.splitlines()
    grads = [s for s in lines if s.startswith("dV[")]
    assert [s[3:6] for s in grads] == CHARS, text
    assert len({s.index("=") for s in grads}) == 1
    _, text = await at(Position(epoch=1, phase=Phase.UPDATE, index=2))  # W_i: hidden units
    assert "dW_i[1] = [" in text and "W_i[3] " in text, text


async def test_an_elided_prediction_keeps_the_target_and_the_predicted_entry() -> None:
    app, text = await at(Position(epoch=1, phase=Phase.FORWARD, index=0), (80, 24))
    f = app.stepper.view().fwd
    y, pred = int(f.targets[0]), int(np.argmax(f.y_hat[0]))
    assert "ŷ_1" not in text  # below the gates at 80x24: scrolled to
    app2 = CellApp(CellStepper.from_spec(parse_bytes(MODEL, "m.toml")), cursor_blink=False,
                   theme="dark")
    async with app2.run_test(size=(80, 24)) as pilot:
        await pilot.press("shift+down", "shift+down")
        await settle(pilot)
        text = text_of(app2, "#cell-step")  # type: ignore[arg-type]
    line = next(s for s in text.splitlines() if s.startswith("ŷ_1 = "))
    assert "…" in line, line  # elided: 8 entries do not fit beside the formula
    assert fmt(float(f.y_hat[0, y])) in line, (y, line)  # the target's entry kept
    said = next(s for s in text.splitlines() if s.startswith("prediction "))
    for i in (y, pred):  # entries 1 and 7 do not fit in one window of 6: both named here
        assert f"(ŷ = {fmt(float(f.y_hat[0, i]))})" in said, (i, said)


async def test_adam_is_substituted_for_the_current_parameter() -> None:
    model = MODEL.replace(b"[init]", b'[train]\noptimizer = "adam"\n\n[init]')
    app = CellApp(CellStepper.from_spec(parse_bytes(model, "m.toml")), cursor_blink=False,
                  theme="dark")
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=2, phase=Phase.UPDATE, index=3))  # U_i
        app.moved()
        await settle(pilot)
        text = text_of(app, "#cell-step")  # type: ignore[arg-type]
        ep, o = app.stepper.view().epoch, app.stepper.options
    assert app.stepper.view().update_name == "U_i"
    s0, s1 = ep.state_before, ep.state_after
    n, c1, c2 = s1.n, 1 - o.beta1**s1.n, 1 - o.beta2**s1.n  # type: ignore[attr-defined]
    assert n == 2 and f"m̂ = m / (1 − β1ⁿ) = m / {fmt(c1)},  n = 2" in text, text
    assert f"v̂ = v / (1 − β2ⁿ) = v / {fmt(c2)}" in text, text
    rows = text.splitlines()

    def block(head: str) -> list[list[str]]:
        at = next(i for i, s in enumerate(rows) if s.startswith(head))
        return [rows[at + r].split("[", 1)[1].rstrip("]").split() for r in range(3)]

    m1, v1 = s1.m.get("U_i"), s1.v.get("U_i")  # type: ignore[attr-defined]
    for head, want in (("  m before = ", s0.m.get("U_i")),  # type: ignore[attr-defined]
                       ("  m after  = ", m1), ("  m̂ = ", m1 / c1), ("  v̂ = ", v1 / c2),
                       ("  η m̂ / (√v̂ + ε) = ", ep.params["U_i"] - ep.params_after["U_i"])):
        assert block(head) == [[fmt(float(x)) for x in r] for r in want], (head, text)


async def test_update_rows_of_ten_units_and_more_keep_their_columns() -> None:
    from helpers.models import random_cell

    p, x, y = random_cell("gru", 5, 2, 11, 4, seed=1)  # H = 11: rows [1] .. [11]
    app = CellApp(CellStepper(p, x, y, 0.1), cursor_blink=False, theme="dark")
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=1, phase=Phase.UPDATE, index=2))  # W_z (11, 11)
        app.moved()
        await settle(pilot)
        text = text_of(app, "#cell-step")  # type: ignore[arg-type]
    grads = [s for s in text.splitlines() if s.startswith("dW_z[")]
    assert len(grads) == 11 and grads[9].startswith("dW_z[10] = ["), text
    assert len({s.index("= [") for s in grads}) == 1, grads
    rows = [s for s in text.splitlines() if s.startswith("W_z[")]
    assert len({s.index("[", 4) for s in rows}) == 1, rows
