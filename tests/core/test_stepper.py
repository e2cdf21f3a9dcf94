"""The stepping state machine: order of steps, exact reversibility, jumps,
run-until helpers, divergence, and memory that does not grow with epochs."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from rnn_tui.core.model_file import ModelSpec, validate
from rnn_tui.core.params import BPTT_PARAMS, UPDATE_ORDER
from rnn_tui.core.stepper import Layout, Phase, Position, StepError, Stepper
from rnn_tui.core.view import StepView

from helpers.marks import slow_after
from helpers.models import random_spec


def snapshot(v: StepView) -> dict:
    """Every number a screen can show at a position, as raw bytes."""
    out: dict = {"pos": v.pos, "finite": v.finite, "label": v.label}
    for n in UPDATE_ORDER:
        out[f"p{n}"] = v.params.get(n).tobytes()
        g = v.grad(n)
        out[f"g{n}"] = None if g is None else g.tobytes()
    if v.term_sums is not None:
        out["term"] = tuple(getattr(v.term_sums, n).tobytes() for n in BPTT_PARAMS)
    out["loss"] = v.running_loss
    out["history"] = tuple(v.loss_history)
    return out


def test_layout_order_for_T_4() -> None:
    lay = Layout(T=4)
    assert lay.steps_per_epoch == 4 + 4 + 10 + 6
    labels = [lay.label(lay.at(1, s)) for s in range(lay.steps_per_epoch)]
    assert labels[0] == "forward t=1 (1/4)"
    assert labels[4] == "output gradients t=1 (1/4)"
    assert labels[8:12] == [
        "BPTT t=1 k=1 (1/10)",
        "BPTT t=2 k=2 (2/10)",
        "BPTT t=2 k=1 (3/10)",
        "BPTT t=3 k=3 (4/10)",
    ]
    assert labels[12] == "BPTT t=3 k=2 (5/10)"
    assert labels[17] == "BPTT t=4 k=1 (10/10)"
    assert labels[-6:] == [f"update {n} ({i + 1}/6)" for i, n in enumerate(UPDATE_ORDER)]


@pytest.mark.parametrize("T", [1, 2, 5, 30, 400])
def test_term_index_round_trip(T: int) -> None:
    seen = []
    for t in range(1, T + 1):
        for k in range(t, 0, -1):
            i = Layout.term_index(t, k)
            assert Layout.term(i) == (t, k)
            seen.append(i)
    assert seen == list(range(T * (T + 1) // 2))


def test_next_then_prev_is_bit_identical(hello: ModelSpec) -> None:
    st = Stepper(hello)
    n = st.layout.steps_per_epoch * 3 + 5
    forwards = []
    for _ in range(n):
        forwards.append(snapshot(st.view()))
        st.next()
    backwards = []
    for _ in range(n):
        st.prev()
        backwards.append(snapshot(st.view()))
    assert backwards[::-1] == forwards


def test_random_model_round_trip_and_jumps() -> None:
    spec = random_spec(6, 3, 5, 8, seed=1, mode="x_t")
    st = Stepper(spec)
    lay = st.layout
    stepped = {}
    for _ in range(lay.steps_per_epoch * 2):
        stepped[st.position] = snapshot(st.view())
        st.next()
    rng = np.random.default_rng(0)
    fresh = Stepper(spec)
    for pos in rng.permutation(list(stepped)):  # random-order direct jumps
        fresh.goto(pos)
        assert snapshot(fresh.view()) == stepped[pos]


def test_prev_at_the_very_start_stays(hello: ModelSpec) -> None:
    st = Stepper(hello)
    assert st.prev() == Position(epoch=1, phase=Phase.FORWARD, index=0)


def test_phase_jumps(hello: ModelSpec) -> None:
    st = Stepper(hello)
    assert st.next_phase().phase is Phase.OUTPUT
    assert st.next_phase().phase is Phase.BPTT
    assert st.end_of_phase() == Position(epoch=1, phase=Phase.BPTT, index=9)
    assert st.next_phase().phase is Phase.UPDATE
    assert st.next_phase() == Position(epoch=2, phase=Phase.FORWARD, index=0)
    assert st.prev_phase() == Position(epoch=1, phase=Phase.UPDATE, index=0)
    st.next()
    assert st.prev_phase() == Position(epoch=1, phase=Phase.UPDATE, index=0)
    assert st.end_of_epoch() == Position(epoch=1, phase=Phase.UPDATE, index=5)


def test_out_of_range_positions_are_clear_errors(hello: ModelSpec) -> None:
    st = Stepper(hello)
    with pytest.raises(StepError, match="BPTT step 11 is out of range: this phase has 10 steps"):
        st.goto(Position(epoch=1, phase=Phase.BPTT, index=10))
    with pytest.raises(StepError, match=r"step 25 is out of range 1\.\.24"):
        st.goto_step(1, 24)
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Position(epoch=0, phase=Phase.FORWARD, index=0)
    with pytest.raises(ValidationError):
        Position(epoch=1, phase="sideways", index=0)  # type: ignore[arg-type]
    assert st.position == Position(epoch=1, phase=Phase.FORWARD, index=0)


def test_update_phase_changes_one_parameter_per_step(hello: ModelSpec) -> None:
    st = Stepper(hello)
    st.goto(Position(epoch=1, phase=Phase.UPDATE, index=0))
    before = st.current.params
    for i, name in enumerate(UPDATE_ORDER):
        st.goto(Position(epoch=1, phase=Phase.UPDATE, index=i))
        p = st.view().params
        for j, other in enumerate(UPDATE_ORDER):
            changed = not np.array_equal(p.get(other), before.get(other))
            assert changed == (j <= i), (name, other)
    st.next()
    after = st.view().params
    for name in UPDATE_ORDER:
        assert np.array_equal(after.get(name), st.checkpoints.recent[2].get(name))


def test_jump_far_then_back_matches_sequential(hello: ModelSpec) -> None:
    a, b = Stepper(hello), Stepper(hello)
    a.goto_epoch(300)
    for e in range(1, 301):  # b walks there epoch by epoch
        b.goto_epoch(e)
    assert snapshot(a.view()) == snapshot(b.view())
    a.goto_epoch(37)  # back, recomputed from a checkpoint
    b2 = Stepper(hello)
    b2.goto_epoch(37)
    assert snapshot(a.view()) == snapshot(b2.view())


@pytest.mark.slow
def test_checkpoint_memory_is_bounded(hello: ModelSpec) -> None:
    st = Stepper(hello)
    st.goto_epoch(20_000)
    cp = st.checkpoints
    assert len(cp.sparse) <= cp.limit and len(cp.recent) <= cp.recent_size
    assert len(cp.losses) == 20_000
    st.goto_epoch(1)
    st.prev()
    assert st.position.epoch == 1


def test_back_and_forth_across_an_epoch_boundary_shows_the_same_numbers(
    hello: ModelSpec,
) -> None:
    """prev/next across a boundary (a lecturer's "once more") rebuilds the
    epoch left from the checkpoints: the numbers are those of a fresh walk."""
    st = Stepper(hello)
    st.end_of_epoch()
    last = snapshot(st.view())
    st.next()
    first = snapshot(st.view())
    for _ in range(3):
        st.prev()
        assert snapshot(st.view()) == last
        st.next()
        assert snapshot(st.view()) == first
    fresh = Stepper(hello)
    fresh.goto_epoch(2)
    assert snapshot(st.view()) == snapshot(fresh.view())


def test_run_until_helpers(hello: ModelSpec) -> None:
    st = Stepper(hello)
    pos = st.run_until_loss_below(3.0)
    assert pos is not None and pos.phase is Phase.FORWARD and pos.index == 3
    losses = st.checkpoints.losses
    assert losses[pos.epoch - 1] < 3.0 <= min(losses[: pos.epoch - 1])
    pos = st.run_until_correct(max_epochs=5000)
    assert pos is not None
    assert st.current.all_correct
    assert not any(st.checkpoints.correct[: pos.epoch - 1])
    before = st.position
    assert st.run_until_loss_below(-1.0, max_epochs=50) is None
    assert st.position == before


def diverging(lr: float) -> ModelSpec:
    spec = random_spec(5, 3, 4, 6, seed=3, lr=lr, scale=3.0)
    return spec


@pytest.mark.parametrize("lr", slow_after(1, [10.0, 100.0, 1e3, 1e6]))
def test_divergence_never_raises(lr: float) -> None:
    st = Stepper(diverging(lr))
    pos = st.run_until_nonfinite(max_epochs=2000)
    if pos is None:  # some rates only oscillate: still must step fine
        st.goto_epoch(200)
    else:
        v = st.view()
        assert not v.finite
        st.prev()
        assert st.view().finite  # the step before the first non-finite one
        st.next()
    for _ in range(st.layout.steps_per_epoch * 2):
        st.next()
        st.view().finite  # noqa: B018 - computing the view must not raise
    for _ in range(st.layout.steps_per_epoch * 3):
        st.prev()
        snapshot(st.view())


def test_overflowing_model_says_where_it_stopped_being_finite(hello: ModelSpec) -> None:
    doc = hello.model_dump()
    doc["learning_rate"] = 1e308  # the first update of V overflows in epoch 2
    st = Stepper(validate(doc, "overflow"))
    pos = st.run_until_nonfinite(max_epochs=10)
    assert pos == Position(epoch=2, phase=Phase.UPDATE, index=0)
    assert st.checkpoints.first_nonfinite_epoch == 2
    assert not st.view().finite
    st.prev()
    assert st.view().finite
    st.goto_epoch(8)  # and on past it: NaN all the way, no exception
    assert not st.view().finite


def test_huge_initial_weights_are_nan_from_the_first_step() -> None:
    doc = random_spec(4, 2, 3, 5, seed=2).model_dump()
    doc["init"]["U"] = [[1e200, 1e200]] * 3  # h_t = tanh(huge) = 1
    doc["init"]["V"] = [[1e308, 1e308, 1e308]] * 4  # Omega_t = 3e308 = inf
    st = Stepper(validate(doc, "huge"))
    assert not st.view().finite
    assert st.run_until_nonfinite() == st.position
    for _ in range(60):
        st.next()
    assert not st.view().finite


def test_mode_switch_keeps_position(hello: ModelSpec) -> None:
    st = Stepper(hello)
    st.goto_epoch(2)
    exact = st.current.total_loss
    st.set_mode("x_t")
    assert st.position.epoch == 2 and st.mode == "x_t"
    assert abs(st.current.total_loss - 5.3114) < 5e-5
    assert abs(exact - 5.3115) < 5e-5
