"""The CLI as users run it: the installed console script in a real subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def rnn_tui_command() -> list[str]:
    """The installed console script when there is one (as users run it)."""
    script = Path(sys.executable).parent / "rnn-tui"
    if script.exists():
        return [str(script)]
    found = shutil.which("rnn-tui")
    return [found] if found else [sys.executable, "-m", "rnn_tui"]


def run(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [*rnn_tui_command(), *args], capture_output=True, text=True, cwd=cwd, env=env,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )


GOOD = """\
name = "tiny"
text = "abca"
embedding_dim = 2
hidden_size = 2
learning_rate = 0.5
[init]
seed = 1
"""

def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    for w in words:
        assert w in lines[0], (w, lines[0])
