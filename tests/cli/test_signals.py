"""Interruption: Ctrl+C, SIGTERM and SIGHUP end the real app in a real
pseudo-terminal with the terminal restored and a one-line message; a long
`train` stops cleanly on Ctrl+C."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers.cli import rnn_tui_command

pytestmark = pytest.mark.slow  # real processes in pseudo-terminals, signalled

SHOW_CURSOR = b"\x1b[?25h"
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


class Terminal:
    """rnn-tui in a pty of its own, read until a deadline."""

    def __init__(self, *args: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become rnn-tui
            os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="30")
            os.environ.pop("NO_COLOR", None)
            cmd = rnn_tui_command()
            os.execv(cmd[0], [*cmd, *args])
        self.out = b""

    def read_until(self, needle: bytes, seconds: float = 20) -> bytes:
        deadline = time.monotonic() + seconds
        while needle not in self.out and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    break
        assert needle in self.out, f"{needle!r} not seen; last output: {self.out[-400:]!r}"
        return self.out

    def wait(self, seconds: float = 20) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                chunk = os.read(self.fd, 65536)
                self.out += chunk
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                while True:  # the rest of the output
                    try:
                        chunk = os.read(self.fd, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    self.out += chunk
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("rnn-tui did not exit")


def restored(out: bytes) -> bool:
    tail = out[out.rfind(b"\x1b[?1049h"):]
    return SHOW_CURSOR in tail and LEAVE_ALT_SCREEN in tail


@pytest.mark.parametrize(("send", "code", "message"), [
    ("ctrl+c", 130, b"rnn-tui: interrupted"),
    ("SIGTERM", 143, b"rnn-tui: stopped by SIGTERM"),
    ("SIGHUP", 129, b"rnn-tui: stopped by SIGHUP"),
])
def test_stopping_during_a_long_run_restores_the_terminal(send: str, code: int,
                                                           message: bytes) -> None:
    term = Terminal("hello", "--theme", "dark")
    term.read_until(b"forward t=1")
    os.write(term.fd, b"g")
    term.read_until(b"Go to epoch")
    os.write(term.fd, b"9000000\r")  # a long run in the background
    term.read_until(b"(esc cancels)")
    sent = time.monotonic()
    if send == "ctrl+c":
        os.write(term.fd, b"\x03")
    else:
        os.kill(term.pid, getattr(signal, send))
    assert term.wait() == code
    if send != "ctrl+c":  # a signal ends it within seconds (the watchdog's promise)
        assert time.monotonic() - sent < 6, "the app took too long to stop"
    assert restored(term.out), term.out[-300:]
    assert term.out.rstrip().endswith(message)


def test_quit_key_exits_zero_and_restores() -> None:
    term = Terminal("hello", "--theme", "dark")
    term.read_until(b"forward t=1")
    os.write(term.fd, b"q")
    assert term.wait() == 0 and restored(term.out)


def test_long_train_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen([*rnn_tui_command(), "train", "hello", "--epochs", "9000000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1].startswith("rnn-tui train: interrupted at epoch")
    assert "Traceback" not in err and "epoch" in out


def test_train_shows_progress_on_a_terminal() -> None:
    pid, fd = pty.fork()
    if pid == 0:
        cmd = rnn_tui_command()
        os.execv(cmd[0], [*cmd, "train", "hello", "--epochs", "30000"])
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.waitpid(pid, 0)
    assert b"epoch 10000/30000" in out and b"30000" in out
