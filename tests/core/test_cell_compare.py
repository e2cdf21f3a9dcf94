"""core/cell_compare.py: every model's triangle ‖∂L_t/∂s_k‖ against HIPS
autograd's Jacobians of L_t with respect to s_k (the reference shares no code
with the engine), and against the product of the step Jacobians written out;
the per-lag summary; the initialisation; training through the fused kernels."""

from __future__ import annotations

import math

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from rnn_tui.core import cells, maths
from rnn_tui.core.cell_compare import (
    CompareError,
    Triangle,
    compare,
    initial,
    summary_lags,
    vocabulary,
)
from rnn_tui.core.params import FILE_ORDER

import helpers.reference_autograd as ref

TEXT = "hello world, hello rnn"


def _indices(text: str) -> tuple[np.ndarray, np.ndarray]:
    vocab = vocabulary(text)
    idx = np.array([vocab.index(ch) for ch in text])
    return idx[:-1], idx[1:]


def _as_dict(p) -> dict[str, np.ndarray]:
    names = FILE_ORDER if isinstance(p, maths.Params) else p.names
    return {n: np.asarray(p.get(n)) for n in names}


def autograd_norms(cell: str, p, inputs, targets) -> np.ndarray:
    """‖∂L_t/∂s_k‖ by autograd: L_t as a function of s_k alone (the steps
    k+1..t run from it as a given start state; at k = t, L_t of h_t alone)."""
    P = _as_dict(p)
    T, H = len(inputs), P["V"].shape[1]
    if cell == "rnn":
        h = np.vstack([np.zeros(H), ref.forward(P, inputs, targets)["h"]])  # (T+1, H)
        C = None
    else:
        rec = ref.cell_forward(cell, P, inputs, targets)
        h = np.vstack([np.zeros(H), rec["h"]])
        C = np.vstack([np.zeros(H), rec["C"]]) if cell == "lstm" else None
    K = P["V"].shape[0]

    def loss_of_h(h_t, target):
        omega = anp.dot(P["V"], h_t) + P["c"]
        return -(omega[target] - anp.log(anp.sum(anp.exp(omega))))

    out = np.full((T, T), np.nan)
    for t in range(1, T + 1):
        for k in range(1, t + 1):
            xs, ys = inputs[k:t], targets[k:t]

            def L_t(s, xs=xs, ys=ys, t=t, k=k):
                if k == t:
                    return loss_of_h(s[:H], targets[t - 1])
                if cell == "rnn":
                    return ref.losses(P, xs, ys, h0=s)[-1]
                return ref.cell_losses(cell, P, xs, ys, h0=s[:H],
                                       C0=s[H:] if cell == "lstm" else None)[-1]

            s_k = h[k] if C is None else np.concatenate([h[k], C[k]])
            out[t - 1, k - 1] = np.linalg.norm(grad(L_t)(s_k))
    del K
    return out


def jacobian_product_norms(cell: str, p, inputs, targets) -> np.ndarray:
    """The same norms as an explicit product of step Jacobians ∂s_{j+1}/∂s_j:
    diag(1 − h_{j+1}^2) W written out for the RNN; cells.jacobian for the cells."""
    if cell == "rnn":
        f = maths.forward(p, inputs, targets)
        J = [(1.0 - f.h[j + 1] ** 2)[:, None] * p.W for j in range(f.T)]
        V = p.V
    else:
        f = cells.forward(p, inputs, targets)
        J = [cells.jacobian(p, f, j) for j in range(f.T)]
        V = p["V"]
    delta = maths.output_delta(f)
    H = V.shape[1]
    T = f.T
    out = np.full((T, T), np.nan)
    for t in range(1, T + 1):
        row = np.zeros(J[0].shape[0])
        row[:H] = V.T @ delta[t - 1]  # ∂L_t/∂s_t = (V^T δ_t, 0)
        for k in range(t, 0, -1):
            out[t - 1, k - 1] = np.linalg.norm(row)
            if k > 1:
                row = row @ J[k - 1]  # ∂L_t/∂s_{k−1} = ∂L_t/∂s_k ∂s_k/∂s_{k−1}
    return out


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("epochs", [0, 3])
def test_norms_equal_autograd_and_the_jacobian_product(cell: str, epochs: int) -> None:
    text = "hello rnn!"
    got = compare(text, (cell,), hidden=4, embed=3, seed=3, epochs=epochs,
                  learning_rate=0.1, forget_bias=0.5).triangles[cell]
    inputs, targets = _indices(text)
    p = initial(cell, len(vocabulary(text)), 3, 4, 3, 0.5, 0.5)
    if epochs:  # the trained parameters, by the plain equations (not the fused kernel)
        if cell == "rnn":
            for _ in range(epochs):
                f = maths.forward(p, inputs, targets)
                p = maths.sgd(p, maths.backward(p, f), 0.1)
        else:
            _, p = cells.train(p, inputs, targets, 0.1, epochs)
    want = autograd_norms(cell, p, inputs, targets)
    lower = np.tril(np.ones_like(want, dtype=bool))
    assert np.isnan(got.norms[~lower]).all()
    np.testing.assert_allclose(got.norms[lower], want[lower], rtol=1e-9, atol=0)
    product = jacobian_product_norms(cell, p, inputs, targets)
    np.testing.assert_allclose(got.norms[lower], product[lower], rtol=1e-9, atol=0)
    assert got.norms[lower].min() < 0.5 * got.norms[lower].max()  # not a constant


def test_by_lag_is_the_median_of_each_diagonal() -> None:
    T = 4
    n = np.full((T, T), np.nan)
    n[np.tril_indices(T)] = np.arange(1.0, 11.0)  # rows: 1 | 2 3 | 4 5 6 | 7 8 9 10
    tri = Triangle("rnn", n, np.array([1.0]))
    # lag 0: 1, 3, 6, 10; lag 1: 2, 5, 9; lag 2: 4, 8; lag 3: 7
    np.testing.assert_array_equal(tri.by_lag(), [4.5, 5.0, 6.0, 7.0])
    assert tri.ratio() == 7.0 / 4.5
    assert math.isclose(tri.per_step(), (7.0 / 4.5) ** (1 / 3))


def test_the_rnn_vanishes_faster_than_the_lstm_on_the_readme_text() -> None:
    c = compare(TEXT, ("rnn", "lstm"), hidden=8, embed=4, seed=0)
    rnn, lstm = c.triangles["rnn"], c.triangles["lstm"]
    assert rnn.ratio() < 1e-8 < 1e-7 < lstm.ratio() < 1e-3
    assert c.top() == max(float(np.nanmax(rnn.norms)), float(np.nanmax(lstm.norms)))


def test_initialisation_is_comparable() -> None:
    K, D, H = 5, 3, 16
    rnn = initial("rnn", K, D, H, seed=7, scale=0.5)
    gru = initial("gru", K, D, H, seed=7, scale=0.5)
    lstm = initial("lstm", K, D, H, seed=7, scale=0.5, forget_bias=1.0)
    np.testing.assert_array_equal(rnn.E, gru["E"])  # E is every model's first draw
    np.testing.assert_array_equal(rnn.E, lstm["E"])
    draws = np.concatenate([lstm[f"W_{g}"].ravel() for g in "ifog"])
    assert abs(draws.std() - 0.5 / math.sqrt(H)) < 0.05 * 0.5 / math.sqrt(H) * 4
    np.testing.assert_array_equal(lstm["b_f"], np.ones(H))
    assert not lstm["b_i"].any() and not gru["b_z"].any()
    np.testing.assert_array_equal(gru["W_z"] * math.sqrt(H) / 0.5,
                                  cells.seeded_params("gru", K, D, H, 7, 1.0)["W_z"])


def test_training_lowers_every_loss() -> None:
    c = compare(TEXT, ("rnn", "gru", "lstm"), hidden=8, embed=4, seed=0, epochs=30,
                learning_rate=0.2)
    for tri in c.triangles.values():
        assert tri.losses.shape == (31,)
        assert tri.losses[-1] < 0.4 * tri.losses[0]


@pytest.mark.parametrize(("text", "words"), [
    ("ab", "at least 3 characters"), ("aaaa", "2 distinct"), ("x" * 401 + "y", "at most 400"),
])
def test_bad_text(text: str, words: str) -> None:
    with pytest.raises(CompareError, match=words):
        compare(text)


def test_summary_lags() -> None:
    assert summary_lags(5) == [0, 1, 2, 3, 4]
    lags = summary_lags(100)
    assert lags[0] == 0 and lags[1] == 1 and lags[-1] == 99 and len(lags) <= 8
    assert lags == sorted(set(lags))


def test_sci_spells_magnitudes_in_two_digits() -> None:
    from rnn_tui.core.text import sci

    cases = {0.0: "0", 1.0: "1.0e0", 0.00123: "1.2e-3", 8.286e-10: "8.3e-10", 12345.0: "1.2e4",
             -0.5: "-5.0e-1", 9.96: "1.0e1", math.nan: "NaN", math.inf: "inf", -math.inf: "-inf"}
    for x, want in cases.items():
        assert sci(x) == want, x
