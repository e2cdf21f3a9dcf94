"""4. Memory: peak RSS after going to epoch N and back to epoch 1 with
``rnn_tui.core.stepper.Stepper``, each N in a fresh subprocess (VmHWM from
/proc/self/status, else ru_maxrss), so one measurement cannot inherit
another's heap. Target: flat, within 10% of the N = 10 run.

Each child goes to epoch N (what the ``g`` key does), steps into BPTT and
back across an epoch boundary, then returns to epoch 1 (the ``0`` key) and
steps there; it reports its peak RSS and what the stepper retains.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Section, mib, model, size_label, verdict

FULL = {"hello": (10, 1_000, 10_000), "K64 D32 H128 T200": (10, 100, 1_000)}
QUICK = {"hello": (10, 100, 1_000)}
TOLERANCE = 0.10


def peak_rss() -> int:
    """Peak resident set size of this process, in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def retained_bytes(stepper) -> int:
    """Arrays the stepper keeps across epochs, plus its per-epoch lists."""
    from rnn_tui.core.params import FILE_ORDER

    cp = stepper.checkpoints
    kept = {id(p): p for p in [*cp.sparse.values(), *cp.recent.values()]}
    arrays = sum(p.get(n).nbytes for p in kept.values() for n in FILE_ORDER)
    # A list holds 8-byte pointers; each loss is a 24-byte float object
    # (the bools in ``correct`` are shared singletons).
    return arrays + 8 * (len(cp.losses) + len(cp.correct)) + 24 * len(cp.losses)


def child(name: str, n: int) -> dict[str, float]:
    from rnn_tui.core.stepper import Phase, Position, Stepper

    spec = model(name)
    st = Stepper(spec)
    base = peak_rss()
    t0 = time.perf_counter()
    st.goto_epoch(n)
    jump = time.perf_counter() - t0
    st.goto(Position(epoch=n, phase=Phase.BPTT, index=0))
    st.next()
    st.goto_epoch(n)
    st.prev()  # back across the boundary into epoch n-1
    st.reset()  # epoch 1
    for _ in range(5):
        st.next()
    st.prev()
    return {"peak": peak_rss(), "before": base, "jump_s": jump,
            "retained": retained_bytes(st)}


def measure(name: str, n: int) -> dict[str, float]:
    root = Path(__file__).absolute().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]))
    code = (f"import json; from bench.memory import child; "
            f"print(json.dumps(child({name!r}, {n})))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=env, cwd=root, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(quick: bool) -> Section:
    sec = Section("memory")
    for name, ns in (QUICK if quick else FULL).items():
        spec = model(name)
        case = ("hello " if name == "hello" else "") + size_label(spec)
        got = {n: measure(name, n) for n in ns}
        ref = got[ns[0]]["peak"]
        for n in ns:
            g = got[n]
            ratio = g["peak"] / ref
            flat = abs(ratio - 1) <= TOLERANCE
            sec.add(case, f"peak RSS, epoch {n:,} and back to 1", mib(g["peak"]),
                    f"{ratio:.3f}x N={ns[0]}", f"within {TOLERANCE:.0%}",
                    verdict(flat) if n != ns[0] else "")
        sec.notes.append(f"memory {case}: RSS before the jump {mib(got[ns[0]]['before'])}; "
                         "stepper retains " + ", ".join(
                             f"{got[n]['retained'] / 1024:.0f} KiB at N={n:,}" for n in ns)
                         + " (bounded checkpoints + one loss per epoch)")
    return sec
