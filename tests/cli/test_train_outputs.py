"""trace, train, sample and gradcheck with a [train] table (issue 16): what they
print equals the stepper's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnn_tui.core import report
from rnn_tui.core.maths import softmax
from rnn_tui.core.model_file import ModelSpec, load, validate
from rnn_tui.core.model_writer import model_toml
from rnn_tui.core.optim import AdamState
from rnn_tui.core.params import FILE_ORDER, UPDATE_ORDER
from rnn_tui.core.sample import step_h
from rnn_tui.core.stepper import Stepper

from helpers.cli import run
from helpers.models import random_spec

TRAIN = {"optimizer": "adam", "clip_norm": 0.5, "seq_length": 6}


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    base = random_spec(K=5, D=3, H=4, T=20, seed=7, lr=0.05)
    return validate({**base.model_dump(), "train": TRAIN}, "test")


@pytest.fixture(scope="module")
def model(spec: ModelSpec, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("m") / "m.toml"
    path.write_text(model_toml(spec), encoding="utf-8")
    assert load(path)[0].train == spec.train
    return path


def arrays(d: dict) -> dict:
    return {n: np.array(d[n], dtype=float) for n in FILE_ORDER}


def test_trace_chunks_are_the_steppers_numbers(spec: ModelSpec, model: Path) -> None:
    result = run("trace", str(model), "--epochs", "2")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    st = Stepper(spec)
    for e, epoch in enumerate(doc["epochs"], start=1):
        run_ = st.epoch(e)
        assert [c["chunk"] for c in epoch["chunks"]] == [1, 2, 3, 4]
        assert [c["start"] for c in epoch["chunks"]] == [0, 6, 12, 18]
        assert epoch["total_loss"] == run_.total_loss  # the sum over chunks, bit for bit
        assert sum(c["total_loss"] for c in epoch["chunks"]) == pytest.approx(
            epoch["total_loss"], rel=1e-12)
        for j, c in enumerate(epoch["chunks"]):
            ch = run_.chunk(j)
            assert np.array_equal(c["h0"], ch.h0)
            assert len(c["steps"]) == ch.fwd.T
            assert np.array_equal([s["h"] for s in c["steps"]], ch.fwd.h[1:])
            for key, params in (("params", ch.params), ("grads", ch.grads),
                                ("grads_clipped", ch.clipped.grads),
                                ("params_after", ch.params_after)):
                for n, a in arrays(c[key]).items():
                    assert np.array_equal(a, params.get(n)), (e, j, key, n)
            assert c["grad_norm"] == ch.clipped.norm
            state = ch.state_after
            assert isinstance(state, AdamState) and c["optimizer"]["n"] == state.n
            for n, a in arrays(c["optimizer"]["m"]).items():
                assert np.array_equal(a, state.m.get(n))
        for n, a in arrays(epoch["params_after"]).items():
            assert np.array_equal(a, run_.params_after.get(n))
        assert "grads" not in epoch and "steps" not in epoch


def test_trace_text_names_the_chunks(model: Path) -> None:
    result = run("trace", str(model), "--format", "text")
    assert result.returncode == 0, result.stderr
    assert "training: adam (beta1 = 0.9, beta2 = 0.999, eps = 1e-08), clip_norm = 0.5" in (
        result.stdout)
    assert "== epoch 1, chunk 4/4 (steps 19..20) ==" in result.stdout
    assert result.stdout.count("-- clipped (norm ") == 4


def test_train_losses_equal_the_steppers(spec: ModelSpec) -> None:
    st = Stepper(spec)
    pairs = list(report.loss_and_params(spec, 40, every=7))
    for e, (loss, p) in enumerate(pairs, start=1):
        assert abs(loss - st.epoch(e).total_loss) <= 1e-12 * max(1.0, abs(loss))
        assert (p is not None) == (e % 7 == 0)
        if p is not None:
            for n in UPDATE_ORDER:
                assert np.array_equal(p.get(n), st.epoch(e + 1).params.get(n))


def test_train_prints_greedy_samples(spec: ModelSpec, model: Path) -> None:
    result = run("train", str(model), "--epochs", "6", "--sample", "3", "--sample-length", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("training: adam")
    samples = [line for line in lines if line.startswith("  sample after epoch ")]
    assert [s.split(":")[0] for s in samples] == ["  sample after epoch 3",
                                                 "  sample after epoch 6"]
    p = Stepper(spec).epoch(4).params  # after 3 epochs
    vocab, h = spec.alphabet, np.zeros(spec.hidden_size)
    text, i = spec.text[0], vocab.index(spec.text[0])
    for _ in range(5):
        h, omega = step_h(p, i, h)
        i = int(np.argmax(omega))
        text += vocab[i]
    assert samples[0] == f"  sample after epoch 3: {text!r}"


def test_sample_trains_with_the_train_table(spec: ModelSpec, model: Path) -> None:
    result = run("sample", str(model), "--epochs", "5", "--length", "8", "--temperature", "0.7",
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    p = Stepper(spec).epoch(6).params  # after 5 epochs of adam, clipping, chunks
    vocab = spec.alphabet
    h = np.zeros(spec.hidden_size)
    for ch in doc["prime"][:-1]:
        h, _ = step_h(p, vocab.index(ch), h)
    for s in doc["steps"]:
        h, omega = step_h(p, vocab.index(s["input"]), h)
        assert np.allclose(s["y_hat"], softmax(omega / 0.7), rtol=0, atol=1e-9)


def test_gradcheck_checks_the_first_chunk(model: Path) -> None:
    result = run("gradcheck", str(model), "--epoch", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "chunk 1 of 4 (steps 1..6)" in result.stdout
