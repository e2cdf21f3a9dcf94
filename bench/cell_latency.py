"""Key latency of the GRU/LSTM debugger (tui/cells/app.py), headless at 160x50.

As bench/latency.py for the RNN: the app's one probe (tui/probe.py) records
the seconds from a key event reaching the app to the end of the refresh it
caused; each key is pressed alone. The walk: forward steps, the output
gradients, BPTT terms forwards and back near the start of the triangle and
at its last row (t = T), the updates, and across the epoch boundary.

    python -m bench.cell_latency [lstm|gru] [K D H T] [keys]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import numpy as np

from rnn_tui.core.cells import seeded_params
from rnn_tui.core.cells.stepper import CellStepper
from rnn_tui.core.stepper import Phase
from rnn_tui.tui.cells.app import CellApp


def stepper(cell: str, K: int, D: int, H: int, T: int) -> CellStepper:
    rng = np.random.default_rng(0)
    text = rng.integers(0, K, T + 1).astype(np.intp)
    return CellStepper(seeded_params(cell, K, D, H, seed=1, scale=0.1), text[:-1], text[1:], 0.01)  # type: ignore[arg-type]


async def walk(st: CellStepper, size: tuple[int, int] = (160, 50)
               ) -> list[tuple[str, float]]:
    app = CellApp(st, cursor_blink=False, theme="dark")
    out: list[tuple[str, float]] = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause()

        async def press(key: str, kind: str) -> None:
            before = len(app.probe.latencies)
            await pilot.press(key)
            for _ in range(100):
                if len(app.probe.latencies) > before:
                    break
                await pilot.pause()
            if len(app.probe.latencies) > before:
                out.append((kind, app.probe.latencies[-1]))

        for _ in range(20):
            await press("n", "forward")
        await press("right_square_bracket", "phase")
        for _ in range(5):
            await press("n", "output")
        await press("right_square_bracket", "phase")
        for _ in range(30):
            await press("n", "BPTT")
        for _ in range(5):
            await press("p", "BPTT back")
        T = st.layout.T
        t0 = time.perf_counter()  # the first visit of the last row (a jump, not a key)
        st.goto(st.layout.at(1, st.layout.offset(Phase.BPTT) + T * (T - 1) // 2))
        app.moved()
        await pilot.pause()
        first_visit = time.perf_counter() - t0
        for _ in range(20):
            await press("n", "BPTT t=T")
        for _ in range(5):
            await press("p", "BPTT t=T back")
        await press("right_square_bracket", "phase")
        for _ in range(14):
            await press("n", "update")
        for _ in range(3):
            await press("n", "epoch boundary")
        for _ in range(3):
            await press("p", "epoch boundary back")
        out.append(("(jump to row T, not a key)", first_visit))
    return out


def report(rows: list[tuple[str, float]]) -> str:
    keys = [s for kind, s in rows if not kind.startswith("(")]
    keys.sort()
    p95 = keys[min(len(keys) - 1, round(0.95 * (len(keys) - 1)))]
    lines = [f"{len(keys)} keys: median {statistics.median(keys) * 1e3:.1f} ms, "
             f"p95 {p95 * 1e3:.1f} ms, max {keys[-1] * 1e3:.1f} ms"]
    kinds: dict[str, list[float]] = {}
    for kind, s in rows:
        kinds.setdefault(kind, []).append(s)
    for kind, v in kinds.items():
        lines.append(f"  {kind:28} n={len(v):3}  median {statistics.median(v) * 1e3:7.1f} ms"
                     f"  max {max(v) * 1e3:7.1f} ms")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    cell = argv[0] if argv else "lstm"
    K, D, H, T = (int(a) for a in argv[1:5]) if len(argv) >= 5 else (64, 32, 128, 200)
    t0 = time.perf_counter()
    st = stepper(cell, K, D, H, T)
    print(f"{cell.upper()} K{K} D{D} H{H} T{T}: epoch 1 built in "
          f"{(time.perf_counter() - t0) * 1e3:.0f} ms")
    print(report(asyncio.run(walk(st))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
