"""The GRU and LSTM engine (rnn_tui.core.cells, issue 17) against an independent
autograd implementation of the issue's equations, central finite differences
and PyTorch's nn.LSTM (when torch is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.cells import (
    GATES,
    PARAM_NAMES,
    CellParams,
    backward,
    cell_of,
    final_state,
    forward,
    jacobian,
    seeded_params,
    sgd,
    shapes,
    train,
)

import helpers.reference_autograd as ref
from helpers.models import random_cell

SIZES = [  # K, D, H, T
    (6, 2, 3, 8),
    (7, 3, 5, 11),
    (9, 4, 6, 16),
]
CELL_GATES = {"gru": ("z", "r", "h_tilde"), "lstm": ("i", "f", "o", "g")}


def assert_close(ours, theirs, what: str, tol: float = 1e-9) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(ours - theirs).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def as_dict(p: CellParams) -> dict:
    return {n: p[n].copy() for n in p.names}


def gate_value(f, cell: str, name: str) -> np.ndarray:
    return f.gate("h") if (cell, name) == ("gru", "h_tilde") else f.gate(name)


def assert_forward_matches(f, theirs: dict, cell: str, what: str) -> None:
    for name in CELL_GATES[cell]:
        assert_close(gate_value(f, cell, name), theirs[name], f"{what} {name}")
    if cell == "lstm":
        assert_close(f.C[1:], theirs["C"], f"{what} C")
    assert_close(f.h[1:], theirs["h"], f"{what} h")
    assert_close(f.omega, theirs["omega"], f"{what} Omega")
    assert_close(f.y_hat, theirs["y_hat"], f"{what} y_hat")
    assert_close(f.loss, theirs["loss"], f"{what} L_t")


# ------------------------------------------------------------ names, shapes


def test_names_and_shapes_in_one_place() -> None:
    assert PARAM_NAMES["gru"] == ("V", "c", "W_z", "U_z", "b_z", "W_r", "U_r", "b_r",
                                  "W_h", "U_h", "b_h", "E")
    assert PARAM_NAMES["lstm"] == ("V", "c", "W_i", "U_i", "b_i", "W_f", "U_f", "b_f",
                                   "W_o", "U_o", "b_o", "W_g", "U_g", "b_g", "E")
    assert GATES == {"gru": ("z", "r", "h"), "lstm": ("i", "f", "o", "g")}
    s = shapes("lstm", 6, 2, 3)
    assert list(s) == list(PARAM_NAMES["lstm"])
    assert (s["E"], s["V"], s["c"]) == ((6, 2), (6, 3), (6,))
    assert (s["U_f"], s["W_f"], s["b_f"]) == ((3, 2), (3, 3), (3,))
    assert cell_of(shapes("gru", 6, 2, 3)) == "gru"
    with pytest.raises(ValueError, match="neither a GRU's nor an LSTM's"):
        cell_of({"E": 1, "U": 1})
    p = seeded_params("gru", 6, 2, 3, seed=4)
    with pytest.raises(ValueError, match="needs exactly"):
        CellParams("lstm", dict(p.arrays))
    assert {n: a.shape for n, a in p.arrays.items()} == shapes("gru", 6, 2, 3)


def test_seeded_params_reproducible_with_zero_biases() -> None:
    a, b = seeded_params("lstm", 6, 2, 3, seed=9), seeded_params("lstm", 6, 2, 3, seed=9)
    assert all(np.array_equal(a[n], b[n]) for n in a.names)
    assert all(not a[n].any() for n in ("b_i", "b_f", "b_o", "b_g", "c"))
    assert a["W_f"].any() and not np.array_equal(a["W_f"], seeded_params("lstm", 6, 2, 3, 8)["W_f"])


# ------------------------------------------------------- against autograd


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize(("K", "D", "H", "T"), SIZES)
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_every_value_of_three_epochs_matches_autograd(
    cell: str, K: int, D: int, H: int, T: int, mode: str
) -> None:
    """Gates, h, C, Ω, ŷ, L_t, every gradient and every updated parameter of
    3 SGD epochs, each side following its own trajectory."""
    p, inputs, targets = random_cell(cell, K, D, H, T, seed=K * 100 + T)
    ins, tgs = list(map(int, inputs)), list(map(int, targets))
    theirs = as_dict(p)
    eta = 0.1
    for epoch in range(1, 4):
        f = forward(p, inputs, targets)
        assert_forward_matches(f, ref.cell_forward(cell, theirs, ins, tgs), cell, f"epoch {epoch}")
        g = backward(p, f, mode)
        g_ref = ref.cell_gradients(cell, theirs, ins, tgs, embedding_rows=mode)
        assert list(g.names) == list(PARAM_NAMES[cell])
        for n in p.names:
            assert_close(g[n], g_ref[n], f"epoch {epoch} d{n} ({mode})")
        p, theirs = sgd(p, g, eta), ref.cell_sgd(theirs, g_ref, eta)
        for n in p.names:
            assert_close(p[n], theirs[n], f"epoch {epoch} {n} after the update")


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_carried_state_matches_autograd(cell: str) -> None:
    """h_0 (and C_0) carried in: every value and gradient against autograd
    with the same constant initial state; no gradient flows into it."""
    p, inputs, targets = random_cell(cell, 6, 3, 4, 10, seed=77)
    rng = np.random.default_rng(5)
    h0 = np.tanh(rng.normal(0, 1, 4))
    C0 = rng.normal(0, 1, 4) if cell == "lstm" else None
    ins, tgs = list(map(int, inputs)), list(map(int, targets))
    f = forward(p, inputs, targets, h0, C0)
    assert np.array_equal(f.h[0], h0)
    assert_forward_matches(f, ref.cell_forward(cell, as_dict(p), ins, tgs, h0, C0), cell,
                           "carried")
    for mode in ("x_k", "x_t"):
        g = backward(p, f, mode)
        g_ref = ref.cell_gradients(cell, as_dict(p), ins, tgs, h0, C0, mode)
        for n in p.names:
            assert_close(g[n], g_ref[n], f"carried d{n} ({mode})")
    # The carried state matters (a test that cannot fail is a defect) ...
    assert abs(forward(p, inputs, targets).total_loss - f.total_loss) > 1e-6
    # ... zeros given explicitly are the default, bit for bit ...
    zero = forward(p, inputs, targets, np.zeros(4), np.zeros(4) if cell == "lstm" else None)
    plain = forward(p, inputs, targets)
    assert np.array_equal(zero.loss, plain.loss) and np.array_equal(zero.h, plain.h)
    # ... and two chunks with the state carried are the whole sequence's forward.
    first = forward(p, inputs[:4], targets[:4], h0, C0)
    second = forward(p, inputs[4:], targets[4:], *final_state(first))
    assert np.array_equal(np.concatenate([first.loss, second.loss]), f.loss)
    assert np.array_equal(np.concatenate([first.h, second.h[1:]]), f.h)


def test_gru_has_no_cell_state() -> None:
    p, inputs, targets = random_cell("gru", 6, 2, 3, 8, seed=1)
    with pytest.raises(ValueError, match="no cell state"):
        forward(p, inputs, targets, np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        forward(p, inputs, targets, np.zeros(4))


# ---------------------------------------------------- finite differences


@pytest.mark.parametrize("mode", ["x_k"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_every_entry_against_central_differences(cell: str, mode: str) -> None:
    """Every entry of every gradient against (L(θ+ε) − L(θ−ε)) / 2ε."""
    p, inputs, targets = random_cell(cell, 6, 2, 3, 8, seed=31)
    g = backward(p, forward(p, inputs, targets), mode)
    eps = 1e-6
    for n in p.names:
        fd = np.empty_like(p[n])
        for idx in np.ndindex(p[n].shape):
            plus, minus = p[n].copy(), p[n].copy()
            plus[idx] += eps
            minus[idx] -= eps
            fd[idx] = (forward(p.replace(n, plus), inputs, targets).total_loss
                       - forward(p.replace(n, minus), inputs, targets).total_loss) / (2 * eps)
        assert_close(g[n], fd, f"d{n} vs central differences", tol=1e-7)
        assert np.abs(g[n]).max() > 1e-6, f"d{n} is zero: the check would be empty"


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_step_jacobian_against_central_differences(cell: str) -> None:
    """∂s_{j+1}/∂s_j by perturbing s_j and rerunning step j+1 from it."""
    p, inputs, targets = random_cell(cell, 6, 2, 4, 8, seed=12)
    f = forward(p, inputs, targets)
    H, eps = 4, 1e-6
    for j in (0, 3, 7):
        s_j = np.concatenate([s[j] for s in f.states])

        def step(s: np.ndarray, j: int = j) -> np.ndarray:
            one = forward(p, inputs[j : j + 1], targets[j : j + 1], *np.split(s, len(s) // H))
            return np.concatenate(final_state(one))

        fd = np.column_stack([(step(s_j + e) - step(s_j - e)) / (2 * eps)
                              for e in np.eye(len(s_j)) * eps])
        J = jacobian(p, f, j)
        assert J.shape == (len(s_j), len(s_j))
        assert_close(J, fd, f"{cell} Jacobian at j={j}", tol=1e-8)


# ------------------------------------------------------------- training


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_train_is_forward_backward_sgd_and_learns(cell: str) -> None:
    p, inputs, targets = random_cell(cell, 6, 3, 8, 12, seed=3, scale=0.3)
    losses, after = train(p, inputs, targets, 0.3, 40)
    q = p
    for e in range(3):
        f = forward(q, inputs, targets)
        assert losses[e] == f.total_loss
        q = sgd(q, backward(q, f), 0.3)
    assert losses[-1] < 0.5 * losses[0]
    _, three = train(p, inputs, targets, 0.3, 3)
    assert all(np.array_equal(three[n], q[n]) for n in p.names)
    assert after.is_finite()


# ------------------------------------------------------------ PyTorch


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (optional: "
                               "`.venv/bin/pip install torch==2.13.0`)")


def test_lstm_equals_torch_nn_lstm() -> None:
    """Our LSTM is nn.LSTM: weight_ih_l0 = [U_i; U_f; U_g; U_o] (PyTorch's
    gate order i, f, g, o), weight_hh_l0 likewise with W, b = b_ih + b_hh."""
    torch = _torch()
    K, D, H, T = 7, 3, 5, 12
    p, inputs, targets = random_cell("lstm", K, D, H, T, seed=8)
    lstm = torch.nn.LSTM(D, H).double()
    rng = np.random.default_rng(2)
    b_ih = {g: rng.normal(0, 0.5, H) for g in "ifgo"}
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.vstack([p[f"U_{g}"] for g in "ifgo"])))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.vstack([p[f"W_{g}"] for g in "ifgo"])))
        lstm.bias_ih_l0.copy_(torch.from_numpy(np.concatenate([b_ih[g] for g in "ifgo"])))
        lstm.bias_hh_l0.copy_(torch.from_numpy(
            np.concatenate([p[f"b_{g}"] - b_ih[g] for g in "ifgo"])))
    x = torch.from_numpy(p["E"][inputs][:, None, :])  # (T, 1, D)
    h0 = np.random.default_rng(3).normal(0, 0.5, (2, H))
    out, (h_T, C_T) = lstm(x, (torch.from_numpy(h0[0][None, None]),
                               torch.from_numpy(h0[1][None, None])))
    f = forward(p, inputs, targets, h0[0], h0[1])
    assert_close(f.h[1:], out.detach().numpy()[:, 0, :], "h vs nn.LSTM", tol=1e-12)
    assert_close(f.C[-1], C_T.detach().numpy()[0, 0], "C_T vs nn.LSTM", tol=1e-12)
    assert_close(f.h[-1], h_T.detach().numpy()[0, 0], "h_T vs nn.LSTM", tol=1e-12)


def test_gru_differs_from_torch_only_where_r_is_applied() -> None:
    """nn.GRU (gate order r, z, n) computes n = tanh(U_h x + b_in + r ⊙ (W_h h + b_hn)),
    ours h~ = tanh(U_h x + W_h (r ⊙ h) + b_h): with W_h = 0 and b_hn = 0 they agree
    (so the mapping of z, r and h = (1 − z) n + z h is right); in general they do not."""
    torch = _torch()
    K, D, H, T = 7, 3, 5, 12
    p, inputs, targets = random_cell("gru", K, D, H, T, seed=9)

    def torch_h(q: CellParams) -> np.ndarray:
        gru = torch.nn.GRU(D, H).double()
        with torch.no_grad():
            gru.weight_ih_l0.copy_(torch.from_numpy(np.vstack([q[f"U_{g}"] for g in "rzh"])))
            gru.weight_hh_l0.copy_(torch.from_numpy(np.vstack([q[f"W_{g}"] for g in "rzh"])))
            gru.bias_ih_l0.copy_(torch.from_numpy(np.concatenate([q[f"b_{g}"] for g in "rzh"])))
            gru.bias_hh_l0.zero_()
        out, _ = gru(torch.from_numpy(q["E"][inputs][:, None, :]))
        return out.detach().numpy()[:, 0, :]

    q = p.replace("W_h", np.zeros((H, H)))
    assert_close(forward(q, inputs, targets).h[1:], torch_h(q), "GRU with W_h = 0", tol=1e-12)
    assert np.abs(forward(p, inputs, targets).h[1:] - torch_h(p)).max() > 1e-3


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize(("K", "D", "H", "T"), [(6, 2, 3, 8), (11, 5, 9, 30), (40, 16, 64, 60)])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_fused_loop_is_bit_identical(cell: str, K: int, D: int, H: int, T: int,
                                     mode: str) -> None:
    """cells.fast.train: the same losses and parameters as cells.train, bit for bit."""
    from rnn_tui.core.cells import fast

    p, inputs, targets = random_cell(cell, K, D, H, T, seed=H + T, scale=1.0 / np.sqrt(H))
    slow, slow_after = train(p, inputs, targets, 0.05, 4, mode)
    quick, quick_after = fast.train(p, inputs, targets, 0.05, 4, mode)
    assert np.array_equal(quick, slow)
    for n in p.names:
        assert np.array_equal(quick_after[n], slow_after[n]), n
    assert not np.array_equal(quick_after["W_" + GATES[cell][0]], p["W_" + GATES[cell][0]])
    assert np.array_equal(fast.train(p, inputs, targets, 0.05, 0, mode)[1]["E"], p["E"])
