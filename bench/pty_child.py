"""Run the real debugger in the terminal it was started in and, when it
quits, write the latencies it recorded (seconds, key event -> refreshed
screen) as JSON to the file named by the second argument. Used by the
latency benchmark to time keys typed into a real pseudo-terminal, with
Textual's own driver and no test pilot in the loop.

    python -m bench.pty_child "K64 D32 H128 T200" /tmp/latencies.json
"""

from __future__ import annotations

import json
import sys

from bench.common import model


def main() -> None:
    from rnn_tui.tui.app import RnnApp

    name, out = sys.argv[1], sys.argv[2]
    app = RnnApp(model(name), cursor_blink=False)
    app.run()
    with open(out, "w", encoding="utf-8") as f:
        json.dump(app.probe.latencies, f)


if __name__ == "__main__":
    main()
