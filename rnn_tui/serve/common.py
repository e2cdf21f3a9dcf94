"""What the two servers (``serve`` for browsers, ``ssh-serve``) share: their
common options, the command and environment of a session's process, window
size clamping, ending processes, signals and shutdown, how they log, and
what counts as this machine only."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from rnn_tui.cli.args import UsageError, int_in, mode_args
from rnn_tui.core.follow import default_room
from rnn_tui.core.model_file import load
from rnn_tui.core.text import printable

LOOPBACK = "127.0.0.1"
KILL_GRACE = 2.0  # seconds between asking a session's process to end and the next signal
MAX_COLS, MAX_ROWS = 1000, 500  # a client's window size is clamped to this
# The server's own terminal (or devtools), not the client's: never passed on.
HIDDEN_ENV = frozenset({
    "COLUMNS", "LINES", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "TMUX",
    "TMUX_PANE", "STY", "WINDOWID", "WT_SESSION", "KITTY_WINDOW_ID", "VTE_VERSION",
    "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK", "DISPLAY", "WAYLAND_DISPLAY",
    "TEXTUAL", "TEXTUAL_LOG", "TEXTUAL_DRIVER",
})
MODE_FLAGS = {"x_t": ["--handout"], "x_k": ["--exact"]}


# ----------------------------------------------------------------- arguments


def add_session_arguments(
    p: argparse.ArgumentParser,
    *,
    clients: str,
    host_note: str,
    port: int,
    max_sessions: int,
    sessions: str,
) -> None:
    """MODEL, the dE mode, --host/--port, --follow/--room/--owner and
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
                   "$RNN_TUI_ROOM or /tmp/rnn-tui-room)")
    p.add_argument("--owner", default=None, metavar="USER",
                   help="with --follow: trust a state file owned by this user (the lecturer)")
    p.add_argument("--max-sessions", type=int_in(1, 10_000), default=max_sessions,
                   metavar="N", help=f"{sessions} at once; more are refused "
                   f"(default {max_sessions})")


# ------------------------------------------------------- a session's process


def child_command(args: argparse.Namespace, launcher: list[str]) -> tuple[list[str], str]:
    """What every session runs, ``launcher`` (e.g. ``python -m rnn_tui``)
    followed by MODEL and its mode or by ``follow --room DIR [--owner USER]``,
    and what to call it. Nothing in it comes from a client. A model is passed
    as an absolute path (built-ins too: load() resolves them), so it never
    depends on the working directory and is never mistaken for an option."""
    if not args.follow:
        if args.room is not None:
            raise UsageError("--room needs --follow")
        if args.owner is not None:
            raise UsageError("--owner needs --follow")
        spec, path = load(args.model or "hello")  # a bad model fails here, not per session
        return [*launcher, str(path.resolve()), *MODE_FLAGS.get(args.mode, [])], spec.name
    if args.model is not None:
        raise UsageError("--follow shows the lecturer's model: give no MODEL")
    if args.mode is not None:
        raise UsageError("--follow shows the lecturer's mode: give no --handout/--exact")
    room = Path(args.room or default_room()).absolute()
    argv = [*launcher, "follow", "--room", str(room)]
    if args.owner is not None:
        argv += ["--owner", args.owner]
    return argv, f"the room {room} (follow mode)"


def child_env(base: Mapping[str, str], term: str, colorterm: str | None) -> dict[str, str]:
    """``base`` less what describes the server's own terminal, with the
    client's TERM (and COLORTERM), and RNN_TUI_SERVED=1: the app disables
    what would act on the server's disk (opening files, screenshots)."""
    env = {k: v for k, v in base.items() if k not in HIDDEN_ENV}
    env["TERM"] = term
    env["RNN_TUI_SERVED"] = "1"
    if colorterm:
        env["COLORTERM"] = colorterm
    return env


def clamp(value: object, default: int, hi: int) -> int:
    """A number from a client as a whole number in 1..hi; ``default`` when it
    is not a positive whole number."""
    try:
        n = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return default
    return min(n, hi) if n >= 1 else default


def window_size(cols: object, rows: object) -> tuple[int, int]:
    """A client's window size, clamped to MAX_COLS x MAX_ROWS (80x24 when unknown)."""
    return clamp(cols, 80, MAX_COLS), clamp(rows, 24, MAX_ROWS)


def signal_group(proc: asyncio.subprocess.Process | None, sig: int) -> None:
    """``sig`` to the process group of a session's process (started in a
    session of its own); never to a pid that has been reaped."""
    if proc is not None and proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


async def escalate(proc: asyncio.subprocess.Process,
                   signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGKILL)) -> int:
    """Wait KILL_GRACE for ``proc`` to end; while it runs, send the next of
    ``signals`` and wait again. Returns its exit status."""
    for sig in signals:
        try:
            return await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_GRACE)
        except TimeoutError:
            signal_group(proc, sig)
    return await proc.wait()


# ------------------------------------------------------------ the server


class Signals:
    """SIGINT, SIGTERM and SIGHUP stop the server: the first sets ``stop``,
    a second sets ``force`` (no more waiting for sessions to end)."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.force = asyncio.Event()
        self.first: int | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: int) -> None:
        if self.first is None:
            self.first = sig
            self.stop.set()
        else:
            self.force.set()

    def goodbye(self, prog: str, ended: int) -> int:
        """The server's last line; its exit status (130 after SIGINT)."""
        sig = self.first or signal.SIGTERM
        say(prog, f"stopped by {signal.Signals(sig).name}; ended {ended} "
            f"session{'s' if ended != 1 else ''}")
        return 130 if sig == signal.SIGINT else 0


def listen_error(host: str, port: int, err: BaseException) -> UsageError:
    why = getattr(err, "strerror", None) or one_line(err)
    hint = " (choose another with --port)" if "in use" in why else ""
    return UsageError(f"cannot listen on {host}:{port}: {why}{hint}")


def quiet_logs(levels: Mapping[str, int]) -> None:
    """A library's own log: only from ``level`` up, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    for name, level in levels.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


# ------------------------------------------------------------------ lines


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


def shown(text: str, limit: int = 64) -> str:
    """A string from a client (user name, command, Origin) for a log line."""
    return printable(text[:limit])


def one_line(exc: BaseException | None) -> str:
    """An exception as a short lower-case phrase for a log line."""
    if exc is None:
        return ""
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return text[:1].lower() + text[1:]


def is_loopback(host: str) -> bool:
    """localhost, *.localhost, 127.0.0.0/8 or ::1 (with or without brackets)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """An IPv6 address in brackets, as in a URL or ``host:port``."""
    return f"[{host}]" if ":" in host else host
