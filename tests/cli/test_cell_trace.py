"""`rnn-tui trace` of a GRU and an LSTM (issue 17), through the real command:
every value of every step of 3 epochs (gates, h, C, Ω, ŷ, loss, the raw and
clipped gradients, the updated parameters, the carried h_0 and C_0), with
and without a [train] table, against issue 17's equations written again
with HIPS autograd (helpers.reference_autograd), to 1e-9."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from rnn_tui.core.model_file import validate
from rnn_tui.core.model_init import file_order

import helpers.reference_autograd as ref
from helpers.cli import assert_one_line_error, run
from helpers.marks import slow_after

TEXT = "hello world"  # T = 10, K = 8
EPOCHS = 3
STEP_KEYS = {"gru": ["z", "r", "h_tilde"], "lstm": ["i", "f", "o", "g", "C"]}
CONFIGS = {  # [train] tables: None is the handout's training
    "handout": None,
    "adam-chunks": {"optimizer": "adam", "seq_length": 4, "clip_norm": 2.0, "beta1": 0.8,
                    "beta2": 0.99, "eps": 1e-6},
    "momentum-chunks": {"optimizer": "momentum", "momentum": 0.8, "seq_length": 3,
                        "clip_value": 0.3},
    "adagrad-whole": {"optimizer": "adagrad"},
}


def model(tmp_path: Path, cell: str, train: dict | None, rows: str = "x_k") -> tuple[Path, dict]:
    doc: dict = {"name": cell, "text": TEXT, "embedding_dim": 2, "hidden_size": 3, "cell": cell,
                 "learning_rate": 0.3, "init": {"seed": 5, "scale": 0.8},
                 "bptt": {"embedding_rows": rows}}
    if train:
        doc["train"] = train
    path = tmp_path / f"{cell}.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    spec = validate(doc, str(path))
    p = spec.initial_cell_params()
    return path, {"spec": spec, "params": {n: p[n].copy() for n in p.names}}


def trace(path: Path, *extra: str) -> dict:
    done = run("trace", str(path), "--epochs", str(EPOCHS), *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def close(ours, theirs, what: str, tol: float = 1e-9) -> None:
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    err = float(np.abs(ours - theirs).max(initial=0.0)) / max(1.0, float(np.abs(theirs).max()))
    assert err <= tol, f"{what}: relative error {err:.3g} > {tol}"


def check_steps(cell: str, steps: list, params: dict, xs, ys, vocab: str, h0=None, C0=None,
                what: str = "") -> float:
    """Every value of every step against the reference; the reference's total loss."""
    want = ref.cell_forward(cell, params, xs, ys, h0, C0)
    assert [s["t"] for s in steps] == list(range(1, len(xs) + 1))
    for t, s in enumerate(steps):
        at = f"{what} step {t + 1}"
        assert list(s) == ["t", "input", "target", "prediction", "x", *STEP_KEYS[cell], "h",
                           "omega", "y_hat", "loss"], at
        assert (s["input"], s["target"]) == (vocab[xs[t]], vocab[ys[t]]), at
        assert s["prediction"] == vocab[int(np.argmax(want["y_hat"][t]))], at
        close(s["x"], params["E"][xs[t]], f"{at} x")
        for key in (*STEP_KEYS[cell], "h", "omega", "y_hat", "loss"):
            close(s[key], want[key][t], f"{at} {key}")
    return float(want["loss"].sum())


def check_named(ours: dict, theirs: dict, cell: str, what: str) -> None:
    assert list(ours) == list(file_order(cell)), what  # the file's names, in its order
    for n in ours:
        close(ours[n], theirs[n], f"{what} {n}")


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"]))
@pytest.mark.parametrize("rows", slow_after(1, ["x_k", "x_t"]))
def test_handout_training_matches_autograd(tmp_path: Path, cell: str, rows: str) -> None:
    path, m = model(tmp_path, cell, None, rows)
    spec, params = m["spec"], m["params"]
    doc = trace(path)
    assert (doc["model"], doc["cell"], doc["embedding_rows"]) == (cell, cell, rows)
    assert doc["vocab"] == list(spec.alphabet)
    xs, ys = (list(map(int, a)) for a in spec.indices())
    for e, epoch in enumerate(doc["epochs"], start=1):
        assert list(epoch) == ["epoch", "total_loss", "steps", "params", "grads", "params_after"]
        total = check_steps(cell, epoch["steps"], params, xs, ys, spec.alphabet,
                            what=f"epoch {e}")
        close(epoch["total_loss"], total, f"epoch {e} total loss")
        grads = ref.cell_gradients(cell, params, xs, ys, embedding_rows=rows)
        after = ref.cell_sgd(params, grads, spec.learning_rate)
        check_named(epoch["params"], params, cell, f"epoch {e} params")
        check_named(epoch["grads"], grads, cell, f"epoch {e} grads")
        check_named(epoch["params_after"], after, cell, f"epoch {e} params_after")
        params = after
    assert len(doc["epochs"]) == EPOCHS
    assert doc["epochs"][-1]["total_loss"] < doc["epochs"][0]["total_loss"]  # it learns


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"][::-1]))
@pytest.mark.parametrize("config", slow_after(1, [c for c in CONFIGS if c != "handout"]))
def test_train_table_matches_autograd_chunk_by_chunk(tmp_path: Path, cell: str,
                                                     config: str) -> None:
    train = CONFIGS[config]
    path, m = model(tmp_path, cell, train)
    spec, params = m["spec"], m["params"]
    xs, ys = (list(map(int, a)) for a in spec.indices())
    constants = {k: train[k] for k in ("beta1", "beta2", "eps") if k in train}
    if "momentum" in train:
        constants["mu"] = train["momentum"]
    N = train.get("seq_length") or len(xs)
    theirs = ref.cell_train_chunks(cell, params, xs, ys, spec.learning_rate, N, EPOCHS,
                                   train["optimizer"], train.get("clip_value"),
                                   train.get("clip_norm"), **constants)
    doc = trace(path)
    ours = [(e["epoch"], ch) for e in doc["epochs"] for ch in e["chunks"]]
    assert len(ours) == len(theirs) == EPOCHS * -(-len(xs) // N)
    clipping = "clip_value" in train or "clip_norm" in train
    clipped = False
    for (e, ch), r in zip(ours, theirs, strict=True):
        what = f"epoch {e} chunk {ch['chunk']}"
        assert (e, ch["start"]) == (r["epoch"], r["start"]), what
        close(ch["h0"], r["h0"], f"{what} h_0")
        if cell == "lstm":
            close(ch["C0"], r["C0"], f"{what} C_0")
        else:
            assert "C0" not in ch
        sl = slice(r["start"], r["start"] + N)
        total = check_steps(cell, ch["steps"], r["params"], xs[sl], ys[sl], spec.alphabet,
                            r["h0"], r["C0"], what)
        close(ch["total_loss"], total, f"{what} loss")
        check_named(ch["params"], r["params"], cell, f"{what} params")
        check_named(ch["grads"], r["grads"], cell, f"{what} grads")
        check_named(ch["params_after"], r["after"], cell, f"{what} params_after")
        if clipping:
            check_named(ch["grads_clipped"], r["clipped"], cell, f"{what} clipped")
            clipped |= any(ch["grads_clipped"][n] != ch["grads"][n] for n in ch["grads"])
        if "clip_norm" in train:
            norm = np.sqrt(sum(float(np.sum(np.square(r["grads"][n]))) for n in r["grads"]))
            close(ch["grad_norm"], norm, f"{what} norm")
    assert clipped == clipping  # the clipping really acted
    if N < len(xs):
        assert any(ch["h0"] != [0.0] * 3 for _, ch in ours)  # a state was carried
    for epoch in doc["epochs"]:
        close(epoch["total_loss"], sum(c["total_loss"] for c in epoch["chunks"]), "epoch total")


def test_the_comparison_would_see_a_wrong_gate(tmp_path: Path) -> None:
    """The check above can fail: a trace whose r_t is off by 1e-7 somewhere does not pass."""
    path, m = model(tmp_path, "gru", None)
    spec = m["spec"]
    doc = trace(path, "--epochs", "1")
    steps = doc["epochs"][0]["steps"]
    steps[4]["r"][1] += 1e-7
    xs, ys = (list(map(int, a)) for a in spec.indices())
    with pytest.raises(AssertionError, match="step 5 r"):
        check_steps("gru", steps, m["params"], xs, ys, spec.alphabet)


@pytest.mark.parametrize("cell", slow_after(1, ["gru", "lstm"]))
def test_text_trace_and_terms(tmp_path: Path, cell: str) -> None:
    path, _ = model(tmp_path, cell, {"seq_length": 4})
    done = run("trace", str(path), "--epochs", "1", "--format", "text")
    assert done.returncode == 0, done.stderr
    assert f"model {cell}: {cell.upper()}," in done.stdout
    assert "chunk 3/3 (steps 9..10)" in done.stdout
    assert ("C_0 = " in done.stdout) == (cell == "lstm")
    gate = "h~_1 = " if cell == "gru" else "f_1 = "
    assert gate in done.stdout and "dL/dW_" in done.stdout
    terms = trace(path, "--epochs", "1", "--terms")["epochs"][0]["chunks"][0]
    T = len(terms["steps"])
    assert [(d["t"], d["k"]) for d in terms["terms"]] == [
        (t, k) for t in range(1, T + 1) for k in range(t, 0, -1)]
    # the terms add up to the chunk's gradient (the double sum is the recursion)
    for n in file_order(cell):
        if n in ("V", "c"):
            total = np.sum([o[f"d{n}"] for o in terms["outputs"]], axis=0)
        else:
            total = np.sum([d[f"d{n}"] for d in terms["terms"]], axis=0)
        close(total, terms["grads"][n], f"sum of terms d{n}", 1e-12)
    assert ("dC" in terms["terms"][0]) == (cell == "lstm")


def test_train_loss_table_equals_the_trace(tmp_path: Path) -> None:
    path, _ = model(tmp_path, "lstm", {"optimizer": "adam", "seq_length": 4})
    losses = [e["total_loss"] for e in trace(path)["epochs"]]
    done = run("train", str(path), "--epochs", "3", "--report", "1,2,3")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.split()[0].isdigit()]
    assert [float(r[1]) for r in rows] == [float(f"{v:.4f}") for v in losses]


def test_a_model_file_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('text = "ab"\nembedding_dim = 1\nhidden_size = 1\nlearning_rate = 0.1\n'
                    'cell = "lstm"\n[init]\nseed = 1\nW = [[1.0]]\n', encoding="utf-8")
    assert_one_line_error(run("trace", str(path)), "bad.toml: init.W:", "W_i")
