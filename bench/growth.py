"""5. How cost grows.

(a) Per-epoch time for T = 50, 100, 200, 400 at fixed K, D, H: the train
path (forward, the O(T) backward recursion, SGD) should be linear in T; the
handout's per-term double sum (``maths.backward_by_terms``) quadratic. The
exponent is the least-squares slope of log(time) against log(T).

(b) A jump to epoch N (``Stepper.goto_epoch``, the ``g`` key) costs O(N)
training time but not O(N) stored states: the time ratio between N and
10 N should be about 10, and what the stepper retains (bounded checkpoints
plus one float per epoch) a tiny fraction of N epochs' states.
"""

from __future__ import annotations

import math
import time
from collections import deque

from bench.common import Section, interleaved, median, mib, model, ms, random_spec, verdict
from bench.memory import measure, retained_bytes

FULL = {"KDH": (27, 16, 64), "T": (50, 100, 200, 400), "reps": 3, "jumps": (1_000, 10_000)}
QUICK = {"KDH": (8, 4, 8), "T": (8, 16, 32, 64), "reps": 2, "jumps": (100, 1_000)}


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return (sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True))
            / sum((a - mx) ** 2 for a in lx))


def epoch_state_bytes(spec) -> int:
    """What one epoch's state would cost if every epoch were kept: the
    parameters before and after, the forward pass, deltas and gradients."""
    from rnn_tui.core.params import FILE_ORDER
    from rnn_tui.core.stepper import Stepper

    ep = Stepper(spec).current
    f = ep.fwd
    arrays = [f.x, f.Ux, f.Wh, f.h, f.omega, f.y_hat, f.loss, ep.delta]
    for p in (ep.params, ep.grads, ep.params_after):
        arrays += [p.get(n) for n in FILE_ORDER]
    return sum(a.nbytes for a in arrays)


def run(quick: bool) -> Section:
    from rnn_tui.core.maths import backward_by_terms, forward, sgd
    from rnn_tui.core.report import loss_curve
    from rnn_tui.core.stepper import Stepper

    cfg = QUICK if quick else FULL
    sec = Section("growth")
    K, D, H = cfg["KDH"]
    Ts = cfg["T"]
    specs = {T: random_spec(K, D, H, T) for T in Ts}

    def fast(T: int):
        spec = specs[T]
        n = max(2, 4000 // T) if not quick else 20

        def go() -> float:
            t0 = time.perf_counter()
            deque(loss_curve(spec, n), maxlen=0)
            return (time.perf_counter() - t0) / n
        return go

    def per_term(T: int):
        spec = specs[T]
        inputs, targets = spec.indices()
        p = spec.initial_params()
        mode = spec.bptt.embedding_rows

        def go() -> float:
            t0 = time.perf_counter()
            f = forward(p, inputs, targets)
            sgd(p, backward_by_terms(p, f, mode), spec.learning_rate)
            return time.perf_counter() - t0
        return go

    runs = {(kind, T): (fast if kind == "fast" else per_term)(T)
            for T in Ts for kind in ("fast", "terms")}
    got = {k: median(v) for k, v in interleaved(runs, cfg["reps"]).items()}
    case = f"K{K} D{D} H{H}"
    for kind, label, want, lo, hi in (
            ("fast", "train path (O(T) backward)", "linear", 0.8, 1.3),
            ("terms", "per-term path (backward_by_terms)", "quadratic", 1.7, 2.3)):
        times = [got[(kind, T)] for T in Ts]
        for T, t in zip(Ts, times, strict=True):
            sec.add(f"{case} T{T}", f"{label}, time per epoch", ms(t),
                    f"{t / times[0]:.2f}x T{Ts[0]}")
        k = slope(list(Ts), times)
        if quick:  # tiny T: fixed per-epoch costs dominate, the exponent means little
            sec.add(f"{case} T{Ts[0]}..{Ts[-1]}", f"{label}: fitted exponent of T",
                    f"{k:.2f}", "", f"{want} (judged in the full run)")
        else:
            sec.add(f"{case} T{Ts[0]}..{Ts[-1]}", f"{label}: fitted exponent of T",
                    f"{k:.2f}", "", f"{want} ({lo:g}..{hi:g})", verdict(lo <= k <= hi))

    # ---------------------------------------------------------- jumps
    spec = model("hello")
    n1, n2 = cfg["jumps"]

    def jump(n: int):
        def go() -> float:
            st = Stepper(spec)
            t0 = time.perf_counter()
            st.goto_epoch(n)
            return time.perf_counter() - t0
        return go

    times = {n: median(v) for n, v in interleaved({n: jump(n) for n in (n1, n2)},
                                                   cfg["reps"]).items()}
    mem = {n: measure("hello", n) for n in (n1, n2)}
    state = epoch_state_bytes(spec)
    jcase = "hello K4 D2 H1 T4"
    for n in (n1, n2):
        sec.add(jcase, f"goto_epoch({n:,}): time", ms(times[n]),
                f"{times[n] / n * 1e6:.0f} us/epoch")
    r = times[n2] / times[n1]
    sec.add(jcase, f"goto_epoch time ratio N={n2:,} / N={n1:,}", f"{r:.2f}x", "",
            f"~{n2 / n1:g}x: O(N) (7..13x)", verdict(0.7 * n2 / n1 <= r <= 1.3 * n2 / n1))
    for n in (n1, n2):
        st = Stepper(spec)
        st.goto_epoch(n)
        kept = retained_bytes(st)
        sec.add(jcase, f"goto_epoch({n:,}): stepper retains", f"{kept / 1024:.0f} KiB",
                f"{kept / (n * state):.2%} of N states",
                f"<< N states ({n * state / 2**20:.1f} MiB)", verdict(kept < 0.1 * n * state))
        sec.add(jcase, f"goto_epoch({n:,}): peak RSS (fresh process)", mib(mem[n]["peak"]),
                f"{mem[n]['peak'] / mem[n1]['peak']:.3f}x N={n1:,}")
    sec.notes.append(f"growth: one epoch's full state (params before/after, forward pass, "
                     f"deltas, gradients) at hello is {state} bytes; the stepper keeps "
                     "bounded checkpoints and one loss (float) per epoch")
    return sec
