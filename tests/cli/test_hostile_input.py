"""Hostile input as a student or a user of a shared machine would try it:
escape sequences in names and file names, model paths that are not regular
files, and closed or full standard streams. Each ends in a clear line or
prompt output, never a hang, a traceback or a byte that drives the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from rnn_tui.core.model_file import ModelFileError, load

from helpers.cli import GOOD, assert_one_line_error, rnn_tui_command, run
from helpers.marks import slow_after

# Sets the window title, writes the clipboard, clears the screen, reverses the
# text after it, and starts a new line: all in a model's name (64 characters).
EVIL = "\x1b]0;PWNED\x07\x1b]52;c;aGk=\x07\x1b[2J\u202eevil\nname"
EVIL_SHOWN = "\\x1b]0;PWNED\\x07\\x1b]52;c;aGk=\\x07\\x1b[2J\\u202eevil\\x0aname"
# ...and in a file name.
EVIL_FILE = "a\x1b]0;T\x07\u202eb\nc.toml"
EVIL_FILE_SHOWN = "a\\x1b]0;T\\x07\\u202eb\\x0ac.toml"
RAW = ("\x1b", "\x07", "\u202e")


def assert_safe(result: subprocess.CompletedProcess, *shown: str) -> None:
    """Nothing that drives a terminal reaches it; what is shown is escaped."""
    out = result.stdout + result.stderr
    for raw in RAW:
        assert raw not in out, (raw, out[:500])
    assert "evil\nname" not in out and "b\nc.toml" not in out
    assert "Traceback" not in result.stderr
    for s in shown:
        assert s in out, (s, out[:2000])


@pytest.fixture
def evil_model(tmp_path: Path) -> Path:
    path = tmp_path / EVIL_FILE
    path.write_text(GOOD.replace('name = "tiny"', f"name = {json.dumps(EVIL)}"))
    assert load(path)[0].name == EVIL
    return path


@pytest.mark.slow
def test_names_and_paths_are_escaped_everywhere(evil_model: Path, tmp_path: Path) -> None:
    m = str(evil_model)
    shown_path = str(tmp_path) + "/" + EVIL_FILE_SHOWN
    assert_safe(run("check", m), EVIL_SHOWN, f"{shown_path}: ok")
    assert_safe(run("train", m, "--epochs", "3"), EVIL_SHOWN)
    assert_safe(run("gradcheck", m), EVIL_SHOWN)
    assert_safe(run("trace", m, "--format", "text"), EVIL_SHOWN)
    r = run("trace", m)
    assert_safe(r)
    assert json.loads(r.stdout)["model"] == EVIL  # JSON escapes it, and keeps it exact
    assert_safe(run("export", m), EVIL_SHOWN)
    out = tmp_path / EVIL_FILE.replace(".toml", ".md")
    r = run("export", m, "-o", str(out))
    assert_safe(r, "wrote ", EVIL_FILE_SHOWN.replace(".toml", ".md"))
    assert r.stderr.count("\n") == 1 and out.exists()
    r = run("new", "--text", "hello", "--name", EVIL, "-o", str(tmp_path / ("n" + EVIL_FILE)))
    assert r.returncode == 0 and r.stderr.count("\n") == 1
    assert_safe(r, "wrote ", "n" + EVIL_FILE_SHOWN)
    r = run("new", "--text", "ab\u202ec", "--name", EVIL)  # the model file on stdout
    assert_safe(r)
    written = tmp_path / "written.toml"
    written.write_text(r.stdout)
    spec = load(written)[0]
    assert (spec.name, spec.text) == (EVIL, "ab\u202ec")  # escaped, not changed


def test_errors_are_escaped(evil_model: Path, tmp_path: Path) -> None:
    bad = tmp_path / EVIL_FILE.replace(".toml", "-bad.toml")
    bad.write_text(GOOD.replace("hidden_size = 2", "hidden_size = 0"))
    r = run("check", str(bad))
    assert_one_line_error(r, EVIL_FILE_SHOWN.replace(".toml", "-bad.toml"), "hidden_size")
    assert_safe(r)
    r = run("check", EVIL)  # neither a file nor a built-in
    assert_one_line_error(r, "\\x1b]0;PWNED")
    assert_safe(r)
    r = run("trace", "hello", "--format", EVIL)  # argparse's own message
    assert_one_line_error(r)
    assert_safe(r)
    r = run("export", "hello", "-o", str(evil_model))  # exists: refused, named escaped
    assert_one_line_error(r, EVIL_FILE_SHOWN, "--force")
    assert_safe(r)


# ------------------------------------------- model paths that are not files


def loads_within(path: Path, seconds: float) -> str:
    """load(path) in a thread: the one line it fails with, within ``seconds``."""
    outcome: list[BaseException | object] = []

    def go() -> None:
        try:
            outcome.append(load(path))
        except BaseException as err:
            outcome.append(err)

    reader = threading.Thread(target=go, daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(seconds)
    if reader.is_alive() and path.is_fifo():  # unblock a reader stuck on the FIFO
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        reader.join(seconds)
    took = time.monotonic() - started
    assert took < seconds, f"load({path}) took {took:.1f} s"
    err = outcome[0]
    assert isinstance(err, ModelFileError), err
    return str(err)


def test_dev_zero_is_refused_at_once() -> None:
    assert "/dev/zero: is a character device, not a model file" in loads_within(
        Path("/dev/zero"), 2)
    assert_one_line_error(run("check", "/dev/zero", timeout=20), "/dev/zero",
                          "character device")


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "f.toml"
    os.mkfifo(fifo)
    assert "f.toml: is a FIFO (named pipe), not a model file" in loads_within(fifo, 2)
    started = time.monotonic()
    r = run("check", str(fifo), timeout=20)
    assert_one_line_error(r, "f.toml", "FIFO")
    assert time.monotonic() - started < 10


def test_a_huge_sparse_file_is_refused_before_reading(tmp_path: Path) -> None:
    sparse = tmp_path / "big.toml"
    with sparse.open("wb") as fh:
        fh.truncate(2**30)  # 1 GiB, no blocks on disk
    message = loads_within(sparse, 2)
    assert "big.toml: is 1 GiB, more than a model file can be (at most 128 MiB)" in message
    assert_one_line_error(run("check", str(sparse), timeout=20), "big.toml", "1 GiB")


def test_the_largest_valid_model_fits_the_limit() -> None:
    from rnn_tui.core.model_file import MAX_DIM, MAX_MODEL_BYTES, MAX_VOCAB

    K, D, H = MAX_VOCAB, MAX_DIM, MAX_DIM
    numbers = K * D + H * D + H * H + H + K * H + K
    longest = len(repr(-2.2250738585072014e-308)) + 2  # "-2.2250738585072014e-308, "
    assert numbers * longest + 100_000 < MAX_MODEL_BYTES


# ------------------------------------------------ closed or full streams


def shell(redirect: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """rnn-tui ARGS with a shell redirection of its standard streams."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", *rnn_tui_command(), *args],
                          capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def assert_stream_error(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr, r.stderr
    assert len(r.stderr.splitlines()) == 1, r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


@pytest.mark.parametrize("args", slow_after(1, [
    ("trace", "hello"), ("new", "--text", "hello"), ("check", "hello"), ("export", "hello"),
    ("--help",)], one=True))
def test_closed_stdout(args: tuple[str, ...]) -> None:
    assert_stream_error(shell(">&-", *args), "rnn-tui: error: cannot write to standard output: "
                        "it is closed")


@pytest.mark.parametrize("args", slow_after(1, [
    ("trace", "hello"), ("export", "hello"), ("train", "hello", "--epochs", "5"),
    ("gradcheck", "hello")], one=True))
def test_full_stdout(args: tuple[str, ...]) -> None:
    r = shell("> /dev/full", *args)
    assert_stream_error(r, "cannot write to standard output: no space left on device")


def test_closed_stdout_with_an_output_file_is_fine(tmp_path: Path) -> None:
    out = tmp_path / "m.toml"
    r = shell(">&-", "new", "--text", "hello", "-o", str(out))
    assert r.returncode == 0 and r.stderr.startswith("wrote "), r.stderr
    assert load(out)[0].text == "hello"  # the file did not land on descriptor 1


def test_closed_stdin_for_the_debugger() -> None:
    for args in (("hello",), ("follow",)):
        r = shell("<&-", *args, timeout=30)
        assert_stream_error(r, "rnn-tui: error: standard input is closed; the debugger needs "
                            "a terminal")


def test_closed_stderr_still_exits_with_the_status() -> None:
    r = shell(">&- 2>&-", "trace", "hello")
    assert r.returncode == 2 and r.stdout == "" and r.stderr == ""


def test_a_closed_pipe_is_quiet() -> None:
    cmd = " ".join(rnn_tui_command())
    r = subprocess.run(["sh", "-c", f"{cmd} trace hello --epochs 300 | head -c 10"],
                       capture_output=True, text=True, timeout=60)
    assert r.stderr == "" and r.stdout.startswith('{"model": ')


def test_server_log_lines_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from rnn_tui.serve.common import log, say

    log(f"#1 {EVIL}: session started")
    say("rnn-tui serve", f"serving {EVIL} at http://127.0.0.1:8000/")
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and EVIL_SHOWN in err
    for raw in RAW:
        assert raw not in err
