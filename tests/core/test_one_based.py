"""One indexing convention: 1-based, rows of E, V, c named by character,
screen names for the handout's figures, ᵀ and LaTeX's \\top."""

from __future__ import annotations

from rnn_tui.core import gradcheck
from rnn_tui.core.conformance import figure_label
from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.core.why import Explainer

from helpers.cli import run


def test_gradcheck_entries() -> None:
    assert gradcheck.entry("V", (3, 0), "helo") == "['o', 1]"
    assert gradcheck.entry("c", (1,), "helo") == "['e']"
    assert gradcheck.entry("U", (0, 1), "helo") == "[1, 2]"
    assert gradcheck.entry("b", (0,)) == "[1]"
    out = run("gradcheck", "hello").stdout
    assert "dV             4/4" in out and "['o', 1]: backward" in out, out
    assert "[0, 0]" not in out and "[3, 0]" not in out


def test_figures_have_screen_names() -> None:
    assert figure_label("epoch2_y_hat_1") == "epoch 2 ŷ_1"
    assert figure_label("Omega_3") == "Ω_3"
    assert figure_label("total_loss") == "total loss"
    assert figure_label("delta_4") == "δ_4"


def test_why_names_rows_by_character() -> None:
    stepper = Stepper(load("hello")[0])
    view = stepper.peek(Position(epoch=1, phase=Phase.UPDATE, index=5))  # E
    why = Explainer(view)
    assert why.at("E", (1, 0)) == "'e',1" and why.at("W", (0, 0)) == "1,1"
    assert "(Uᵀ term)" in why.grad("E", (1, 0)).label
    assert "U^T" not in why.grad("E", (1, 0)).label


def test_export_writes_top_not_dagger() -> None:
    out = run("export", "hello").stdout
    assert "\\dagger" not in out and "h_t^\\top" in out and "†" not in out
