"""The real app under Textual's pilot: keys move the real stepper, and the
panels show the engine's numbers."""

from __future__ import annotations

import numpy as np
import pytest
from textual import events
from textual.widgets import Tree

from rnn_tui.core.model_file import load
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.tui.screens.help import HelpScreen
from rnn_tui.tui.screens.prompt import PromptScreen
from rnn_tui.tui.screens.report import ReportScreen
from rnn_tui.tui.screens.why import WhyScreen
from rnn_tui.tui.widgets.formula_layout import padded
from rnn_tui.tui.widgets.numbers import fmt

from helpers.scenarios import make_app, overflow_model, settle
from helpers.screen import palette_titles, screen_text, text_of


async def test_forward_steps_show_the_engine_numbers() -> None:
    app = make_app()
    engine = Stepper(load("hello")[0])
    async with app.run_test(size=(160, 50)) as pilot:
        for t in range(1, 5):
            await settle(pilot)
            v = engine.view()
            forward = text_of(app, "#forward")
            assert f"h_{t}   [{padded(v.fwd.h[t][0])}]" in forward
            assert f"L_{t}   {fmt(v.fwd.loss[t - 1])}" in forward
            assert f"ΣL = {fmt(v.running_loss)}" in forward
            formula = text_of(app, "#formula")
            assert f"= [{padded(v.fwd.h[t][0])}]" in formula  # sign-padded
            assert app.stepper.position == engine.position
            await pilot.press("n")
            engine.next()


async def test_handout_numbers_on_screen() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert "h_1   [ 0.0111]" in text_of(app, "#forward")
        assert "ŷ_1   [ 0.2521  0.2490  0.2496  0.2493]" in text_of(app, "#forward")
        assert "predicts 'h', we want 'e'" in text_of(app, "#forward")
        await pilot.press("right_square_bracket", "right_square_bracket",
                          "right_square_bracket")
        await settle(pilot)
        assert app.stepper.position.phase is Phase.UPDATE
        grads = text_of(app, "#gradients")
        assert "dW [-0.0082]" in grads and "db [ 0.7034]" in grads
        assert "dU [ 0.2137  0.0982]" in grads


@pytest.mark.slow
async def test_full_epoch_forward_then_back_is_the_same_screen() -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        n = app.stepper.layout.steps_per_epoch
        screens = []
        for _ in range(n + 2):  # across the epoch boundary and back
            screens.append(screen_text(app))
            await pilot.press("space")
            await settle(pilot)
        for i in range(n + 2):
            await pilot.press("p")
            await settle(pilot)
            assert screen_text(app) == screens[n + 1 - i], f"step back {i + 1}"


async def test_key_aliases_and_phase_keys() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("right", "n", "space")
        assert app.stepper.position.index == 3
        await pilot.press("left", "backspace", "p")
        assert app.stepper.position.index == 0
        await pilot.press("right_square_bracket")
        assert app.stepper.position.phase is Phase.OUTPUT
        await pilot.press("left_square_bracket")
        assert app.stepper.position.phase is Phase.FORWARD
        await pilot.press("e")
        assert app.stepper.position == Position(epoch=2, phase=Phase.FORWARD, index=0)
        await pilot.press("0")
        assert app.stepper.position == Position(epoch=1, phase=Phase.FORWARD, index=0)


@pytest.mark.slow
async def test_go_to_epoch_runs_in_a_worker() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("g")
        await pilot.press(*"abc", "enter")  # not a number: the prompt says so and stays
        assert app.screen.query_one("#prompt-error").render().plain.startswith("Type a whole")
        await pilot.press(*["backspace"] * 3, *"5000", "enter")
        await settle(pilot)
        assert app.stepper.position.epoch == 5000
        assert "epoch 5000" in text_of(app, "#status")
        assert len(app.stepper.checkpoints.losses) == 5000


async def test_run_until_all_predictions_right() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("c")
        await settle(pilot)
        v = app.stepper.view()
        assert v.correct_count == 4 and v.phase is Phase.FORWARD
        assert "4/4 right" in text_of(app, "#sequence")


async def test_run_until_loss_below() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("l", *"3.0", "enter")
        await settle(pilot)
        ep = app.stepper.current
        assert ep.total_loss < 3.0
        assert min(app.stepper.checkpoints.losses[: ep.number - 1]) >= 3.0


async def test_toggle_mode() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e", "n", "n", "n")
        await settle(pilot)
        assert "5.3115" in text_of(app, "#forward")
        await pilot.press("m")
        await settle(pilot)
        assert app.stepper.mode == "x_t"
        assert "handout dE" in text_of(app, "#status")
        assert "5.3114" in text_of(app, "#forward")
        assert app.stepper.position.epoch == 2


def shown_lines(app) -> list[str]:
    """The text of every row on the terminal, as the app draws it."""
    return ["".join(seg.text for seg in strip).rstrip()
            for strip in app.screen._compositor.render_strips()]


async def test_help_screen_shows_the_keys_as_bound_now() -> None:
    """A keymap moves a binding; the help lists the key it is on now."""
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:  # every key's row on screen
        app.set_keymap({"next": "x,space", "prev": "b"})
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        # the help's rows: inside the modal's thick border (█ ... █)
        lines = [line.split("█")[1].strip() for line in shown_lines(app) if line.count("█") == 2]
        assert any(line.startswith("x, space ") and line.endswith("Next step") for line in lines)
        assert any(line.startswith("b ") and "Previous step" in line for line in lines)
        assert any(line.startswith("^c ") and "exit status 130" in line for line in lines)
        assert not any("n, →" in line for line in lines)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("x", "x", "b")  # the keys work where the help says
        assert app.stepper.position.index == 1


async def test_unbound_keys_do_nothing() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        before = screen_text(app)
        await pilot.press("y", "i", "f5", "ctrl+x", "tab", "shift+tab", "8", "%")
        await settle(pilot)
        assert app.stepper.position == Position(epoch=1, phase=Phase.FORWARD, index=0)
        assert screen_text(app) == before


async def test_a_burst_of_keys_is_not_lost() -> None:
    """1,000 key events queued at once, as a held-down key or a paste sends
    them (the pilot's press() would wait for idle between keys)."""
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        for _ in range(1000):
            app.post_message(events.Key("space", " "))
        await settle(pilot)
        lay = app.stepper.layout
        expected = lay.at(1 + 1000 // lay.steps_per_epoch, 1000 % lay.steps_per_epoch)
        assert app.stepper.position == expected
        assert f"epoch {expected.epoch}" in text_of(app, "#status")


async def test_non_finite_status_is_whole_at_80x24() -> None:
    """The step named in the fewest words that fit, never cut with …."""
    app = make_app(overflow_model())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("e", "e")
        await settle(pilot)
        status = text_of(app, "#status")
        assert "NOT FINITE" in status and "epoch 2" in status and "…" not in status, status


async def test_diverged_model_shows_non_finite_plainly() -> None:
    app = make_app(overflow_model())
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("f")
        await settle(pilot)
        status = text_of(app, "#status")
        assert "NOT FINITE since epoch 2, update V (1/6)" in status
        assert "inf" in text_of(app, "#update") or "NaN" in text_of(app, "#update")
        for key in ("n", "p", "p", "right_square_bracket", "e", "e"):  # keeps stepping
            await pilot.press(key)
            await settle(pilot)
        assert not app.stepper.view().finite


async def test_too_small_terminal_says_so() -> None:
    app = make_app()
    async with app.run_test(size=(60, 15)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("-too-small")
        assert app.query_one("#too-small").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not app.screen.has_class("-too-small")


@pytest.mark.slow
async def test_play_and_pause() -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*["plus"] * 6)  # fastest: 50 steps per second
        await pilot.press("r")
        for _ in range(100):  # wait (up to 5 s on a loaded machine) for 4 steps
            await pilot.pause(0.05)
            if app.stepper.layout.step_of(app.stepper.position) >= 4:
                break
        await pilot.press("r")
        moved = app.stepper.layout.step_of(app.stepper.position)
        assert moved >= 4
        await pilot.pause(0.3)
        assert app.stepper.layout.step_of(app.stepper.position) == moved  # paused


async def test_the_command_palette_lists_each_command_once() -> None:
    """What ctrl+p lists: every action of the app, and Textual's own
    commands only where they are not ours already (one Theme, one Quit)."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        listed = await palette_titles(app, pilot)
        assert len(listed) == len(set(listed)), sorted(listed)
        assert {"Next", "Prev", "Go to", "Why", "Theme", "Quit", "Help", "Screenshot",
                "Keys"} <= set(listed)


def test_numbers_format_like_the_handout() -> None:
    assert fmt(0.011092) == "0.0111" and fmt(-0.00001) == "0.0000"
    assert fmt(float("nan")) == "NaN" and fmt(-np.inf) == "-inf"
    assert fmt(1.5e9) == "1.500e+09"


async def test_gradcheck_key_shows_the_table() -> None:
    app = make_app("hello-handout")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        body = "\n".join(app.screen.lines)
        assert "dW" in body and "DIFFERS" in body and "not the gradient of L" in body
        await pilot.press("escape")
        assert not isinstance(app.screen, ReportScreen)


async def test_why_drills_from_a_gradient_to_its_terms() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await settle(pilot)  # update phase: the whole gradient is known
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WhyScreen)
        tree = app.screen.query_one(Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert labels[0].startswith("V_new = V")
        dV = tree.root.children[1]
        dV.expand()
        await pilot.pause()
        first = dV.children[0]  # the largest entry of dV
        assert str(first.label).startswith("dV['h',1] = Σ_t δ_t[1]·h_t[1] = 0.0075")
        first.expand()
        await pilot.pause()
        terms = [str(n.label) for n in first.children]
        assert len(terms) == 4 and all(t.startswith("t=") for t in terms)
        await pilot.press("escape")


@pytest.mark.slow
async def test_open_model_validates_in_place(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('text = "hello"\nembedding_dim = 2\n')
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("o")
        await pilot.press(*str(bad), "enter")
        await pilot.pause()
        error = str(app.screen.query_one("#prompt-error").render())
        assert error.startswith(f"{bad}: hidden_size: missing") and "\n" not in error
        await pilot.press(*["backspace"] * len(str(bad)), *"hello-handout", "enter")
        await settle(pilot)
        assert app.stepper.spec.name == "hello-handout" and app.stepper.mode == "x_t"
        assert "hello-handout" in text_of(app, "#status")


async def test_open_model_is_disabled_when_served(monkeypatch) -> None:
    monkeypatch.setenv("RNN_TUI_SERVED", "1")
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, PromptScreen)
        assert app.stepper.spec.name == "hello"


async def test_theme_and_presenter_keys() -> None:
    app = make_app()
    async with app.run_test(size=(120, 34)) as pilot:
        await pilot.press("t")
        assert app.theme == "textual-light"
        await pilot.press("t", "t")
        assert app.theme == "mono" and app.monochrome
        await pilot.press("z")
        await settle(pilot)
        assert app.screen.has_class("-presenter")
        assert not app.query_one("#sequence").display
        assert app.query_one("#formula").display and app.query_one("#network").display
        assert app.query_one("#result").display  # the step's result in large type
        assert not app.query_one("#forward").display and not app.query_one("#bptt").display


async def test_screenshot_is_written_once_and_atomically(tmp_path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        saved = app.deliver_screenshot("shot.svg", str(tmp_path))
        assert saved == str(tmp_path / "shot.svg")
        first = (tmp_path / "shot.svg").read_text()
        assert first.startswith("<svg")
        (tmp_path / "shot.svg").write_text("mine")
        assert app.deliver_screenshot("shot.svg", str(tmp_path)) is None  # never overwrites
        assert (tmp_path / "shot.svg").read_text() == "mine"
        assert app.deliver_screenshot("x.svg", str(tmp_path / "missing")) is None
        assert sorted(p.name for p in tmp_path.iterdir()) == ["shot.svg"]
        await pilot.pause()
