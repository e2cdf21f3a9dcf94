"""The stepper with [train] (issue 16): chunks of truncated BPTT, optimizers and
clipping, step by step against the independent autograd reference; stepping
back through chunks; the handout's layout unchanged without seq_length."""

from __future__ import annotations

import numpy as np
import pytest
from autograd import grad
from autograd import numpy as anp

from rnn_tui.core import gradcheck, tbptt
from rnn_tui.core.maths import Params, backward, backward_by_terms, forward
from rnn_tui.core.model_file import ModelSpec, load, validate
from rnn_tui.core.params import BPTT_PARAMS, OUTPUT_PARAMS, UPDATE_ORDER
from rnn_tui.core.stepper import Layout, Phase, Position, Stepper
from rnn_tui.core.train_options import TrainOptions

import helpers.reference_autograd as ref
from helpers.marks import slow_after
from helpers.models import random_spec

TOL = 1e-9
N = 6
CLIPS = {"none": {}, "clip_value": {"clip_value": 0.3}, "clip_norm": {"clip_norm": 0.5}}
CONSTANTS = {"momentum": 0.8, "beta1": 0.85, "beta2": 0.99, "eps": 1e-7}


def with_train(spec: ModelSpec, **train: object) -> ModelSpec:
    return validate({**spec.model_dump(), "train": train}, "test")


def as_dict(p: Params) -> dict:
    return {n: p.get(n) for n in UPDATE_ORDER}


def close(a, b, what: str) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, what
    err = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)), initial=0.0))
    assert err <= TOL, f"{what}: {err:.2e}"


@pytest.fixture(scope="module")
def base() -> ModelSpec:
    return random_spec(K=6, D=3, H=4, T=20, seed=161, lr=0.1)


def prefix_grads(params: dict, xs, ys, h0) -> list[dict]:
    """Autograd's dL_1..t/dtheta for t = 1..n: what the output and BPTT steps
    have summed at the end of step (row) t."""
    out = []
    for t in range(1, len(xs) + 1):
        total = grad(lambda p, t=t: anp.sum(anp.array(ref.losses(p, xs[:t], ys[:t], h0=h0))))
        out.append({n: np.asarray(v) for n, v in total(params).items()})
    return out


@pytest.mark.parametrize("clipping", slow_after(1, list(CLIPS)))
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "adam"])
def test_every_step_of_every_chunk_matches_autograd(
    base: ModelSpec, optimizer: str, clipping: str
) -> None:
    spec = with_train(base, optimizer=optimizer, seq_length=N, **CONSTANTS, **CLIPS[clipping])
    st = Stepper(spec)
    assert st.layout.chunks == 4 and st.layout.size(3) == 2  # 20 = 6 + 6 + 6 + 2
    inputs, targets = spec.indices()
    theirs = ref.train_chunks(as_dict(spec.initial_params()), list(inputs), list(targets),
                              spec.learning_rate, N, 3, optimizer, spec.train.clip_value,
                              spec.train.clip_norm, mu=0.8, beta1=0.85, beta2=0.99, eps=1e-7)
    assert len(theirs) == 12
    chunks_seen, clipped_any = 0, False
    prefix: list[dict] = []
    r: dict = {}
    step_losses = np.zeros(0)
    while st.position.epoch <= 3:
        pos, view = st.position, st.view()
        j = (pos.epoch - 1) * 4 + pos.chunk
        if pos.phase is Phase.FORWARD and pos.index == 0:  # a new chunk: its reference
            r = theirs[j]
            i = r["start"]
            assert view.epoch.start == i and view.epoch.j == pos.chunk
            close(view.epoch.h0, r["h0"], f"chunk {j} h0")
            xs, ys = list(inputs[i:i + N]), list(targets[i:i + N])
            prefix = prefix_grads(r["params"], xs, ys, r["h0"])
            step_losses = ref.forward(r["params"], xs, ys, r["h0"])["loss"]
            chunks_seen += 1
        where = f"epoch {pos.epoch} {st.layout.label(pos)}"
        if pos.phase is Phase.FORWARD:
            t = pos.index + 1
            close(view.fwd.h[t], r["h"][t - 1], f"{where} h")
            close(view.fwd.loss[t - 1], step_losses[t - 1], f"{where} L")
            for n in UPDATE_ORDER:
                close(view.params.get(n), r["params"][n], f"{where} {n}")
        elif pos.phase is Phase.OUTPUT:
            t = pos.index + 1
            for n in OUTPUT_PARAMS:
                close(view.grad(n), prefix[t - 1][n], f"{where} d{n}")
        elif pos.phase is Phase.BPTT:
            t, k = Layout.term(pos.index)
            if k == 1:  # row t complete: the terms of L_1..L_t
                for n in BPTT_PARAMS:
                    close(view.grad(n), prefix[t - 1][n], f"{where} d{n}")
        else:
            for n in UPDATE_ORDER:
                close(view.epoch.grads.get(n), r["grads"][n], f"{where} raw d{n}")
                close(view.epoch.clipped.grads.get(n), r["clipped"][n], f"{where} clipped d{n}")
                clipped_any |= not np.array_equal(view.epoch.grads.get(n),
                                                  view.epoch.clipped.grads.get(n))
            done = UPDATE_ORDER[: pos.index + 1]
            for n in UPDATE_ORDER:
                want = r["after"][n] if n in done else r["params"][n]
                close(view.params.get(n), want, f"{where} {n}")
            if optimizer == "adam":
                assert view.epoch.state_after.n == r["n"]
        st.next()
    assert chunks_seen == 12
    assert clipped_any == (clipping != "none")
    total = sum(float(r["loss"]) for r in theirs[4:8])
    close(st.epoch(2).total_loss, total, "epoch 2 total loss")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_per_term_bptt_sum_equals_the_recursion_per_chunk(base: ModelSpec, optimizer) -> None:
    st = Stepper(with_train(base, optimizer=optimizer, seq_length=N, clip_norm=0.5))
    for e in (1, 2):
        run = st.epoch(e)
        for j in range(run.n_chunks):
            ch = run.chunk(j)
            by_terms = backward_by_terms(ch.params, ch.fwd, st.mode)
            T = ch.fwd.T
            last = st.goto(Position(epoch=e, chunk=j, phase=Phase.BPTT,
                                    index=T * (T + 1) // 2 - 1))
            assert last.chunk == j
            view = st.view()
            for n in UPDATE_ORDER:
                close(by_terms.get(n), ch.grads.get(n), f"epoch {e} chunk {j} d{n}")
                close(view.grad(n), ch.grads.get(n), f"epoch {e} chunk {j} stepped d{n}")


def fingerprint(st: Stepper) -> list[np.ndarray]:
    v = st.view()
    out = [v.fwd.h, v.fwd.y_hat, v.epoch.h0, *(v.params.get(n) for n in UPDATE_ORDER)]
    out += [g for n in UPDATE_ORDER if (g := v.grad(n)) is not None]
    state = v.epoch.state_after
    for attr in ("m", "v"):
        if isinstance(getattr(state, attr, None), Params):
            out += [getattr(state, attr).get(n) for n in UPDATE_ORDER]
    return [a.copy() for a in out]


@pytest.mark.parametrize("optimizer", ["momentum", "adagrad", "adam"])
def test_stepping_back_through_chunks_is_bit_identical(base: ModelSpec, optimizer) -> None:
    spec = with_train(base, optimizer=optimizer, seq_length=7, clip_value=0.4)
    st = Stepper(spec)
    forwards = []
    for _ in range(2 * st.layout.steps_per_epoch + 5):  # into epoch 3
        forwards.append((st.position, fingerprint(st)))
        st.next()
    fresh = Stepper(spec)  # and a stepper that jumps straight to each position
    for pos, prints in reversed(forwards):
        st.prev()
        assert st.position == pos
        for a, b in zip(fingerprint(st), prints, strict=True):
            assert np.array_equal(a, b), pos
    for pos, prints in forwards[::37]:
        fresh.goto(pos)
        for a, b in zip(fingerprint(fresh), prints, strict=True):
            assert np.array_equal(a, b), pos


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad"])
def test_stepper_chunks_are_tbptt_training_bit_for_bit(base: ModelSpec, optimizer) -> None:
    spec = with_train(base, optimizer=optimizer, seq_length=5, clip_value=0.3)
    st = Stepper(spec)
    inputs, targets = spec.indices()
    ours = tbptt.training(spec.initial_params(), inputs, targets, spec.learning_rate,
                          spec.train)
    for _, ch in zip(range(12), ours, strict=False):
        mine = st.epoch(ch.epoch).chunk(ch.j)
        assert np.array_equal(mine.h0, ch.h0)
        for n in UPDATE_ORDER:
            assert np.array_equal(mine.grads.get(n), ch.grads.get(n))
            assert np.array_equal(mine.params_after.get(n), ch.after.get(n))
    losses, _, _ = tbptt.train(spec.initial_params(), inputs, targets, spec.learning_rate,
                               spec.train, 3)
    assert [st.epoch(e).total_loss for e in (1, 2, 3)] == losses.tolist()


def test_layout_and_label_with_chunks(base: ModelSpec) -> None:
    st = Stepper(with_train(base, seq_length=N))
    lay = st.layout
    assert (lay.chunks, lay.spans()) == (4, [(0, 6), (6, 12), (12, 18), (18, 20)])
    assert lay.steps_per_epoch == 3 * (6 + 6 + 21 + 6) + (2 + 2 + 3 + 6)
    for step in range(lay.steps_per_epoch):
        assert lay.step_of(lay.at(2, step)) == step
    pos = Position(epoch=3, chunk=1, phase=Phase.BPTT, index=Layout.term_index(3, 2))
    assert lay.label(pos) == "chunk 2/4 · BPTT t=3 k=2 (5/21)"
    st.goto(pos)
    assert st.view().label == "chunk 2/4 · BPTT t=3 k=2 (5/21)"
    assert st.view().layout.T == 6  # the chunk's steps, for the panels
    st.end_of_phase()
    st.next_phase()
    assert st.position == Position(epoch=3, chunk=1, phase=Phase.UPDATE, index=0)
    st.next_phase()
    assert st.position == Position(epoch=3, chunk=2, phase=Phase.FORWARD, index=0)
    st.prev_phase()
    assert st.position == Position(epoch=3, chunk=1, phase=Phase.UPDATE, index=0)
    st.goto(Position(epoch=3, phase=Phase.FORWARD, index=0))
    st.prev_phase()
    assert st.position == Position(epoch=2, chunk=3, phase=Phase.UPDATE, index=0)
    st.end_of_epoch()
    assert st.position == Position(epoch=2, chunk=3, phase=Phase.UPDATE, index=5)
    st.next()
    assert st.position == Position(epoch=3, phase=Phase.FORWARD, index=0)
    assert st.view().epoch.h0.any() is np.False_  # every epoch starts from h_0 = 0


def test_without_seq_length_the_layout_is_the_handouts() -> None:
    spec, _ = load("hello")
    st = Stepper(spec)
    assert st.layout == Layout(T=4) and st.layout.chunks == 1
    assert st.layout.label(Position(epoch=1, phase=Phase.BPTT, index=4)) == "BPTT t=3 k=2 (5/10)"
    opt = Stepper(with_train(spec, optimizer="adagrad"))  # one chunk, state across epochs
    assert opt.layout.chunks == 1
    _, p, _ = tbptt.train(spec.initial_params(), *spec.indices(), spec.learning_rate,
                          TrainOptions(optimizer="adagrad"), 5)
    got = opt.epoch(6).params
    for n in UPDATE_ORDER:
        assert np.array_equal(got.get(n), p.get(n))


def test_gradcheck_per_chunk_with_the_carried_h0(base: ModelSpec) -> None:
    st = Stepper(with_train(base, optimizer="adagrad", seq_length=N, clip_value=5.0))
    run = st.epoch(2)
    for j in range(run.n_chunks):
        ch = run.chunk(j)
        results = gradcheck.check(ch.params, ch.fwd.inputs, ch.fwd.targets, st.mode,
                                  max_entries=12, h0=ch.h0)
        assert all(r.ok for r in results), (j, results)
        if j > 0:  # the carried h_0 matters: from h_0 = 0 the gradient is another one
            assert np.abs(ch.h0).max() > 0.05
            g0 = backward(ch.params, forward(ch.params, ch.fwd.inputs, ch.fwd.targets), st.mode)
            assert not np.allclose(g0.W, ch.grads.W, rtol=1e-6, atol=0)
