"""1. Training throughput: epochs per second through the project's train path
(``rnn_tui.core.report.loss_curve``, what ``rnn-tui train`` runs; no UI) against
plain NumPy (min-char-rnn style) and PyTorch, interleaved in the same run.

Before timing, the bench checks that the comparison is fair and the fast
path right: the baselines compute the same losses as the project, and the
train path's losses (and ``maths.backward``'s gradients) stay within 1e-9
of the handout's per-term double sum, ``maths.backward_by_terms``.
"""

from __future__ import annotations

from collections import deque

from bench import baseline_numpy, baseline_torch
from bench.common import (
    Section,
    calibrate,
    check,
    interleaved,
    median,
    model,
    rate,
    si,
    size_label,
    verdict,
)

FULL_SIZES = ("hello", "K27 D16 H64 T100", "K64 D32 H128 T200")
QUICK_SIZES = ("hello", "K8 D4 H8 T12")
# Targets of the issue: (at least this many times plain NumPy, ... times torch).
TARGETS = {"hello": (1.5, 7.0), "K64 D32 H128 T200": (4.0, None)}
TOL = 1e-9


def rel_diff(a: list[float], b: list[float]) -> float:
    return max((abs(x - y) / max(1.0, abs(y)) for x, y in zip(a, b, strict=True)), default=0.0)


def per_term_losses(spec, n: int) -> tuple[list[float], float]:
    """Train n epochs with the per-term gradient; also return the largest
    difference between maths.backward and backward_by_terms on the way."""
    import numpy as np

    from rnn_tui.core.maths import backward, backward_by_terms, forward, sgd
    from rnn_tui.core.params import UPDATE_ORDER

    mode = spec.bptt.embedding_rows
    inputs, targets = spec.indices()
    p = spec.initial_params()
    out, worst = [], 0.0
    for _ in range(n):
        f = forward(p, inputs, targets)
        out.append(f.total_loss)
        slow = backward_by_terms(p, f, mode)
        fast = backward(p, f, mode)
        for name in UPDATE_ORDER:
            a, b = fast.get(name), slow.get(name)
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
        p = sgd(p, slow, spec.learning_rate)
    return out, worst


def project_losses(spec, n: int) -> list[float]:
    from rnn_tui.core.report import loss_curve

    return list(loss_curve(spec, n))


def run(quick: bool) -> Section:
    sec = Section("train")
    torch_missing = baseline_torch.available()
    if torch_missing:
        sec.notes.append(f"train: torch column skipped, torch is not importable ({torch_missing})."
                         " Install torch in a separate venv to get it; never a dependency.")
    else:
        sec.notes.append(f"train: torch {baseline_torch.version()}, float64, 1 intra-op thread.")
    reps, seconds = (3, 0.03) if quick else (7, 0.3)
    for name in QUICK_SIZES if quick else FULL_SIZES:
        spec = model(name)
        case = ("hello " if name == "hello" else "") + size_label(spec)
        T = spec.T
        # -------------------------------------------------- fairness checks
        n_check = (20 if quick else 50) if T <= 10 else (2 if quick else 3)
        ours = project_losses(spec, n_check)
        terms, grad_diff = per_term_losses(spec, n_check)
        d = rel_diff(ours, terms)
        sec.add(case, f"check: train path = per-term path ({n_check} epochs)",
                f"{d:.1e}", "", f"<= {TOL:g}", check(d <= TOL))
        sec.add(case, "check: maths.backward = backward_by_terms",
                f"{grad_diff:.1e}", "", f"<= {TOL:g}", check(grad_diff <= TOL))
        d = rel_diff(baseline_numpy.losses(spec, n_check), ours)
        sec.add(case, "check: min-char-rnn loss = project loss",
                f"{d:.1e}", "", f"<= {TOL:g}", check(d <= TOL))
        if not torch_missing:
            d = rel_diff(baseline_torch.losses(spec, n_check), ours)
            sec.add(case, "check: torch loss = project loss",
                    f"{d:.1e}", "", f"<= {TOL:g}", check(d <= TOL))

        # ---------------------------------------------------------- timing
        from rnn_tui.core.report import loss_curve

        def project(n: int, spec=spec) -> None:
            deque(loss_curve(spec, n), maxlen=0)

        contenders = {"project": project,
                      "numpy": lambda n, spec=spec: baseline_numpy.MinCharRnn(spec).train(n)}
        if not torch_missing:
            contenders["torch"] = lambda n, spec=spec: baseline_torch.TorchRnn(spec).train(n)
        runs = {k: rate(fn, calibrate(fn, seconds)) for k, fn in contenders.items()}
        got = {k: median(v) for k, v in interleaved(runs, reps).items()}
        want_np, want_torch = TARGETS.get(name, (None, None))
        r_np = got["project"] / got["numpy"]
        sec.add(case, "rnn-tui train path (report.loss_curve)", si(got["project"], " ep/s"),
                f"{r_np:.2f}x numpy", f">= {want_np:g}x numpy" if want_np else "",
                verdict(r_np >= want_np) if want_np else "")
        if not torch_missing:
            r_t = got["project"] / got["torch"]
            sec.add(case, "rnn-tui train path vs torch", "", f"{r_t:.2f}x torch",
                    f">= {want_torch:g}x torch" if want_torch else "",
                    verdict(r_t >= want_torch) if want_torch else "")
        elif want_torch:
            sec.add(case, "rnn-tui train path vs torch", "n/a", "torch not installed",
                    f">= {want_torch:g}x torch", "skipped")
        sec.add(case, "plain NumPy, min-char-rnn style", si(got["numpy"], " ep/s"), "1.00x numpy")
        if torch_missing:
            sec.add(case, "PyTorch float64 autograd", "n/a", "", "", "skipped")
        else:
            sec.add(case, "PyTorch float64 autograd", si(got["torch"], " ep/s"),
                    f"{got['torch'] / got['numpy']:.2f}x numpy")
    return sec
