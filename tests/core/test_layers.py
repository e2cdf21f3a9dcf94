"""The layers hold: everything in ``rnn_tui.core`` imports and runs without a
terminal library (STYLE.md). Checked in a fresh interpreter, so nothing this
test process has already imported can hide an import."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import rnn_tui
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


def private_imports(root: Path) -> list[str]:
    """Every `from rnn_tui.X import _name` (or `import rnn_tui.X._y`) below
    *root*: a module that needs another's helper needs it made public."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnn_tui"):
                names = [a.name for a in node.names]
                parts = [*(node.module or "").split("."), *names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("rnn_tui")]
                parts = [p for n in names for p in n.split(".")]
            else:
                continue
            bad = [p for p in parts if p.startswith("_") and not p.startswith("__")]
            if bad:
                found.append(f"{path.relative_to(root.parent)}:{node.lineno} {', '.join(bad)}")
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    assert private_imports(Path(rnn_tui.__file__).parent) == []


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    pkg = tmp_path / "rnn_tui"
    pkg.mkdir()
    (pkg / "a.py").write_text("from rnn_tui.core.report import _num as spelled\n")
    (pkg / "b.py").write_text("from rnn_tui.core.report import num\nimport rnn_tui.cli\n")
    assert private_imports(pkg) == ["rnn_tui/a.py:1 _num"]
