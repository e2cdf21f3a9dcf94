"""The why view and the quiz for issue 16's quantities: clipping, the
optimizer's state, the carried h_0 and generation. Each label's numbers are
recomputed here from the equations, independently of the engine."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core import quiz, why_train
from rnn_tui.core.model_file import load, validate
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.sample import records
from rnn_tui.core.stepper import Phase, Position, Stepper
from rnn_tui.core.text import fmt
from rnn_tui.core.why import Explainer

from helpers.models import random_spec


def stepper(**train: object) -> Stepper:
    base = random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)
    return Stepper(validate({**base.model_dump(), "train": {"seq_length": 6, **train}}, "t"))


def update_view(st: Stepper, name: str):
    return st.peek(Position(epoch=2, chunk=1, phase=Phase.UPDATE,
                            index=UPDATE_ORDER.index(name)))


def test_adam_with_clip_norm_entries_carry_their_numbers() -> None:
    st = stepper(optimizer="adam", clip_norm=0.5)
    v = update_view(st, "W")
    ep = v.epoch
    tree = Explainer(v).update_tree("W")
    assert tree.label == "W_new = W − η·m̂/(√v̂ + ε) (adam)"
    first = tree.open()[0]
    # The scale and the norm from the raw gradients of all six, by hand:
    norm = np.sqrt(sum(float((ep.grads.get(n) ** 2).sum()) for n in UPDATE_ORDER))
    assert norm > 0.5 and abs(norm - ep.clipped.norm) < 1e-12
    scale = 0.5 / norm
    g = ep.grads.W[0, 0] * scale
    m0, v0 = ep.state_before.m.W[0, 0], ep.state_before.v.W[0, 0]
    n = ep.state_before.n + 1
    m1, v1 = 0.9 * m0 + 0.1 * g, 0.999 * v0 + 0.001 * g * g
    m_hat, v_hat = m1 / (1 - 0.9**n), v1 / (1 - 0.999**n)
    step = m_hat / (np.sqrt(v_hat) + 1e-8)
    after = ep.params.W[0, 0] - 0.1 * step
    assert abs(after - ep.params_after.W[0, 0]) < 1e-12
    assert first.label == (f"W_new[1,1] = W − η·m̂/(√v̂ + ε) = {fmt(ep.params.W[0, 0])} − 0.1·"
                           f"{fmt(step)} = {fmt(after)}")
    clip, m, vv, bias, hats, ratio = first.open()
    assert clip.label == f"g[1,1] = dW[1,1]·scale = {fmt(ep.grads.W[0, 0])}·{fmt(scale)} = {fmt(g)}"
    scale_why = clip.open()[0]
    assert f"min(1, 0.5/{fmt(norm)}) = {fmt(scale)}" in scale_why.label
    assert [w.label.split(" = ")[0] for w in scale_why.open()] == [f"Σ d{n}²" for n in UPDATE_ORDER]
    assert m.label == f"m[1,1] ← β1·m + (1−β1)·g = 0.9·{fmt(m0)} + 0.1·{fmt(g)} = {fmt(m1)}"
    assert vv.label == (f"v[1,1] ← β2·v + (1−β2)·g² = 0.999·{fmt(v0)} + 0.001·{fmt(g * g)} = "
                        f"{fmt(v1)}")
    assert bias.label.startswith(f"n = {n} ") and fmt(1 - 0.9**n) in bias.label
    assert f"{fmt(m_hat)}" in hats.label and f"{fmt(v_hat)}" in hats.label
    assert ratio.label.endswith(f"= {fmt(step)}")


@pytest.mark.parametrize("optimizer", ["adagrad", "momentum"])
def test_adagrad_clip_value_and_momentum_entries(optimizer: str) -> None:
    st = stepper(optimizer=optimizer, clip_value=0.3)
    v = update_view(st, "c")
    ep = v.epoch
    entries = Explainer(v).update_tree("c").open()
    raw = ep.grads.c
    out = int(np.argmax(np.abs(raw)))  # the largest raw entry is clipped
    assert abs(raw[out]) > 0.3
    entry = entries[out]
    clip = entry.open()[0]
    g = float(np.clip(raw[out], -0.3, 0.3))
    assert clip.label == (f"g['{v.spec.alphabet[out]}'] = clip(dc['{v.spec.alphabet[out]}'], "
                          f"−0.3, 0.3) = clip({fmt(raw[out])}) = {fmt(g)} (outside, set to "
                          f"{fmt(g)})")
    state = entry.open()[1]
    if optimizer == "adagrad":
        m0 = ep.state_before.m.c[out]
        assert state.label.startswith(f"m['{v.spec.alphabet[out]}'] ← m + g² = {fmt(m0)} + "
                                      f"{fmt(g * g)} = {fmt(m0 + g * g)}")
        step = g / np.sqrt(m0 + g * g + 1e-8)
    else:
        v0 = ep.state_before.v.c[out]
        assert state.label.startswith(f"v['{v.spec.alphabet[out]}'] ← μ·v + g = 0.9·{fmt(v0)} + "
                                      f"{fmt(g)} = {fmt(0.9 * v0 + g)}")
        step = 0.9 * v0 + g
    assert abs(ep.params.c[out] - 0.1 * step - ep.params_after.c[out]) < 1e-12
    assert entry.label.endswith(f"{fmt(ep.params.c[out])} − 0.1·{fmt(step)} = "
                                f"{fmt(ep.params_after.c[out])}")


def test_the_carried_h0_is_explained_with_the_previous_chunks_last_h() -> None:
    st = stepper(optimizer="adagrad")
    v = st.peek(Position(epoch=1, chunk=2, phase=Phase.FORWARD, index=0))
    last = st.peek(Position(epoch=1, chunk=1, phase=Phase.FORWARD, index=5)).fwd.h[6]
    roots = Explainer(v).roots()
    assert roots[-1].label.startswith("h_0 = the last h of chunk 2")
    h0 = roots[-1].open()[1]
    assert h0.label.startswith(f"h_0[2] = h_6[2] of chunk 2 = {fmt(last[1])} (carried over")
    assert Explainer(v).h(0, 1).label == h0.label
    q = quiz.question_for(v)
    assert q is not None and q.answer == last[0] and "h_0[1]" in q.prompt
    first = st.peek(Position(epoch=1, chunk=0, phase=Phase.FORWARD, index=0))
    assert not Explainer(first).roots()[-1].label.startswith("h_0")  # chunk 1 starts at 0


def test_the_quiz_asks_for_the_clipped_gradient_the_state_and_the_new_value() -> None:
    st = stepper(optimizer="adam", clip_value=0.3)
    answers = []
    for name in ("V", "c", "W"):  # turns 0, 1, 2
        v = update_view(st, name)
        q = quiz.question_for(v)
        assert q is not None
        answers.append((q.prompt.split(":")[1].split("?")[0], q.answer))
    ep = update_view(st, "V").epoch
    assert answers[0] == (" what is the clipped gradient g[1,1]", ep.clipped.grads.V[0, 0])
    assert answers[1] == (" what is m[1] after this update", ep.state_after.m.c[0])
    assert answers[2] == (" what is W_new[1,1]", ep.params_after.W[0, 0])
    assert quiz.question_for(update_view(st, "V")).check(fmt(ep.clipped.grads.V[0, 0]))[0]


@pytest.mark.parametrize("tau", [0.0, 0.7])
def test_generation_entries_and_question(tau: float) -> None:
    spec = load("hello")[0]
    p = Stepper(spec).epoch(20).params
    g = records(p, [0, 1], 8, tau, 3)
    s = g.steps[2]
    over = s.omega / (tau or 1.0)
    y = np.exp(over - over.max()) / np.exp(over - over.max()).sum()  # softmax(Ω/τ), by hand
    assert np.allclose(y, s.y_hat, atol=1e-15, rtol=0)
    choice, y_tree, omega_tree = why_train.generation_roots(g, 2, spec.alphabet, 2)
    pick = repr(spec.alphabet[s.next])
    if tau == 0:
        assert s.next == int(np.argmax(s.omega))
        assert choice.label.startswith(f"next = argmax Ω_4 = {pick}")
    else:
        cdf = np.cumsum(y)
        assert s.u is not None and cdf[s.next] > s.u and (s.next == 0 or cdf[s.next - 1] <= s.u)
        assert choice.label == (f"next = {pick}, draw 3 of default_rng(3) from ŷ_4: "
                                f"u = {fmt(s.u)}, and Σŷ up to {pick} = {fmt(cdf[s.next])} "
                                "is the first sum above u")
    ys = y_tree.open()
    assert [w.label.split(" = ")[-1] for w in ys] == [fmt(x) for x in y]
    if tau:
        assert omega_tree.open()[1].label == (f"Ω_4['e']/τ = {fmt(s.omega[1])}/0.7 = "
                                              f"{fmt(over[1])}")
    q = quiz.generation_question(g, 2, spec.alphabet, 2)
    assert q.answer == (spec.alphabet[s.next] if tau == 0 else s.y_hat[s.next])
    assert q.check(spec.alphabet[s.next] if tau == 0 else fmt(s.y_hat[s.next]))[0]


def test_the_walk_draws_what_a_plain_default_rng_draws() -> None:
    """records() reads each draw's u from a second generator: the draws
    themselves stay NumPy's default_rng(seed).choice, as `sample` documents."""
    from rnn_tui.core.sample import step_h

    spec = load("hello")[0]
    p = Stepper(spec).epoch(10).params
    g = records(p, [0], 40, 0.8, 7)
    rng, h, current, picks = np.random.default_rng(7), np.zeros(1), 0, []
    for _ in range(40):
        h, omega = step_h(p, current, h)
        z = np.exp(omega / 0.8 - (omega / 0.8).max())
        current = int(rng.choice(4, p=z / z.sum()))
        picks.append(current)
    assert [s.next for s in g.steps] == picks and len(set(picks)) > 1
    assert all(s.u is not None for s in g.steps)
