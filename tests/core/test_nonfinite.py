"""Where an epoch stops being finite: the same step as stepping through every
position finds, at a cost of O(log T) passes of the recursion instead of one
BPTT row per row (issue 19, point 2: a diverging H=1024 model froze the app
while the status bar walked 650 rows of the triangle)."""

from __future__ import annotations

import numpy as np
import pytest

import rnn_tui.core.epochs as epochs
from rnn_tui.core.epochs import Cancelled
from rnn_tui.core.maths import Params, backward, forward, sgd
from rnn_tui.core.model_file import ModelSpec, seeded_params, validate
from rnn_tui.core.stepper import Phase, Position, Stepper

from helpers.marks import slow_after
from helpers.models import exploding, random_spec


def first_by_stepping(st: Stepper, epoch: int) -> Position | None:
    """The definition: the first position of the epoch whose view is not finite."""
    for step in range(st.layout.steps_per_epoch):
        pos = st.layout.at(epoch, step)
        if not st.peek(pos).finite:
            return pos
    return None


@pytest.mark.parametrize("mode", slow_after(1, ["x_k", "x_t"]))
@pytest.mark.parametrize(("T", "gain", "seed", "tiny"), [
    (40, 1e9, 0, 0.0), (40, 3e10, 1, 1e-320), (30, 1e12, 2, 0.0), (24, 1e15, 3, 1e-318),
    (40, 1e9, 4, 1e-315), (60, 1e6, 5, 1e-320), (80, 1e5, 7, 0.0),
])
def test_first_nonfinite_is_the_first_step_shown_not_finite(
    T: int, gain: float, seed: int, tiny: float, mode: str
) -> None:
    st = Stepper(exploding(T, gain, seed, mode, tiny))
    expected = first_by_stepping(st, 1)
    assert expected is not None and expected.phase is Phase.BPTT  # the case under test
    assert st.first_nonfinite_in(st.current) == expected
    assert st.first_nonfinite() == expected


def huge_output_weights(row: int) -> ModelSpec:
    """V so large that Omega_t overflows at the forward step where h_t first
    leaves 0 (row ``row`` of E is the only nonzero one)."""
    doc = random_spec(4, 2, 3, 5, seed=2).model_dump()
    doc["init"].update(E=[[0.0, 0.0]] * 4, b=[0.0] * 3, V=[[1e308, 1e308, 1e308]] * 4)
    doc["init"]["E"][row] = [3.0, 3.0]
    return validate(doc, "huge V")


@pytest.mark.parametrize("case", ["lr 1e308", "huge V row 1", "huge V row 2"])
def test_first_nonfinite_agrees_with_stepping_in_other_phases(case: str) -> None:
    """The update phase (a rate that overflows V's update) and the forward
    phase (an output layer that overflows where the input first is nonzero)."""
    if case == "lr 1e308":
        spec = random_spec(5, 3, 4, 6, seed=3, lr=1e308, scale=3.0)
    else:
        spec = huge_output_weights(int(case[-1]))
    st = Stepper(spec)
    pos = st.run_until_nonfinite(max_epochs=5)
    assert pos is not None
    assert pos == first_by_stepping(st, pos.epoch)


def test_finding_it_costs_log_T_recursions_not_T_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """T = 200 and the first non-finite term in row ~155: stepping order
    would build ~155 rows of the triangle; the search builds a few rows and
    runs the O(T) recursion about log2(T) times. Counted, not timed."""
    calls = {"bptt_row": 0, "row_sums": 0, "backward": 0}
    for name in calls:
        real = getattr(epochs, name)

        def counted(*a: object, _real=real, _name=name, **kw: object) -> object:
            calls[_name] += 1
            return _real(*a, **kw)

        monkeypatch.setattr(epochs, name, counted)
    st = Stepper(exploding(200, 100.0, 0))
    built = dict(calls)
    pos = st.first_nonfinite()
    assert pos is not None and pos.phase is Phase.BPTT
    t, _ = st.layout.term(pos.index)
    assert t > 100
    used = {n: calls[n] - built[n] for n in calls}
    assert used["bptt_row"] <= 6, used
    assert used["row_sums"] <= 12, used
    assert used["backward"] <= 2 * 8 + 2, used  # log2(200) < 8
    # and it is the boundary: the step before shows finite numbers
    assert not st.peek(pos).finite
    st.goto(pos)
    st.prev()
    assert st.view().finite
    # once per epoch: asking again costs nothing
    before = dict(calls)
    assert st.first_nonfinite() == pos
    assert st.first_nonfinite_in(st.epoch(1)) == pos
    assert calls == before


def test_finding_it_can_be_cancelled_and_asked_again() -> None:
    st = Stepper(exploding(80, 1e5, 7))
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # stop at the third pass
    with pytest.raises(Cancelled):
        st.current.first_nonfinite(stop)
    assert not st.current.first_nonfinite_known
    assert st.first_nonfinite() == first_by_stepping(st, 1)
    assert st.current.first_nonfinite_known


@pytest.mark.slow
def test_new_default_init_does_not_overflow_in_epoch_1_at_large_sizes() -> None:
    """``rnn-tui new`` without --scale at H = 1024, D = 16, T = 1000, eta = 0.1
    (issue 19's repro size): 0.5/sqrt(fan-in) keeps epoch 1 finite, where
    the plain N(0, 0.5^2) draw (still what --scale 0.5 gives) overflows."""
    K, D, H, T = 8, 16, 1024, 1000
    rng = np.random.default_rng(1)
    text = rng.integers(0, K, T + 1)
    inputs, targets = text[:-1], text[1:]

    def epoch_1_finite(p: Params) -> bool:
        g = backward(p, forward(p, inputs, targets))
        return g.is_finite() and sgd(p, g, 0.1).is_finite()

    assert epoch_1_finite(seeded_params(K, D, H, seed=0, fan_in=True))
    assert not epoch_1_finite(seeded_params(K, D, H, seed=0, scale=0.5))
