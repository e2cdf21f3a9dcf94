"""``rnn-tui compare-cells`` in a real subprocess: the JSON's schema and
numbers (equal to core/cell_compare's), the text output, one-line errors."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from rnn_tui.core.cell_compare import compare
from rnn_tui.core.text import sci

from helpers.cli import assert_one_line_error, rnn_tui_command, run
from helpers.marks import slow_after

TEXT = "hello world, hello rnn"


def test_json_schema_and_numbers() -> None:
    r = run("compare-cells", TEXT, "--cells", "rnn,gru,lstm", "--hidden", "6", "--embed", "3",
            "--seed", "2", "--epochs", "5", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"text", "cells", "hidden", "embed", "seed", "epochs", "norms", "by_lag"} <= set(doc)
    assert (doc["text"], doc["cells"], doc["hidden"], doc["embed"], doc["seed"], doc["epochs"]) \
        == (TEXT, ["rnn", "gru", "lstm"], 6, 3, 2, 5)
    T = len(TEXT) - 1
    want = compare(TEXT, ("rnn", "gru", "lstm"), 6, 3, 2, 0.5, 5, doc["learning_rate"])
    assert doc["learning_rate"] == 0.048  # new's default, 1/T to 2 digits
    for m in doc["cells"]:
        rows = doc["norms"][m]
        assert [len(r) for r in rows] == list(range(1, T + 1))  # row t: k = 1..t
        tri = want.triangles[m]
        for t, row in enumerate(rows, start=1):
            assert row == tri.norms[t - 1, :t].tolist()
        assert doc["by_lag"][m] == tri.by_lag().tolist()
        assert doc["ratio"][m] == tri.ratio()
        assert doc["loss"][m] == float(tri.losses[-1])
    assert doc["ratio"]["rnn"] < doc["ratio"]["lstm"]


def test_text_shows_each_triangle_and_the_summary() -> None:
    r = run("compare-cells", TEXT, "--format", "text", "--width", "100")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "RNN ‖∂L_t/∂h_k‖" in out and "LSTM ‖∂L_t/∂(h,C)_k‖" in out
    assert out.count("t=21 ") == 2 and "GRU" not in out
    assert all(len(line) <= 100 for line in out.splitlines())
    c = compare(TEXT, ("rnn", "lstm"), 8, 4, 0, 0.5, 0, 0.048)
    rnn_row = next(line for line in out.splitlines() if line.startswith("RNN  "))
    assert sci(c.triangles["rnn"].ratio()) in rnn_row.split()
    assert sci(float(c.triangles["rnn"].by_lag()[0])) == rnn_row.split()[1]


def test_text_numbers_when_wide() -> None:
    r = run("compare-cells", "abcab", "--cells", "gru", "--format", "text", "--width", "120")
    assert r.returncode == 0, r.stderr
    c = compare("abcab", ("gru",), 8, 4, 0, 0.5, 0, 0.1)
    row4 = next(line for line in r.stdout.splitlines() if line.lstrip().startswith("t=4 "))
    assert [cell[1:] for cell in row4.split()[1:]] == \
        [sci(float(v)) for v in c.triangles["gru"].norms[3, :4]]


@pytest.mark.parametrize(("args", "words"), slow_after(1, [
    (("ab",), ["at least 3 characters"]),
    (("aaaa",), ["2 distinct"]),
    (("x" * 400 + "yz",), ["at most 400"]),
    ((TEXT, "--cells", "rnn,lstn"), ["--cells", "unknown cell 'lstn'", "did you mean 'lstm'"]),
    ((TEXT, "--cells", "rnn,"), ["--cells", "separated by commas"]),
    ((TEXT, "--hidden", "0"), ["--hidden", "1..128"]),
    ((TEXT, "--embed", "129"), ["--embed", "1..128"]),
    ((TEXT, "--epochs", "-1"), ["--epochs"]),
    ((TEXT, "--forget-bias", "nan"), ["--forget-bias", "finite"]),
    ((TEXT, "--format", "yaml"), ["--format", "yaml"]),
    ((), ["TEXT"]),
]))
def test_bad_arguments_are_one_line(args: tuple[str, ...], words: list[str]) -> None:
    assert_one_line_error(run("compare-cells", *args, "--format", "json"), *words)


def test_the_readme_example_is_what_the_command_prints() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    r = run("compare-cells", TEXT, "--cells", "rnn,gru,lstm", "--format", "text",
            "--width", "80")
    assert r.returncode == 0, r.stderr
    summary = r.stdout.splitlines()[-5:]
    assert summary[0].startswith("median")
    assert "\n".join(summary) in readme


def test_the_view_opens_in_a_real_terminal_and_q_quits() -> None:
    """The default format in a pseudo-terminal of 80x24: the view draws the
    summary, and q ends the command with status 0."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*rnn_tui_command(), "compare-cells", TEXT], stdin=slave,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"median" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"median" in seen, seen[-500:]
        os.write(master, b"q")
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
