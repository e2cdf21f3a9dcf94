"""Marks against the handout's printed numbers (rnn_tui/data/handout.toml)
agree with NOTES.md: in handout mode the only differences are printing
slips; in exact mode the dE convention explains the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_tui.core import conformance as C
from rnn_tui.core.model_file import ModelSpec, load, validate
from rnn_tui.core.stepper import Phase, Position, Stepper

from helpers.scenarios import make_app, settle
from helpers.screen import text_of

NOTES = Path(__file__).resolve().parents[3] / "shared" / "handout" / "NOTES.md"
# The printing slips NOTES.md lists ("Printing slips in the handout").
NOTES_SLIPS = {("h_2", (0,)), ("y_hat_3", (2,)), ("y_hat_3", (3,)), ("total_loss", ()),
               ("dV", (2, 0)), ("V_new", (2, 0)), ("V_new", (3, 0))}


def all_marks(stepper: Stepper) -> list[C.Mark]:
    return [m for pos in C.figure_positions() for m in C.marks(stepper, pos)]


def test_every_printed_number_has_a_place() -> None:
    figs = C.figures()
    assert len(figs) == 48  # 20 forward, total, 4 deltas, 12 updates, 9 of epoch 2, 2 minima
    assert sum(f.printed.size for f in figs.values()) == 128
    for f in figs.values():
        Stepper(load("hello")[0]).layout.check(f.position)


def test_handout_mode_differs_only_by_printing_slips(hello_handout: ModelSpec) -> None:
    bad = [m for m in all_marks(Stepper(hello_handout)) if not m.ok]
    assert {(m.figure, m.index) for m in bad} == set(C.slips())
    assert all(m.reason.startswith("printing slip") for m in bad)
    assert all(abs(m.ours - m.printed) <= 1.5e-4 for m in bad)


def test_notes_slips_are_marked_as_from_notes(hello_handout: ModelSpec) -> None:
    marked = {(m.figure, m.index) for m in all_marks(Stepper(hello_handout))
              if "docs/handout.md" in m.reason}
    assert marked == NOTES_SLIPS
    if NOTES.exists():  # the handout's notes, beside the repository
        text = NOTES.read_text()
        for quote in ("h_2 printed 0.0537", "yhat_3 printed", "total 5.5528", "dV_3 printed",
                      "V_new printed -0.2244, -0.3051"):
            assert quote in text


def test_exact_mode_adds_the_dE_convention(hello: ModelSpec) -> None:
    bad = [m for m in all_marks(Stepper(hello)) if not m.ok]
    convention = {(m.figure, m.index) for m in bad if m.reason == C.CONVENTION}
    slips = {(m.figure, m.index) for m in bad if m.reason != C.CONVENTION}
    assert slips == {k for k in C.slips() if k[0] not in ("dE", "E_new")}
    assert {f for f, _ in convention} >= {"dE", "E_new", "epoch2_L_1", "epoch2_total",
                                           "min_total_loss_50", "min_total_loss_100"}
    assert all(C.figures()[f].depends_on_dE for f, _ in convention)


def test_other_models_get_no_marks(hello: ModelSpec) -> None:
    doc = hello.model_dump()
    doc["learning_rate"] = 0.2
    assert C.marks(Stepper(validate(doc, "other"))) == []
    assert C.marks(Stepper(load("hello")[0])) != []


def test_next_difference_walks_the_slips(hello_handout: ModelSpec) -> None:
    st = Stepper(hello_handout)
    seen = []
    while (pos := C.next_difference(st)) is not None:
        st.goto(pos)
        seen.append(st.layout.label(pos))
    assert seen == ["forward t=2 (2/4)", "forward t=3 (3/4)", "forward t=4 (4/4)",
                    "output gradients t=3 (3/4)", "update V (1/6)", "update W (3/6)",
                    "update U (4/6)", "update E (6/6)"]


async def test_the_app_marks_and_jumps() -> None:
    app = make_app("hello-handout")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert "✓ 12 match" in text_of(app, "#handout")  # x_1 (2), h_1, Ω_1 (4), ŷ_1 (4), L_1
        await pilot.press("j")
        await settle(pilot)
        assert app.stepper.position == Position(epoch=1, phase=Phase.FORWARD, index=1)
        shown = text_of(app, "#handout")
        assert "✗ h_2[1] printed 0.0537, ours 0.0538" in shown
        assert "printing slip (docs/handout.md)" in shown


async def test_no_strip_for_other_models() -> None:
    from helpers.scenarios import overflow_model

    app = make_app(overflow_model())
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert "match" not in text_of(app, "#handout")  # the strip stays, with no marks
        await pilot.press("j")
        await settle(pilot)
        assert app.stepper.position.index == 0


@pytest.mark.parametrize("name", ["hello", "hello-handout"])
def test_builtins_are_the_handout_model(name: str) -> None:
    assert C.is_handout_model(load(name)[0])
