"""Generation in the debugger (issue 16): the panel on ``v`` shows what the
model writes with the parameters of the current step, the same numbers as
``rnn-tui sample --format json``; ``.``/``,`` step through the characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from rnn_tui.core.model_file import load
from rnn_tui.core.sample import records
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.text import char, fmt
from rnn_tui.tui.generate import GenerationMode
from rnn_tui.tui.screens.help import HelpScreen
from rnn_tui.tui.screens.prompt import PromptScreen

from helpers.cli import run
from helpers.scenarios import make_app, overflow_model, settle
from helpers.screen import screen_rows, text_of

CHUNKED = """\
name = "chunky"
text = "hello world, hello there"
embedding_dim = 3
hidden_size = 5
learning_rate = 0.05
[init]
seed = 3
[train]
optimizer = "adam"
clip_norm = 1.0
seq_length = 7
"""


def sample_json(model: str, epochs: int, prime: str, tau: float, seed: int, length: int,
                cwd: Path | None = None) -> dict:
    out = run("sample", model, "--epochs", str(epochs), "--prime", prime, "--temperature",
              str(tau), "--seed", str(seed), "--length", str(length), "--format", "json",
              cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


async def check_against_the_cli(model: str, epochs: int, cwd: Path | None = None) -> None:
    spec = load(str(cwd / model) if cwd else model)[0]
    app = make_app(spec)
    n = GenerationMode.length(spec)
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=epochs + 1, phase=Phase.FORWARD, index=0))
        app.moved()
        await pilot.press("a")  # prime | τ | seed
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "he | 0.7 | 5"
        await pilot.press("enter")
        await settle(pilot)
        assert app.generation.on and (app.generation.temperature, app.generation.seed) == (0.7, 5)
        greedy, drawn = app.generation.walks(spec, app.stepper.view().params)
        for tau, walk in ((0.7, drawn), (0.0, greedy)):
            doc = sample_json(model, epochs, "he", tau, 5, n, cwd)
            assert doc["text"] == "he" + "".join(spec.alphabet[s.next] for s in walk.steps)
            assert [st["y_hat"] for st in doc["steps"]] == [s.y_hat.tolist() for s in walk.steps]
            assert [st["input"] for st in doc["steps"]] == [spec.alphabet[s.input]
                                                            for s in walk.steps]
        shown = text_of(app, "#generate")
        assert f"τ = 0.7  he│{doc_text(drawn, spec.alphabet)[:20]}" in shown
        await pilot.press("full_stop", "full_stop", "full_stop", "comma")
        await settle(pilot)
        shown = text_of(app, "#generate")
        third = drawn.steps[2]
        assert "character 3/" in shown
        for i, c in enumerate(spec.alphabet):  # a row per character: Ω, Ω/τ, ŷ
            assert (f"{char(c)!r:<6}" in shown and fmt(third.y_hat[i]) in shown
                    and fmt(third.omega[i] / 0.7) in shown)
        picked = char(spec.alphabet[third.next])
        assert f"next = {picked!r} (ŷ = {fmt(third.y_hat[third.next])}): draw 3 of" in shown


def doc_text(walk, vocab: str) -> str:
    return "".join(char(vocab[s.next]) for s in walk.steps)  # a blank shows as ␣


async def test_the_panel_shows_what_sample_json_gives_for_the_handout_model() -> None:
    await check_against_the_cli("hello", 3)


@pytest.mark.slow  # the quick loop keeps the handout model above
async def test_the_panel_shows_what_sample_json_gives_for_adam_and_chunks(
        tmp_path: Path) -> None:
    (tmp_path / "chunky.toml").write_text(CHUNKED)
    await check_against_the_cli("chunky.toml", 2, tmp_path)


@pytest.mark.slow
async def test_the_panel_follows_every_update() -> None:
    app = make_app("hello")
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=30, phase=Phase.BPTT, index=8))
        app.moved()
        await pilot.press("v")
        await settle(pilot)
        texts = []
        for _ in range(7):  # the last BPTT term, then the six updates
            await pilot.press("n")
            await settle(pilot)
            view = app.stepper.view()
            want = records(view.params, [0], GenerationMode.length(view.spec), 1.0, 0)
            shown = text_of(app, "#generate")
            ours = "".join(view.spec.alphabet[s.next] for s in want.steps)
            assert f"τ = 1    h│{ours}" in shown
            assert f"epoch 30, {view.label}" in str(app.query_one("#generate").border_title)
            texts.append(shown)
        assert app.stepper.position.phase is Phase.UPDATE and app.stepper.position.index == 5
        assert len(set(texts)) > 1  # the updates change what it writes
        await pilot.press("v")
        await settle(pilot)
        assert not app.generation.on and app.query_one("#formula").display


async def test_greedy_at_80x24_and_a_bad_prime() -> None:
    app = make_app("hello")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one(Input).value = "hex"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)  # refused in place
        assert "'x' at 3 is not in the vocabulary" in str(
            app.screen.query_one("#prompt-error").render())
        app.screen.query_one(Input).value = "l | 0"
        await pilot.press("enter")
        await settle(pilot)
        rows = "\n".join(screen_rows(app))
        assert "greedy   l│" in rows and "= argmax Ω_1" in rows
        assert "Formula" not in rows and "Generation from 'l'" in rows
        assert len(screen_rows(app)) == 24


@pytest.mark.slow
async def test_a_diverged_model_and_resizes_do_not_crash() -> None:
    app = make_app(overflow_model())
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=3, phase=Phase.FORWARD, index=0))
        await pilot.press("v", "full_stop", "full_stop")
        await settle(pilot)
        shown = text_of(app, "#generate")
        assert not app.stepper.view().params.is_finite()
        assert "stopped: the probabilities are not finite" in shown
        assert "greedy   h│" in shown and "τ = 1    h│✗" in shown
        for size in ((80, 24), (60, 15), (120, 34), (160, 50)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            await pilot.press("full_stop", "n")
            await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        app.screen.query_one(Input).value = "h | 0"
        await pilot.press("enter")
        await settle(pilot)
        assert "(ŷ = NaN) = argmax Ω_" in text_of(app, "#generate")


async def test_generation_keys_have_ids_help_lines_and_move_with_a_keymap() -> None:
    app = make_app("hello")
    async with app.run_test(size=(120, 40)) as pilot:
        ids = {b.id for b in app.BINDINGS}  # type: ignore[union-attr]
        assert {"generate", "generate_next", "generate_prev", "generate_settings"} <= ids
        app.set_keymap({"generate": "y"})
        await pilot.press("y")
        await settle(pilot)
        assert app.generation.on
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = "\n".join(screen_rows(app))
        assert "Generation: the next generated character" in rows


async def test_why_and_the_quiz_reach_the_generated_character() -> None:
    from textual.widgets import Tree

    from rnn_tui.tui.screens.quiz import QuizScreen
    from rnn_tui.tui.screens.why import WhyScreen

    app = make_app("hello")
    async with app.run_test(size=(120, 40)) as pilot:
        app.stepper.goto(Position(epoch=20, phase=Phase.FORWARD, index=0))
        app.moved()
        await pilot.press("v", "full_stop")
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WhyScreen)
        assert app.screen.title_text.endswith("· generated character 2")
        labels = [str(n.label) for n in app.screen.query_one(Tree).root.children]
        walk, k, _ = app.generation.current()
        s = walk.steps[k]
        assert labels[0].startswith(f"next = {app.stepper.spec.alphabet[s.next]!r}, draw 2 of")
        assert labels[1] == "ŷ_2 = softmax(Ω_2/τ), τ = 1" and labels[3].startswith("L_1 = ")
        await pilot.press("escape")
        await pilot.press("k", "full_stop")  # quiz on: ask before the third character
        await pilot.pause()
        assert isinstance(app.screen, QuizScreen) and app.generation.cursor == 1
        third = walk.steps[2]
        assert app.screen.question.answer == third.y_hat[third.next]
        app.screen.query_one(Input).value = fmt(third.y_hat[third.next])
        await pilot.press("enter")
        await pilot.press("enter")
        await settle(pilot)
        assert app.quiz.right == 1 and app.generation.cursor == 2
