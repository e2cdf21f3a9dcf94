"""Shared pieces: the result table, interleaved timing, random models."""

from __future__ import annotations

import math
import statistics
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEADERS = ("benchmark", "case", "measure", "median", "ratio", "target", "status")


@dataclass
class Row:
    benchmark: str
    case: str
    measure: str
    median: str = ""
    ratio: str = ""
    target: str = ""
    status: str = ""  # "met", "MISSED", "ok", "FAILED", "skipped" or ""

    def cells(self) -> tuple[str, ...]:
        return (self.benchmark, self.case, self.measure, self.median, self.ratio,
                self.target, self.status)


@dataclass
class Section:
    """What one benchmark returns: rows for the table, notes printed below it."""

    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *args: str, **kw: str) -> Row:
        row = Row(self.name, *args, **kw)
        self.rows.append(row)
        return row


def table(rows: list[Row]) -> str:
    cells = [HEADERS, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS))]
    right = {3, 4}  # numbers line up on the right
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if i in right and n else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def check(ok: bool) -> str:
    return "ok" if ok else "FAILED"


# ----------------------------------------------------------------- timing


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def percentile(xs: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not xs:
        return math.nan
    s = sorted(xs)
    k = max(0, min(len(s) - 1, math.ceil(q / 100 * len(s)) - 1))
    return s[k]


def interleaved(runs: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Call every run once per repetition, rotating the order, and collect
    what each returns (a rate or a time). Interleaving spreads a noisy
    neighbour over all contenders instead of one."""
    out: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for rep in range(reps):
        for i in range(len(names)):
            name = names[(rep + i) % len(names)]
            out[name].append(runs[name]())
    return out


def rate(fn: Callable[[int], object], n: int) -> Callable[[], float]:
    """A run that does ``fn(n)`` (n units of work) and returns units per second."""

    def run() -> float:
        t0 = time.perf_counter()
        fn(n)
        return n / (time.perf_counter() - t0)

    return run


def calibrate(fn: Callable[[int], object], seconds: float, cap: int = 1_000_000) -> int:
    """How many units of ``fn`` take about ``seconds`` (at least 1)."""
    n = 1
    while True:
        t0 = time.perf_counter()
        fn(n)
        dt = time.perf_counter() - t0
        if dt >= seconds / 4 or n >= cap:
            return max(1, min(cap, round(n * seconds / max(dt, 1e-9))))
        n *= 4


def si(x: float, unit: str = "") -> str:
    """A number with 3-4 significant digits and thousands separators."""
    if math.isnan(x):
        return "n/a"
    if x >= 100:
        return f"{x:,.0f}{unit}"
    if x >= 10:
        return f"{x:.1f}{unit}"
    return f"{x:.2f}{unit}"


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1e3:.2f} ms" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.1f} MiB"


# ---------------------------------------------------------------- models

ALPHABET = string.ascii_letters + string.digits + string.punctuation + " "


def random_spec(K: int, D: int, H: int, T: int, seed: int = 0, lr: float | None = None,
                scale: float | None = None, mode: str = "x_k"):  # -> ModelSpec
    """A valid random model (as tests/conftest.py's random_spec): random text
    over K characters and seeded weights with nonzero biases.

    Unlike the tests' models (scale 0.5, eta 0.1) these are tame: weights of
    scale 0.5/sqrt(H), so W's spectral radius is about 0.5, and eta = 0.5/T,
    so hundreds of epochs train without diverging. With the tests' values
    the recurrence is chaotic at H = 64: two correct implementations that
    sum in a different order drift apart by 10% within one forward pass, and
    "computes the same loss" could not be checked."""
    import numpy as np

    from rnn_tui.core.model_file import validate

    scale = 0.5 / math.sqrt(H) if scale is None else scale
    lr = 0.5 / T if lr is None else lr
    rng = np.random.default_rng(seed)
    chars = "".join(dict.fromkeys(ALPHABET))[:K] if K <= len(ALPHABET) else "".join(
        chr(0x100 + i) for i in range(K))
    text = "".join(rng.choice(list(chars), T + 1))
    doc = {
        "name": f"random-K{K}-D{D}-H{H}-T{T}",
        "text": text,
        "vocab": chars,
        "embedding_dim": D,
        "hidden_size": H,
        "learning_rate": lr,
        "init": {
            "E": rng.normal(0, scale, (K, D)).tolist(),
            "U": rng.normal(0, scale, (H, D)).tolist(),
            "W": rng.normal(0, scale, (H, H)).tolist(),
            "b": rng.normal(0, scale, H).tolist(),
            "V": rng.normal(0, scale, (K, H)).tolist(),
            "c": rng.normal(0, scale, K).tolist(),
        },
        "bptt": {"embedding_rows": mode},
    }
    return validate(doc, "random model")


def model(name: str):  # -> ModelSpec
    """``hello`` (the built-in model) or ``K64 D32 H128 T200`` (random)."""
    from rnn_tui.core.model_file import load

    if name == "hello":
        return load("hello")[0]
    K, D, H, T = (int(part[1:]) for part in name.split())
    return random_spec(K, D, H, T)


def size_label(spec) -> str:
    return f"K{spec.K} D{spec.embedding_dim} H{spec.hidden_size} T{spec.T}"
