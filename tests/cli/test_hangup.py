"""A hangup or SIGTERM ends rnn-tui within seconds, every time (issue 19,
point 1): a terminal closed mid-frame used to leave a process stuck in
Textual's shutdown (main thread in Queue.put inside WriterThread.stop) that
also ignored SIGTERM. The watchdog (rnn_tui/tui/watchdog.py) gives the
normal shutdown two seconds, then ends the process."""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers.cli import rnn_tui_command

pytestmark = pytest.mark.slow  # real processes in tmux and pseudo-terminals, hung up

GONE_WITHIN = 6.0  # seconds: the watchdog's 2 s grace, and slack for a loaded machine


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(pid)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_killing_the_terminal_mid_output_never_leaves_a_process(tmp_path: Path) -> None:
    """The repro of the issue, ten times: a 3-unit model at 200x60 in tmux,
    40 spaces at once, then the tmux session killed while it draws. Before
    the watchdog, most tries here left rnn-tui running for good."""
    model = tmp_path / "h3.toml"
    subprocess.run([*rnn_tui_command(), "new", "--text", "hello world", "--hidden", "3",
                    "--embed", "2", "--seed", "0", "-o", str(model)], check=True,
                   capture_output=True)
    sock = str(tmp_path / "tmux.sock")

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                              timeout=20).stdout

    left = []
    for _ in range(10):
        command = " ".join([*rnn_tui_command(), str(model)])
        tmux("new-session", "-d", "-x", "200", "-y", "60", f"exec {command}")
        pid = int(tmux("display", "-p", "#{pane_pid}").strip())
        try:
            deadline = time.monotonic() + 20
            while "epoch 1" not in tmux("capture-pane", "-p") and time.monotonic() < deadline:
                time.sleep(0.1)
            tmux("send-keys", *["Space"] * 40)
            tmux("kill-session")
            if not wait_gone(pid, GONE_WITHIN):
                left.append(pid)
        finally:
            tmux("kill-server")
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of 10 rnn-tui processes outlived their terminal"


# A process stuck the way Textual's shutdown was seen stuck: the main thread
# waits for ever in Queue.put. The watchdog alone has to end it.
STUCK = textwrap.dedent("""
    import queue, sys
    from rnn_tui.tui.watchdog import Watchdog
    Watchdog(lambda name, code: print("stop", name, code, flush=True)).install()
    q = queue.Queue(1)
    q.put(None)
    print("stuck", flush=True)
    q.put(None)
""")


def test_sigterm_ends_a_process_whose_main_thread_is_stuck() -> None:
    proc = subprocess.Popen([sys.executable, "-c", STUCK], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "stuck\n"
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=GONE_WITHIN) == 143
    assert 1.5 < time.monotonic() - started < GONE_WITHIN  # after the grace, not before
    assert proc.stdout.readline() == "stop SIGTERM 143\n"  # the app was asked first


def test_a_terminal_that_hangs_up_without_a_signal_ends_the_process() -> None:
    """The terminal is gone (its master side closed) but no SIGHUP came (the
    process is not in the terminal's session, as under some servers)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", STUCK], stdin=slave, stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    os.close(slave)
    assert proc.stdout is not None and proc.stdout.readline() == "stuck\n"
    os.close(master)
    assert proc.wait(timeout=GONE_WITHIN) == 129
    assert proc.stdout.readline() == "stop SIGHUP 129\n"
