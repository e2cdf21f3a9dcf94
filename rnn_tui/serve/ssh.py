"""``rnn-tui ssh-serve``: a room of students connects with plain ``ssh``.

Every SSH session gets its own debugger in a pseudo-terminal of the client's
size (:mod:`rnn_tui.serve.ssh_session`); who may log in is decided in
:mod:`rnn_tui.serve.ssh_auth`. Sessions share nothing but the server, so a
client that misbehaves only ever harms its own session.

Safe by default:

- binds 127.0.0.1 unless ``--host`` says otherwise (with a warning);
- no start without ``--authorized-keys`` / ``--password-file``, unless
  ``--no-auth`` is given explicitly;
- a persistent ed25519 host key, made once (mode 0600) in
  ``$XDG_STATE_HOME/rnn-tui/ssh_host_ed25519_key`` (default
  ``~/.local/state/rnn-tui/...``) and reused, so students' known_hosts stay valid;
- clients cannot choose what runs: shell requests open the server's model;
  exec requests (``ssh host cmd``) get a one-line refusal and exit status 1;
  subsystems (SFTP), SCP, TCP and unix-socket forwarding (both directions),
  X11 and agent forwarding are all refused;
- connections still logging in count apart from sessions: a short login
  grace (``--login-grace``), at most ``--max-unauthenticated`` of them per
  address (the oldest makes room), and a few wrong passwords per connection
  and per address; ``--max-sessions`` (refused with a message), an idle
  timeout, and a cap on logged-in connections that have no session.

``--follow``: every session runs ``rnn-tui follow --room ROOM`` instead of
the debugger on MODEL, so the room tracks a lecturer's ``rnn-tui --present``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from dataclasses import dataclass
from functools import partialmethod
from pathlib import Path
from typing import Any

import asyncssh

from rnn_tui.cli.args import UsageError, int_in
from rnn_tui.serve import common
from rnn_tui.serve.common import log, say
from rnn_tui.serve.ssh_auth import (
    BLOCK_SECONDS,
    FAILURES_PER_MINUTE,
    HOST_KEY_NAME,
    PASSWORD_TRIES,
    PENDING_PER_ADDRESS,
    AuthorizedKeys,
    Doorman,
    Passwords,
    address_key,
    default_host_key_path,
    load_or_create_host_key,
    read_password_file,
)
from rnn_tui.serve.ssh_session import CHANNEL_WINDOW, Session, termios

HELP = "serve the debugger over SSH: every `ssh` connection gets its own session"
DESCRIPTION = """Serve the debugger over SSH: every connection gets its own rnn-tui session on
MODEL, in a terminal of the client's size. Students need only an ssh client. Choose who may connect
with --authorized-keys and/or --password-file, or say --no-auth. Password file: lines
'user:password'; '*:password' or a line without ':' is a password for any user name."""
PROG = "rnn-tui ssh-serve"

DEFAULT_PORT = 2222
DEFAULT_MAX_SESSIONS = 100
DEFAULT_IDLE_TIMEOUT = 30 * 60  # seconds without a key press before a session ends
DEFAULT_LOGIN_GRACE = 20  # seconds to authenticate
EXTRA_CONNECTIONS = 32  # logged-in connections beyond --max-sessions (between sessions)
SESSIONLESS_TIMEOUT = 60  # seconds a logged-in connection may hold no session
MAX_CHANNELS = 8  # session channels open at once on one connection
WRONG_PASSWORD_DELAY = 1.0  # seconds a wrong password costs


# ----------------------------------------------------------------- arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    common.add_session_arguments(p, clients="clients", host_note="", port=DEFAULT_PORT,
                                 max_sessions=DEFAULT_MAX_SESSIONS, sessions="sessions")
    p.add_argument("--idle-timeout", type=int_in(0, 7 * 24 * 3600),
                   default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                   help=f"end a session after this long without input (default "
                   f"{DEFAULT_IDLE_TIMEOUT}; 0: never)")
    p.add_argument("--authorized-keys", type=Path, default=None, metavar="FILE",
                   help="public keys allowed to connect, OpenSSH authorized_keys format "
                   "(re-read when it changes; emptied or deleted, it lets no key in)")
    p.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                   help="passwords allowed to connect: lines 'user:password', or "
                   "'*:password' for any user")
    p.add_argument("--no-auth", action="store_true",
                   help="let anyone who can reach the port connect, without a key or password")
    p.add_argument("--host-key", type=Path, default=None, metavar="FILE",
                   help=f"server's private host key; made if missing (default: "
                   f"$XDG_STATE_HOME/rnn-tui/{HOST_KEY_NAME})")
    p.add_argument("--login-grace", type=int_in(1, 600), default=DEFAULT_LOGIN_GRACE,
                   metavar="SECONDS", help=f"time to log in before the connection is "
                   f"closed (default {DEFAULT_LOGIN_GRACE})")
    p.add_argument("--max-unauthenticated", type=int_in(1, 1000),
                   default=PENDING_PER_ADDRESS, metavar="N",
                   help=f"connections still logging in from one address; the oldest makes "
                   f"room for a new one (default {PENDING_PER_ADDRESS}; raise it for a class "
                   "behind one NAT address typing passwords)")


# ------------------------------------------------------------------ server


@dataclass
class Config:
    argv: list[str]
    model_name: str
    port: int
    max_sessions: int
    idle_timeout: int
    keys: AuthorizedKeys | None
    passwords: Passwords | None
    no_auth: bool


class Hub:
    """Everything the server knows: its connections and running sessions."""

    def __init__(self, config: Config, doorman: Doorman) -> None:
        self.config = config
        self.doorman = doorman
        self.connections: set[Connection] = set()
        self.sessions: set[Session] = set()
        self.next_id = 1
        self.stopping = False

    async def watch_idle(self) -> None:
        """End sessions nobody typed into for --idle-timeout seconds, and
        connections that hold no session at all for a minute."""
        idle = self.config.idle_timeout
        period = max(1.0, min(30.0, idle / 4)) if idle else 15.0
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            if idle:
                for s in list(self.sessions):
                    if s.running and not s.closed and now - s.last_input > idle:
                        minutes = f"{idle // 60} minutes" if idle >= 120 else f"{idle} s"
                        s.end(f"no input for {minutes}: session closed")
            limit = min(idle or SESSIONLESS_TIMEOUT, SESSIONLESS_TIMEOUT)
            for c in list(self.connections):  # e.g. `ssh -N`, or a channel never used
                busy = any(s.task is not None and not s.task.done() for s in c.sessions)
                if c.authenticated and not busy and now - c.idle_since > limit:
                    c.close("no session")

    async def shutdown(self, force: asyncio.Event) -> int:
        """End every session (children terminated and reaped), then close
        every connection. Returns how many sessions were running."""
        self.stopping = True
        running = [s for s in self.sessions if s.running and not s.closed]
        for s in running:
            s.end("the server is shutting down")
        tasks = [s.task for s in self.sessions if s.task is not None]
        if tasks:
            waiter = asyncio.ensure_future(asyncio.wait(tasks, timeout=common.KILL_GRACE + 3))
            forced = asyncio.ensure_future(force.wait())
            await asyncio.wait({waiter, forced}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():  # a second Ctrl+C: no more waiting
                for s in self.sessions:
                    s.kill()
                await asyncio.wait(tasks, timeout=2)
            forced.cancel()
            waiter.cancel()
        deadline = time.monotonic() + 2  # the goodbyes go out; clients close their channels
        while any(c.sessions for c in self.connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for c in list(self.connections):
            c.close("server stopped")
        await asyncio.sleep(0.05)  # let the closes go out
        return len(running)


class Connection(asyncssh.SSHServer):
    """One client connection: logging in, then its session channels."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.id = hub.next_id
        hub.next_id += 1
        self.conn: asyncssh.SSHServerConnection | None = None
        self.peer = "?"
        self.address = "?"
        self.username = ""
        self.authenticated = False
        self.wrong_passwords = 0
        self.sessions: set[Session] = set()
        self.started = time.monotonic()
        self.idle_since = self.started
        self.reason: str | None = None

    # ---------------------------------------------------------- connection
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        host, port = (conn.get_extra_info("peername") or ("?", 0))[:2]
        self.peer = f"{common.url_host(str(host))}:{port}"
        self.address = address_key(str(host))
        hub = self.hub
        hub.connections.add(self)
        log(f"connect #{self.id} from {self.peer}")
        if hub.stopping:
            self.close("server stopping", soon=True)
            return
        for old in hub.doorman.arrive(self, self.address):
            assert isinstance(old, Connection)
            old.close(f"not logged in after {duration(time.monotonic() - old.started)}: "
                      "made room for a newer connection", soon=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.connections.discard(self)
        self.hub.doorman.leave(self)
        for s in list(self.sessions):
            s.connection_lost(exc)
        who = self.username if self.authenticated else (
            f"{self.username} (not authenticated)" if self.username else "(not authenticated)")
        reason = self.reason or (common.one_line(exc) if exc else "client closed")
        log(f"disconnect #{self.id} {who} from {self.peer} after "
            f"{duration(time.monotonic() - self.started)}: {reason}")

    def close(self, reason: str | None = None, soon: bool = False) -> None:
        if reason is not None and self.reason is None:
            self.reason = reason
        if self.conn is not None:
            if soon:  # not from inside asyncssh's own connection_made
                asyncio.get_running_loop().call_soon(self.conn.close)
            else:
                self.conn.close()

    # ---------------------------------------------------------------- auth
    def begin_auth(self, username: str) -> bool:
        self.username = common.shown(username)
        if self.hub.config.no_auth:
            return False
        keys = self.hub.config.keys
        if keys is not None and self.conn is not None:
            self.conn.set_authorized_keys(keys.current())
        return True

    def auth_completed(self) -> None:
        self.authenticated = True
        self.idle_since = time.monotonic()
        hub = self.hub
        hub.doorman.leave(self)
        limit = hub.config.max_sessions + EXTRA_CONNECTIONS
        if sum(c.authenticated for c in hub.connections) > limit:
            self.close(f"too many connections (more than {limit} logged in)", soon=True)

    def password_auth_supported(self) -> bool:
        return self.hub.config.passwords is not None

    async def validate_password(self, username: str, password: str) -> bool:
        passwords = self.hub.config.passwords
        doorman = self.hub.doorman
        left = doorman.refusing(self.address)
        if left:
            self.close(f"passwords from {self.address} refused for {left:.0f} s more")
            return False
        if passwords is not None and passwords.check(username, password):
            return True
        self.wrong_passwords += 1
        if doorman.wrong_password(self.address):
            log(f"refusing passwords from {self.address} for {BLOCK_SECONDS} s: "
                f"{FAILURES_PER_MINUTE} wrong within a minute")
        await asyncio.sleep(WRONG_PASSWORD_DELAY)  # slows down guessing
        if self.wrong_passwords >= PASSWORD_TRIES:
            self.close(f"{PASSWORD_TRIES} wrong passwords")
        return False

    # ------------------------------------------------------------ channels
    def session_requested(self) -> Any:
        if self.conn is None or len(self.sessions) >= MAX_CHANNELS:
            return False
        chan = self.conn.create_server_channel(encoding=None, window=CHANNEL_WINDOW)
        return chan, Session(self.hub, self)

    def refuse(self, what: str, *_: Any) -> bool:
        if what:
            log(f"#{self.id}: refused {what}")
        return False

    connection_requested = partialmethod(refuse, "TCP forwarding")
    server_requested = partialmethod(refuse, "remote TCP forwarding")
    unix_connection_requested = partialmethod(refuse, "unix socket forwarding")
    unix_server_requested = partialmethod(refuse, "remote unix socket forwarding")
    tun_requested = tap_requested = partialmethod(refuse, "")


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


# --------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    if termios is None:
        raise UsageError("ssh-serve needs a Unix system (it runs sessions in pseudo-terminals)")
    if args.no_auth and (args.authorized_keys or args.password_file):
        raise UsageError("--no-auth cannot be combined with --authorized-keys or "
                         "--password-file")
    if not (args.no_auth or args.authorized_keys or args.password_file):
        raise UsageError("say who may connect: --authorized-keys FILE, --password-file FILE, "
                         "or --no-auth (anyone who can reach the port)")
    # The trampoline makes the pty each child's controlling terminal, then runs rnn-tui.
    argv, what = common.child_command(args, [sys.executable, "-m", "rnn_tui.serve.ssh_child"])
    keys = AuthorizedKeys(args.authorized_keys) if args.authorized_keys else None
    passwords = read_password_file(args.password_file, PROG) if args.password_file else None
    key_path = args.host_key or default_host_key_path()
    host_key, created = load_or_create_host_key(key_path)
    config = Config(argv=argv, model_name=what, port=args.port,
                    max_sessions=args.max_sessions, idle_timeout=args.idle_timeout,
                    keys=keys, passwords=passwords, no_auth=args.no_auth)
    say(PROG, f"host key {host_key.get_fingerprint()} ({'new, ' if created else ''}{key_path})")
    if not common.is_loopback(args.host):
        if args.no_auth:
            say(PROG, f"warning: listening on {args.host} with --no-auth: anyone who can reach "
                "this port gets a session")
        else:
            say(PROG, f"warning: listening on {args.host}: reachable from other machines")
    common.quiet_logs({"asyncssh": logging.CRITICAL})  # one line per event is ours
    hub = Hub(config, Doorman(per_address=args.max_unauthenticated))
    return asyncio.run(serve(hub, args.host, args.port, host_key, args.login_grace))


async def serve(hub: Hub, host: str, port: int, host_key: asyncssh.SSHKey,
                login_grace: int) -> int:
    config = hub.config
    signals = common.Signals()
    try:
        listener = await asyncssh.create_server(
            lambda: Connection(hub), host, port,
            server_host_keys=[host_key],
            login_timeout=login_grace,
            keepalive_interval=30, keepalive_count_max=4,
            line_editor=False, allow_pty=True,
            agent_forwarding=False, x11_forwarding=False,
            allow_scp=False, sftp_factory=None,
            encoding=None, window=CHANNEL_WINDOW,
            rdns_lookup=False,
            config=None,
        )
    except (OSError, ValueError) as err:
        raise common.listen_error(host, port, err) from None
    actual = listener.get_port()
    config.port = actual
    auth = ", ".join(a for a, on in (("public key", config.keys), ("password",
                                     config.passwords), ("none", config.no_auth)) if on)
    say(PROG, f"serving {config.model_name} on {common.url_host(host)}:{actual} (auth: {auth}; at "
        f"most {config.max_sessions} sessions); connect with: ssh -t -p {actual} HOST")
    watcher = asyncio.ensure_future(hub.watch_idle())
    try:
        await signals.stop.wait()
    finally:
        watcher.cancel()
        listener.close()
        ended = await hub.shutdown(signals.force)
        try:
            await asyncio.wait_for(listener.wait_closed(), 3)
        except (TimeoutError, OSError):
            pass
    return signals.goodbye(PROG, ended)
