"""Gradients checked three ways: an independent autograd implementation,
central finite differences, and the handout's double sum term by term."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.batched import bptt_norms
from rnn_tui.core.maths import (
    Params,
    backward,
    backward_by_terms,
    bptt_row,
    forward,
    output_delta,
    sgd,
)
from rnn_tui.core.params import BPTT_PARAMS, UPDATE_ORDER
from rnn_tui.core.stepper import Phase, Position, Stepper

import helpers.reference_autograd as ref
from helpers.models import random_spec

SIZES = [  # K, D, H, T
    (2, 1, 1, 1),
    (4, 2, 1, 4),
    (3, 5, 2, 7),
    (7, 3, 6, 20),
    (16, 8, 16, 40),
]


def assert_close(ours: np.ndarray, theirs: np.ndarray, what: str, tol: float = 1e-9) -> None:
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(np.asarray(ours) - np.asarray(theirs)).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def as_dict(p: Params) -> dict:
    return {n: p.get(n).copy() for n in ref.NAMES}


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize(("K", "D", "H", "T"), SIZES)
def test_every_epoch_matches_autograd(K: int, D: int, H: int, T: int, mode: str) -> None:
    """Every forward value, gradient and update of 3 epochs, stepping the
    real state machine, against autograd's own independent trajectory."""
    spec = random_spec(K, D, H, T, seed=K * 1000 + T, mode=mode)
    inputs, targets = (list(map(int, a)) for a in spec.indices())
    st = Stepper(spec)
    theirs = as_dict(spec.initial_params())
    for epoch in range(1, 4):
        st.goto_epoch(epoch)
        ep = st.current
        f_ref = ref.forward(theirs, inputs, targets)
        assert_close(ep.fwd.h[1:], f_ref["h"], f"epoch {epoch} h")
        assert_close(ep.fwd.y_hat, f_ref["y_hat"], f"epoch {epoch} y_hat")
        assert_close(ep.fwd.loss, f_ref["loss"], f"epoch {epoch} L_t")
        g_ref = ref.gradients(theirs, inputs, targets, mode)
        for n in UPDATE_ORDER:
            assert_close(ep.grads.get(n), g_ref[n], f"epoch {epoch} d{n}")
        theirs = ref.sgd(theirs, g_ref, spec.learning_rate)
        for n in UPDATE_ORDER:
            assert_close(ep.params_after.get(n), theirs[n], f"epoch {epoch} {n}_new")


@pytest.mark.slow  # the largest-bounds model; smaller sizes above stay quick
@pytest.mark.parametrize("mode", ["x_k", "x_t"])
def test_largest_supported_sizes_match_autograd(mode: str) -> None:
    """K=64, D=128, H=128, T=400 (and a second epoch) against autograd."""
    T = 400 if mode == "x_k" else 60  # x_t's reference costs T autograd passes
    spec = random_spec(64, 128, 128, T, seed=7, scale=0.1, mode=mode)
    inputs, targets = (list(map(int, a)) for a in spec.indices())
    p = spec.initial_params()
    theirs = as_dict(p)
    for epoch in (1, 2):
        f = forward(p, *spec.indices())
        g = backward(p, f, mode)
        g_ref = ref.gradients(theirs, inputs, targets, mode)
        assert_close(f.loss, ref.forward(theirs, inputs, targets)["loss"], f"epoch {epoch} L")
        for n in UPDATE_ORDER:
            assert_close(g.get(n), g_ref[n], f"epoch {epoch} d{n}")
        p, theirs = sgd(p, g, spec.learning_rate), ref.sgd(theirs, g_ref, spec.learning_rate)


def numerical_gradient(p: Params, inputs, targets, name: str, eps: float = 1e-6) -> np.ndarray:
    out = np.zeros_like(p.get(name))
    for idx in np.ndindex(out.shape):
        plus, minus = p.get(name).copy(), p.get(name).copy()
        plus[idx] += eps
        minus[idx] -= eps
        lp = forward(p.replace(name, plus), inputs, targets).total_loss
        lm = forward(p.replace(name, minus), inputs, targets).total_loss
        out[idx] = (lp - lm) / (2 * eps)
    return out


@pytest.mark.parametrize(("K", "D", "H", "T"), SIZES)
def test_finite_differences(K: int, D: int, H: int, T: int) -> None:
    spec = random_spec(K, D, H, T, seed=T + 3)
    p = spec.initial_params()
    inputs, targets = spec.indices()
    g = backward(p, forward(p, inputs, targets), "x_k")
    for n in UPDATE_ORDER:
        num = numerical_gradient(p, inputs, targets, n)
        err = np.abs(num - g.get(n)).max() / max(1e-3, np.abs(num).max())
        assert err < 1e-6, f"d{n}: finite-difference relative error {err:.3g}"


def test_finite_differences_reject_the_handout_dE(hello_handout) -> None:
    """The x_t convention is not the gradient: finite differences say so."""
    p = hello_handout.initial_params()
    inputs, targets = hello_handout.indices()
    num = numerical_gradient(p, inputs, targets, "E")
    f = forward(p, inputs, targets)
    np.testing.assert_allclose(backward(p, f, "x_k").E, num, atol=1e-8)
    assert np.abs(backward(p, f, "x_t").E - num).max() > 1e-3


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize(("K", "D", "H", "T"), [*SIZES, (27, 16, 64, 100)])
def test_term_by_term_equals_recursion(K: int, D: int, H: int, T: int, mode: str) -> None:
    spec = random_spec(K, D, H, T, seed=11 * T, mode=mode)
    p = spec.initial_params()
    f = forward(p, *spec.indices())
    fast, slow = backward(p, f, mode), backward_by_terms(p, f, mode)
    for n in UPDATE_ORDER:
        assert_close(fast.get(n), slow.get(n), f"d{n}", tol=1e-12)


def test_stepped_bptt_sums_equal_recursion() -> None:
    """What the debugger shows after the last BPTT term is the gradient."""
    spec = random_spec(5, 3, 4, 9, seed=5, mode="x_t")
    st = Stepper(spec)
    st.goto(Position(epoch=1, phase=Phase.BPTT, index=0))
    st.end_of_phase()
    assert st.view().term == (9, 1)
    sums = st.view().bptt_sums
    assert sums is not None
    for n in BPTT_PARAMS:
        assert_close(getattr(sums, n), st.current.grads.get(n), f"d{n}", tol=1e-12)


@pytest.mark.parametrize(("K", "D", "H", "T", "scale"),
                         [(5, 3, 4, 9, 0.5), (27, 16, 64, 100, 0.5), (6, 3, 5, 12, 40.0)])
def test_batched_row_norms_equal_row_by_row(K: int, D: int, H: int, T: int,
                                            scale: float) -> None:
    """The BPTT panel's term sizes, walked for many rows at once, are the
    sizes of the terms bptt_row builds one row at a time (scale 40 makes
    tanh saturate: exact zeros and huge values, where a slip would show)."""
    spec = random_spec(K, D, H, T, seed=T, scale=scale)
    p = spec.initial_params()
    f = forward(p, *spec.indices())
    delta = output_delta(f)
    rows = [T, 1, T // 2, T // 2 + 1, 3, T // 2]  # unordered, with a repeat
    got = bptt_norms(p, f, delta, rows)
    assert sorted(got) == sorted(set(rows))
    for t in rows:
        want = bptt_row(p, f, delta, t).norms()
        assert got[t].shape == (t,)
        np.testing.assert_allclose(got[t], want, rtol=1e-12, atol=0, err_msg=f"row {t}")
    assert bptt_norms(p, f, delta, []) == {}


def test_batched_row_norms_keep_a_non_finite_row_to_itself() -> None:
    """A NaN in one row's chain must not leak into the rows walked with it."""
    spec = random_spec(5, 3, 4, 8, seed=2)
    p = spec.initial_params()
    f = forward(p, *spec.indices())
    delta = output_delta(f).copy()
    delta[5, 0] = np.nan  # row t = 6 is poisoned from its start
    got = bptt_norms(p, f, delta, [4, 6, 8])
    assert np.isnan(got[6]).all()
    for t in (4, 8):
        np.testing.assert_allclose(got[t], bptt_row(p, f, delta, t).norms(), rtol=1e-12)
        assert np.isfinite(got[t]).all()
