"""A server under test (``rnn-tui serve`` in test_serve, ``rnn-tui
ssh-serve`` in test_ssh and test_ssh_limits) as a subprocess: its stderr collected line by line
in a thread, so a test can wait for a line; its session processes found
through /proc; stopping it by a signal, or killing it and its sessions."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path


def children_of(ppid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == ppid:
                out.append(int(entry))
    return out


def state_of(pid: int) -> str | None:
    """The process state letter from /proc (R, S, Z...), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def gone(pid: int) -> bool:
    return state_of(pid) in (None, "Z", "X")


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class ServerProcess:
    """Subclasses start ``self.proc`` with stderr piped, then call _collect()."""

    proc: subprocess.Popen[bytes]

    def children(self) -> list[int]:
        return children_of(self.proc.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise
        return self.proc.returncode

    def kill(self) -> None:
        pids = self.children()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for pid in pids:  # the sessions of a server that had to be killed
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def _collect(self) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pattern: str, timeout: float) -> re.Match[str]:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if m := rx.search(line):
                        return m
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    break
                self._cond.wait(0.2)
        raise AssertionError(f"no line matching {pattern!r} from the server "
                             f"(rc={self.proc.poll()}):\n{self.log()}")

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)


class SshServer(ServerProcess):
    """`rnn-tui ssh-serve ARGS --port 0` as a subprocess, its host key under
    ``state``; ``port`` is the one it picked."""

    def __init__(self, args: list[str], state: Path, timeout: float = 30.0) -> None:
        env = {**os.environ, "XDG_STATE_HOME": str(state)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rnn_tui", "ssh-serve", *args, "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env,
        )
        self._collect()
        m = self.wait_line(r"serving .* on 127\.0\.0\.1:(\d+) ", timeout)
        self.port = int(m.group(1))
