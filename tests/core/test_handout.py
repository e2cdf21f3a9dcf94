"""The handout's printed figures, at its printed precision (4 decimals).

A printed figure "matches" when our float64 value rounds to it, i.e. they
differ by at most half a unit in the 4th decimal. The handout has printing
slips (NOTES.md); each one is listed with its reason in the package's data
file, and the test checks both that the slip is within 1.5e-4 of the true
value and that it really is a slip (so that list cannot silently go stale).
"""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.maths import backward, forward, output_delta, sgd
from rnn_tui.core.model_file import ModelSpec
from rnn_tui.core.stepper import Stepper

import helpers.handout_figures as H
from helpers.handout_figures import SLIPS

HALF_UNIT = 0.5e-4 + 1e-12
SLIP_BOUND = 1.5e-4

def check_figure(name: str, ours: object, printed: object) -> None:
    ours_a, printed_a = np.asarray(ours, dtype=float), np.asarray(printed, dtype=float)
    assert ours_a.shape == printed_a.shape, name
    for idx in np.ndindex(printed_a.shape):
        o, p = float(ours_a[idx]), float(printed_a[idx])
        slip = SLIPS.get((name, idx))
        if slip is None:
            assert abs(o - p) <= HALF_UNIT, f"{name}{list(idx)}: ours {o:.6f}, printed {p}"
        else:
            assert HALF_UNIT < abs(o - p) <= SLIP_BOUND, (
                f"{name}{list(idx)} listed as a slip ({slip}) but ours {o:.6f} vs printed {p}"
            )


@pytest.fixture(scope="module")
def epoch1(hello_handout: ModelSpec):
    p = hello_handout.initial_params()
    inputs, targets = hello_handout.indices()
    f = forward(p, inputs, targets)
    g = backward(p, f, "x_t")
    return p, f, g, sgd(p, g, hello_handout.learning_rate)


def test_inputs_and_targets(hello: ModelSpec) -> None:
    inputs, targets = hello.indices()
    assert "".join(hello.alphabet[i] for i in inputs) == "hell"
    assert "".join(hello.alphabet[i] for i in targets) == "ello"


def test_forward_pass_epoch_1(epoch1) -> None:
    _, f, _, _ = epoch1
    check_figure("x", f.x, H.x)
    check_figure("h", f.h[1:, 0], H.h)
    check_figure("omega", f.omega, H.omega)
    check_figure("y_hat", f.y_hat, H.y_hat)
    check_figure("loss", f.loss, H.loss)
    check_figure("total_loss", f.total_loss, H.total_loss)
    assert abs(f.total_loss - 5.5527) <= HALF_UNIT  # what the terms really sum to


def test_predictions_epoch_1(epoch1, hello: ModelSpec) -> None:
    _, f, _, _ = epoch1
    assert "".join(hello.alphabet[i] for i in f.predictions) == H.predictions


def test_output_gradients_and_V_c(epoch1) -> None:
    _, f, g, after = epoch1
    check_figure("delta", output_delta(f), H.delta)
    check_figure("dV", g.V[:, 0], H.dV)
    check_figure("V_new", after.V[:, 0], H.V_new)
    check_figure("dc", g.c, H.dc)
    check_figure("c_new", after.c, H.c_new)


def test_W_U_b(epoch1) -> None:
    _, _, g, after = epoch1
    check_figure("dW", g.W[0, 0], H.dW)
    check_figure("W_new", after.W[0, 0], H.W_new)
    check_figure("dU", g.U[0], H.dU)
    check_figure("U_new", after.U[0], H.U_new)
    check_figure("db", g.b[0], H.db)
    check_figure("b_new", after.b[0], H.b_new)


def test_handout_dE_in_x_t_mode(epoch1) -> None:
    _, _, g, after = epoch1
    check_figure("dE_handout", g.E, H.dE_handout)
    check_figure("E_new_handout", after.E, H.E_new_handout)


def test_exact_dE_in_x_k_mode(hello: ModelSpec) -> None:
    p = hello.initial_params()
    f = forward(p, *hello.indices())
    dE = backward(p, f, "x_k").E
    exact = [[0.041841, -0.067171], [0.022494, -0.036112], [0.037101, -0.059563], [0, 0]]
    np.testing.assert_allclose(dE, exact, atol=1e-6)  # NOTES.md, 6 decimals
    # The two conventions share column sums; only the rows differ.
    dE_t = backward(p, f, "x_t").E
    np.testing.assert_allclose(dE.sum(axis=0), dE_t.sum(axis=0), rtol=1e-12)
    assert not np.allclose(dE, dE_t, atol=1e-3)


def test_epoch_2_in_handout_mode(hello_handout: ModelSpec) -> None:
    st = Stepper(hello_handout)
    st.goto_epoch(2)
    f = st.current.fwd
    check_figure("epoch2_y_hat", f.y_hat, H.epoch2_y_hat)
    check_figure("epoch2_loss", f.loss, H.epoch2_loss)
    check_figure("epoch2_total", f.total_loss, H.epoch2_total)


def test_epoch_2_in_exact_mode_differs_as_notes_say(hello: ModelSpec) -> None:
    st = Stepper(hello)
    st.goto_epoch(2)
    exact_losses = [1.3602, 1.2949, 1.2743, 1.3821]  # NOTES.md, x_k rows
    np.testing.assert_allclose(st.current.fwd.loss, exact_losses, atol=HALF_UNIT)
    assert abs(st.current.total_loss - 5.3115) <= HALF_UNIT


@pytest.mark.parametrize(
    ("model", "upto", "minimum"),
    [
        ("hello-handout", 50, 2.9268),  # printed by the handout
        ("hello-handout", 100, 1.7800),  # printed by the handout
        ("hello", 50, 2.8395),  # NOTES.md, exact gradient
        ("hello", 100, 2.0223),
        ("hello", 150, 1.5292),
        # Not pinned: 1..150 in x_t mode (NOTES.md prints 1.3943; we get
        # 1.3917 by the recursion and 1.3913 term by term: past epoch ~120
        # the x_t trajectory depends on the order of summation), and the
        # handout's 500 / 1000 figures, which NOTES.md shows cannot be
        # reproduced from the printed initial values.
    ],
)
def test_minimum_total_loss(model: str, upto: int, minimum: float, request) -> None:
    spec = request.getfixturevalue(model.replace("-", "_"))
    st = Stepper(spec)
    st.goto_epoch(upto)
    losses = st.checkpoints.losses[:upto]
    assert len(losses) == upto
    assert abs(min(losses) - minimum) <= HALF_UNIT
