"""The formula panel's update step with a [train] table (issue 16): the
optimizer's own equations with the engine's numbers, not the handout's SGD."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.model_file import validate
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.core.text import fmt
from rnn_tui.tui.widgets.formula_layout import padded

from helpers.models import random_spec
from helpers.scenarios import make_app, settle
from helpers.screen import text_of


def chunked_spec(**train: object):
    base = random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)
    return validate({**base.model_dump(), "train": {"seq_length": 6, **train}}, "t")


def row(a: np.ndarray) -> str:
    """A row as the panel writes it: a power of ten factored out of tiny
    entries (Adam's v: ``1e-5·[ 1.2345 …]``)."""
    factor, top = "", float(np.abs(a).max())
    if 0 < top < 1e-3:
        e = int(np.floor(np.log10(top)))
        factor, a = f"1e{e}·", a / 10.0**e
    return factor + "[" + " ".join(padded(float(x)) for x in a) + "]"


async def formula_at(train: dict, index: int) -> tuple[str, object, str]:
    app = make_app(chunked_spec(**train))
    async with app.run_test(size=(160, 50)) as pilot:
        app.stepper.goto(Position(epoch=2, chunk=1, phase=Phase.UPDATE, index=index))
        app.moved()
        await settle(pilot)
        return text_of(app, "#formula"), app.stepper.current, text_of(app, "#update")


async def test_adam_with_clip_norm() -> None:
    text, ep, update = await formula_at({"optimizer": "adam", "clip_norm": 0.5}, 1)  # c
    s0, s1 = ep.state_before, ep.state_after
    n = s1.n
    assert "c_new = c − η·m̂/(√v̂ + ε),  η = 0.1" in text and "−η·∂L/∂c" not in text
    norm = f"‖g‖₂ = {fmt(ep.clipped.norm)} (all six)"
    assert norm in text and norm in update  # as the update panel says it
    assert f"{row(ep.grads.c)}·{fmt(ep.clipped.scale)}" in text
    assert f"= {row(ep.clipped.grads.c)}" in text
    assert f"0.9·{row(s0.m.c)}" in text and f"0.1·{row(ep.clipped.grads.c)}" in text
    assert f"= {row(s1.m.c)}" in text and f"0.999·{row(s0.v.c)}" in text
    c1, c2 = 1 - 0.9**n, 1 - 0.999**n
    assert f"m̂ = m/(1−β1ⁿ) = m/{fmt(c1)} = {row(s1.m.c / c1)},  n = {n}" in text
    assert f"v̂ = v/(1−β2ⁿ) = v/{fmt(c2)} = {row(s1.v.c / c2)}" in text
    assert f"= {row(ep.params.c)} − 0.1·m̂/(√v̂ + ε)" in text
    assert f"= c + {row(ep.params_after.c - ep.params.c)}" in text
    assert f"= {row(ep.params_after.c)}" in text


@pytest.mark.parametrize("train", [{"optimizer": "adagrad", "clip_value": 0.3},
                                   {"optimizer": "momentum"}])
async def test_adagrad_with_clip_value_and_momentum(train: dict) -> None:
    text, ep, _ = await formula_at(train, 1)
    g = ep.clipped.grads.c
    if "clip_value" in train:
        assert f"g = clip(∂L/∂c, −0.3, 0.3) = clip({row(ep.grads.c)})" in text
        assert np.abs(g).max() == 0.3 and f"= {row(g)}" in text
        assert "c_new = c − η·g/√(m + 1e-8)" in text
        m0, m1 = ep.state_before.m.c, ep.state_after.m.c
        assert f"m ← m + g⊙g = {row(m0)}" in text and f"+ {row(g * g)}" in text
        assert f"= {row(m1)}" in text and f"√(m + 1e-8) = {row(np.sqrt(m1 + 1e-8))}" in text
    else:
        assert "v ← μ·v + g;  c_new = c − η·v,  μ = 0.9" in text
        assert f"g = ∂L/∂c = {row(g)}" in text
        v0, v1 = ep.state_before.v.c, ep.state_after.v.c
        assert f"v ← μ·v + g = 0.9·{row(v0)}" in text and f"= {row(v1)}" in text
        assert "− 0.1·v" in text
    assert f"= {row(ep.params_after.c)}" in text
