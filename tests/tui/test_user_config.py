"""The user's keys.toml (keys by binding id, the run-until cap) and what a
run-until says when it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_tui.core.model_file import load
from rnn_tui.tui.app import RnnApp
from rnn_tui.tui.user_config import RUN_LIMIT, UserConfig, load_user_config

from helpers.cli import assert_one_line_error, run
from helpers.marks import slow_after
from helpers.scenarios import make_app, settle
from helpers.screen import screen_rows


def test_no_file_is_the_defaults(tmp_path: Path) -> None:
    assert load_user_config(tmp_path / "none.toml") == UserConfig()
    assert UserConfig().run_limit == RUN_LIMIT == 100_000


def test_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('run_limit = 500\n[keys]\nnext = "space,j"\nquit = "Q"\n')
    config = load_user_config(path)
    assert config.run_limit == 500 and config.keys == {"next": "space,j", "quit": "Q"}


@pytest.mark.parametrize(("text", "words"), slow_after(1, [
    ('[keys]\nnexxt = "j"\n', ["keys.nexxt: unknown binding id; did you mean 'next'?"]),
    ('[keys]\nnext = 3\n', ["keys.next", "expected a string"]),
    ('run_limit = 0\n', ["run_limit: must be >= 1"]),
    ('[keys\n', ["not valid TOML"]),
    ('colour = "red"\n', ["colour: unknown key"]),
]))
def test_a_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   text: str, words: list[str]) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(text)
    monkeypatch.setenv("RNN_TUI_KEYS", str(path))
    assert_one_line_error(run("hello"), str(path), *words)


def test_xdg_config_home_is_where_the_file_is(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rnn-tui").mkdir()
    (tmp_path / "rnn-tui" / "keys.toml").write_text('[keys]\nwhy = ""\n')
    monkeypatch.delenv("RNN_TUI_KEYS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert_one_line_error(run("hello"), "keys.toml: keys.why: expected keys separated by commas")


def app_with(config: UserConfig) -> RnnApp:
    app = RnnApp(load("hello")[0], cursor_blink=False, theme="dark", config=config)
    app.toast_time_scale = 1000.0
    return app


async def test_remapped_keys_step_and_show_in_footer_and_help() -> None:
    app = app_with(UserConfig(keys={"next": "j", "help": "f1"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("space")  # no longer bound
        await settle(pilot)
        assert app.stepper.position.index == 0
        await pilot.press("j")
        await settle(pilot)
        assert app.stepper.position.index == 1
        footer = screen_rows(app)[-1]
        assert "j Next" in footer and "f1 Help" in footer, footer
        await pilot.press("f1")
        await settle(pilot)
        assert any("Next step" in row and "j" in row for row in screen_rows(app))


def toasts(app: RnnApp) -> str:
    return " ".join(n.message for n in app._notifications)


async def test_run_until_says_where_it_stopped() -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("l", *"3.0", "enter")
        await settle(pilot)
        epoch = app.stepper.position.epoch
        assert f"Total loss below 3.0: found at epoch {epoch}, forward t=4 (4/4)." in toasts(app)


async def test_run_limit_is_settable() -> None:
    app = app_with(UserConfig(run_limit=3))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")
        await settle(pilot)
        assert "Every prediction right: not found within 3 epochs" in toasts(app)
        assert app.stepper.position.epoch == 1
