"""Themes for a laptop, a projector and a terminal without colour.

``projector`` is high contrast for a washed-out beamer: pure black and
white with saturated accents, nothing dim. ``mono`` draws with bold,
underline and reverse only, so it reads the same on an 8-colour terminal
or with NO_COLOR set (https://no-color.org).
"""

from __future__ import annotations

import os
from pathlib import Path

from textual.theme import Theme

STYLESHEET = Path(__file__).with_name("app.tcss")
"""The one stylesheet, for every app of the package (the debugger, the
GRU/LSTM debugger, compare-cells)."""

PROJECTOR = Theme(
    name="projector",
    primary="#FFFFFF",
    secondary="#00FFFF",
    accent="#FFFF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#202020",
    success="#00FF00",
    warning="#FFFF00",
    error="#FF3030",
    dark=True,
)

MONO = Theme(  # white on black, every colour the same: bold, underline and reverse do the rest
    name="mono",
    background="#000000",
    surface="#000000",
    panel="#000000",
    dark=True,
    **dict.fromkeys(("primary", "secondary", "accent", "foreground", "success", "warning",
                     "error"), "#FFFFFF"),
)

THEMES = {"dark": "textual-dark", "light": "textual-light", "projector": "projector",
          "mono": "mono"}
CYCLE = tuple(THEMES)


def default_theme(environ: dict[str, str] | None = None) -> str:
    """mono when the terminal cannot or should not show colour."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR") or env.get("TERM") in ("dumb", "xterm", "vt100", "linux", "ansi"):
        return "mono"
    return "dark"
