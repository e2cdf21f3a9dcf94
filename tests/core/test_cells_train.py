"""[train] options and truncated BPTT for the gated cells (cells.optim,
cells.tbptt) against issue 16's loop written again with autograd."""

from __future__ import annotations

from itertools import islice

import numpy as np
import pytest

from rnn_tui.core.cells import train
from rnn_tui.core.cells.optim import clip, grad_norm, initial_state
from rnn_tui.core.cells.tbptt import chunk_step, training
from rnn_tui.core.cells.tbptt import train as tbptt_train
from rnn_tui.core.train_options import TrainOptions

import helpers.reference_autograd as ref
from helpers.models import random_cell

CONFIGS = [  # optimizer and clipping, as issue 16's [train] table
    {"optimizer": "sgd"},
    {"optimizer": "momentum", "momentum": 0.8, "clip_value": 0.5},
    {"optimizer": "adagrad", "clip_norm": 1.0},
    {"optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
]


def assert_close(ours, theirs, what: str, tol: float = 1e-9) -> None:
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    scale = max(1.0, float(np.abs(theirs).max()))
    err = float(np.abs(ours - theirs).max()) / scale
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


@pytest.mark.parametrize("config", CONFIGS, ids=[c["optimizer"] for c in CONFIGS])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_every_chunk_of_two_epochs_matches_autograd(cell: str, config: dict) -> None:
    """seq_length 5 over 13 steps (chunks 5, 5, 3), state carried, 2 epochs:
    the carried state, loss, raw and clipped gradients and updated parameters."""
    p, inputs, targets = random_cell(cell, 6, 3, 4, 13, seed=21)
    options = TrainOptions(seq_length=5, **config)
    constants = {k: config[k] for k in ("beta1", "beta2", "eps") if k in config}
    if "momentum" in config:
        constants["mu"] = config["momentum"]
    theirs = ref.cell_train_chunks(
        cell, {n: p[n].copy() for n in p.names}, list(map(int, inputs)),
        list(map(int, targets)), 0.1, 5, 2, config["optimizer"],
        config.get("clip_value"), config.get("clip_norm"), **constants)
    ours = list(islice(training(p, inputs, targets, 0.1, options), len(theirs)))
    assert [(c.epoch, c.start) for c in ours] == [(r["epoch"], r["start"]) for r in theirs]
    clipped_somewhere = False
    for c, r in zip(ours, theirs, strict=True):
        what = f"epoch {c.epoch} chunk at {c.start}"
        assert_close(c.s0[0], r["h0"], f"{what} h_0")
        if cell == "lstm":
            assert_close(c.s0[1], r["C0"], f"{what} C_0")
        assert_close(c.fwd.h[1:], r["h"], f"{what} h")
        assert_close(c.fwd.total_loss, r["loss"], f"{what} loss")
        for n in p.names:
            assert_close(c.grads[n], r["grads"][n], f"{what} d{n}")
            assert_close(c.clipped.grads[n], r["clipped"][n], f"{what} clipped d{n}")
            assert_close(c.after[n], r["after"][n], f"{what} {n} after")
        clipped_somewhere |= any(not np.array_equal(c.grads[n], c.clipped.grads[n])
                                 for n in p.names)
    assert clipped_somewhere == ("clip_value" in config or "clip_norm" in config)
    assert np.any(ours[1].s0[0] != 0) and not np.any(ours[3].s0[0])  # carried; reset per epoch


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_one_chunk_sgd_is_the_plain_loop_and_chunks_recompute_bit_for_bit(cell: str) -> None:
    p, inputs, targets = random_cell(cell, 6, 2, 3, 9, seed=4)
    losses, after, _ = tbptt_train(p, inputs, targets, 0.1, TrainOptions(), 3)
    plain, plain_after = train(p, inputs, targets, 0.1, 3)
    assert np.array_equal(losses, plain)
    assert all(np.array_equal(after[n], plain_after[n]) for n in p.names)
    options = TrainOptions(optimizer="adam", seq_length=4)
    chunks = list(islice(training(p, inputs, targets, 0.1, options), 5))
    c = chunks[4]
    again = chunk_step(c.params, c.state_before, c.s0, inputs[c.start:c.start + 4],
                       targets[c.start:c.start + 4], 0.1, options, epoch=c.epoch, j=c.j,
                       start=c.start)
    assert all(np.array_equal(again.after[n], c.after[n]) for n in p.names)
    losses, _, state = tbptt_train(p, inputs, targets, 0.1, options, 2)
    assert state.n == 6 and losses.shape == (2,)  # type: ignore[union-attr]


def test_clip_norm_scales_every_gradient_together() -> None:
    p, inputs, targets = random_cell("lstm", 6, 2, 3, 9, seed=4)
    from rnn_tui.core.cells import backward, forward

    g = backward(p, forward(p, inputs, targets))
    norm = grad_norm(g)
    assert norm == pytest.approx(np.sqrt(sum(float((g[n] ** 2).sum()) for n in p.names)))
    c = clip(TrainOptions(clip_norm=norm / 2), g)
    assert c.scale == pytest.approx(0.5) and grad_norm(c.grads) == pytest.approx(norm / 2)
    assert clip(TrainOptions(clip_norm=norm * 2), g).grads is g
    with pytest.raises(ValueError, match="unknown optimizer"):
        initial_state("rmsprop", p)
