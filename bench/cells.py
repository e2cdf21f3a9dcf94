"""GRU and LSTM training throughput (issue 17): epochs per second through the
project's fused loop (``rnn_tui.core.cells.fast.train``; the unfused
``cells.train`` for reference) against plain NumPy
loops in min-char-rnn style (bench/baseline_cells.py), interleaved in the same run.

Before timing, the bench checks the comparison is fair and the maths right:
the baseline computes the same losses as the project, the fused loop's
losses and parameters are bit-for-bit ``cells.train``'s, and the recursion's
gradient equals the per-term double sum (``backward_by_terms``).
"""

from __future__ import annotations

import math

from bench import baseline_cells
from bench.common import Section, calibrate, check, interleaved, median, rate, si, verdict

FULL_SIZES = ("K27 D16 H64 T100", "K64 D32 H128 T200")
QUICK_SIZES = ("K8 D4 H8 T12",)
TARGET = {"K64 D32 H128 T200": 2.0}  # at least this many times plain NumPy (issue 17)
TOL = 1e-9


def cell_model(cell: str, name: str, seed: int = 0):
    """Tame seeded parameters (scale 0.5/sqrt(H), zero biases), a random text and
    eta = 0.5/T, as bench.common.random_spec does for the RNN."""
    import numpy as np

    from rnn_tui.core.cells import seeded_params

    K, D, H, T = (int(part[1:]) for part in name.split())
    p = seeded_params(cell, K, D, H, seed, scale=0.5 / math.sqrt(H))
    text = np.random.default_rng(seed + 1).integers(0, K, T + 1).astype(np.intp)
    return p, text[:-1], text[1:], 0.5 / T


def rel_diff(a, b) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) if a.size else 0.0


def run(quick: bool) -> Section:
    import numpy as np

    from rnn_tui.core.cells import backward, backward_by_terms, fast, forward, train

    sec = Section("cells")
    reps, seconds = (3, 0.03) if quick else (7, 0.3)
    for name in QUICK_SIZES if quick else FULL_SIZES:
        for cell in ("gru", "lstm"):
            p, inputs, targets, lr = cell_model(cell, name)
            case = f"{cell.upper()} {name}"
            # -------------------------------------------------- fairness checks
            n_check = 3
            ours, after = fast.train(p, inputs, targets, lr, n_check)
            plain, plain_after = train(p, inputs, targets, lr, n_check)
            same = np.array_equal(ours, plain) and all(
                np.array_equal(after[n], plain_after[n]) for n in p.names)
            sec.add(case, f"check: fused loop = cells.train ({n_check} epochs)",
                    "bit-equal" if same else "differs", "", "bit-equal", check(same))
            d = rel_diff(baseline_cells.MinCharGated(cell, dict(p.arrays), inputs, targets, lr)
                         .train(n_check), ours)
            sec.add(case, "check: min-char-rnn style loss = project loss",
                    f"{d:.1e}", "", f"<= {TOL:g}", check(d <= TOL))
            f = forward(p, inputs, targets)
            fast_g, slow_g = backward(p, f), backward_by_terms(p, f)
            d = max(rel_diff(fast_g[n], slow_g[n]) for n in p.names)
            sec.add(case, "check: recursion = per-term double sum",
                    f"{d:.1e}", "", f"<= {TOL:g}", check(d <= TOL))

            # ---------------------------------------------------------- timing
            def project(n: int, p=p, inputs=inputs, targets=targets, lr=lr) -> None:
                fast.train(p, inputs, targets, lr, n)

            def numpy_loop(n: int, cell=cell, p=p, inputs=inputs, targets=targets,
                           lr=lr) -> None:
                baseline_cells.MinCharGated(cell, dict(p.arrays), inputs, targets, lr).train(n)

            def unfused(n: int, p=p, inputs=inputs, targets=targets, lr=lr) -> None:
                train(p, inputs, targets, lr, n)

            contenders = {"project": project, "unfused": unfused, "numpy": numpy_loop}
            runs = {k: rate(fn, calibrate(fn, seconds)) for k, fn in contenders.items()}
            got = {k: median(v) for k, v in interleaved(runs, reps).items()}
            want = TARGET.get(name)
            r = got["project"] / got["numpy"]
            sec.add(case, "rnn-tui fused loop (cells.fast.train)", si(got["project"], " ep/s"),
                    f"{r:.2f}x numpy", f">= {want:g}x numpy" if want else "",
                    verdict(r >= want) if want else "")
            sec.add(case, "rnn-tui unfused (cells.train)", si(got["unfused"], " ep/s"),
                    f"{got['unfused'] / got['numpy']:.2f}x numpy")
            sec.add(case, "plain NumPy, min-char-rnn style", si(got["numpy"], " ep/s"),
                    "1.00x numpy")
    return sec
