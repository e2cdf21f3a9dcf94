"""`rnn-tui compare` and `rnn-tui grade` as users run them: real files, the
installed command in a subprocess, the README's own example."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_tui.core.model_writer import model_toml

from helpers.cli import assert_one_line_error, run
from helpers.marks import slow_after
from helpers.models import random_spec
from helpers.students import BUGS, student_trace

README = Path(__file__).resolve().parents[2] / "README.md"
SPEC = random_spec(K=6, D=2, H=3, T=8, seed=7)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(model_toml(SPEC))
    return path


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_a_correct_implementation_agrees(tmp_path: Path, model: Path) -> None:
    theirs = write(tmp_path / "good.json", student_trace(SPEC))
    r = run("compare", str(model), str(theirs))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.fullmatch(r"all \d+ values agree within 1e-06", lines[0])
    assert "0 of" in lines[1] and "diagnosis" not in r.stdout


@pytest.mark.parametrize(("bug", "first", "diagnosis"), slow_after(1, [
    ("no_dtanh", "epoch 1, BPTT t=1 k=1, term[1]:", "the tanh derivative (1 - h_k^2)"),
    ("h_k", "epoch 1, BPTT t=1 k=1, dW[1,1]: expected 0.0000", "h_k where h_{k-1} belongs"),
    ("dc_one_step", "epoch 1, update c, dc[1]:", "dc not summed over t"),
    ("dE_x_t", "epoch 1, BPTT t=2 k=1, dE[", "the handout's x_t row convention"),
    ("no_b", "epoch 1, forward t=1, h_1[1]:", "the forward pass: h_1"),
]))
def test_each_classic_bug(tmp_path: Path, model: Path, bug: str, first: str,
                          diagnosis: str) -> None:
    theirs = write(tmp_path / f"{bug}.json", student_trace(SPEC, bug=bug))
    r = run("compare", str(model), str(theirs))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"first difference: {first}"), lines[0]
    assert lines[-1].startswith(f"diagnosis: {diagnosis}"), lines[-1]
    doc = json.loads(run("compare", str(model), str(theirs), "--format", "json").stdout)
    assert doc["agree"] is False and doc["differ"] > 0
    assert lines[0] == f"first difference: {doc['first_difference']['text']}"
    assert diagnosis in doc["diagnosis"]["text"]


def test_trace_terms_is_what_compare_reads(tmp_path: Path, model: Path) -> None:
    r = run("trace", str(model), "--epochs", "2", "--terms")
    doc = json.loads(r.stdout)
    assert len(doc["epochs"][0]["terms"]) == SPEC.T * (SPEC.T + 1) // 2
    assert run("compare", str(model), str(write(tmp_path / "t.json", doc))).returncode == 0
    doc["epochs"][0]["terms"][4]["dU"][2][1] += 1e-3  # term 5 in stepping order: t=3 k=2
    r = run("compare", str(model), str(write(tmp_path / "t.json", doc)), "--epochs", "1")
    assert r.returncode == 1
    assert r.stdout.startswith("first difference: epoch 1, BPTT t=3 k=2, dU[3,2]: expected ")
    assert "(epoch 1, tolerance 1e-06)" in r.stdout.splitlines()[1]


def test_tolerance(tmp_path: Path, model: Path) -> None:
    doc = student_trace(SPEC, epochs=1, terms=False)
    doc["epochs"][0]["steps"][0]["h"][0] += 1e-5
    theirs = write(tmp_path / "t.json", doc)
    assert run("compare", str(model), str(theirs)).returncode == 1
    r = run("compare", str(model), str(theirs), "--tol", "1e-4")
    assert r.returncode == 0 and "agree within 0.0001" in r.stdout


def test_the_readme_example_agrees(tmp_path: Path) -> None:
    text = README.read_text()
    section = text[text.index("## Check your own implementation"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    (tmp_path / "student.py").write_text(code.group(1))
    r = run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0",
            "-o", str(tmp_path / "mine.toml"))
    assert r.returncode == 0, r.stderr
    subprocess.run([sys.executable, "student.py"], cwd=tmp_path, check=True, timeout=60)
    r = run("compare", "mine.toml", "theirs.json", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("all 704 values agree within 1e-06")
    assert "all 704 values agree within 1e-06" in section  # what the README shows
    # The README's buggy line gives the report the README shows.
    buggy = code.group(1).replace("np.outer(da, h[t])", "np.outer(da, h[t + 1])")
    assert buggy != code.group(1)
    (tmp_path / "student.py").write_text(buggy)
    subprocess.run([sys.executable, "student.py"], cwd=tmp_path, check=True, timeout=60)
    r = run("compare", "mine.toml", "theirs.json", cwd=tmp_path)
    assert r.returncode == 1
    first, *_, last = r.stdout.splitlines()
    assert first in section and last in section


def test_grade_a_folder(tmp_path: Path, model: Path) -> None:
    sub = tmp_path / "submissions"
    sub.mkdir()
    write(sub / "alice.json", student_trace(SPEC))
    for bug in BUGS:
        write(sub / f"{bug}.json", student_trace(SPEC, bug=bug))
    (sub / "zed.json").write_text('{"epochs": [{"steps": [{"h": [1, 2]}]}]}')
    (sub / "notes.txt").write_text("not a submission")
    r = run("grade", str(model), str(sub))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["file", "result"] and len(lines) == 1 + 7 + 1
    assert lines[-1] == "7 files: 1 agree, 5 differ, 1 bad input"
    row = {line.split()[0].rsplit("/", 1)[-1]: line for line in lines[1:-1]}
    assert " agree " in row["alice.json"]
    assert "h_k vs h_{k-1}" in row["h_k.json"] and "tanh derivative" in row["no_dtanh.json"]
    assert "bad input" in row["zed.json"] and "steps[1].h: expected 3 numbers" in row["zed.json"]
    r = run("grade", str(model), str(sub / "alice.json"), str(sub / "dc_one_step.json"),
            "--format", "csv")
    table = list(csv.reader(io.StringIO(r.stdout)))
    assert table[0] == ["file", "result", "compared", "differ", "first difference",
                        "diagnosis"]
    assert [t[1] for t in table[1:]] == ["agree", "differ"]
    assert table[2][4].startswith("epoch 1, update c, dc[1]") and table[2][5] == (
        "dc not summed over t")
    assert run("grade", str(model), str(sub / "alice.json")).returncode == 0


@pytest.mark.slow
def test_bad_input_is_one_line(tmp_path: Path, model: Path) -> None:
    cases = {
        "broken.json": ('{"epochs": [', ["broken.json", "invalid JSON"]),
        "shape.json": ('{"epochs": [{"grads": {"W": [[1, 2, 3]]}}]}',
                       ["shape.json", "epochs[1].grads.W", "3 x 3"]),
        "string.json": ('{"epochs": [{"steps": [{"loss": "low"}]}]}',
                        ["epochs[1].steps[1].loss", "expected a number"]),
        "empty.json": ('{"epochs": []}', ["empty.json", "no numbers to compare"]),
        "list.json": ("[1, 2]", ["list.json", "JSON object"]),
    }
    for name, (text, words) in cases.items():
        (tmp_path / name).write_text(text)
        assert_one_line_error(run("compare", str(model), str(tmp_path / name)), *words)
    good = write(tmp_path / "good.json", student_trace(SPEC, epochs=1))
    assert_one_line_error(run("compare", str(model), str(tmp_path / "missing.json")),
                          "missing.json", "No such file")
    assert_one_line_error(run("compare", "no-such-model", str(good)), "no-such-model")
    assert_one_line_error(run("compare", str(model), str(good), "--tol", "-1"), "--tol")
    assert_one_line_error(run("compare", str(model), str(good), "--epochs", "0"), "--epochs")
    assert_one_line_error(run("compare", str(model)), "THEIRS.json")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(run("grade", str(model), str(tmp_path / "empty")), "empty",
                          "no .json files")
    r = run("grade", str(model), str(tmp_path / "missing.json"))  # a row, not the end
    assert r.returncode == 1 and "bad input" in r.stdout and "No such file" in r.stdout


def test_help() -> None:
    for command in ("compare", "grade"):
        r = run(command, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout and "--tol" in r.stdout


def test_the_debugger_refuses_a_bad_trace_before_it_opens(tmp_path: Path, model: Path) -> None:
    """`rnn-tui MODEL --compare THEIRS.json`: the file is read and compared
    before the app starts, so a bad one is compare's one line, exit 2."""
    assert_one_line_error(run("hello", "--compare", "missing.json", cwd=tmp_path),
                          "missing.json", "No such file")
    (tmp_path / "broken.json").write_text('{"epochs": [')
    assert_one_line_error(run(str(model), "--compare", str(tmp_path / "broken.json")),
                          "broken.json", "invalid JSON")
    theirs = write(tmp_path / "theirs.json", student_trace(SPEC, epochs=1))  # not hello's
    assert_one_line_error(run("hello", "--compare", str(theirs)), "theirs.json", "vocab")
    assert_one_line_error(run(str(model), "--tol", "1e-3"), "--tol needs --compare")
    assert_one_line_error(run(str(model), "--compare", str(theirs), "--tol", "0"), "--tol")
