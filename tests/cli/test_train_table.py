"""The model file's [train] table and text_file, as users meet them (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_tui.core.model_file import load

from helpers.cli import GOOD, assert_one_line_error, run
from helpers.marks import slow_after

POEM = "the cat sat on the mat, the cat sat."
FILE_MODEL = GOOD.replace('text = "abca"', 'text_file = "poem.txt"')


def write(tmp_path: Path, model: str, poem: bytes | None = POEM.encode()) -> Path:
    (tmp_path / "sub").mkdir(exist_ok=True)
    path = tmp_path / "sub" / "m.toml"
    path.write_text(model, encoding="utf-8")
    if poem is not None:
        (tmp_path / "sub" / "poem.txt").write_bytes(poem)
    return path


def test_text_file_is_read_relative_to_the_model_file(tmp_path: Path) -> None:
    path = write(tmp_path, FILE_MODEL + "[train]\noptimizer = \"adagrad\"\nclip_value = 5\n"
                 "seq_length = 6\n")
    spec, _ = load(path)
    assert spec.text == POEM and spec.text_file == "poem.txt"
    assert spec.train.optimizer == "adagrad" and spec.train.seq_length == 6
    result = run("check", str(path), cwd=tmp_path)  # another working directory
    assert result.returncode == 0, result.stderr
    assert "from poem.txt" in result.stdout
    assert "updates   adagrad, clip_value = 5.0, seq_length = 6" in result.stdout
    assert "6 chunks of at most 6 steps" in result.stdout  # T = 35


def test_without_train_table_check_says_the_handout(tmp_path: Path) -> None:
    result = run("check", "hello")
    assert "updates   sgd, no clipping, whole text per update" in result.stdout
    assert "stepping  24 steps per epoch (4 forward, 4 output, 10 BPTT, 6 updates)" in (
        result.stdout)


@pytest.mark.parametrize(("model", "poem", "words"), slow_after(1, [
    (GOOD + "[train]\noptimizer = \"adagard\"\n", None,
     ["m.toml: train.optimizer: unknown optimizer", "did you mean 'adagrad'"]),
    (GOOD + "[train]\nclip_value = 5.0\nclip_norm = 1.0\n", None,
     ["train.clip_norm: give clip_value or clip_norm, not both"]),
    (GOOD + "[train]\nseq_length = 0\n", None, ["train.seq_length: must be >= 1, got 0"]),
    (GOOD + "[train]\nseq_len = 3\n", None, ["train.seq_len: unknown key", "'seq_length'"]),
    (FILE_MODEL, None, ["text_file:", "poem.txt: no such file"]),
    (FILE_MODEL.replace("text_file", 'text = "ab"\ntext_file'), b"abc",
     ["text_file: give text or text_file, not both"]),
    (FILE_MODEL, b"ab\xffc", ["text_file:", "poem.txt: not UTF-8 text (bad byte at line 1)"]),
    (FILE_MODEL, b"ab" * 3000, ["text_file: poem.txt: needs at most 5000 characters, got 6000"]),
    (FILE_MODEL, b"a", ["text_file: poem.txt: needs at least 2 characters, got 1"]),
    (FILE_MODEL.replace('"poem.txt"', "3"), None, ["text_file: expected a string"]),
]))
def test_bad_train_table_or_text_file_is_one_line(
    tmp_path: Path, model: str, poem: bytes | None, words: list[str]
) -> None:
    path = write(tmp_path, model, poem)
    assert_one_line_error(run("check", str(path)), *words)


def test_text_file_must_be_a_regular_file(tmp_path: Path) -> None:
    path = write(tmp_path, FILE_MODEL, None)
    (tmp_path / "sub" / "poem.txt").mkdir()
    assert_one_line_error(run("check", str(path)), "poem.txt: is a directory")


def test_new_writes_a_train_table_that_loads_back(tmp_path: Path) -> None:
    out = tmp_path / "n.toml"
    result = run("new", "--text", "hello there", "--optimizer", "adam", "--clip-norm", "1",
                 "--seq-length", "4", "-o", str(out))
    assert result.returncode == 0, result.stderr
    spec, _ = load(out)
    assert (spec.train.optimizer, spec.train.clip_norm, spec.train.seq_length) == ("adam", 1.0, 4)
    assert spec.train.clip_value is None
    plain = run("new", "--text", "hello")
    assert "[train]" not in plain.stdout
    assert_one_line_error(run("new", "--text", "hi", "--clip-value", "1", "--clip-norm", "1"),
                          "not allowed with argument")


@pytest.mark.parametrize("command", slow_after(1, [["export"], ["export-torch", "-o", "out"],
                                     ["compare", "THEIRS"], ["grade", "THEIRS"]]))
def test_handout_only_commands_refuse_a_train_table(tmp_path: Path, command: list[str]) -> None:
    path = write(tmp_path, GOOD + "[train]\noptimizer = \"adagrad\"\n")
    theirs = tmp_path / "theirs.json"
    theirs.write_text("{}", encoding="utf-8")
    args = [str(theirs) if a == "THEIRS" else str(tmp_path / a) if a == "out" else a
            for a in command]
    assert_one_line_error(run(args[0], str(path), *args[1:]),
                          "[train] table (adagrad, no clipping, whole text per update)",
                          "follows the handout's training")
