"""`rnn-tui trace` streams its output epoch by epoch: the bytes are those of
the whole-document construction it replaced, and memory does not grow with
the number of epochs."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import islice
from typing import Any

import numpy as np
import pytest

from rnn_tui.core import report
from rnn_tui.core.maths import backward, forward, sgd
from rnn_tui.core.model_file import ModelSpec, load
from rnn_tui.core.params import UPDATE_ORDER
from rnn_tui.core.text import char, fmt, mat, printable, vec

from helpers.cli import run
from helpers.models import random_spec


def reference_json(spec: ModelSpec, n: int) -> str:
    """The trace as one document, as `trace` built it before streaming."""
    vocab = spec.alphabet
    inputs, targets = spec.indices()
    p = spec.initial_params()

    def num(x: float) -> Any:
        return x if np.isfinite(x) else ("NaN" if np.isnan(x) else
                                         "Infinity" if x > 0 else "-Infinity")

    def arr(a: np.ndarray) -> Any:
        return [arr(r) for r in a] if a.ndim > 1 else [num(float(v)) for v in a]

    def params(q: Any) -> dict[str, Any]:
        return {name: arr(q.get(name)) for name in ("E", "U", "W", "b", "V", "c")}

    out = []
    for e in range(1, n + 1):
        f = forward(p, inputs, targets)
        g = backward(p, f, spec.bptt.embedding_rows)
        after = sgd(p, g, spec.learning_rate)
        steps = [{"t": t + 1, "input": vocab[inputs[t]], "target": vocab[targets[t]],
                  "prediction": vocab[int(f.predictions[t])], "x": arr(f.x[t]),
                  "h": arr(f.h[t + 1]), "omega": arr(f.omega[t]), "y_hat": arr(f.y_hat[t]),
                  "loss": num(float(f.loss[t]))} for t in range(f.T)]
        out.append({"epoch": e, "total_loss": num(f.total_loss), "steps": steps,
                    "params": params(p), "grads": params(g), "params_after": params(after)})
        p = after
    doc = {"model": spec.name, "vocab": list(vocab),
           "embedding_rows": spec.bptt.embedding_rows, "epochs": out}
    return json.dumps(doc, allow_nan=False) + "\n"


def reference_text(spec: ModelSpec, n: int) -> str:
    """The text trace as one string, as `trace --format text` built it."""
    vocab = spec.alphabet
    out = [f"model {printable(spec.name)}: vocab {' '.join(char(c) for c in vocab)} "
           f"(K={spec.K}), D={spec.embedding_dim}, H={spec.hidden_size}, T={spec.T}, "
           f"eta={spec.learning_rate}, dE rows: {spec.bptt.embedding_rows}"]
    for r in islice(report.training(spec), n):
        f = r.fwd
        out += ["", f"== epoch {r.number} ==", "-- forward pass --"]
        for t in range(f.T):
            pred, want = vocab[int(f.predictions[t])], vocab[f.targets[t]]
            verdict = "right" if pred == want else f"but we want {char(want)!r}"
            out += [f"step {t + 1}: input {char(vocab[f.inputs[t]])!r}",
                    f"  x_{t + 1} = {vec(f.x[t])}", f"  h_{t + 1} = {vec(f.h[t + 1])}",
                    f"  Omega_{t + 1} = {vec(f.omega[t])}",
                    f"  y_hat_{t + 1} = {vec(f.y_hat[t])}", f"  predicts {char(pred)!r}, {verdict}",
                    f"  L_{t + 1} = {fmt(float(f.loss[t]))}"]
        out += [f"total loss = {fmt(f.total_loss)}", "-- backpropagation through time --"]
        out += [f"  dL/d{name} = {mat(r.grads.get(name))}" for name in UPDATE_ORDER]
        out += [f"-- updates (eta = {spec.learning_rate}) --"]
        out += [f"  {name}_new = {mat(r.after.get(name))}" for name in UPDATE_ORDER]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("model", ["hello", "random"])
def test_streamed_trace_is_byte_identical(tmp_path, model: str) -> None:
    spec = load("hello")[0] if model == "hello" else random_spec(5, 2, 3, 7, seed=3)
    arg = "hello"
    if model == "random":
        from rnn_tui.core.model_writer import model_toml

        path = tmp_path / "r.toml"
        path.write_text(model_toml(spec))
        arg, spec = str(path), load(str(path))[0]
    r = run("trace", arg, "--epochs", "7")
    assert r.returncode == 0, r.stderr
    assert r.stdout == reference_json(spec, 7)
    r = run("trace", arg, "--epochs", "7", "--format", "text")
    assert r.returncode == 0, r.stderr
    assert r.stdout == reference_text(spec, 7)


def test_streamed_trace_of_a_diverging_model_is_strict_json(tmp_path) -> None:
    text = load("hello")[1].read_text().replace("learning_rate = 0.1", "learning_rate = 1e308")
    path = tmp_path / "overflow.toml"
    path.write_text(text)
    r = run("trace", str(path), "--epochs", "4")
    assert r.stdout == reference_json(load(str(path))[0], 4)
    json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))


PEAK = """
import sys, tracemalloc
from rnn_tui.cli import main
import rnn_tui.cli.training, rnn_tui.core.files  # the model code main loads when needed
tracemalloc.start()
code = main(["trace", "hello", "--epochs", sys.argv[1], *sys.argv[2:]])
print(tracemalloc.get_traced_memory()[1], file=sys.stderr)
sys.exit(code)
"""


def peak_bytes(epochs: int, *extra: str) -> int:
    r = subprocess.run([sys.executable, "-c", PEAK, str(epochs), *extra],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=300, check=True)
    return int(r.stderr.split()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], pytest.param(["--format", "text"], marks=pytest.mark.slow),
                                   pytest.param(["--terms"], marks=pytest.mark.slow)])
def test_trace_memory_does_not_grow_with_epochs(extra: list[str]) -> None:
    small, large = peak_bytes(500, *extra), peak_bytes(5000, *extra)
    # The whole-document construction peaked at about 18 KB an epoch (90 MB at 5000); fmt's
    # bounded cache fills within the first 300 epochs of the text trace.
    assert large < 1.5 * small, (small, large)
    assert large < 16 * 2**20, large


def test_terms_need_json() -> None:
    r = run("trace", "hello", "--terms", "--format", "text")
    assert r.returncode == 2 and "--terms needs --format json" in r.stderr
