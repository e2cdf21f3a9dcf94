"""The user's settings file: keys remapped by binding id, and the run-until cap.

The file is ``keys.toml`` in rnn-tui's config directory,
``$XDG_CONFIG_HOME/rnn-tui/keys.toml`` (``~/.config/rnn-tui/keys.toml``
when XDG_CONFIG_HOME is unset); ``RNN_TUI_KEYS`` names another file::

    run_limit = 500000        # epochs c, l and f search (default 100000)

    [keys]                    # binding id = key(s), comma-separated
    next = "space,j"          # the ids are in the help screen (?) and keys.py
    prev = "k"
    quiz = "K"

It is validated with pydantic: an unknown binding id, a key that is not a
string or a run limit out of range is one line naming the file and the
key, exit status 2. The keys are applied with Textual's keymap
(``App.set_keymap``), so the footer, the help screen and the palette show
them as they are.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rnn_tui.core.model_errors import describe
from rnn_tui.core.stepper import MAX_EPOCH
from rnn_tui.core.text import printable

RUN_LIMIT = 100_000  # epochs a run-until searches before giving up, by default


class UserConfigError(ValueError):
    """The settings file is bad: one line naming the file and the key."""


def binding_ids() -> list[str]:
    """Every binding id of the app and its screens."""
    from rnn_tui.tui.keys import KEYS
    from rnn_tui.tui.screens.help import HelpScreen
    from rnn_tui.tui.screens.prompt import PromptScreen
    from rnn_tui.tui.screens.quiz import QuizScreen
    from rnn_tui.tui.screens.report import ReportScreen
    from rnn_tui.tui.screens.why import WhyScreen

    ids = [b.id for b in KEYS]
    for screen in (HelpScreen, PromptScreen, QuizScreen, ReportScreen, WhyScreen):
        ids += [b.id for b in screen.BINDINGS if hasattr(b, "id")]  # type: ignore[union-attr]
    return [i for i in ids if i]


class UserConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_limit: int = Field(default=RUN_LIMIT, ge=1, le=MAX_EPOCH)
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys")
    @classmethod
    def known_ids(cls, keys: dict[str, str]) -> dict[str, str]:
        known = binding_ids()
        for name, value in keys.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"keys.{name}: unknown binding id; {hint}"
                                 f"ids: {', '.join(known)}")
            if not value.strip() or any(not k.strip() for k in value.split(",")):
                raise ValueError(f"keys.{name}: expected keys separated by commas, "
                                 f"got {value!r}")
        return keys


def config_path() -> Path:
    if override := os.environ.get("RNN_TUI_KEYS"):
        return Path(override)
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "rnn-tui" / "keys.toml"


def load_user_config(path: Path | None = None) -> UserConfig:
    """The settings, or the defaults when there is no file."""
    path = path or config_path()
    where = printable(str(path))
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserConfig()
    except (OSError, UnicodeDecodeError) as err:
        raise UserConfigError(f"{where}: cannot read: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise UserConfigError(f"{where}: not valid TOML: {err}") from None
    try:
        return UserConfig.model_validate(doc)
    except ValidationError as err:
        field, message = describe(err, UserConfig)
        if message.startswith("keys."):  # our own message names the key already
            raise UserConfigError(f"{where}: {printable(message)}") from None
        raise UserConfigError(f"{where}: {printable(field)}: {printable(message)}") from None
