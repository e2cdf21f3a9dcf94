"""The real app in tmux under different terminals: 8 colours (TERM=xterm)
and NO_COLOR get the monochrome theme and stay readable; 256 colours get
colour. Read back with capture-pane, escapes included."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from helpers.cli import rnn_tui_command

pytestmark = [
    pytest.mark.slow,  # the app in tmux at several terminal types
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

COLOUR = re.compile(r"\x1b\[[0-9;]*(?:38|48);[25];")  # 256-colour or truecolour
PALETTE = re.compile(r"(?:38|48);5;(\d+)")
TRUECOLOUR = re.compile(r"(?:38|48);2;(\d+);(\d+);(\d+)")


def hues(raw: str) -> set[str]:
    """Colours used other than black, white and greys."""
    grey = {16, 231, *range(232, 256)}
    out = {f"5;{n}" for n in map(int, PALETTE.findall(raw)) if n not in grey}
    out |= {f"2;{r};{g};{b}" for r, g, b in TRUECOLOUR.findall(raw) if not r == g == b}
    return out


def run_in_tmux(tmp_path: Path, env: dict[str, str], keys: list[str]) -> tuple[str, str]:
    sock = str(tmp_path / "tmux.sock")
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLORTERM")}

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                              env={**base, **env}, timeout=20).stdout

    command = " ".join([*rnn_tui_command(), "hello"])
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    tmux("new-session", "-d", "-x", "100", "-y", "30", f"env {exports} {command}")
    try:
        deadline = time.monotonic() + 20
        while "forward t=1" not in tmux("capture-pane", "-p") and time.monotonic() < deadline:
            time.sleep(0.1)
        for key in keys:
            tmux("send-keys", key)
        time.sleep(1.0)
        return tmux("capture-pane", "-p"), tmux("capture-pane", "-p", "-e")
    finally:
        tmux("kill-server")


@pytest.mark.parametrize("env", [{"TERM": "xterm"}, {"TERM": "xterm-256color", "NO_COLOR": "1"}],
                         ids=["8-colours", "NO_COLOR"])
def test_monochrome_is_readable(tmp_path: Path, env: dict[str, str]) -> None:
    text, raw = run_in_tmux(tmp_path, env, ["]", "]", "n"])
    assert "BPTT t=2 k=2 (2/10)" in text and "finite ✓" in text
    assert "δ_2ᵀV" in text and "dW +=" in text
    if env["TERM"] == "xterm":  # 8 colours: no 256 or true colour at all
        assert not COLOUR.search(raw), "8-colour output used 256 or true colour"
    assert not hues(raw), f"monochrome output used colours {sorted(hues(raw))[:5]}"
    assert "\x1b[7m" in raw or "\x1b[1m" in raw  # marks drawn with reverse or bold


def test_256_colours_get_colour(tmp_path: Path) -> None:
    text, raw = run_in_tmux(tmp_path, {"TERM": "xterm-256color"}, ["n"])
    assert "forward t=2 (2/4)" in text
    assert hues(raw)
