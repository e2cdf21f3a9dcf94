"""``rnn-tui ssh-serve``: a room of students connects with plain ``ssh``.

Every SSH session gets its own debugger: the server opens a pseudo-terminal at
the client's size, starts ``python -m rnn_tui.serve.ssh MODEL`` in it (a
trampoline that makes the pty the child's controlling terminal, then runs the
ordinary ``rnn-tui MODEL``) and pumps bytes both ways. Resizes are passed on
(TIOCSWINSZ on the pty, SIGWINCH to the child); a client that goes away takes
its child with it (SIGHUP, then SIGKILL), and a child that exits closes the
channel with its exit status. Sessions share nothing but the server, so a
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
- ``--max-sessions`` (refused with a message), an idle timeout, a login
  timeout, and a cap on connections that have no session.

Password file: one entry a line, ``user:password``; ``*:password`` or a line
without ``:`` is a password any user name may use. Blank lines and lines
starting with ``#`` are skipped; surrounding spaces are ignored. Passwords are
compared with :func:`hmac.compare_digest`.

The child gets ``RNN_TUI_SERVED=1`` (the app disables file-opening commands),
``TERM`` from the client's terminal type, and the server's environment less
what describes the server's own terminal (COLUMNS, LINES, COLORTERM, ...).

``--follow``: every session runs ``rnn-tui follow --room ROOM`` instead of
the debugger on MODEL, so the room tracks a lecturer's ``rnn-tui --present``
(the classroom follow mode of ``rnn_tui.core.follow``). Where that module or the
``follow`` command is missing, ``--follow`` is refused with one line (see
:func:`_follow_argv`, the one place that knows how a follower is started).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import importlib
import importlib.util
import os
import re
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnn_tui.cli.args import UsageError, int_in
from rnn_tui.core.model_file import load
from rnn_tui.serve.common import add_session_arguments, is_loopback, log, one_line, say

try:  # Unix only: pseudo-terminals
    import fcntl
    import termios
except ImportError:  # pragma: no cover - e.g. Windows: the command says so and exits 2
    fcntl = termios = None  # type: ignore[assignment]

if TYPE_CHECKING:  # asyncssh is imported only when the server starts
    import asyncssh

HELP = "serve the debugger over SSH: every `ssh` connection gets its own session"
PROG = "rnn-tui ssh-serve"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 2222
DEFAULT_MAX_SESSIONS = 100
DEFAULT_IDLE_TIMEOUT = 30 * 60  # seconds without a key press before a session ends
LOGIN_TIMEOUT = 30  # seconds to authenticate
EXTRA_CONNECTIONS = 32  # connections beyond --max-sessions (logging in, between sessions)
SESSIONLESS_TIMEOUT = 60  # seconds an authenticated connection may hold no session
MAX_CHANNELS = 8  # session channels open at once on one connection
INPUT_LIMIT = 64 * 1024  # bytes of a client's input held while its child is busy
KILL_GRACE = 2.0  # seconds between the polite signal and SIGKILL
MAX_COLS, MAX_ROWS = 1000, 500  # a client's window size is clamped to this
RESIZE_INTERVAL = 0.05  # resizes are coalesced: at most one per interval
CHANNEL_WINDOW = 256 * 1024  # bytes a client may send before it has to wait
MAX_PASSWORD_FILE = 1 << 20
HOST_KEY_NAME = "ssh_host_ed25519_key"
FOLLOW_MODULE = "rnn_tui.core.follow"
TERM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
DEFAULT_TERM = "xterm-256color"
# The server's own terminal, not the student's: never handed to a child.
HIDDEN_ENV = frozenset({
    "COLUMNS", "LINES", "COLORTERM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION", "TMUX",
    "TMUX_PANE", "STY", "WINDOWID", "WT_SESSION", "KITTY_WINDOW_ID", "VTE_VERSION",
    "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK", "DISPLAY", "WAYLAND_DISPLAY",
    "TEXTUAL", "TEXTUAL_DRIVER",
})
# Written to a client whose child the server ended (idle, shutdown), so its
# terminal leaves the app's modes: main screen, cursor on, no mouse reports.
TERMINAL_RESET = (
    b"\x1b[?2026l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l"
    b"\x1b[?2004l\x1b[?2048l\x1b[<u\x1b[0m\x1b[?25h\x1b[?1049l"
)


# ----------------------------------------------------------------- arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Serve the debugger over SSH: every connection gets its own rnn-tui session on "
        "MODEL, in a terminal of the client's size. Students need only an ssh client. "
        "Choose who may connect with --authorized-keys and/or --password-file, or say "
        "--no-auth. Password file: lines 'user:password'; '*:password' or a line "
        "without ':' is a password for any user name."
    )
    add_session_arguments(p, clients="clients", host_note="", port=DEFAULT_PORT,
                          max_sessions=DEFAULT_MAX_SESSIONS,
                          sessions="sessions", owner=False)
    p.add_argument("--idle-timeout", type=int_in(0, 7 * 24 * 3600),
                   default=DEFAULT_IDLE_TIMEOUT, metavar="SECONDS",
                   help=f"end a session after this long without input (default "
                   f"{DEFAULT_IDLE_TIMEOUT}; 0: never)")
    p.add_argument("--authorized-keys", type=Path, default=None, metavar="FILE",
                   help="public keys allowed to connect, OpenSSH authorized_keys format "
                   "(re-read when it changes)")
    p.add_argument("--password-file", type=Path, default=None, metavar="FILE",
                   help="passwords allowed to connect: lines 'user:password', or "
                   "'*:password' for any user")
    p.add_argument("--no-auth", action="store_true",
                   help="let anyone who can reach the port connect, without a key or password")
    p.add_argument("--host-key", type=Path, default=None, metavar="FILE",
                   help=f"server's private host key; made if missing (default: "
                   f"$XDG_STATE_HOME/rnn-tui/{HOST_KEY_NAME})")


# ------------------------------------------------------------------ helpers




def default_host_key_path() -> Path:
    """$XDG_STATE_HOME/rnn-tui/ssh_host_ed25519_key (XDG: only an absolute
    XDG_STATE_HOME counts), else ~/.local/state/rnn-tui/ssh_host_ed25519_key."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "rnn-tui" / HOST_KEY_NAME


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The host key at ``path``, made (ed25519, mode 0600) if missing.

    Returns (key, created). Refuses a key that others can read, as sshd does."""
    import asyncssh

    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise UsageError(f"{path}: cannot read the host key: {err.strerror or err}") from None
    if st is None:
        try:
            return _create_host_key(path), True
        except FileExistsError:  # another server made it just now: use that one
            st = path.stat()
        except OSError as err:
            raise UsageError(f"{path}: cannot write the host key: {err.strerror or err}") from None
    if st.st_mode & 0o077:
        raise UsageError(f"{path}: host key is readable by others (mode "
                         f"{st.st_mode & 0o777:04o}); fix it with: chmod 600 {path}")
    try:
        return asyncssh.read_private_key(str(path)), False
    except (OSError, ValueError, asyncssh.KeyImportError) as err:
        raise UsageError(f"{path}: not a usable private host key: {err}") from None


def _create_host_key(path: Path) -> asyncssh.SSHKey:
    import asyncssh

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="rnn-tui ssh-serve host key")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key.export_private_key("openssh"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.link(tmp, path)  # never replaces an existing key (FileExistsError)
    finally:
        tmp.unlink(missing_ok=True)
    try:  # the public half, for known_hosts files; losing it is harmless
        key.write_public_key(str(path.with_name(path.name + ".pub")))
    except OSError:
        pass
    return key


@dataclass
class Passwords:
    """Entries of a password file: per user, and for any user ('*')."""

    users: dict[str, list[bytes]] = field(default_factory=dict)
    shared: list[bytes] = field(default_factory=list)

    def check(self, username: str, password: str) -> bool:
        given = password.encode("utf-8", "surrogateescape")
        ok = False
        for secret in [*self.users.get(username, []), *self.shared]:
            ok |= hmac.compare_digest(given, secret)  # no early exit
        return ok


def read_password_file(path: Path) -> Passwords:
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PASSWORD_FILE + 1)
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{source}: is a directory, not a password file") from None
    except OSError as err:
        raise UsageError(f"{source}: cannot read: {err.strerror or err}") from None
    if len(data) > MAX_PASSWORD_FILE:
        raise UsageError(f"{source}: larger than {MAX_PASSWORD_FILE} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text") from None
    out = Passwords()
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep:
            user, password = "*", line
        user, password = user.strip(), password.strip()
        if not user:
            raise UsageError(f"{source}: line {n}: no user name before ':' (use '*' for any)")
        if not password:
            raise UsageError(f"{source}: line {n}: empty password")
        secret = password.encode("utf-8")
        (out.shared if user == "*" else out.users.setdefault(user, [])).append(secret)
    if not out.users and not out.shared:
        raise UsageError(f"{source}: no passwords (lines 'user:password' or '*:password')")
    if mode & 0o077:
        say(PROG, f"warning: {source} is readable by other users of this machine "
             f"(chmod 600 {source})")
    return out


class AuthorizedKeys:
    """An authorized_keys file, re-read when it changes (a teacher may add
    students' keys while the server runs); a broken edit keeps the old keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stamp: tuple[int, int] | None = None
        self.keys: Any = None
        self.keys, self.stamp = self._read()

    def _read(self) -> tuple[Any, tuple[int, int]]:
        import asyncssh

        source = str(self.path)
        try:
            st = os.stat(self.path)
            if not os.path.isfile(self.path):
                raise UsageError(f"{source}: not a file")
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
            keys = asyncssh.import_authorized_keys(text)
        except FileNotFoundError:
            raise UsageError(f"{source}: no such file") from None
        except UnicodeDecodeError:
            raise UsageError(f"{source}: not UTF-8 text") from None
        except OSError as err:
            raise UsageError(f"{source}: cannot read: {err.strerror or err}") from None
        except (ValueError, asyncssh.KeyImportError) as err:
            raise UsageError(f"{source}: not an authorized_keys file: {err}") from None
        if not text.strip() or not keys:
            raise UsageError(f"{source}: no keys (one public key a line, e.g. the "
                             "contents of ~/.ssh/id_ed25519.pub)")
        return keys, (st.st_mtime_ns, st.st_size)

    def current(self) -> Any:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            return self.keys
        if stamp != self.stamp:
            self.stamp = stamp
            try:
                self.keys, self.stamp = self._read()
                log(f"re-read {self.path}")
            except UsageError as err:
                log(f"keeping the previous keys: {err}")
        return self.keys



def _follow_argv(args: argparse.Namespace) -> list[str] | None:
    """With --follow, the arguments of every child: ``follow --room ROOM``.

    The hook for the classroom follow mode: without ``rnn_tui.core.follow`` and
    the CLI's ``follow`` command, --follow is a usage error (one line)."""
    if not args.follow:
        if args.room is not None:
            raise UsageError("--room needs --follow")
        return None
    from rnn_tui import cli

    if importlib.util.find_spec(FOLLOW_MODULE) is None or "follow" not in cli.COMMANDS:
        raise UsageError("--follow needs the classroom follow mode, not available yet")
    if args.model is not None:
        raise UsageError("--follow shows the lecturer's model: give no MODEL")
    if args.mode is not None:
        raise UsageError("--follow shows the lecturer's mode: give no --handout/--exact")
    follow = importlib.import_module(FOLLOW_MODULE)
    room = args.room or follow.default_room()
    return ["follow", "--room", str(Path(room).absolute())]


def _child_argv(args: argparse.Namespace, model_path: Path | None,
                follow: list[str] | None = None) -> list[str]:
    """What every session runs; nothing in it comes from a client. A model is
    passed as an absolute path: independent of the working directory, and
    never mistaken for an option or a command."""
    trampoline = [sys.executable, "-m", "rnn_tui.serve.ssh"]
    if follow is not None:
        return [*trampoline, *follow]
    assert model_path is not None
    argv = [*trampoline, str(model_path.resolve())]
    if args.mode == "x_t":
        argv.append("--handout")
    elif args.mode == "x_k":
        argv.append("--exact")
    return argv


def _child_env(term: str, colorterm: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}
    env["TERM"] = term
    env["RNN_TUI_SERVED"] = "1"
    if colorterm:
        env["COLORTERM"] = colorterm
    return env


def _clamp_size(cols: int, rows: int) -> tuple[int, int]:
    return (min(max(cols or 80, 1), MAX_COLS), min(max(rows or 24, 1), MAX_ROWS))


def _prepare_pty(slave: int) -> None:
    """No line discipline on input (garbage is never a signal, never echoed, no
    XON/XOFF freeze); output keeps \\n -> \\r\\n for messages printed before
    the app starts or after it ends."""
    attrs = termios.tcgetattr(slave)
    attrs[0] &= ~(termios.IXON | termios.IXOFF | termios.ICRNL | termios.INLCR
                  | termios.IGNCR | termios.ISTRIP | termios.BRKINT)
    attrs[1] |= termios.OPOST | termios.ONLCR
    attrs[3] &= ~(termios.ICANON | termios.ECHO | termios.ISIG | termios.IEXTEN)
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(slave, termios.TCSANOW, attrs)


def _set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))



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

    def __init__(self, config: Config) -> None:
        self.config = config
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
                    c.reason = "no session"
                    c.close()

    async def shutdown(self, force: asyncio.Event) -> int:
        """End every session (children terminated and reaped), then close
        every connection. Returns how many sessions were running."""
        self.stopping = True
        running = [s for s in self.sessions if s.running and not s.closed]
        for s in running:
            s.end("the server is shutting down")
        tasks = [s.task for s in self.sessions if s.task is not None]
        if tasks:
            waiter = asyncio.ensure_future(asyncio.wait(tasks, timeout=KILL_GRACE + 3))
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
            c.reason = "server stopped"
            c.close()
        await asyncio.sleep(0.05)  # let the closes go out
        return len(running)


def _make_classes() -> tuple[type, type]:
    """The asyncssh subclasses, made when the server starts (asyncssh is
    imported only then, so ``rnn-tui --help`` does not need it)."""
    import asyncssh

    class _Connection(asyncssh.SSHServer):
        def __init__(self, hub: Hub) -> None:
            self.hub = hub
            self.id = hub.next_id
            hub.next_id += 1
            self.conn: asyncssh.SSHServerConnection | None = None
            self.peer = "?"
            self.username = ""
            self.authenticated = False
            self.sessions: set[Session] = set()
            self.started = time.monotonic()
            self.idle_since = self.started
            self.reason: str | None = None

        # ------------------------------------------------ connection
        def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
            self.conn = conn
            peer = conn.get_extra_info("peername") or ("?", 0)
            self.peer = f"{peer[0]}:{peer[1]}" if ":" not in str(peer[0]) else (
                f"[{peer[0]}]:{peer[1]}")
            hub = self.hub
            limit = hub.config.max_sessions + EXTRA_CONNECTIONS
            hub.connections.add(self)
            log(f"connect #{self.id} from {self.peer}")
            if hub.stopping or len(hub.connections) > limit:
                self.reason = "server stopping" if hub.stopping else (
                    f"too many connections (more than {limit})")
                asyncio.get_running_loop().call_soon(self.close)

        def connection_lost(self, exc: Exception | None) -> None:
            self.hub.connections.discard(self)
            for s in list(self.sessions):
                s.connection_lost(exc)
            who = self.username if self.authenticated else (
                f"{self.username} (not authenticated)" if self.username else "(not authenticated)")
            reason = self.reason or (one_line(exc) if exc else "client closed")
            log(f"disconnect #{self.id} {who} from {self.peer} after "
                 f"{_duration(time.monotonic() - self.started)}: {reason}")

        def close(self) -> None:
            if self.conn is not None:
                self.conn.close()

        # ------------------------------------------------------ auth
        def begin_auth(self, username: str) -> bool:
            self.username = _printable(username)
            if self.hub.config.no_auth:
                return False
            keys = self.hub.config.keys
            if keys is not None and self.conn is not None:
                self.conn.set_authorized_keys(keys.current())
            return True

        def auth_completed(self) -> None:
            self.authenticated = True
            self.idle_since = time.monotonic()

        def password_auth_supported(self) -> bool:
            return self.hub.config.passwords is not None

        async def validate_password(self, username: str, password: str) -> bool:
            passwords = self.hub.config.passwords
            if passwords is not None and passwords.check(username, password):
                return True
            await asyncio.sleep(1.0)  # slows down guessing
            return False

        # ---------------------------------------------------- channels
        def session_requested(self) -> Any:
            if self.conn is None or len(self.sessions) >= MAX_CHANNELS:
                return False
            chan = self.conn.create_server_channel(encoding=None, window=CHANNEL_WINDOW)
            return chan, Session(self.hub, self)

        def connection_requested(self, *_: Any) -> bool:
            log(f"#{self.id}: refused TCP forwarding")
            return False

        def server_requested(self, *_: Any) -> bool:
            log(f"#{self.id}: refused remote TCP forwarding")
            return False

        def unix_connection_requested(self, *_: Any) -> bool:
            log(f"#{self.id}: refused unix socket forwarding")
            return False

        def unix_server_requested(self, *_: Any) -> bool:
            log(f"#{self.id}: refused remote unix socket forwarding")
            return False

        def tun_requested(self, *_: Any) -> bool:
            return False

        def tap_requested(self, *_: Any) -> bool:
            return False

    class _Session(asyncssh.SSHServerSession):
        def __init__(self, hub: Hub, owner: _Connection) -> None:
            self.hub = hub
            self.owner = owner
            self.chan: asyncssh.SSHServerChannel | None = None
            self.term: str | None = None
            self.size = (80, 24)
            self.refusal: str | None = None
            self.proc: asyncio.subprocess.Process | None = None
            self.master: int | None = None
            self.task: asyncio.Task[None] | None = None
            self.closed = False  # the client's side is gone
            self.output_done = asyncio.Event()
            self.reading = False
            self.paused = False
            self.inbuf = bytearray()
            self.writing = False
            self.last_input = time.monotonic()
            self.end_reason: str | None = None
            self.pending_size: tuple[int, int] | None = None
            self.resize_handle: asyncio.TimerHandle | None = None
            self.killer: asyncio.Task[None] | None = None

        @property
        def running(self) -> bool:
            return self.proc is not None and self.proc.returncode is None

        # ---------------------------------------------------- requests
        def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
            self.chan = chan
            self.owner.sessions.add(self)

        def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                          term_modes: Any) -> bool:
            self.term = term_type if TERM_RE.fullmatch(term_type or "") else DEFAULT_TERM
            self.size = _clamp_size(term_size[0], term_size[1])
            return True

        def shell_requested(self) -> bool:
            return True

        def exec_requested(self, command: str) -> bool:
            # Accepted only to say why nothing runs; no command ever does.
            log(f"#{self.owner.id} {self.owner.username}: refused command "
                 f"{_printable(command)[:60]!r}")
            self.refusal = ("this server runs only the rnn-tui debugger; commands are not "
                            "allowed. Connect without a command: ssh -t -p "
                            f"{self.hub.config.port} HOST")
            return True

        def subsystem_requested(self, subsystem: str) -> bool:
            log(f"#{self.owner.id} {self.owner.username}: refused subsystem "
                 f"{_printable(subsystem)[:40]!r}")
            return False

        def break_received(self, msec: int) -> bool:
            return False

        def signal_received(self, signal: str) -> None:
            pass  # clients do not signal the debugger

        def eof_received(self) -> bool:
            return True  # keep showing output; the child decides when it ends

        def session_started(self) -> None:
            chan = self.chan
            assert chan is not None
            hub = self.hub
            if self.refusal is None and self.term is None:
                self.refusal = ("the debugger needs a terminal: connect with ssh -t "
                                f"-p {hub.config.port} HOST")
            if self.refusal is None and hub.stopping:
                self.refusal = "the server is shutting down"
            if self.refusal is None and len(hub.sessions) >= hub.config.max_sessions:
                log(f"#{self.owner.id} {self.owner.username}: refused session: full "
                     f"({hub.config.max_sessions} sessions)")
                self.refusal = (f"the server is full ({hub.config.max_sessions} sessions "
                                "running); try again later")
            if self.refusal is not None:
                message = f"rnn-tui: {self.refusal}\r\n".encode()
                if self.term is not None:
                    chan.write(message)
                else:
                    chan.write_stderr(message)
                chan.exit(1)
                return
            hub.sessions.add(self)
            self.task = asyncio.ensure_future(self._run())

        # ------------------------------------------------------- child
        async def _run(self) -> None:
            hub, owner = self.hub, self.owner
            status = 1
            try:
                env = _child_env(self.term or DEFAULT_TERM, self._colorterm())
                master, slave = os.openpty()
                self.master = master
                try:
                    _prepare_pty(slave)
                    _set_winsize(master, *self.size)
                    os.set_blocking(master, False)
                    self.proc = await asyncio.create_subprocess_exec(
                        *hub.config.argv, stdin=slave, stdout=slave, stderr=slave,
                        env=env, start_new_session=True, close_fds=True)
                finally:
                    os.close(slave)
                log(f"#{owner.id} {owner.username}: session started ({self.term} "
                     f"{self.size[0]}x{self.size[1]}, {len(hub.sessions)} running)")
                if self.closed:  # the client left while the child was starting
                    self._terminate(signal.SIGHUP)
                elif self.end_reason:  # the server is stopping
                    self._terminate(signal.SIGTERM)
                self._start_reading()
                self._flush_input()
                status = await self.proc.wait()
                if not self.closed:
                    try:
                        await asyncio.wait_for(self.output_done.wait(), 1.0)
                    except TimeoutError:
                        pass
            except Exception as err:  # no fork, no pty, ...: this session only, in one line
                log(f"#{owner.id}: cannot start a session: {one_line(err)}")
                self.end_reason = "the server could not start a session"
            finally:
                self._close_pty()
                hub.sessions.discard(self)
                owner.idle_since = time.monotonic()
                if self.killer is not None:
                    self.killer.cancel()
                if self.resize_handle is not None:
                    self.resize_handle.cancel()
            if not self.closed and self.chan is not None:
                try:
                    if self.end_reason:
                        self.chan.write(TERMINAL_RESET
                                        + f"\r\nrnn-tui: {self.end_reason}\r\n".encode())
                    self.chan.exit(status if 0 <= status < 256 else 128 + (-status) % 128)
                except (OSError, asyncssh.Error, RuntimeError):
                    pass

        def _colorterm(self) -> str | None:
            if self.chan is None:
                return None
            value = self.chan.get_environment().get("COLORTERM", "")
            return value if value in ("truecolor", "24bit") else None

        def _signal(self, sig: int) -> None:
            proc = self.proc
            if proc is not None and proc.returncode is None:  # never a reaped pid
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass

        def kill(self) -> None:
            self._signal(signal.SIGKILL)

        def _terminate(self, sig: int) -> None:
            """``sig`` now, SIGKILL if the child still runs after KILL_GRACE."""
            self._signal(sig)
            if self.killer is None and self.running:
                self.killer = asyncio.ensure_future(self._kill_later())

        async def _kill_later(self) -> None:
            await asyncio.sleep(KILL_GRACE)
            self.kill()

        def end(self, reason: str) -> None:
            """The server ends this session (idle, shutdown): the client is told."""
            if self.end_reason is None:
                self.end_reason = reason
                log(f"#{self.owner.id} {self.owner.username}: ending session: {reason}")
            self._terminate(signal.SIGTERM)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.closed:
                return
            self.closed = True
            self.owner.sessions.discard(self)
            self.inbuf.clear()
            self._terminate(signal.SIGHUP)  # what a terminal's hangup sends
            self._stop_reading()
            self._stop_writing()

        # ------------------------------------------------ child -> client
        def _start_reading(self) -> None:
            if (self.master is not None and not self.reading and not self.paused
                    and not self.closed and not self.output_done.is_set()):
                asyncio.get_running_loop().add_reader(self.master, self._on_output)
                self.reading = True

        def _stop_reading(self) -> None:
            if self.reading and self.master is not None:
                asyncio.get_running_loop().remove_reader(self.master)
            self.reading = False

        def _on_output(self) -> None:
            assert self.master is not None
            try:
                data = os.read(self.master, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: every copy of the pty's other end is closed
                data = b""
            if not data:
                self._stop_reading()
                self.output_done.set()
                return
            try:
                assert self.chan is not None
                self.chan.write(data)
            except (OSError, asyncssh.Error, RuntimeError):
                self.connection_lost(None)

        def pause_writing(self) -> None:  # the client reads slower than we write
            self.paused = True
            self._stop_reading()  # the pty fills up and the child waits: bounded memory

        def resume_writing(self) -> None:
            self.paused = False
            self._start_reading()

        # ------------------------------------------------ client -> child
        def data_received(self, data: bytes, datatype: Any) -> None:
            if datatype is not None or self.closed:
                return
            self.last_input = time.monotonic()
            self.inbuf += data[:max(0, INPUT_LIMIT - len(self.inbuf))]  # type-ahead is capped
            self._flush_input()

        def _flush_input(self) -> None:
            master = self.master
            if master is None or self.proc is None:
                return  # the child is starting: kept until it runs
            while self.inbuf:
                try:
                    n = os.write(master, self.inbuf)
                except BlockingIOError:
                    break
                except OSError:
                    self.inbuf.clear()
                    break
                del self.inbuf[:n]
            if self.inbuf and not self.writing:
                asyncio.get_running_loop().add_writer(master, self._flush_input)
                self.writing = True
                if self.chan is not None:
                    self.chan.pause_reading()  # the client waits: its window closes
            elif not self.inbuf and self.writing:
                self._stop_writing()

        def _stop_writing(self) -> None:
            if self.writing:
                if self.master is not None:
                    asyncio.get_running_loop().remove_writer(self.master)
                self.writing = False
                if self.chan is not None and not self.closed:
                    self.chan.resume_reading()

        # ------------------------------------------------------ resize
        def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                                  pixheight: int) -> None:
            self.last_input = time.monotonic()
            self.pending_size = _clamp_size(width, height)
            if self.resize_handle is None:  # a storm of resizes is one resize per interval
                self.resize_handle = asyncio.get_running_loop().call_later(
                    RESIZE_INTERVAL, self._apply_size)

        def _apply_size(self) -> None:
            self.resize_handle = None
            size, self.pending_size = self.pending_size, None
            if size is None or size == self.size:
                return
            self.size = size
            if self.master is None:
                return
            try:
                _set_winsize(self.master, *size)
            except OSError:
                return
            self._signal(signal.SIGWINCH)

        def _close_pty(self) -> None:
            self._stop_reading()
            if self.writing and self.master is not None:
                asyncio.get_running_loop().remove_writer(self.master)
                self.writing = False
            if self.master is not None:
                try:
                    os.close(self.master)
                except OSError:
                    pass
                self.master = None

    return _Connection, _Session


Connection: Any = None
Session: Any = None


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)[:64]


def _duration(seconds: float) -> str:
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
    follow = _follow_argv(args)
    if follow is None:  # a bad model fails here, not in every session
        spec, model_path = load(args.model or "hello")
        what = spec.name
    else:
        model_path, what = None, f"the room {follow[-1]} (follow mode)"
    try:
        import asyncssh
    except ImportError:
        raise UsageError("ssh-serve needs the asyncssh package: pip install 'rnn-tui[ssh]'"
                         ) from None
    keys = AuthorizedKeys(args.authorized_keys) if args.authorized_keys else None
    passwords = read_password_file(args.password_file) if args.password_file else None
    key_path = args.host_key or default_host_key_path()
    host_key, created = load_or_create_host_key(key_path)

    global Connection, Session
    if Connection is None:
        Connection, Session = _make_classes()
    config = Config(argv=_child_argv(args, model_path, follow), model_name=what,
                    port=args.port, max_sessions=args.max_sessions,
                    idle_timeout=args.idle_timeout, keys=keys, passwords=passwords,
                    no_auth=args.no_auth)
    say(PROG, f"host key {host_key.get_fingerprint()} ({'new, ' if created else ''}{key_path})")
    if not is_loopback(args.host):
        if args.no_auth:
            say(PROG, f"warning: listening on {args.host} with --no-auth: anyone who can reach "
                 "this port gets a session")
        else:
            say(PROG, f"warning: listening on {args.host}: reachable from other machines")
    import logging

    logging.getLogger("asyncssh").setLevel(logging.CRITICAL)  # one line per event is ours
    del asyncssh
    return asyncio.run(_serve(args.host, args.port, host_key, config))


async def _serve(host: str, port: int, host_key: Any, config: Config) -> int:
    import asyncssh

    loop = asyncio.get_running_loop()
    hub = Hub(config)
    stop = asyncio.Event()
    force = asyncio.Event()
    got: list[int] = []

    def on_signal(sig: int) -> None:
        if got:
            force.set()
        else:
            got.append(sig)
            stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        listener = await asyncssh.create_server(
            lambda: Connection(hub), host, port,
            server_host_keys=[host_key],
            login_timeout=LOGIN_TIMEOUT,
            keepalive_interval=30, keepalive_count_max=4,
            line_editor=False, allow_pty=True,
            agent_forwarding=False, x11_forwarding=False,
            allow_scp=False, sftp_factory=None,
            encoding=None, window=CHANNEL_WINDOW,
            rdns_lookup=False,
            config=None,
        )
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot listen on {host}:{port}: "
                         f"{getattr(err, 'strerror', None) or err}") from None
    actual = listener.get_port()
    config.port = actual
    shown = f"[{host}]" if ":" in host else host
    auth = ", ".join(a for a, on in (("public key", config.keys), ("password",
                                     config.passwords), ("none", config.no_auth)) if on)
    say(PROG, f"serving {config.model_name} on {shown}:{actual} (auth: {auth}; at most "
         f"{config.max_sessions} sessions); connect with: ssh -t -p {actual} HOST")
    watcher = asyncio.ensure_future(hub.watch_idle())
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        listener.close()
        ended = await hub.shutdown(force)
        try:
            await asyncio.wait_for(listener.wait_closed(), 3)
        except (TimeoutError, OSError):
            pass
    sig = got[0] if got else signal.SIGTERM
    say(PROG, f"stopped by {signal.Signals(sig).name}; ended {ended} "
         f"session{'s' if ended != 1 else ''}")
    return 130 if sig == signal.SIGINT else 0


# ---------------------------------------------------------- the child side


def _child_main(argv: list[str]) -> int:
    """Runs in each session's pty (``python -m rnn_tui.serve.ssh MODEL``):
    makes the pty the controlling terminal, so a hangup or the server's death
    reaches the debugger as SIGHUP, then runs ``rnn-tui MODEL``."""
    try:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    except OSError:
        pass  # still works: the server signals the process group itself
    from rnn_tui.cli import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
