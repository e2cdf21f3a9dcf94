"""From where a student's numbers leave ours to the formula that is probably
wrong: the classic bugs of a hand-written backward pass have recognisable
patterns (which gradients differ, from which step), read off a
:class:`~rnn_tui.core.compare.Report`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_tui.core.compare import Block, Report
from rnn_tui.core.maths import backward
from rnn_tui.core.stepper import Layout, Phase


@dataclass(frozen=True)
class Diagnosis:
    key: str  # short, for a grading table: "tanh derivative"
    text: str  # the formula that is probably wrong, and why


FORWARD = {
    "x": "x_t = x°_t E: the row of E of the input character x°_t",
    "h": "h_t = tanh(U x_t + W h_{t-1} + b), with h_0 = 0",
    "omega": "Omega_t = V h_t + c",
    "y_hat": "y_hat_t = softmax(Omega_t) = exp(Omega_t) / sum(exp(Omega_t))",
    "loss": "L_t = -ln y_hat_t[y_t], the predicted probability of the target",
    "total_loss": "the total loss L = sum over t of L_t",
}
SINGLE = {
    "W": ("h_k vs h_{k-1}", "h_k where h_{k-1} belongs: dW alone differs; dW += term(t,k) "
          "h_{k-1}ᵀ, the state before step k (h_0 = 0)"),
    "c": ("dc not summed over t", "dc not summed over t: dc alone differs{note}; dc = sum "
          "over t = 1..T of delta_t, every output step adds its delta_t"),
    "V": ("dV", "dV alone differs: dV = sum over t of delta_t h_tᵀ, each output step's "
          "delta_t times its own h_t"),
    "U": ("dU", "dU alone differs: dU += term(t,k) x_kᵀ, the input of step k (x_k, not x_t)"),
    "b": ("db", "db alone differs: db = sum over t and k <= t of term(t,k)"),
}


def _their_rows_match(got: np.ndarray, rows: np.ndarray, tol: float) -> int | None:
    """The 1-based t whose row of ``rows`` equals ``got``, if any."""
    for t, row in enumerate(rows, 1):
        if np.allclose(got, row, rtol=tol, atol=tol):
            return t
    return None


def diagnose(report: Report, learning_rate: float) -> Diagnosis | None:
    """The likely cause of the first differences, or None when no known
    pattern fits (or nothing differs)."""
    first = report.first()
    ep = report.first_epoch
    if first is None or ep is None:
        return None
    e = first.position.epoch
    blocks = [b for b in report.blocks if b.position.epoch == e]
    bad = [b for b in blocks if b.differ]
    head = next(b for b in bad)
    if head.field.startswith("param."):
        name = head.field[6:]
        if e == 1:
            return Diagnosis("initial parameters", f"epoch 1 starts from the model file's "
                             f"[init] values; your {name} differs from them")
        return Diagnosis("parameters carried over", f"epoch {e} starts from epoch {e - 1}'s "
                         f"updated parameters ({name}_new); your {name} differs from them")
    if head.position.phase is Phase.FORWARD:
        if e > 1:
            before = (f"epoch {e - 1} agrees but" if e - 1 in report.epochs
                      else f"epoch {e} is the first compared, and")
            return Diagnosis("backward pass or update", f"{before} epoch {e}'s forward values "
                             "differ: the gradients or the update of an earlier epoch (give "
                             "grads and params_after to see which)")
        text = f"the forward pass: {head.quantity} is the first value that differs; " + FORWARD[
            head.field]
        if head.field == "h" and head.position.index > 0 and _agrees(blocks, "h", 0):
            text += " (h_1 agrees, so look at W h_{t-1})"
        return Diagnosis(f"forward pass: {head.field}", text)
    if head.field == "delta":
        return Diagnosis("output gradient", "delta_t = y_hat_t - y_t, with y_t the one-hot "
                         "vector of the target")
    if head.field.startswith("out."):
        return Diagnosis("output gradient", f"output step t adds to {head.quantity}: "
                         "dV += delta_t h_tᵀ, dc += delta_t")
    wrong = {_param(b) for b in bad} - {None}
    term_wrong = any(b.field == "term" for b in bad)
    if not wrong and not term_wrong:
        names = sorted({b.field[4:] for b in bad if b.field.startswith("new.")})
        return Diagnosis("update", "the update X_new = X - eta dX with eta = "
                         f"{learning_rate} (your {', '.join(n + '_new' for n in names)} "
                         f"{'differs' if len(names) == 1 else 'differ'} while the gradients "
                         "agree)") if names else None
    if wrong == {"E"} and not term_wrong:
        return _embedding_rows(report, blocks)
    if {"W", "U", "b", "E"} <= wrong | ({"W", "U", "b", "E"} if term_wrong else set()) and \
            not wrong & {"V", "c"}:
        bptt = next((b for b in bad if b.position.phase is Phase.BPTT), None)
        t, k = Layout.term(bptt.position.index) if bptt is not None else (0, 0)
        if bptt is not None:
            if t != k:
                return Diagnosis("BPTT chain", f"the BPTT chain: term({t},{t}) agrees, "
                                 f"term({t},{k}) not; each step back multiplies by "
                                 "Wᵀ (1 - h_j^2), W transposed, with the h of the later step")
        return Diagnosis("tanh derivative", "the tanh derivative (1 - h_k^2) is missing or "
                         "wrong: dW, dU, db and dE all differ"
                         + (f" from term({t},{k}) on" if bptt else ", dV and dc agree")
                         + "; term(t,k) = delta_tᵀ V Wᵀ(1-h_t^2) ... Wᵀ(1-h_{k+1}^2) "
                         "(1-h_k^2)")
    if len(wrong) == 1 and not term_wrong:
        (name,) = wrong
        key, text = SINGLE.get(name, (f"d{name}", f"d{name} alone differs"))
        if name == "c":
            got = next((b.got for b in bad if b.field == "grad.c"), None)
            t = _their_rows_match(got, ep.delta, 1e-9) if got is not None else None
            text = text.format(note=f" (yours is delta_{t} alone)" if t is not None else "")
        return Diagnosis(key, text)
    if wrong <= {"V", "c"}:
        return Diagnosis("output gradient", "delta_t = y_hat_t - y_t, and dV = sum delta_t "
                         "h_tᵀ, dc = sum delta_t")
    return None


def _param(b: Block) -> str | None:
    """The parameter whose gradient a block is part of (dW per term, dW, ...)."""
    for prefix in ("grad.", "term.d", "out.d"):
        if b.field.startswith(prefix):
            return b.field[len(prefix):]
    return None


def _agrees(blocks: list[Block], field: str, index: int) -> bool:
    return any(b.field == field and b.position.index == index and not b.differ
               for b in blocks)


def _embedding_rows(report: Report, blocks: list[Block]) -> Diagnosis:
    """dE alone differs: most likely the other row convention; say so
    outright when theirs is exactly it."""
    ep = report.first_epoch
    assert ep is not None
    mode = ep.mode
    other = "x_t" if mode == "x_k" else "x_k"
    dE = next((b.got for b in blocks if b.field == "grad.E"), None)
    exact = dE is not None and np.allclose(dE, backward(ep.params, ep.fwd, other).E,
                                           rtol=max(report.tolerance, 1e-12),
                                           atol=max(report.tolerance, 1e-12))
    note = " (yours is exactly that convention's dE)" if exact else ""
    if mode == "x_k":
        return Diagnosis("dE rows: the handout's x_t", "the handout's x_t row convention: dE "
                         f"alone differs{note}; the gradient puts Uᵀ term(t,k) into the row "
                         "of E of x°_k, the input at step k, not of x°_t, the loss step's "
                         "input")
    return Diagnosis("dE rows: x_k", f"the exact x_k rows: dE alone differs{note}; this model "
                     "uses the handout's x_t rows (Uᵀ term(t,k) into the row of x°_t, the loss "
                     "step's input); compare with --exact")
