"""sample, gradcheck, export, compare and grade on a GRU and an LSTM (issue 17),
through the real command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tomli_w

from rnn_tui.core.model_file import load
from rnn_tui.core.model_init import file_order

import helpers.reference_autograd as ref
from helpers.cli import assert_one_line_error, run
from helpers.marks import slow_after

CELLS = ["gru", "lstm"]


def model(tmp_path: Path, cell: str, **extra: object) -> Path:
    doc = {"name": cell, "text": "hello world", "embedding_dim": 2, "hidden_size": 3,
           "cell": cell, "learning_rate": 0.3, "init": {"seed": 5, "scale": 0.8}, **extra}
    path = tmp_path / f"{cell}.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


@pytest.mark.parametrize("cell", slow_after(1, CELLS))
def test_sample_greedy_is_the_reference_fed_its_own_output(tmp_path: Path, cell: str) -> None:
    path = model(tmp_path, cell)
    doc = json.loads(ok("sample", str(path), "--prime", "he", "--length", "6",
                        "--temperature", "0", "--format", "json"))
    assert list(doc) == ["model", "epochs", "prime", "temperature", "seed", "text", "steps"]
    assert [list(s) for s in doc["steps"]] == [["input", "y_hat", "next"]] * 6
    spec, _ = load(path)
    p = spec.initial_cell_params()
    params = {n: p[n] for n in p.names}
    vocab = spec.alphabet
    text = doc["text"]
    assert text.startswith("he") and len(text) == 8
    # the reference run over prime + generated text, from h_0 = C_0 = 0: its ŷ at
    # each generated step is what sample reports, and the pick is its argmax
    xs = [vocab.index(ch) for ch in text[:-1]]
    want = ref.cell_forward(cell, params, xs, [0] * len(xs))
    for j, s in enumerate(doc["steps"]):
        t = j + 1  # the step whose input is the prime's last char, then each pick
        np.testing.assert_allclose(s["y_hat"], want["y_hat"][t], rtol=0, atol=1e-12)
        assert s["next"] == vocab[int(np.argmax(want["y_hat"][t]))] == text[t + 1]
    # a draw is reproducible, and the train command's --sample prints a line
    again = ok("sample", str(path), "--epochs", "5", "--length", "20", "--seed", "3")
    assert again == ok("sample", str(path), "--epochs", "5", "--length", "20", "--seed", "3")
    assert "sample after epoch 2:" in ok("train", str(path), "--epochs", "2", "--sample", "2")


@pytest.mark.parametrize("cell", slow_after(1, CELLS))
def test_gradcheck_agrees_and_sees_the_handouts_dE(tmp_path: Path, cell: str) -> None:
    path = model(tmp_path, cell, train={"seq_length": 4, "optimizer": "adam"})
    out = ok("gradcheck", str(path), "--epoch", "3")
    assert f"({cell.upper()}): epoch 3, chunk 1 of 3 (steps 1..4)" in out
    names = [line.split()[0] for line in out.splitlines()[2:]]
    spec, _ = load(path)
    assert names == [f"d{n}" for n in spec.initial_cell_params().names]
    assert "DIFFERS" not in out
    # finite differences can fail: the handout's dE (x_t rows) is not the gradient
    done = run("gradcheck", str(path), "--handout")
    assert done.returncode == 1 and re.search(r"^dE .* DIFFERS$", done.stdout, re.M)


@pytest.mark.parametrize("cell", slow_after(1, CELLS[::-1]))
def test_export_writes_every_gate_with_the_traced_numbers(tmp_path: Path, cell: str) -> None:
    path = model(tmp_path, cell)
    md = ok("export", str(path), "--epochs", "3")
    epoch = json.loads(ok("trace", str(path), "--epochs", "1"))["epochs"][0]
    symbols = {"h_tilde": r"\tilde{h}"}
    for s in epoch["steps"]:
        t = s["t"]
        for key in (*(["z", "r", "h_tilde"] if cell == "gru" else ["i", "f", "o", "g", "C"]),
                    "h"):
            shown = " \\quad ".join(f"{v:.4f}".replace("-0.0000", "0.0000") for v in s[key])
            assert f"{symbols.get(key, key)}_{{{t}}} &= [{shown}]" in md, (t, key)
    for n, value in epoch["params_after"].items():  # each update's result, 4 decimals
        name = n.replace("_", "_{", 1) + "}" if "_" in n else n
        first = f"{np.ravel(value)[0]:.4f}".replace("-0.0000", "0.0000")
        assert re.search(rf"{re.escape(name)}\^{{new}} &= \\begin{{bmatrix}} {first}", md), n
    latex = ok("export", str(path), "--epochs", "3", "--format", "latex")
    assert latex.startswith("\\documentclass") and latex.rstrip().endswith("\\end{document}")
    assert_one_line_error(run("export", str(model(tmp_path, cell, train={"seq_length": 3}))),
                          "[train] table")


@pytest.mark.parametrize("cell", slow_after(1, CELLS))
def test_compare_finds_the_first_wrong_gate(tmp_path: Path, cell: str) -> None:
    path = model(tmp_path, cell)
    theirs = tmp_path / "theirs.json"
    theirs.write_text(ok("trace", str(path), "--epochs", "2", "--terms"), encoding="utf-8")
    assert ok("compare", str(path), str(theirs)).startswith("all ")
    doc = json.loads(theirs.read_text(encoding="utf-8"))
    gate = "r" if cell == "gru" else "f"
    doc["epochs"][0]["steps"][3][gate][1] += 1e-3
    doc["epochs"][1]["terms"][4]["dh"][0] += 1e-3
    theirs.write_text(json.dumps(doc), encoding="utf-8")
    done = run("compare", str(path), str(theirs), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["differ"] == 2
    assert report["first_difference"]["text"].startswith(f"epoch 1, forward t=4, {gate}_4[2]:")
    assert report["diagnosis"]["key"] == f"forward pass: {gate}"
    # a field of the other cell is one line, naming it
    doc["epochs"][0]["steps"][0]["z" if cell == "lstm" else "i"] = [0.0] * 3
    theirs.write_text(json.dumps(doc), encoding="utf-8")
    assert_one_line_error(run("compare", str(path), str(theirs)),
                          "epochs[1].steps[1].", "unknown field")
    graded = run("grade", str(path), str(theirs))  # grade: one row, a bad input
    assert graded.returncode == 1 and "0 agree, 0 differ, 1 bad input" in graded.stdout
    # a cell's names are what the file's parameter groups must use
    doc = json.loads(ok("trace", str(path), "--epochs", "1"))
    doc["epochs"][0]["grads"]["W"] = doc["epochs"][0]["grads"].pop(file_order(cell)[2])
    theirs.write_text(json.dumps(doc), encoding="utf-8")
    assert_one_line_error(run("compare", str(path), str(theirs)), "epochs[1].grads.W",
                          "unknown field")


@pytest.mark.parametrize("cell", slow_after(1, CELLS[::-1]))
@pytest.mark.parametrize("mode", slow_after(1, ["--exact", "--handout"]))
def test_the_notebook_reproduces_every_number(tmp_path: Path, cell: str, mode: str) -> None:
    """export --format ipynb: its code cells, run as one real script, recompute
    every gate, h, C, loss, gradient and update with NumPy and check them to
    1e-12; a wrong expected value makes the script fail."""
    pytest.importorskip("nbformat", reason="the [notebook] extra is not installed")
    import subprocess
    import sys

    from rnn_tui.core.notebook import code_of

    path = model(tmp_path, cell)
    out = tmp_path / "nb.ipynb"
    ok("export", str(path), "--format", "ipynb", "--epochs", "20", mode, "-o", str(out))
    code = code_of(out.read_text(encoding="utf-8"))
    gate = "h_tilde" if cell == "gru" else "C"
    assert f"check({gate}[t], " in code and "check(P_new['E'], " in code
    script = tmp_path / "nb.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    # the same script with one expected number of dW_f / dW_r moved in its 6th digit fails
    name = "W_r" if cell == "gru" else "W_f"
    head = f"check(grads[{name!r}], [\n    ["
    at = code.index(head) + len(head)
    wrong = code[:at] + "1e-6 + " + code[at:]
    script.write_text(wrong, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode != 0 and "Not equal to tolerance" in done.stderr
