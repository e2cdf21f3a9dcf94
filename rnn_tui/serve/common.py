"""What the two servers (``serve`` for browsers, ``ssh-serve``) share: their
common options, how they log, and what counts as this machine only."""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from pathlib import Path

from rnn_tui.cli.args import int_in, mode_args
from rnn_tui.core.text import printable

LOOPBACK = "127.0.0.1"


def add_session_arguments(
    p: argparse.ArgumentParser,
    *,
    clients: str,
    host_note: str,
    port: int,
    max_sessions: int,
    sessions: str,
    owner: bool,
) -> None:
    """MODEL, the dE mode, --host/--port, --follow/--room[/--owner] and
    --max-sessions, worded for the server's ``clients`` (e.g. "browsers")."""
    p.add_argument("model", nargs="?", default=None, metavar="MODEL",
                   help=f"model every session opens (default: hello); {clients} cannot "
                   "change it")
    mode_args(p)
    p.add_argument("--host", default=LOOPBACK,
                   help=f"address to listen on (default {LOOPBACK}: this machine only; "
                   f"0.0.0.0 for the whole network{host_note})")
    p.add_argument("--port", type=int_in(0, 65535), default=port,
                   help=f"port (default {port}; 0 picks a free one)")
    p.add_argument("--follow", action="store_true",
                   help="every session follows the lecturer's `rnn-tui --present` "
                   "(rnn-tui follow) instead of opening MODEL")
    p.add_argument("--room", type=Path, default=None, metavar="DIR",
                   help="with --follow: the lecturer's room directory (default: "
                   "$RNN_TUI_ROOM, else /tmp/rnn-tui-room-USER of --owner or of you)")
    if owner:
        p.add_argument("--owner", default=None, metavar="USER",
                       help="with --follow: trust a state file owned by this user (the "
                       "lecturer)")
    p.add_argument("--max-sessions", type=int_in(1, 10_000), default=max_sessions,
                   metavar="N", help=f"{sessions} at once; more are refused "
                   f"(default {max_sessions})")


def log(message: str) -> None:
    """One line on stderr; a log that cannot be written never stops the server."""
    try:
        # printable(): a user name, a path or a peer's text never drives the terminal
        print(f"{time.strftime('%H:%M:%S')} {printable(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def say(prog: str, message: str) -> None:
    """One line on stderr in the command's name (``rnn-tui serve: ...``)."""
    try:
        print(f"{prog}: {printable(message)}", file=sys.stderr, flush=True)
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
