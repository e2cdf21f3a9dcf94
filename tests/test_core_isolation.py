"""The core is importable and runnable without Textual (STYLE.md): the
maths, the model files, the stepper and the headless CLI never import it."""

from __future__ import annotations

import subprocess
import sys


def test_core_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "import rnn_tui.maths, rnn_tui.model_file, rnn_tui.stepper, rnn_tui.report, rnn_tui.cli\n"
        "from rnn_tui.cli import main\n"
        "main(['trace', 'hello', '--format', 'text'])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "h_1 = [0.0111]" in r.stdout
