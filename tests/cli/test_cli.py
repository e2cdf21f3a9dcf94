"""The CLI in a real subprocess: each command, and bad input of every kind.

Bad input must give exit status 2, exactly one line on stderr that names
the file and the field, nothing on stdout, and never a traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import helpers.handout_figures as H
from helpers.cli import GOOD, assert_one_line_error, run
from helpers.marks import slow_after

EXPLICIT = """\
text = "hello"
vocab = "helo"
embedding_dim = 2
hidden_size = 1
learning_rate = 0.1
[init]
E = [[0.8175, 0.4613], [-0.3599, -0.4824], [0.1268, 0.1540], [-0.0358, -0.5677]]
U = [[0.1442, -0.2315]]
W = [[-0.5352]]
b = [0.0]
V = [[0.6951], [-0.4402], [-0.2246], [-0.3053]]
c = [0.0, 0.0, 0.0, 0.0]
"""


def edit(base: str, old: str, new: str) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


# (id, file content (str or bytes), words the one line must contain)
BAD_FILES: list[tuple[str, str | bytes, list[str]]] = [
    ("invalid-toml", "text = \"hello\nembedding_dim = 2\n", ["invalid TOML", "line 1"]),
    ("not-utf8", b'text = "h\xffllo"\n', ["not UTF-8", "line 1"]),
    ("empty", "", ["text", "missing"]),
    ("unknown-key", GOOD + "hiden_size = 3\n", ["hiden_size", "unknown key", "init.hiden_size"]),
    ("unknown-top-key", "hiden = 3\n" + GOOD, ["hiden", "did you mean 'hidden_size'"]),
    ("unknown-init-key", GOOD + "sed = 2\n", ["init.sed", "did you mean 'seed'"]),
    ("missing-text", edit(GOOD, 'text = "abca"\n', ""), ["text", "missing"]),
    ("missing-init", GOOD.split("[init]")[0], ["init", "missing"]),
    ("missing-lr", edit(GOOD, "learning_rate = 0.5\n", ""), ["learning_rate", "missing"]),
    ("text-too-short", edit(GOOD, '"abca"', '"a"'), ["text", "at least 2"]),
    ("text-one-char-kind", edit(GOOD, '"abca"', '"aaaa"'), ["text", "2 distinct"]),
    ("text-not-string", edit(GOOD, '"abca"', "42"), ["text", "expected a string"]),
    ("char-not-in-vocab", edit(EXPLICIT, 'text = "hello"', 'text = "hellz"'), ["text", "'z'"]),
    ("vocab-duplicate", edit(EXPLICIT, '"helo"', '"hello"'), ["vocab", "twice"]),
    ("vocab-one-char", edit(GOOD, 'text = "abca"', 'text = "aa"\nvocab = "a"'), ["vocab"]),
    ("dim-string", edit(GOOD, "embedding_dim = 2", 'embedding_dim = "2"'),
     ["embedding_dim", "whole number"]),
    ("dim-float", edit(GOOD, "embedding_dim = 2", "embedding_dim = 2.5"),
     ["embedding_dim", "whole number"]),
    ("hidden-zero", edit(GOOD, "hidden_size = 2", "hidden_size = 0"), ["hidden_size", ">= 1"]),
    ("hidden-huge", edit(GOOD, "hidden_size = 2", "hidden_size = 100000"),
     ["hidden_size", "<= 1024"]),
    ("lr-negative", edit(GOOD, "0.5", "-0.5"), ["learning_rate", "> 0"]),
    ("lr-zero", edit(GOOD, "0.5", "0"), ["learning_rate", "> 0"]),
    ("lr-nan", edit(GOOD, "0.5", "nan"), ["learning_rate", "finite"]),
    ("lr-string", edit(GOOD, "0.5", '"fast"'), ["learning_rate", "expected a number"]),
    ("lr-bool", edit(GOOD, "0.5", "true"), ["learning_rate", "expected a number"]),
    ("V-shape", edit(EXPLICIT, "V = [[0.6951], [-0.4402], [-0.2246], [-0.3053]]",
                     "V = [[0.6951, 1], [-0.4402, 1], [-0.2246, 1], [-0.3053, 1]]"),
     ["init.V", "expected 4 x 1 (K x H), got 4 x 2"]),
    ("E-ragged", edit(EXPLICIT, "[-0.0358, -0.5677]", "[-0.0358]"),
     ["init.E", "row 'o' (4) has 1 entry, row 'h' (1) has 2"]),
    ("E-flat", edit(EXPLICIT, "E = [[0.8175, 0.4613], [-0.3599, -0.4824], [0.1268, 0.1540], "
                    "[-0.0358, -0.5677]]", "E = [0.8175, 0.4613]"), ["init.E", "row 'h' (1) is"]),
    ("U-not-number", edit(EXPLICIT, "-0.2315", '"x"'), ["init.U", "expected a number"]),
    # rows of E and V and entries of c are characters: named by them, 1-based
    ("E-row-by-char", edit(EXPLICIT, "-0.4824", '"x"'),
     ["init.E: row 'e' (2) entry [2]: expected a number"]),
    ("V-row-by-char", edit(EXPLICIT, "[-0.2246]", "[1e999]"),
     ["init.V: row 'l' (3) entry [1]: must be a finite number"]),
    ("c-entry-by-char", edit(EXPLICIT, "c = [0.0, 0.0, 0.0, 0.0]", 'c = [0.0, 0.0, 0.0, "o"]'),
     ["init.c: entry 'o' (4): expected a number"]),
    ("W-row-by-number", edit(EXPLICIT, "W = [[-0.5352]]", "W = [[-0.5352], [1, 2]]"),
     ["init.W: row 2 has 2 entries, row 1 has 1"]),
    ("W-inf", edit(EXPLICIT, "-0.5352", "inf"), ["init.W", "finite"]),
    ("c-length", edit(EXPLICIT, "c = [0.0, 0.0, 0.0, 0.0]", "c = [0.0]"),
     ["init.c", "expected 4 numbers (K), got 1"]),
    ("b-missing", edit(EXPLICIT, "b = [0.0]\n", ""), ["init.b", "missing"]),
    ("seed-and-values", EXPLICIT + "seed = 3\n", ["init.E", "either init.seed"]),
    ("seed-negative", edit(GOOD, "seed = 1", "seed = -1"), ["init.seed", ">= 0"]),
    ("scale-without-seed", EXPLICIT + "scale = 0.1\n", ["init.scale", "only used"]),
    ("bptt-bad-mode", GOOD + '[bptt]\nembedding_rows = "xk"\n',
     ["bptt.embedding_rows", "'x_k' or 'x_t'"]),
    ("bptt-not-table", edit(GOOD, "[init]", "bptt = 3\n[init]"), ["bptt", "table"]),
    ("init-not-table", GOOD.split("[init]")[0] + "init = 5\n", ["init", "expected a table"]),
    ("name-too-long", edit(GOOD, '"tiny"', '"' + "n" * 80 + '"'), ["name", "at most 64"]),
]


@pytest.mark.parametrize(("content", "words"), slow_after(1, [(c, w) for _, c, w in BAD_FILES]),
                         ids=[i for i, _, _ in BAD_FILES])
@pytest.mark.parametrize("command", ["check", pytest.param("trace", marks=pytest.mark.slow),
                                     pytest.param("tui", marks=pytest.mark.slow)])
def test_bad_model_file(tmp_path: Path, content: str | bytes, words: list[str],
                        command: str) -> None:
    path = tmp_path / "bad.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = path.read_bytes()
    args = [str(path)] if command == "tui" else [command, str(path)]
    assert_one_line_error(run(*args), str(path), *words)
    assert path.read_bytes() == before  # nothing the user wrote is touched


@pytest.mark.parametrize(
    ("args", "words"),
    slow_after(1, [
        (["check", "no/such/file.toml"], ["no/such/file.toml", "no such file"]),
        (["check", "helo"], ["helo", "not a built-in", "did you mean 'hello'"]),
        (["check", "."], [".", "is a directory"]),
        (["trace", "hello", "--epochs", "0"], ["--epochs", "1..100000"]),
        (["trace", "hello", "--epochs", "x"], ["--epochs", "whole number"]),
        (["trace", "hello", "--format", "yaml"], ["--format", "invalid choice"]),
        (["trace"], ["MODEL", "required"]),
        (["train", "hello", "--epochs", "-1"], ["--epochs"]),
        (["train", "hello", "--report", "a,b"], ["--report", "commas"]),
        (["new"], ["--text", "required"]),
        (["new", "--text", "ab", "--hidden", "0"], ["--hidden"]),
        (["new", "--text", "ab", "--lr", "-1"], ["--lr", "> 0"]),
        (["new", "--text", "a"], ["text", "at least 2"]),
        (["trace", "hello", "--frobnicate"], ["unrecognized arguments", "--frobnicate"]),
        (["hello", "--handout", "--exact"], ["not allowed with"]),
        (["--frobnicate"], ["unrecognized arguments"]),
    ]),
)
def test_bad_arguments(args: list[str], words: list[str]) -> None:
    assert_one_line_error(run(*args), *words)


def test_check_summarises(tmp_path: Path) -> None:
    r = run("check", "hello")
    assert r.returncode == 0, r.stderr
    assert "K = 4" in r.stdout and "T = 4" in r.stdout and "24 steps per epoch" in r.stdout


def test_trace_json_shape_and_numbers() -> None:
    r = run("trace", "hello-handout", "--epochs", "2")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["model"] == "hello-handout" and doc["vocab"] == list("helo")
    e1, e2 = doc["epochs"]
    assert e1["epoch"] == 1 and abs(e1["total_loss"] - 5.552745376508512) < 1e-12
    step = e1["steps"][0]
    assert (step["t"], step["input"], step["target"], step["prediction"]) == (1, "h", "e", "h")
    assert len(step["x"]) == 2 and len(step["h"]) == 1 and len(step["y_hat"]) == 4
    for key in ("params", "grads", "params_after"):
        shapes = {n: (len(v), len(v[0]) if isinstance(v[0], list) else None)
                  for n, v in e1[key].items()}
        assert shapes == {"E": (4, 2), "U": (1, 2), "W": (1, 1), "b": (1, None),
                          "V": (4, 1), "c": (4, None)}
    assert [round(v, 4) for v in (s["loss"] for s in e2["steps"])] == H.epoch2_loss
    assert e2["params"] == e1["params_after"]
    assert abs(e1["grads"]["E"][0][0] - 0.0539) < 5e-5  # handout mode's dE


def test_trace_json_spells_out_non_finite(tmp_path: Path) -> None:
    model = tmp_path / "overflow.toml"
    text = (Path(__file__).parents[2] / "models" / "hello.toml").read_text()
    model.write_text(text.replace("learning_rate = 0.1", "learning_rate = 1e308"))
    r = run("trace", str(model), "--epochs", "3")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)  # strict JSON: the parser would reject a bare NaN
    flat = json.dumps(doc["epochs"][2])
    assert '"NaN"' in flat or '"Infinity"' in flat or '"-Infinity"' in flat
    assert "NaN," not in r.stdout.replace('"NaN",', "")


def test_trace_text_reads_like_the_handout() -> None:
    r = run("trace", "hello", "--format", "text")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "h_1 = [0.0111]" in out and "L_1 = 1.3904" in out
    assert "predicts 'h', but we want 'e'" in out
    assert "total loss = 5.5527" in out
    assert "dL/dW = [-0.0082]" in out and "W_new = [-0.5344]" in out


def test_train_prints_minima_from_any_directory(tmp_path: Path) -> None:
    r = run("train", "hello-handout", "--epochs", "100", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = {int(line.split()[0]): line.split()[1:] for line in r.stdout.splitlines()
            if line.strip() and line.split()[0].isdigit()}
    assert rows[2] == ["5.3114", "5.3114"]
    assert rows[50][1] == "2.9268" and rows[100][1] == "1.7800"


def test_new_writes_a_valid_model_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "hw.toml"
    r = run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    first = out.read_bytes()
    r2 = run("check", str(out))
    assert r2.returncode == 0 and "K = 8" in r2.stdout and "explicit values" in r2.stdout
    # Same seed, same numbers: the file is reproducible.
    again = run("new", "--text", "hello world", "--hidden", "3", "--embed", "2", "--seed", "0")
    assert again.stdout.split("\n", 2)[2] == first.decode().split("\n", 2)[2]
    # Never overwrite without --force, and leave the file exactly as it was.
    out.write_text(first.decode() + "# my notes\n")
    kept = out.read_bytes()
    assert_one_line_error(run("new", "--text", "abc", "-o", str(out)), str(out), "--force")
    assert out.read_bytes() == kept
    assert run("new", "--text", "abc", "-o", str(out), "--force").returncode == 0
    assert b"my notes" not in out.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["hw.toml"]  # no temp files left


def test_new_quotes_awkward_text(tmp_path: Path) -> None:
    out = tmp_path / "q.toml"
    text = 'say "hi"\\\n\ttab ✓'
    assert run("new", "--text", text, "-o", str(out)).returncode == 0
    from rnn_tui.core.model_file import load

    assert load(str(out))[0].text == text


def test_new_reports_unwritable_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/rnn-tui-test.toml")  # root ignores file modes; /proc does not
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = ro / "m.toml"
    assert_one_line_error(run("new", "--text", "abc", "-o", str(target)), str(target))


def test_help_on_every_command() -> None:
    for args in ([], ["trace"], ["train"], ["check"], ["new"]):
        r = run(*args, "--help")
        assert r.returncode == 0 and "usage:" in r.stdout, args
