"""Runs in each ``ssh-serve`` session's pty (``python -m rnn_tui.serve.ssh_child
MODEL``): makes the pty the controlling terminal, so a hangup or the server's
death reaches the debugger as SIGHUP, then runs ``rnn-tui MODEL``. Kept apart
from the server so that a session never imports asyncssh."""

from __future__ import annotations

import fcntl
import sys
import termios


def main(argv: list[str]) -> int:
    try:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    except OSError:
        pass  # still works: the server signals the process group itself
    from rnn_tui.cli import main as rnn_tui

    return rnn_tui(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
