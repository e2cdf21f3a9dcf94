"""The fast path of truncated BPTT is bit-for-bit the step path."""

from __future__ import annotations

from itertools import islice

import numpy as np
import pytest

from rnn_tui.core import tbptt, tbptt_kernel
from rnn_tui.core.optim import AdagradState, AdamState, MomentumState
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.train_options import TrainOptions

from helpers.models import random_spec

CLIPS = {"none": {}, "clip_value": {"clip_value": 0.3}, "clip_norm": {"clip_norm": 0.5}}


def state_arrays(s) -> list[np.ndarray]:
    if isinstance(s, MomentumState):
        return [s.v.get(n) for n in UPDATE_ORDER]
    if isinstance(s, AdagradState):
        return [s.m.get(n) for n in UPDATE_ORDER]
    if isinstance(s, AdamState):
        return [s.m.get(n) for n in UPDATE_ORDER] + [s.v.get(n) for n in UPDATE_ORDER]
    return []


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize("clipping", list(CLIPS))
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
def test_kernel_is_the_step_path_bit_for_bit(optimizer: str, clipping: str, mode: str) -> None:
    spec = random_spec(K=7, D=4, H=5, T=40, seed=16, lr=0.1, mode=mode)
    opts = TrainOptions(optimizer=optimizer, seq_length=7, momentum=0.8, beta1=0.85, beta2=0.99,
                        eps=1e-7, **CLIPS[clipping])
    inputs, targets = spec.indices()
    p0 = spec.initial_params()
    n = 15  # two epochs of 6 chunks (the last one shorter) and three more
    slow = list(islice(tbptt.training(p0, inputs, targets, 0.1, opts, mode), n))
    losses, after, state = tbptt_kernel.train_chunks(p0, inputs, targets, 0.1, opts, n, mode)
    assert losses.tolist() == [ch.fwd.total_loss for ch in slow]
    for name in UPDATE_ORDER:
        assert np.array_equal(after.get(name), slow[-1].after.get(name)), name
    mine, theirs = state_arrays(state), state_arrays(slow[-1].state)
    assert len(mine) == len(theirs) and all(np.array_equal(a, b) for a, b in zip(mine, theirs,
                                                                                  strict=True))
    if optimizer == "adam":
        assert state.n == slow[-1].state.n == n


def test_kernel_epochs_are_tbptt_train() -> None:
    spec = random_spec(K=6, D=3, H=4, T=30, seed=2)
    opts = TrainOptions(optimizer="adagrad", clip_value=5.0, seq_length=4)
    inputs, targets = spec.indices()
    a = tbptt.train(spec.initial_params(), inputs, targets, 0.1, opts, 3)
    b = tbptt_kernel.train(spec.initial_params(), inputs, targets, 0.1, opts, 3)
    assert a[0].tolist() == b[0].tolist()
    assert all(np.array_equal(a[1].get(n), b[1].get(n)) for n in UPDATE_ORDER)


def test_kernel_with_the_whole_text_is_maths_train() -> None:
    from rnn_tui.core.fast_train import train

    spec = random_spec(K=6, D=3, H=4, T=30, seed=3)
    inputs, targets = spec.indices()
    losses, after = train(spec.initial_params(), inputs, targets, 0.1, 5)
    mine, p, _ = tbptt_kernel.train(spec.initial_params(), inputs, targets, 0.1,
                                    TrainOptions(), 5)
    assert mine.tolist() == losses.tolist()
    assert all(np.array_equal(p.get(n), after.get(n)) for n in UPDATE_ORDER)
