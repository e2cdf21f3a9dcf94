"""Central finite differences against the backward pass.

(L(theta + eps) - L(theta - eps)) / 2 eps for sampled entries of every
parameter, compared with the gradient the debugger uses. In "x_t" mode the
handout's dE is not the gradient of L, and the check says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_tui.core.cells.params import CellParams
from rnn_tui.core.maths import EmbeddingRows, Params, backward, forward
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.text import char

TOLERANCE = 1e-5
TINY = 1e-8  # below this both are "zero": relative error is measured against it


@dataclass(frozen=True)
class ParamCheck:
    name: str
    checked: int  # entries compared
    total: int  # entries in the parameter
    max_rel_error: float
    worst: tuple[int, ...]  # index of the worst entry
    analytic: float  # the backward pass's value there
    numeric: float  # the finite difference there

    @property
    def ok(self) -> bool:
        return self.max_rel_error <= TOLERANCE


def relative_error(a: float, n: float, floor: float = TINY) -> float:
    return abs(a - n) / max(abs(a), abs(n), floor)


def resolution(loss: float, eps: float = 1e-5) -> float:
    """The smallest gradient central differences resolve to TOLERANCE: their
    rounding error is about machine epsilon x |L| / eps (2e-10 for L = 20),
    so a gradient entry below this / TOLERANCE is compared absolutely against
    it (a GRU's or LSTM's gate weights often have such tiny entries)."""
    return max(TINY, float(np.finfo(np.float64).eps) * abs(loss) / eps / TOLERANCE)


def check(
    p: Params | CellParams,
    inputs: np.ndarray,
    targets: np.ndarray,
    mode: EmbeddingRows = "x_k",
    eps: float = 1e-5,
    max_entries: int = 64,
    seed: int = 0,
    should_stop: Callable[[], bool] | None = None,
    h0: np.ndarray | None = None,
    grads: Any = None,
    C0: np.ndarray | None = None,
) -> list[ParamCheck]:
    """Compare up to ``max_entries`` entries per parameter (all if fewer),
    chosen at random with ``seed`` so a run is reproducible. ``h0``: a chunk's
    carried h_0 (a constant; default 0); ``C0``: an LSTM's carried C_0.
    ``grads``: the gradient to check (the one the debugger shows); default the
    backward pass of these inputs. A GRU's or LSTM's parameters (CellParams)
    are checked against cells.backward, relative to max(|backward|,
    |numeric|, :func:`resolution`)."""
    names: tuple[str, ...] = UPDATE_ORDER
    floor = TINY
    if isinstance(p, CellParams):
        from rnn_tui.core import cells as gated

        s0 = (h0,) if p.cell == "gru" else (h0, C0)
        names = p.names

        def total_loss(q: Any) -> float:
            return gated.forward(q, inputs, targets, *s0).total_loss

        def gradient() -> Any:
            return gated.backward(p, gated.forward(p, inputs, targets, *s0), mode)
    else:
        def total_loss(q: Any) -> float:
            return forward(q, inputs, targets, h0).total_loss

        def gradient() -> Any:
            return backward(p, forward(p, inputs, targets, h0), mode)  # type: ignore[arg-type]
    with np.errstate(all="ignore"):
        g = gradient() if grads is None else grads
        if isinstance(p, CellParams):
            floor = resolution(total_loss(p), eps)
        rng = np.random.default_rng(seed)
        out = []
        for name in names:
            value = p.get(name)
            cells = list(np.ndindex(value.shape))
            if len(cells) > max_entries:
                pick = rng.choice(len(cells), size=max_entries, replace=False)
                cells = [cells[i] for i in sorted(pick)]
            worst = (-1.0, cells[0], 0.0, 0.0)
            for idx in cells:
                if should_stop is not None and should_stop():
                    raise InterruptedError
                plus, minus = value.copy(), value.copy()
                plus[idx] += eps
                minus[idx] -= eps
                lp = total_loss(p.replace(name, plus))
                lm = total_loss(p.replace(name, minus))
                numeric = (lp - lm) / (2 * eps)
                analytic = float(g.get(name)[idx])
                err = relative_error(analytic, numeric, floor)
                if not err <= worst[0]:  # NaN counts as the worst
                    worst = (err, idx, analytic, numeric)
            out.append(ParamCheck(name, len(cells), value.size, worst[0],
                                  tuple(int(i) for i in worst[1]), worst[2], worst[3]))
        return out


def entry(name: str, index: tuple[int, ...], alphabet: str = "") -> str:
    """An entry as the screen names it: 1-based, and by character where a
    row is a character (E, V and c have a row per vocabulary entry):
    ``['o', 1]`` for V[3, 0] of hello, ``[1, 2]`` for U[0, 1]."""
    parts = [str(i + 1) for i in index]
    if alphabet and name in ("E", "V", "c") and index:
        parts[0] = repr(char(alphabet[index[0]]))
    return "[" + ", ".join(parts) + "]"


def report(results: list[ParamCheck], mode: EmbeddingRows, alphabet: str = "",
           width: int | None = None) -> list[str]:
    """The table the CLI prints and the app shows (entries 1-based, rows of
    E, V and c named by their character when ``alphabet`` is given). A row
    is one line; when a row would be wider than ``width`` columns, every
    entry takes two lines (the verdict first, the two values below), so
    that no number or verdict is cut."""
    head = f"{'param':<6}{'checked':>12}{'max rel. error':>16}"
    lines = [f"{head}  worst entry"]
    for r in results:
        verdict = "ok" if r.ok else "DIFFERS"
        lines.append(
            f"d{r.name:<5}{f'{r.checked}/{r.total}':>12}{r.max_rel_error:>16.2e}  "
            f"{entry(r.name, r.worst, alphabet)}: backward {r.analytic:.6g}, "
            f"numeric {r.numeric:.6g}  {verdict}"
        )
    if width is not None and max(map(len, lines)) > width:
        lines = [f"{head}  {'verdict':<9}worst entry"]
        for r in results:
            verdict = "ok" if r.ok else "DIFFERS"
            lines.append(f"d{r.name:<5}{f'{r.checked}/{r.total}':>12}{r.max_rel_error:>16.2e}"
                         f"  {verdict:<9}{entry(r.name, r.worst, alphabet)}:")
            lines.append(f"{'':<6}backward {r.analytic:.6g}, numeric {r.numeric:.6g}")
    if mode == "x_t" and any(r.name == "E" and not r.ok for r in results):
        lines.append("dE differs as expected: in handout mode (x_t rows) dE follows the")
        lines.append("handout's printed convention, which is not the gradient of L")
        lines.append("(see docs/handout.md).")
    return lines
