"""2. Keypress latency inside the real app, headless at 160x50.

The app's one latency probe (rnn_tui/tui/probe.py) records, in
``app.probe.latencies``, the seconds from a key event reaching the app to
the end of the screen refresh it causes (``call_after_refresh``). The
pilot's own wall clock is not used: its ``press`` waits for the event loop
to go idle, a floor of about 60 ms that says nothing about the app.

Each key is pressed on its own (the pilot waits for idle between keys), so
no latency includes queueing behind the previous key. The keys walk every
phase: forward steps, output gradients, BPTT terms (forwards and back),
updates, and next/prev across an epoch boundary. For a breakdown, the
bench also times, per key, the stepper's move and the building of the
panels (``RnnApp._render_panels``); the rest is Textual (dispatch, layout,
compositor, writing the frame). At T >= 100 a second walk starts in a
late BPTT row (t = 3T/4), where each term's chain has 150+ factors and a
step back across a row start rebuilds the row from its checkpoint.

Then the same app runs in a 160x50 pseudo-terminal (bench/pty_child.py)
with Textual's real driver, and the bench types a fixed walk of keys into
it, 0.15 s apart: what a user at a terminal gets, frame writes included.

The baseline, measured just before and just after each size, is the
smallest Textual app that redraws a line of text on a key
(bench/minimal_app.py): this machine's speed changes by 2x from minute to
minute, and the ratio to the baseline says how much of a slow run is the
machine.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import select
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.common import Section, median, model, ms, percentile, size_label, verdict
from bench.startup import launch, quit_child

FULL = {"keys": 200, "pty_keys": 100, "sizes": ("hello", "K64 D32 H128 T200")}
QUICK = {"keys": 40, "pty_keys": 20, "sizes": ("hello", "K16 D8 H16 T20")}
SCREEN = (160, 50)
TARGET_MEDIAN, TARGET_P95 = 0.016, 0.040


def _phase(app) -> str:
    return app.stepper.position.phase.name.lower()


class Timed:
    """Per-key time spent in the stepper and in building the panels, and the
    CPU time of the whole process from key to repaint (which another process
    on the machine does not inflate; a slower CPU does)."""

    def __init__(self, app) -> None:
        self.stepper = 0.0
        self.panels = 0.0
        self.cpu = math.nan
        self._cpu_start = math.nan
        probe = app.probe
        key, record = probe.key, probe.record

        def timed_key():
            self._cpu_start = time.process_time()
            key()

        def timed_record(*a, **kw):
            self.cpu = time.process_time() - self._cpu_start
            return record(*a, **kw)

        # Instance attributes: the app looks them up on every call.
        app.stepper.goto = self._timing(app.stepper.goto, "stepper")
        app._render_panels = self._timing(app._render_panels, "panels")
        probe.key, probe.record = timed_key, timed_record

    def _timing(self, fn, total: str):
        """fn, adding the seconds each call takes to the attribute ``total``."""
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                setattr(self, total, getattr(self, total) + time.perf_counter() - t0)

        return timed

    def take(self) -> tuple[float, float, float]:
        out = (self.stepper, self.panels, self.cpu)
        self.stepper = self.panels = 0.0
        self.cpu = math.nan
        return out


# A walk through every phase for the pseudo-terminal run, where the bench
# cannot ask the app which phase it is in: forward steps, the output
# gradients, BPTT terms forwards and back, the updates, and back and forth
# across the epoch boundary.
PTY_WALK = ["n"] * 20 + ["]"] + ["n"] * 5 + ["]"] + ["n"] * 30 + ["p"] * 5 + ["]"] + \
    ["n"] * 6 + ["p", "n"] * 3


def drive_pty(name: str, n_keys: int, gap: float = 0.15) -> list[float]:
    """Type n_keys keys, ``gap`` seconds apart, into the real app running in
    a pseudo-terminal (bench/pty_child.py); return the latencies it recorded.

    The pilot's own work (it posts a callback to every widget on each key
    and waits for them) runs in the app's event loop and can sit between a
    key and its repaint; here nothing but the app runs."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "latencies.json"
        argv = [sys.executable, "-m", "bench.pty_child", name, str(out)]
        pid, fd, _ = launch(argv, needle=b"epoch 1", cwd=root)
        try:
            keys = (PTY_WALK * (n_keys // len(PTY_WALK) + 1))[:n_keys]
            for key in keys:
                os.write(fd, key.encode())
                deadline = time.perf_counter() + gap
                while (left := deadline - time.perf_counter()) > 0:
                    if select.select([fd], [], [], left)[0]:
                        try:
                            os.read(fd, 1 << 16)
                        except OSError:
                            break
            quit_child(pid, fd)
        finally:
            os.close(fd)
        return json.loads(out.read_text()) if out.exists() else []


async def drive_minimal(n_keys: int) -> list[float]:
    """Key -> repainted in the smallest Textual app that redraws on a key,
    measured the same way: what Textual itself costs here, right now."""
    from bench.minimal_app import MinimalKeys

    app = MinimalKeys()
    async with app.run_test(size=SCREEN) as pilot:
        await pilot.pause()
        while len(app.latencies) < n_keys:
            before = len(app.latencies)
            await pilot.press("n")
            for _ in range(50):
                if len(app.latencies) > before:
                    break
                await pilot.pause()
        await pilot.press("q")
    return app.latencies[:n_keys]


async def _press(pilot, timed: Timed, key: str) -> tuple[float, float, float, float] | None:
    """Press a key; (latency, stepper s, panels s, CPU s) once it is repainted."""
    app = pilot.app
    before = len(app.probe.latencies)
    await pilot.press(key)
    if len(app.probe.latencies) == before:  # wait for the repaint's callback
        for _ in range(50):
            await pilot.pause()
            if len(app.probe.latencies) > before:
                break
    if len(app.probe.latencies) > before:
        return (app.probe.latencies[-1], *timed.take())
    return None


async def drive(spec, n_keys: int) -> list[tuple[str, float, float, float, float]]:
    """Press n_keys keys; return (kind, latency, stepper s, panels s, CPU s) per key."""
    from rnn_tui.tui.app import RnnApp

    app = RnnApp(spec, cursor_blink=False)
    out: list[tuple[str, float, float, float, float]] = []
    async with app.run_test(size=SCREEN) as pilot:
        await pilot.pause()
        await pilot.pause()
        timed = Timed(app)
        timed.take()

        async def press(key: str, kind: str) -> None:
            got = await _press(pilot, timed, key)
            if got is not None:
                out.append((kind, *got))

        def left() -> int:
            return n_keys - len(out)

        while left() > 0:
            for _ in range(min(20, left())):  # forward steps
                if _phase(app) != "forward":
                    break
                await press("n", "forward next")
            while _phase(app) != "output" and left() > 0:
                await press("right_square_bracket", "next phase")
            for _ in range(min(5, left())):
                await press("n", "output next")
            while _phase(app) != "bptt" and left() > 0:
                await press("right_square_bracket", "next phase")
            for _ in range(min(30, left())):
                if _phase(app) != "bptt":
                    break
                await press("n", "BPTT next")
            for _ in range(min(5, left())):
                if _phase(app) != "bptt":
                    break
                await press("p", "BPTT prev")
            while _phase(app) != "update" and left() > 0:
                await press("right_square_bracket", "next phase")
            while _phase(app) == "update" and left() > 0:
                await press("n", "update next" if app.stepper.position.index < 5
                            else "next, epoch boundary")
            for _ in range(3):  # back and forth across the epoch boundary
                if left() > 0:
                    await press("p", "prev, epoch boundary")
                if left() > 0:
                    await press("n", "next, epoch boundary")
        await pilot.press("q")
    return out


async def drive_late(spec, n_keys: int) -> list[tuple[str, float, float, float, float]]:
    """Keys in BPTT rows late in the sequence, which the walk above does not
    reach at T = 200: from 20 terms before the end of row t = 3T/4, 30 keys
    on (into the next row, a chain of 150+ factors) and 30 back (across the
    row start: the stepper rebuilds the row from its checkpoint), repeated."""
    from rnn_tui.core.stepper import Phase, Position
    from rnn_tui.tui.app import RnnApp

    app = RnnApp(spec, cursor_blink=False)
    out: list[tuple[str, float, float, float, float]] = []
    t = 3 * spec.T // 4
    start = max(0, t * (t + 1) // 2 - 20)  # row t holds the terms t(t-1)/2 .. t(t+1)/2 - 1
    async with app.run_test(size=SCREEN) as pilot:
        app.stepper.goto(Position(epoch=1, phase=Phase.BPTT, index=start))
        app.sync()
        for _ in range(3):
            await pilot.pause()
        timed = Timed(app)
        timed.take()
        while len(out) < n_keys:
            for key, kind in [("n", "late BPTT next")] * 30 + [("p", "late BPTT prev")] * 30:
                got = await _press(pilot, timed, key)
                if got is not None and len(out) < n_keys:
                    out.append((kind, *got))
        await pilot.press("q")
    return out


def run(quick: bool) -> Section:
    cfg = QUICK if quick else FULL
    sec = Section("latency")
    n_base = cfg["keys"] // 4
    baseline = asyncio.run(drive_minimal(n_base))
    all_base = list(baseline)
    for name in cfg["sizes"]:
        spec = model(name)
        case = ("hello " if name == "hello" else "") + size_label(spec) + " 160x50"
        t0 = time.perf_counter()
        got = asyncio.run(drive(spec, cfg["keys"]))
        wall = time.perf_counter() - t0
        # The baseline just before and just after: the machine's speed drifts.
        after = asyncio.run(drive_minimal(n_base))
        base = median(baseline + after)
        baseline = after
        all_base += after
        lat = [g[1] for g in got]
        med, p95 = median(lat), percentile(lat, 95)
        sec.add(case, f"key -> repainted, median of {len(lat)} keys", ms(med),
                f"{med / base:.1f}x minimal",
                f"< {TARGET_MEDIAN * 1e3:g} ms", verdict(med < TARGET_MEDIAN))
        sec.add(case, "key -> repainted, p95", ms(p95), "",
                f"< {TARGET_P95 * 1e3:g} ms", verdict(p95 < TARGET_P95))
        cpu = [g[4] for g in got if not math.isnan(g[4])]
        sec.add(case, "key -> repainted, CPU time of the process (median)", ms(median(cpu)),
                f"p95 {ms(percentile(cpu, 95))}")
        st, pa = median([g[2] for g in got]), median([g[3] for g in got])
        rest = median([g[1] - g[2] - g[3] for g in got])
        sec.add(case, "  of which: stepper move (median)", ms(st), f"{st / med:.0%}")
        sec.add(case, "  of which: building panels (median)", ms(pa), f"{pa / med:.0%}")
        sec.add(case, "  of which: Textual dispatch+layout+paint", ms(rest), f"{rest / med:.0%}")
        if spec.T >= 100:  # late BPTT rows, with their own median
            late = asyncio.run(drive_late(spec, cfg["keys"] // 2))
            lat_late = [g[1] for g in late]
            sec.add(case, f"late BPTT rows (t ≥ 3T/4), median of {len(lat_late)} keys",
                    ms(median(lat_late)), f"{median(lat_late) / base:.1f}x minimal",
                    f"< {TARGET_MEDIAN * 1e3:g} ms", verdict(median(lat_late) < TARGET_MEDIAN))
            sec.add(case, "late BPTT rows, p95", ms(percentile(lat_late, 95)), "",
                    f"< {TARGET_P95 * 1e3:g} ms", verdict(percentile(lat_late, 95) < TARGET_P95))
            sec.add(case, "late BPTT rows, CPU time of the process (median)",
                    ms(median([g[4] for g in late if not math.isnan(g[4])])),
                    f"panels {ms(median([g[3] for g in late]))}")
        real = drive_pty(name, cfg["pty_keys"])
        if real:
            r_med, r_p95 = median(real), percentile(real, 95)
            sec.add(case, f"in a pseudo-terminal (real driver), median of {len(real)} keys",
                    ms(r_med), f"{r_med / base:.1f}x minimal", f"< {TARGET_MEDIAN * 1e3:g} ms",
                    verdict(r_med < TARGET_MEDIAN))
            sec.add(case, "in a pseudo-terminal (real driver), p95", ms(r_p95), "",
                    f"< {TARGET_P95 * 1e3:g} ms", verdict(r_p95 < TARGET_P95))
        else:
            sec.notes.append(f"latency {case}: the pseudo-terminal run recorded no keys")
        if name == cfg["sizes"][-1]:
            sec.add("minimal Textual app 160x50", "key -> repainted (one line of text), median "
                    f"of {len(all_base)} keys around the runs", ms(median(all_base)),
                    "1.0x minimal")
        kinds: dict[str, list[float]] = defaultdict(list)
        for kind, latency, *_ in got:
            kinds[kind].append(latency)
        sec.notes.append(
            f"latency {case}: median (p95, n) per kind of key: " + "; ".join(
                f"{k} {ms(median(v))} ({ms(percentile(v, 95))}, {len(v)})"
                for k, v in kinds.items()) + f"; pilot wall time {wall:.1f} s")
    return sec
