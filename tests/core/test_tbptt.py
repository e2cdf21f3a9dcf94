"""Truncated BPTT, optimizers and clipping (issue 16) against the independent
autograd reference, chunk by chunk; and the handout's loop as a special case."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from rnn_tui.core import optim, tbptt
from rnn_tui.core.maths import Params, forward
from rnn_tui.core.model_errors import describe
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.report import training
from rnn_tui.core.train_options import TrainOptions

import helpers.reference_autograd as ref
from helpers.models import random_spec

TOL = 1e-9
CLIPS = {"none": {}, "clip_value": {"clip_value": 0.3}, "clip_norm": {"clip_norm": 0.5}}


def as_dict(p: Params) -> dict:
    return {n: p.get(n) for n in UPDATE_ORDER}


def close(a, b, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, what
    err = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0))
    assert err <= TOL, f"{what}: {err:.2e}"


@pytest.fixture(scope="module")
def spec():
    return random_spec(K=7, D=4, H=5, T=40, seed=16, lr=0.1)


@pytest.mark.parametrize("clipping", list(CLIPS))
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
def test_every_chunk_matches_autograd(spec, optimizer: str, clipping: str) -> None:
    opts = TrainOptions(optimizer=optimizer, seq_length=7, momentum=0.8, beta1=0.85,
                        beta2=0.99, eps=1e-7, **CLIPS[clipping])
    inputs, targets = spec.indices()
    p0 = spec.initial_params()
    per_epoch = len(tbptt.spans(spec.T, 7))
    assert per_epoch == 6 and tbptt.spans(spec.T, 7)[-1] == (35, 40)  # the last is shorter
    theirs = ref.train_chunks(as_dict(p0), list(inputs), list(targets), spec.learning_rate, 7, 3,
                              optimizer, opts.clip_value, opts.clip_norm, mu=0.8, beta1=0.85,
                              beta2=0.99, eps=1e-7)
    ours = list(zip(range(3 * per_epoch),
                    tbptt.training(p0, inputs, targets, spec.learning_rate, opts), strict=False))
    assert len(theirs) == len(ours) == 18
    clipped_any = False
    for r, (_, ch) in zip(theirs, ours, strict=True):
        where = f"epoch {ch.epoch} chunk {ch.j}"
        assert (ch.epoch, ch.start) == (r["epoch"], r["start"]), where
        close(ch.h0, r["h0"], f"{where} h0")
        close(ch.fwd.h[1:], r["h"], f"{where} h")
        close(ch.fwd.total_loss, r["loss"], f"{where} loss")
        for n in UPDATE_ORDER:
            close(ch.params.get(n), r["params"][n], f"{where} {n}")
            close(ch.grads.get(n), r["grads"][n], f"{where} d{n}")
            close(ch.clipped.grads.get(n), r["clipped"][n], f"{where} clipped d{n}")
            close(ch.after.get(n), r["after"][n], f"{where} {n} after")
            clipped_any |= not np.array_equal(ch.grads.get(n), ch.clipped.grads.get(n))
        if ch.j == 0:
            assert not ch.h0.any()
        if optimizer == "adam":
            assert ch.state.n == r["n"]
    assert clipped_any == (clipping != "none")  # the clipping cases really clip


def test_forward_from_zero_h0_is_the_default(spec) -> None:
    inputs, targets = spec.indices()
    p = spec.initial_params()
    a, b = forward(p, inputs, targets, np.zeros(spec.hidden_size)), forward(
        p, inputs, targets)
    for field in ("x", "Ux", "Wh", "h", "omega", "y_hat", "loss"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field


@pytest.mark.parametrize("mode", ["x_k", "x_t"])
@pytest.mark.parametrize("seq_length", [None, 40, 41, 1000])
def test_long_seq_length_is_the_handout_bit_for_bit(spec, mode: str, seq_length) -> None:
    opts = TrainOptions(seq_length=seq_length)
    inputs, targets = spec.indices()
    ours = tbptt.training(spec.initial_params(), inputs, targets, spec.learning_rate, opts, mode)
    for (_, ch), r in zip(zip(range(4), ours, strict=False), training(spec, mode), strict=False):
        assert (ch.epoch, ch.j, ch.start) == (r.number, 0, 0)
        assert ch.fwd.total_loss == r.fwd.total_loss
        for n in UPDATE_ORDER:
            assert np.array_equal(ch.grads.get(n), r.grads.get(n)), n
            assert np.array_equal(ch.after.get(n), r.after.get(n)), n


def test_train_sums_chunk_losses_and_ends_where_training_does(spec) -> None:
    opts = TrainOptions(optimizer="adagrad", clip_value=5.0, seq_length=7)
    inputs, targets = spec.indices()
    p0 = spec.initial_params()
    losses, p, state = tbptt.train(p0, inputs, targets, 0.1, opts, 2)
    chunks = [ch for _, ch in zip(range(12), tbptt.training(p0, inputs, targets, 0.1, opts),
                                  strict=False)]
    for e in (1, 2):
        assert losses[e - 1] == sum(ch.fwd.total_loss for ch in chunks if ch.epoch == e)
    for n in UPDATE_ORDER:
        assert np.array_equal(p.get(n), chunks[-1].after.get(n))
        assert np.array_equal(state.m.get(n), chunks[-1].state.m.get(n))


def test_a_chunk_recomputed_is_bit_identical(spec) -> None:
    """Stepping back through chunks: a chunk is a pure function of its inputs."""
    opts = TrainOptions(optimizer="adam", clip_norm=0.5, seq_length=7)
    inputs, targets = spec.indices()
    chunks = [ch for _, ch in zip(range(9), tbptt.training(spec.initial_params(), inputs,
                                                          targets, 0.1, opts), strict=False)]
    ch = chunks[-2]
    again = tbptt.chunk_step(ch.params, ch.state_before, ch.h0, inputs[ch.start:ch.stop],
                             targets[ch.start:ch.stop], 0.1, opts, epoch=ch.epoch, j=ch.j,
                             start=ch.start)
    for n in UPDATE_ORDER:
        assert np.array_equal(again.after.get(n), ch.after.get(n))
        assert np.array_equal(again.state.v.get(n), ch.state.v.get(n))
    assert np.array_equal(chunks[-1].h0, ch.fwd.h[-1])  # h carried to the next chunk
    assert chunks[-1].j == 2 and chunks[-1].epoch == 2


def test_adam_counts_updates_across_chunks_and_epochs(spec) -> None:
    opts = TrainOptions(optimizer="adam", seq_length=7)
    inputs, targets = spec.indices()
    chunks = [ch for _, ch in zip(range(18), tbptt.training(spec.initial_params(), inputs,
                                                           targets, 0.1, opts), strict=False)]
    assert [ch.state.n for ch in chunks] == list(range(1, 19))
    assert [ch.epoch for ch in chunks] == [1] * 6 + [2] * 6 + [3] * 6
    # the 13th update (epoch 3, chunk 0) uses n = 13 in both bias corrections
    ch = chunks[12]
    g = ch.clipped.grads.get("W")
    m = 0.9 * ch.state_before.m.get("W") + 0.1 * g
    v = 0.999 * ch.state_before.v.get("W") + 0.001 * g * g
    want = ch.params.W - 0.1 * (m / (1 - 0.9**13)) / (np.sqrt(v / (1 - 0.999**13)) + 1e-8)
    close(ch.after.W, want, "W after the 13th update")
    wrong = ch.params.W - 0.1 * (m / (1 - 0.9**1)) / (np.sqrt(v / (1 - 0.999**1)) + 1e-8)
    assert np.max(np.abs(ch.after.W - wrong)) > 1e-6  # a restarted n would be caught


def test_clip_norm_scales_a_large_gradient_and_leaves_a_small_one(spec) -> None:
    rng = np.random.default_rng(3)
    p = spec.initial_params()
    g = Params(**{n: 100.0 * rng.normal(size=p.get(n).shape) for n in UPDATE_ORDER})
    norm = np.sqrt(sum(float((g.get(n) ** 2).sum()) for n in UPDATE_ORDER))
    c = optim.clip_norm(g, 1.0)
    assert c.norm == pytest.approx(norm, rel=1e-12) and norm > 100
    assert c.scale == pytest.approx(1.0 / norm, rel=1e-12)
    assert optim.grad_norm(c.grads) == pytest.approx(1.0, rel=1e-12)
    for n in UPDATE_ORDER:  # every one of the six scaled by the same factor
        close(c.grads.get(n), g.get(n) / norm, n)
    small = optim.clip_norm(g, 10 * norm)
    assert small.scale == 1.0 and all(small.grads.get(n) is g.get(n) for n in UPDATE_ORDER)
    v = optim.clip_value(g, 5.0)
    assert max(float(np.abs(v.get(n)).max()) for n in UPDATE_ORDER) == 5.0


def test_momentum_and_adagrad_by_hand() -> None:
    theta, g, v = np.array([1.0, -2.0]), np.array([0.5, 4.0]), np.array([1.0, 0.0])
    t, v2 = optim.momentum_param(theta, g, v, eta=0.1, mu=0.9)
    assert np.array_equal(v2, [1.4, 4.0]) and np.allclose(t, [1.0 - 0.14, -2.4], atol=1e-15)
    t, m = optim.adagrad_param(theta, g, np.array([0.75, 0.0]), eta=0.1)
    assert np.array_equal(m, [1.0, 16.0])
    assert np.allclose(t, [1.0 - 0.05 / np.sqrt(1 + 1e-8), -2.0 - 0.4 / np.sqrt(16 + 1e-8)],
                       rtol=0, atol=1e-15)


class _WithTrain(BaseModel):
    """How model_file.ModelSpec will adopt the table: one field."""

    model_config = ConfigDict(extra="forbid", strict=True)
    train: TrainOptions = TrainOptions()


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ({"optimizer": "adagard"}, "train.optimizer", "unknown optimizer 'adagard'; did you "
         "mean 'adagrad'? expected one of sgd, momentum, adagrad, adam"),
        ({"optimizer": "Adam"}, "train.optimizer", "did you mean 'adam'?"),
        ({"optimizer": 3}, "train.optimizer", "expected one of"),
        ({"clip_value": 5.0, "clip_norm": 1.0}, "train.clip_norm",
         "give clip_value or clip_norm, not both"),
        ({"seq_length": 0}, "train.seq_length", "must be >= 1, got 0"),
        ({"momentum": 1.0}, "train.momentum", "must be < 1"),
        ({"eps": float("inf")}, "train.eps", "finite number"),
        ({"seq_length": 2.5}, "train.seq_length", "expected a whole number"),
        ({"clip_value": "5"}, "train.clip_value", "number"),
    ],
)
def test_train_options_validation(doc: dict, field: str, words: str) -> None:
    """Each error names train.FIELD and says what is wrong, through the model
    file's own error reporting (what the CLI prints)."""
    with pytest.raises(ValidationError) as info:
        _WithTrain.model_validate({"train": doc})
    where, message = describe(info.value, _WithTrain)
    assert where == field, (where, message)
    assert words in message, message


def test_train_options_refuse_unknown_keys() -> None:
    with pytest.raises(ValidationError) as info:
        TrainOptions.model_validate({"sequence_length": 5})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_train_options_defaults_are_the_handout() -> None:
    assert TrainOptions().is_handout
    assert not TrainOptions(seq_length=25).is_handout
    assert TrainOptions(optimizer="adagrad", clip_value=5, seq_length=25).clip_value == 5.0


def test_chunk_gradient_with_a_carried_h0_matches_finite_differences(spec) -> None:
    """Central differences of the chunk's loss, h0 held fixed (no gradient through it)."""
    inputs, targets = spec.indices()
    chunks = [ch for _, ch in zip(range(3), tbptt.training(spec.initial_params(), inputs,
                                                          targets, 0.1, TrainOptions(seq_length=7)),
                                  strict=False)]
    ch = chunks[2]
    assert np.abs(ch.h0).max() > 0.1  # really carried
    xs, ys = inputs[ch.start:ch.stop], targets[ch.start:ch.stop]
    rng = np.random.default_rng(0)
    eps = 1e-6
    for n in UPDATE_ORDER:
        theta = ch.params.get(n)
        for _ in range(6):
            idx = tuple(int(rng.integers(s)) for s in theta.shape)
            up, down = theta.copy(), theta.copy()
            up[idx] += eps
            down[idx] -= eps
            loss = [forward(ch.params.replace(n, v), xs, ys, ch.h0).total_loss
                    for v in (up, down)]
            numeric = (loss[0] - loss[1]) / (2 * eps)
            assert abs(numeric - ch.grads.get(n)[idx]) <= 1e-6 * max(1.0, abs(numeric)), (n, idx)
