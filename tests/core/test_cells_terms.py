"""BPTT one term at a time for the gated cells (issue 17): the double sum
equals the recursion to 1e-12, each term (t, k) is what autograd finds for
L_t through the parameters' use at step k alone, and the factor chain is the
product of the step Jacobians."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad

from rnn_tui.core.cells import (
    backward,
    backward_by_terms,
    bptt_norms,
    bptt_row,
    forward,
    jacobian,
    row_sums,
)
from rnn_tui.core.maths import output_delta

import helpers.reference_autograd as ref
from helpers.models import random_cell

CELLS = ["gru", "lstm"]


def rel_err(ours, theirs) -> float:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.abs(ours - theirs).max()) / max(1.0, float(np.abs(theirs).max()))


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize(("K", "D", "H", "T", "carried"),
                         [(6, 2, 3, 8, False), (8, 3, 5, 14, True), (12, 4, 8, 25, False)])
@pytest.mark.parametrize("cell", CELLS)
def test_terms_sum_to_the_recursion(cell: str, K: int, D: int, H: int, T: int, carried: bool,
                                    mode: str) -> None:
    p, inputs, targets = random_cell(cell, K, D, H, T, seed=K + T)
    rng = np.random.default_rng(1)
    state = (rng.normal(0, 0.5, H), rng.normal(0, 0.5, H) if cell == "lstm" else None)
    f = forward(p, inputs, targets, *state) if carried else forward(p, inputs, targets)
    fast, slow = backward(p, f, mode), backward_by_terms(p, f, mode)
    assert fast.names == slow.names
    for n in p.names:
        assert rel_err(slow[n], fast[n]) <= 1e-12, f"{cell} d{n} ({mode})"
        assert np.abs(fast[n]).max() > 1e-6, f"d{n} is zero: the check would be empty"


@pytest.mark.parametrize("cell", CELLS)
def test_each_term_is_autograd_through_step_k_alone(cell: str) -> None:
    """term(t, k) = ∂L_t/∂θ where θ is replaced by a copy used only at step k
    (the state before step k held fixed); ∂L_t/∂s_k = autograd from s_k."""
    K, D, H, T = 6, 2, 3, 8
    p, inputs, targets = random_cell(cell, K, D, H, T, seed=40)
    f = forward(p, inputs, targets)
    delta = output_delta(f)
    P = {n: p[n].copy() for n in p.names}
    ins, tgs = list(map(int, inputs)), list(map(int, targets))
    lstm = cell == "lstm"
    for t in (1, 5, 8):
        row = bptt_row(p, f, delta, t)
        for k in range(1, t + 1):
            s_prev = (f.h[k - 1], f.C[k - 1]) if lstm else (f.h[k - 1], None)

            def L_t(theta, k=k, t=t, s_prev=s_prev):
                rec: list = []
                out = ref.cell_losses(cell, theta, ins[k - 1:k], tgs[k - 1:k], *s_prev,
                                      record=rec)
                if t == k:
                    return out[0]
                s_k = (rec[0]["h"], rec[0]["C"] if lstm else None)
                return ref.cell_losses(cell, P, ins[k:t], tgs[k:t], *s_k)[-1]

            g = grad(L_t)(P)
            term = row_sums(p, f, row, k, k)
            assert list(term) == [n for n in p.names if n not in ("V", "c")]
            for n, a in term.items():
                assert rel_err(a, g[n]) <= 1e-9, f"term ({t}, {k}) d{n}"

            def L_from(s, k=k, t=t):
                h, C = (s[:H], s[H:]) if lstm else (s, None)
                return ref.cell_losses(cell, P, ins[k:t], tgs[k:t], h, C)[-1]

            s_k = np.concatenate([s[k] for s in f.states])
            if t > k:
                want = grad(L_from)(s_k)
            else:  # ∂L_t/∂s_t = (V^T δ_t, 0)
                want = np.concatenate([delta[t - 1] @ p["V"], np.zeros(len(s_k) - H)])
            got = np.concatenate([d[k - 1] for d in row.ds])
            assert rel_err(got, want) <= 1e-9, f"dL_{t}/ds_{k}"
        assert rel_err(row.norms(), [np.linalg.norm(np.concatenate([d[k] for d in row.ds]))
                                     for k in range(t)]) <= 1e-15


@pytest.mark.parametrize("cell", CELLS)
def test_factor_chain_is_the_product_of_step_jacobians(cell: str) -> None:
    """∂L_t/∂s_k = (∏_{j=k}^{t−1} ∂s_{j+1}/∂s_j)^T ∂L_t/∂s_t, matrix by matrix."""
    p, inputs, targets = random_cell(cell, 7, 3, 4, 12, seed=6)
    f = forward(p, inputs, targets)
    delta = output_delta(f)
    for t in (4, 12):
        row = bptt_row(p, f, delta, t)
        v = np.concatenate([d[t - 1] for d in row.ds])
        for k in range(t - 1, 0, -1):
            v = jacobian(p, f, k).T @ v  # ∂s_{k+1}/∂s_k, transposed
            got = np.concatenate([d[k - 1] for d in row.ds])
            assert rel_err(got, v) <= 1e-12, f"({t}, {k})"


@pytest.mark.parametrize("cell", CELLS)
def test_triangle_norms_for_several_rows_at_once(cell: str) -> None:
    p, inputs, targets = random_cell(cell, 8, 3, 6, 30, seed=2)
    f = forward(p, inputs, targets)
    delta = output_delta(f)
    rows = [1, 7, 8, 19, 30]
    many = bptt_norms(p, f, delta, [*rows, 7])
    assert sorted(many) == rows
    for t in rows:
        one = bptt_row(p, f, delta, t).norms()
        assert many[t].shape == (t,)
        assert rel_err(many[t], one) <= 1e-12
        assert np.all(one > 0)
    assert bptt_norms(p, f, delta, []) == {}


@pytest.mark.parametrize("cell", CELLS)
def test_partial_row_sums_add_up(cell: str) -> None:
    """Stepping through a row k = t, t−1, ...: partial sums are sums of single terms."""
    p, inputs, targets = random_cell(cell, 6, 2, 3, 9, seed=4)
    f = forward(p, inputs, targets)
    row = bptt_row(p, f, output_delta(f), 9)
    for mode in ("x_k", "x_t"):
        whole = row_sums(p, f, row, 1, None, mode)
        parts = [row_sums(p, f, row, k, k, mode) for k in range(1, 10)]
        upper = row_sums(p, f, row, 4, 9, mode)
        for n, a in whole.items():
            assert rel_err(sum(q[n] for q in parts), a) <= 1e-12
            assert rel_err(sum(q[n] for q in parts[3:]), upper[n]) <= 1e-12
        assert np.array_equal(row_sums(p, f, row, 4, 9, mode)["E"], upper["E"])
    # x_t puts the whole row into the loss step's input row of E
    dE = row_sums(p, f, row, 1, None, "x_t")["E"]
    assert np.flatnonzero(np.abs(dE).sum(axis=1)).tolist() == [int(inputs[8])]
