"""What the two servers (``serve`` for browsers, ``ssh-serve``) share: how
they log, and what counts as this machine only."""

from __future__ import annotations

import ipaddress
import sys
import time


def log(message: str) -> None:
    """One line on stderr; a log that cannot be written never stops the server."""
    try:
        print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def say(prog: str, message: str) -> None:
    """One line on stderr in the command's name (``rnn-tui serve: ...``)."""
    try:
        print(f"{prog}: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def is_loopback(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1 (with or without brackets)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def one_line(exc: BaseException | None) -> str:
    """An exception as a short lower-case phrase for a log line."""
    if exc is None:
        return ""
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return text[:1].lower() + text[1:]
