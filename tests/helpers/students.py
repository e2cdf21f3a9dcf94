"""Students' implementations: plain NumPy, written the way the handout
derives BPTT (a double sum over the terms (t, k)), each with at most one of
the classic bugs, writing the JSON `rnn-tui compare` reads.

Independent of rnn_tui's maths on purpose: only the model's text,
vocabulary, sizes and initial values are taken from the spec.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_tui.core.model_file import ModelSpec

BUGS = ("no_dtanh", "h_k", "dc_one_step", "dE_x_t", "no_b")
"""no_dtanh: the term lacks the tanh derivative (1 - h_k^2);
h_k: dW takes h_k where h_{k-1} belongs;
dc_one_step: dc is the last step's delta_T only;
dE_x_t: term (t, k) goes into the row of E of x_t (the handout's printed dE);
no_b: the forward pass forgets b.
(And W_not_T: the chain steps back with W where W^T belongs.)"""


def student_trace(spec: ModelSpec, epochs: int = 2, bug: str | None = None,
                  terms: bool = True, params: bool = True) -> dict[str, Any]:
    assert bug is None or bug in (*BUGS, "W_not_T"), bug
    vocab = spec.alphabet
    xs = [vocab.index(ch) for ch in spec.text[:-1]]  # inputs x°_t
    ys = [vocab.index(ch) for ch in spec.text[1:]]  # targets y_t
    T = len(xs)
    p0 = spec.initial_params()
    E, U, W, b, V, c = (p0.get(n).copy() for n in "EUWbVc")
    eta = spec.learning_rate
    out = []
    for epoch in range(1, epochs + 1):
        # forward
        hs, x_rows, y_hats, steps = [np.zeros(W.shape[0])], [], [], []
        for t in range(T):
            x = E[xs[t]]
            a = U @ x + W @ hs[-1] + (0.0 if bug == "no_b" else b)
            h = np.tanh(a)
            omega = V @ h + c
            y_hat = np.exp(omega) / np.exp(omega).sum()
            hs.append(h)
            x_rows.append(x)
            y_hats.append(y_hat)
            steps.append({"t": t + 1, "x": x.tolist(), "h": h.tolist(),
                          "omega": omega.tolist(), "y_hat": y_hat.tolist(),
                          "loss": float(-np.log(y_hat[ys[t]]))})
        # output gradients
        deltas = []
        for t in range(T):
            delta = y_hats[t].copy()
            delta[ys[t]] -= 1.0
            deltas.append(delta)
        outputs = [{"t": t + 1, "delta": d.tolist(), "dV": np.outer(d, hs[t + 1]).tolist(),
                    "dc": d.tolist()} for t, d in enumerate(deltas)]
        dV = sum(np.outer(d, hs[t + 1]) for t, d in enumerate(deltas))
        dc = deltas[-1].copy() if bug == "dc_one_step" else sum(deltas)
        # BPTT: the handout's double sum, term by term
        dW, dU, db, dE = (np.zeros_like(m) for m in (W, U, b, E))
        term_list = []
        for t in range(1, T + 1):
            g = V.T @ deltas[t - 1]  # dL_t/dh_t
            for k in range(t, 0, -1):
                dtanh = 1.0 if bug == "no_dtanh" else 1.0 - hs[k] ** 2
                term = g * dtanh  # dL_t/da_k
                tW = np.outer(term, hs[k] if bug == "h_k" else hs[k - 1])
                tU = np.outer(term, x_rows[k - 1])
                tE = np.zeros_like(E)
                tE[xs[t - 1] if bug == "dE_x_t" else xs[k - 1]] += U.T @ term
                dW, dU, db, dE = dW + tW, dU + tU, db + term, dE + tE
                term_list.append({"t": t, "k": k, "term": term.tolist(), "dW": tW.tolist(),
                                  "dU": tU.tolist(), "db": term.tolist(), "dE": tE.tolist()})
                g = (W if bug == "W_not_T" else W.T) @ term  # one step further back
        start = {n: m.tolist() for n, m in zip("EUWbVc", (E, U, W, b, V, c), strict=True)}
        grads = {n: m.tolist() for n, m in zip("EUWbVc", (dE, dU, dW, db, dV, dc), strict=True)}
        E, U, W, b, V, c = (E - eta * dE, U - eta * dU, W - eta * dW, b - eta * db,
                            V - eta * dV, c - eta * dc)
        after = {n: m.tolist() for n, m in zip("EUWbVc", (E, U, W, b, V, c), strict=True)}
        doc: dict[str, Any] = {"epoch": epoch, "steps": steps, "grads": grads,
                               "params_after": after}
        if params:
            doc["params"] = start
        if terms:
            doc["outputs"], doc["terms"] = outputs, term_list
        out.append(doc)
    return {"model": spec.name, "vocab": list(vocab), "epochs": out}
