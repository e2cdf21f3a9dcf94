"""A hangup or SIGTERM ends the GRU/LSTM debugger the way it ends the RNN's
(issue 19): the watchdog asks the app to exit, which restores the terminal
and says why on stderr, with status 128 + the signal. Without the watchdog
the signal's default action kills the process at once (status -1 or -15,
the terminal left in the alternate screen, nothing said)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from helpers.cli import rnn_tui_command

GONE_WITHIN = 6.0  # seconds: the watchdog's 2 s grace, and slack for a loaded machine
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def read_until(fd: int, want: bytes, seconds: float, got: bytearray) -> bool:
    """Read the terminal's output into ``got`` until ``want`` is in it."""
    deadline = time.monotonic() + seconds
    while want not in got and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other side is closed: the process has gone
                return want in got
            if not chunk:
                break
            got += chunk
    return want in got


@pytest.mark.parametrize(("sig", "code"), [
    pytest.param(signal.SIGHUP, 129, id="SIGHUP"),
    pytest.param(signal.SIGTERM, 143, id="SIGTERM", marks=pytest.mark.slow)])
def test_a_signal_ends_the_lstm_debugger_the_normal_way(tmp_path: Path, sig: int,
                                                        code: int) -> None:
    model = tmp_path / "lstm.toml"
    subprocess.run([*rnn_tui_command(), "new", "--cell", "lstm", "--text", "hello world",
                    "--hidden", "3", "--embed", "2", "--seed", "0", "-o", str(model)],
                   check=True, capture_output=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 34, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    proc = subprocess.Popen([*rnn_tui_command(), str(model)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    got = bytearray()
    try:
        assert read_until(master, b"LSTM", 30, got), bytes(got[-400:])
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(sig)
        said = f"rnn-tui: stopped by {signal.Signals(sig).name}".encode()
        read_until(master, said, GONE_WITHIN, got)  # read while it ends: a pty drops the rest
        assert proc.wait(timeout=GONE_WITHIN) == code
        assert time.monotonic() - started < GONE_WITHIN
        tail = bytes(got)
        assert LEAVE_ALT_SCREEN in tail  # the terminal restored
        assert said in tail
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
