"""The layout: panels stay where they are through every step of epoch 1,
the screen is full at 160x50, and the network is on screen at every size."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.widgets.network import NetworkPanel
from rnn_tui.tui.widgets.panel import Panel

from helpers.cli import rnn_tui_command
from helpers.marks import slow_after
from helpers.scenarios import make_app, settle
from helpers.screen import screen_rows

SIZES = [(80, 24), (120, 40), (200, 60)]


@pytest.fixture(scope="module")
def three_units(tmp_path_factory: pytest.TempPathFactory) -> ModelSpec:
    """The issue's 3-unit model, written by the real `rnn-tui new`."""
    path: Path = tmp_path_factory.mktemp("models") / "h3.toml"
    subprocess.run([*rnn_tui_command(), "new", "--text", "hello world", "--hidden", "3",
                    "--embed", "2", "--seed", "0", "-o", str(path)], check=True,
                   capture_output=True)
    return load(str(path))[0]


def regions(app) -> dict[str, tuple[int, int, int, int]]:  # type: ignore[no-untyped-def]
    """Where each shown panel is; the one panel of the current phase in the
    narrow layout is named "phase" (its place is what must not move)."""
    out = {}
    for panel in app.query(Panel):
        if not panel.display or not panel.region:
            continue
        name = panel.id or ""
        if not app.screen.has_class("-wide") and name in ("bptt", "gradients", "update"):
            name = "phase"
        r = panel.region
        out[name] = (r.x, r.y, r.width, r.height)
    return out


@pytest.mark.parametrize("size", slow_after(1, SIZES, one=True), ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("model", ["hello", pytest.param("three", marks=pytest.mark.slow)])
async def test_panels_stay_put_through_epoch_1(size: tuple[int, int], model: str,
                                               three_units: ModelSpec) -> None:
    app = make_app("hello" if model == "hello" else three_units)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        first = regions(app)
        assert "network" in first and "formula" in first
        steps = app.stepper.layout.steps_per_epoch
        for _ in range(steps - 1):
            await pilot.press("space")
            await pilot.pause()
            assert regions(app) == first, app.stepper.position
        assert app.stepper.position.phase is Phase.UPDATE
        assert app.query_one(NetworkPanel).display


@pytest.mark.parametrize("model", slow_after(1, ["hello", "three"]))
async def test_160x50_is_full(model: str, three_units: ModelSpec) -> None:
    """At least 40 of 50 rows carry something on a forward step and on a
    BPTT term (the issue measured 27)."""
    app = make_app("hello" if model == "hello" else three_units)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert sum(1 for row in screen_rows(app) if row.strip()) >= 40
        await pilot.press("right_square_bracket", "right_square_bracket", "space")
        await settle(pilot)
        assert app.stepper.position.phase is Phase.BPTT
        rows = screen_rows(app)
        assert len(rows) == 50
        assert sum(1 for row in rows if row.strip()) >= 40


async def test_80x24_network_is_one_line_above_the_formula() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        net, formula = app.query_one("#network").region, app.query_one("#formula").region
        assert net.height == 1 and net.bottom <= formula.y
        assert "h_1" in "\n".join(screen_rows(app))


async def test_header_says_diverging(three_units: ModelSpec) -> None:
    """A finite but diverging run is not "finite ✓" (the issue's case: a
    long text at the old default learning rate 0.1)."""
    from rnn_tui.core.model_file import validate

    text = ("the quick brown fox jumps over the lazy dog and " * 7)[:300]
    doc = {"name": "big", "text": text, "embedding_dim": 2, "hidden_size": 32,
           "learning_rate": 0.1, "init": {"seed": 0}}
    app = make_app(validate(doc, "big"))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert "finite ✓" in screen_rows(app)[0]
        app.stepper.goto_epoch(6)
        app.moved()
        await settle(pilot)
        header = screen_rows(app)[0]
        assert "diverging (loss grew" in header and "finite ✓" not in header, header


async def test_presenter_shows_network_formula_and_result_in_digits() -> None:
    from textual.widgets import Digits

    app = make_app()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("z")
        await settle(pilot)
        shown = {p.id for p in app.query(Panel) if p.display}
        assert {"network", "formula"} <= shown
        assert not shown & {"forward", "bptt", "gradients", "update", "loss"}
        assert app.query_one(Digits).value == "0.0111"  # h_1, the forward step's result
        for keys, value in ((["right_square_bracket"], "-0.7510"),  # δ_1 at the target 'e'
                            (["right_square_bracket"], "0.3736"),  # |term(1, 1)|
                            (["right_square_bracket"], "0.6943")):  # V_new['h',1]: moved most
            await pilot.press(*keys)
            await settle(pilot)
            assert app.query_one(Digits).value == value, app.stepper.position
        await pilot.press("z")
        await settle(pilot)
        assert not app.query_one("#result").display
