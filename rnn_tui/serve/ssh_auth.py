"""Who may log in to ``rnn-tui ssh-serve``: the host key, the password file,
the authorized keys, and the doorman that limits the connections still
logging in and the wrong passwords.

Password file: one entry a line, ``user:password``; ``*:password`` or a line
without ``:`` is a password any user name may use. Blank lines and lines
starting with ``#`` are skipped; surrounding spaces are ignored. Passwords are
compared with :func:`hmac.compare_digest`.

Authorized keys are re-read whenever the file changes; a file emptied,
deleted or broken revokes every key until it is fixed (that is how a lecturer
locks a room), with one line in the log.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import stat
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from rnn_tui.cli.args import UsageError
from rnn_tui.serve.common import log, say

HOST_KEY_NAME = "ssh_host_ed25519_key"
MAX_AUTH_FILE = 1 << 20  # bytes of a password or authorized_keys file
PENDING_PER_ADDRESS = 32  # connections still logging in from one address (--max-unauthenticated)
PENDING_TOTAL = 256  # connections still logging in, from all addresses
PASSWORD_TRIES = 3  # wrong passwords on one connection before it is closed
FAILURES_PER_MINUTE = 10  # wrong passwords from one address before it is refused
BLOCK_SECONDS = 60  # how long an address is refused passwords after that


# ------------------------------------------------------------------ host key


def default_host_key_path() -> Path:
    """$XDG_STATE_HOME/rnn-tui/ssh_host_ed25519_key (XDG: only an absolute
    XDG_STATE_HOME counts), else ~/.local/state/rnn-tui/ssh_host_ed25519_key."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "rnn-tui" / HOST_KEY_NAME


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The host key at ``path``, made (ed25519, mode 0600) if missing.

    Returns (key, created). Refuses a key that others can read, as sshd does."""
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as err:
        raise UsageError(f"{path}: cannot read the host key: {err.strerror or err}") from None
    if st is None:
        try:
            return create_host_key(path), True
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


def create_host_key(path: Path) -> asyncssh.SSHKey:
    """A new ed25519 key at ``path`` (mode 0600), never replacing one."""
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


# ------------------------------------------------------------ the two files


def read_auth_file(path: Path, what: str) -> tuple[str, os.stat_result]:
    """The text of a small regular file, and its status. Never blocks on a
    FIFO or reads a device; every problem is a one-line UsageError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as err:
        raise UsageError(f"{path}: cannot read: {err.strerror or err}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{path}: is a directory, not {what}")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{path}: not a regular file")
        try:
            data = f.read(MAX_AUTH_FILE + 1)
        except OSError as err:
            raise UsageError(f"{path}: cannot read: {err.strerror or err}") from None
    if len(data) > MAX_AUTH_FILE:
        raise UsageError(f"{path}: larger than {MAX_AUTH_FILE} bytes")
    try:
        return data.decode("utf-8"), st
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None


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


def read_password_file(path: Path, prog: str = "rnn-tui ssh-serve") -> Passwords:
    text, st = read_auth_file(path, "a password file")
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
            raise UsageError(f"{path}: line {n}: no user name before ':' (use '*' for any)")
        if not password:
            raise UsageError(f"{path}: line {n}: empty password")
        secret = password.encode("utf-8")
        (out.shared if user == "*" else out.users.setdefault(user, [])).append(secret)
    if not out.users and not out.shared:
        raise UsageError(f"{path}: no passwords (lines 'user:password' or '*:password')")
    if st.st_mode & 0o077:
        say(prog, f"warning: {path} is readable by other users of this machine "
            f"(chmod 600 {path})")
    return out


class AuthorizedKeys:
    """An authorized_keys file, re-read when it changes (a lecturer may add
    students' keys while the server runs). Emptied, deleted or broken, it
    revokes every key until it is fixed; at start it must hold keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: asyncssh.SSHAuthorizedKeys | None
        self.keys, self.stamp = self._read()

    def _read(self) -> tuple[asyncssh.SSHAuthorizedKeys, tuple[int, ...] | None]:
        text, st = read_auth_file(self.path, "an authorized_keys file")
        try:
            if not text.strip():
                raise ValueError("empty")
            keys = asyncssh.import_authorized_keys(text)
        except (ValueError, asyncssh.KeyImportError):  # no line is a key
            raise UsageError(f"{self.path}: no keys (one public key a line, e.g. the "
                             "contents of ~/.ssh/id_ed25519.pub)") from None
        return keys, stamp_of(st)

    def current(self) -> asyncssh.SSHAuthorizedKeys | None:
        """The keys as the file is now; None (no key at all) when it has none."""
        try:
            stamp: tuple[int, ...] | None = stamp_of(os.stat(self.path))
        except OSError:
            stamp = None
        if stamp != self.stamp:
            self.stamp = stamp
            try:
                self.keys, self.stamp = self._read()
                log(f"re-read {self.path}")
            except UsageError as err:
                self.keys = None
                log(f"revoked every key until the file is fixed: {err}")
        return self.keys


def stamp_of(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


# ---------------------------------------------------------------- the doorman


def address_key(host: str) -> str:
    """What counts as one address: an IPv4 address, or an IPv6 /64 network
    (one machine can have a whole /64)."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Doorman:
    """Connections still logging in (not authenticated yet) count apart from
    sessions: at most ``per_address`` from one address and ``total`` in all;
    the oldest makes room for a newer one, so silent sockets cannot keep a
    student out. Wrong passwords drain a bucket per address (FAILURES_PER_MINUTE,
    refilled over a minute); an empty bucket refuses that address's passwords
    for BLOCK_SECONDS (keys still work)."""

    def __init__(self, per_address: int = PENDING_PER_ADDRESS, total: int = PENDING_TOTAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_address = per_address
        self.total = total
        self.clock = clock
        self.pending: dict[Hashable, str] = {}  # connection -> address, the oldest first
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)
        self.blocked_until: dict[str, float] = {}

    def arrive(self, who: Hashable, address: str) -> list[Hashable]:
        """``who`` starts logging in; returns the older connections to close."""
        same = [c for c, a in self.pending.items() if a == address]
        evict = same[:max(0, len(same) + 1 - self.per_address)]
        self.pending[who] = address
        for c in evict:
            del self.pending[c]
        over = len(self.pending) - self.total
        if over > 0:
            oldest = list(self.pending)[:over]
            for c in oldest:
                del self.pending[c]
            evict += oldest
        return evict

    def leave(self, who: Hashable) -> None:
        """``who`` logged in, or went away."""
        self.pending.pop(who, None)

    def refusing(self, address: str) -> float:
        """Seconds for which ``address`` is still refused passwords (0: not)."""
        until = self.blocked_until.get(address, 0.0)
        left = until - self.clock()
        if left <= 0 and until:
            del self.blocked_until[address]
        return max(0.0, left)

    def wrong_password(self, address: str) -> bool:
        """Count a wrong password; True when it starts refusing ``address``."""
        now = self.clock()
        tokens, when = self.buckets.get(address, (float(FAILURES_PER_MINUTE), now))
        tokens = min(FAILURES_PER_MINUTE, tokens + (now - when) * FAILURES_PER_MINUTE / 60)
        tokens -= 1
        self.buckets[address] = (tokens, now)
        if len(self.buckets) > 4096:  # forget addresses whose bucket is full again
            self.buckets = {a: (t, w) for a, (t, w) in self.buckets.items()
                            if t + (now - w) * FAILURES_PER_MINUTE / 60 < FAILURES_PER_MINUTE}
        if tokens >= 1 or self.refusing(address):
            return False
        self.blocked_until[address] = now + BLOCK_SECONDS
        return True
