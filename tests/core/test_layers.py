"""The layers hold: everything in ``rnn_tui.core`` imports and runs without a
terminal library (STYLE.md). Checked in a fresh interpreter, so nothing this
test process has already imported can hide an import."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import rnn_tui.core

CORE_MODULES = sorted(  # subpackages (core/cells) and their modules too
    m.name for m in pkgutil.walk_packages(rnn_tui.core.__path__, "rnn_tui.core.")
)


def test_the_core_has_modules_to_check() -> None:
    # If discovery broke, the next test would pass on nothing.
    assert {"rnn_tui.core.maths", "rnn_tui.core.stepper", "rnn_tui.core.why",
            "rnn_tui.core.cells.fast"} <= set(CORE_MODULES)


def test_core_never_loads_textual_or_rich() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "from rnn_tui.cli import main\n"
        "main(['trace', 'hello', '--format', 'text'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "h_1 = [0.0111]" in r.stdout
