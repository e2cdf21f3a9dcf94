"""fast_train.train (the fused loop behind `rnn-tui train`) is bit for bit the
forward/backward/sgd loop, in both dE conventions, finite or not."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_tui.core.fast_train import train
from rnn_tui.core.maths import backward, forward, sgd
from rnn_tui.core.model_file import load, validate
from rnn_tui.core.params import FILE_ORDER

from helpers.models import random_spec


def slow(spec, n, mode):
    p = spec.initial_params()
    inputs, targets = spec.indices()
    losses = []
    for _ in range(n):
        f = forward(p, inputs, targets)
        losses.append(f.total_loss)
        p = sgd(p, backward(p, f, mode), spec.learning_rate)
    return np.array(losses), p


def diverging(lr: float):
    doc = load("hello")[0].model_dump()
    doc["learning_rate"] = lr
    return validate(doc, "diverging")


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize("make", [
    lambda: load("hello")[0], lambda: load("hello-handout")[0],
    lambda: random_spec(27, 16, 64, 100, seed=1), lambda: random_spec(8, 4, 8, 12, seed=2),
    lambda: diverging(1e308), lambda: diverging(50.0),
])
def test_train_is_bit_for_bit_the_stepwise_loop(make, mode) -> None:
    spec = make()
    want, p_want = slow(spec, 30, mode)
    inputs, targets = spec.indices()
    got, p_got = train(spec.initial_params(), inputs, targets, spec.learning_rate, 30, mode)
    assert np.array_equal(got, want, equal_nan=True)
    for n in FILE_ORDER:
        assert np.array_equal(p_got.get(n), p_want.get(n), equal_nan=True)
