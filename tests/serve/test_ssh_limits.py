"""`rnn-tui ssh-serve` against hostile clients: silent sockets, password
guessing, and a lecturer revoking keys. The server is a real subprocess on
127.0.0.1; the clients are asyncssh's own client and raw sockets, some from
127.0.0.2 (another address of the loopback network: a second machine, as far
as the server can tell). Every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.server_process import SshServer

asyncssh = pytest.importorskip("asyncssh", reason="ssh-serve needs asyncssh")

HOST = "127.0.0.1"
OTHER = "127.0.0.2"  # the "attacker's machine"
FIRST_FRAME = b"finite"  # in the status line of the first frame
PASSWORD = "tuesday-lab"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def files(tmp_path: Path, key: asyncssh.SSHKey) -> dict[str, Path]:
    keys = tmp_path / "authorized_keys"
    keys.write_bytes(key.export_public_key())
    passwords = tmp_path / "passwords"
    passwords.write_text(f"*:{PASSWORD}\n")
    passwords.chmod(0o600)
    return {"keys": keys, "passwords": passwords, "state": tmp_path / "state"}


@pytest.fixture
def start(files: dict[str, Path]) -> Iterator:
    started: list[SshServer] = []

    def start(*args: str) -> SshServer:
        server = SshServer([*args], files["state"])
        started.append(server)
        return server

    yield start
    for server in started:
        with contextlib.suppress(Exception):
            server.stop(timeout=15)
        server.kill()
        assert "Traceback" not in server.log(), server.log()


def other_address_works() -> bool:
    with socket.socket() as s:
        try:
            s.bind((OTHER, 0))
        except OSError:
            return False
    return True


# ----------------------------------------------------------------- clients


def options(**kw: object) -> dict[str, object]:
    """asyncssh's client, hermetic: no config file, agent or known_hosts."""
    return {"known_hosts": None, "agent_path": None, "config": None,
            "connect_timeout": 15, **kw}


async def first_frame(port: int, key: asyncssh.SSHKey, source: str = HOST) -> bytes:
    """Log in with ``key`` from ``source``, open a session, read until its first frame."""
    async with asyncssh.connect(HOST, port, username="student", client_keys=[key],
                                local_addr=(source, 0), **options()) as conn:
        async with conn.create_process(term_type="xterm-256color", term_size=(80, 24),
                                       encoding=None) as proc:
            seen = b""
            while FIRST_FRAME not in seen:
                chunk = await asyncio.wait_for(proc.stdout.read(65536), 60)
                assert chunk, seen[-300:]
                seen += chunk
            return seen


async def login(port: int, **kw: object) -> str:
    """"in", "denied" (no method left) or "closed" (the server hung up)."""
    try:
        async with asyncssh.connect(HOST, port, username="student", **options(**kw)):
            return "in"
    except asyncssh.PermissionDenied:
        return "denied"
    except (asyncssh.DisconnectError, asyncssh.ConnectionLost, ConnectionError):
        return "closed"


class Guesser(asyncssh.SSHClient):
    """A client that keeps guessing passwords on one connection."""

    def __init__(self, guesses: list[str]) -> None:
        self.guesses = list(guesses)
        self.tried = 0

    def password_auth_requested(self) -> str | None:
        if not self.guesses:
            return None
        self.tried += 1
        return self.guesses.pop(0)


async def guess(port: int, guesses: list[str], source: str = HOST) -> tuple[bool, int]:
    """(logged in, passwords tried) for one connection trying ``guesses``."""
    client = Guesser(guesses)
    try:
        conn, _ = await asyncssh.create_connection(
            lambda: client, HOST, port, username="mallory", local_addr=(source, 0),
            client_keys=None, password_auth=True, preferred_auth="password", **options())
    except (asyncssh.PermissionDenied, asyncssh.ConnectionLost, asyncssh.DisconnectError,
            ConnectionError):
        return False, client.tried
    conn.close()
    return True, client.tried


def silent_sockets(port: int, n: int, source: str) -> list[socket.socket]:
    """``n`` TCP connections that never say a word."""
    out = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(10)
        s.connect((HOST, port))
        out.append(s)
    return out


def closed_by_server(s: socket.socket, timeout: float) -> bool:
    """The server closed ``s`` (after its version line) within ``timeout``."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


# ------------------------------------------------------------------ tests


@pytest.mark.slow
def test_silent_sockets_do_not_lock_out_a_key_holder(start, files, key) -> None:
    if not other_address_works():
        pytest.skip(f"cannot bind {OTHER} (a loopback address other than {HOST})")
    # Before: every connection counted against --max-sessions + 32 = 34.
    server = start("--authorized-keys", str(files["keys"]), "--max-sessions", "2",
                   "--max-unauthenticated", "8")
    others = silent_sockets(server.port, 40, OTHER)
    mine = silent_sockets(server.port, 40, HOST)  # and some from the student's own address
    try:
        assert FIRST_FRAME in asyncio.run(first_frame(server.port, key))
        assert FIRST_FRAME in asyncio.run(first_frame(server.port, key, OTHER))
        # At most 8 from one address are still waiting: the oldest made room.
        closed = sum(closed_by_server(s, 0.2) for s in others)
        assert closed >= 40 - 8, closed
        server.wait_line(r"disconnect #\d+ \(not authenticated\) from 127\.0\.0\.2:\d+ after "
                         r"\d+s: not logged in after \d+s: made room for a newer connection", 5)
    finally:
        for s in others + mine:
            s.close()


@pytest.mark.slow  # waits out a 2 s login grace
def test_login_grace_closes_silent_sockets(start, files) -> None:
    server = start("--authorized-keys", str(files["keys"]), "--login-grace", "2")
    (s,) = silent_sockets(server.port, 1, HOST)
    began = time.monotonic()
    try:
        assert closed_by_server(s, 10)
    finally:
        s.close()
    assert 1.5 < time.monotonic() - began < 8
    server.wait_line(r"\(not authenticated\) from .* after \ds: login timeout expired", 5)


@pytest.mark.slow
def test_password_guesses_are_cut_off(start, files, key) -> None:
    server = start("--authorized-keys", str(files["keys"]), "--password-file",
                   str(files["passwords"]))
    # One connection: three wrong passwords, then it is closed.
    ok, tried = asyncio.run(guess(server.port, [f"guess{i}" for i in range(10)]))
    assert not ok and tried == 3, tried
    server.wait_line(r"disconnect #\d+ mallory \(not authenticated\) .*: 3 wrong passwords", 5)

    # Many connections in parallel from one address: after 10 wrong passwords in a
    # minute the address is refused passwords, even the right one...
    async def storm() -> list[tuple[bool, int]]:
        return await asyncio.gather(*(guess(server.port, [f"x{i}", f"y{i}", f"z{i}"])
                                      for i in range(8)))

    results = asyncio.run(storm())
    assert not any(ok for ok, _ in results)
    server.wait_line(r"refusing passwords from 127\.0\.0\.1 for 60 s: 10 wrong within "
                     r"a minute", 5)
    total = sum(tried for _, tried in results) + 3
    assert total <= 10 + 8, total  # at most one more guess per connection in flight
    assert asyncio.run(login(server.port, password=PASSWORD, client_keys=None)) == "closed"
    server.wait_line(r"passwords from 127\.0\.0\.1 refused for \d+ s more", 5)
    # ... while a key still works from there, and the password from elsewhere.
    assert asyncio.run(login(server.port, client_keys=[key])) == "in"
    if other_address_works():
        assert asyncio.run(login(server.port, password=PASSWORD, client_keys=None,
                                 local_addr=(OTHER, 0))) == "in"


def test_emptied_or_deleted_key_file_revokes(start, files, key) -> None:
    keys = files["keys"]
    server = start("--authorized-keys", str(keys))
    assert asyncio.run(login(server.port, client_keys=[key])) == "in"

    keys.write_text("")  # emptied: nobody gets in
    assert asyncio.run(login(server.port, client_keys=[key])) == "denied"
    server.wait_line(r"revoked every key until the file is fixed: .*authorized_keys: no keys", 5)

    keys.write_bytes(b"# the class of Tuesday\n" + key.export_public_key())
    assert asyncio.run(login(server.port, client_keys=[key])) == "in"
    server.wait_line(r"re-read .*authorized_keys", 5)

    keys.unlink()  # deleted: nobody gets in
    assert asyncio.run(login(server.port, client_keys=[key])) == "denied"
    server.wait_line(r"revoked every key until the file is fixed: .*authorized_keys: no such "
                     r"file", 5)

    keys.write_text("not a key\n")  # broken: nobody gets in either
    assert asyncio.run(login(server.port, client_keys=[key])) == "denied"
    assert len([line for line in server.log().splitlines() if "revoked" in line]) == 3


def test_doorman_counts() -> None:
    from rnn_tui.serve.ssh_auth import BLOCK_SECONDS, Doorman, address_key

    now = [0.0]
    door = Doorman(per_address=2, total=3, clock=lambda: now[0])
    assert door.arrive("a1", "A") == [] and door.arrive("a2", "A") == []
    assert door.arrive("a3", "A") == ["a1"]  # the oldest from A makes room
    assert door.arrive("b1", "B") == [] and door.arrive("b2", "B") == ["a2"]  # all: 3
    door.leave("a3")
    assert door.arrive("c1", "C") == []
    assert [door.wrong_password("A") for _ in range(10)] == [False] * 9 + [True]
    assert door.refusing("A") == BLOCK_SECONDS and not door.refusing("B")
    now[0] += BLOCK_SECONDS
    assert not door.refusing("A") and not door.wrong_password("A")  # refilled meanwhile
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("2001:db8::1") == address_key("2001:db8::2") == "2001:db8::/64"
