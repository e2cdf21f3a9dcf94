"""`rnn-tui ssh-serve` end to end: a real OpenSSH client against the server,
started as a real subprocess on 127.0.0.1 (a free port chosen by the server).

Each client runs `ssh -tt` inside a pty of its own, so window sizes are real
and resizes go through ssh's own SIGWINCH handling. Every wait is bounded and
every process is ended in a fixture finaliser, even when a test fails.

Numbers (first frame, memory per session) are printed; see them with `-s`.
The end-to-end tests are marked slow (`pytest -m "not slow"` skips them).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.server_process import SshServer as Server
from helpers.server_process import gone, state_of, wait_for

SSH = shutil.which("ssh")
KEYGEN = shutil.which("ssh-keygen")
if not (SSH and KEYGEN):
    pytest.skip("needs the OpenSSH client: apt-get install openssh-client",
                allow_module_level=True)
pytest.importorskip("asyncssh", reason="ssh-serve needs asyncssh: pip install asyncssh")

HOST = "127.0.0.1"  # every connection of these tests stays on loopback
FIRST_FRAME = b"finite"  # in the status line of the first frame
FRAME_TIMEOUT = 60.0
MANY = 20


# ------------------------------------------------------------------ server


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB."""
    rss = pss = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    return rss, pss


# ------------------------------------------------------------------ client


class Client:
    """`ssh -tt` in a pty of its own; a thread collects everything it prints."""

    def __init__(self, argv: list[str], cols: int = 80, rows: int = 24,
                 env: dict[str, str] | None = None) -> None:
        self.master, slave = pty.openpty()
        self._setsize(cols, rows)
        self.started = time.monotonic()
        self.first_frame: float | None = None
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            env=env or {**os.environ, "TERM": "xterm-256color"},
        )
        os.close(slave)
        self.buf = bytearray()
        self._cond = threading.Condition()
        self._done = False
        threading.Thread(target=self._read, daemon=True).start()

    def _setsize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._done = True
                    self._cond.notify_all()
                    return
                self.buf += data
                if self.first_frame is None and FIRST_FRAME in self.buf:
                    self.first_frame = time.monotonic() - self.started
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.buf)

    def expect(self, pattern: bytes | re.Pattern[bytes], timeout: float = FRAME_TIMEOUT,
               since: int = 0) -> None:
        def found() -> bool:
            part = bytes(self.buf[since:])
            return (pattern in part) if isinstance(pattern, bytes) else bool(
                pattern.search(part))

        deadline = time.monotonic() + timeout
        with self._cond:
            while not found():
                left = deadline - time.monotonic()
                if left <= 0 or self._done:
                    tail = bytes(self.buf[-600:])
                    raise AssertionError(f"{pattern!r} not seen within {timeout}s "
                                         f"(ssh rc={self.proc.poll()}); last output: {tail!r}")
                self._cond.wait(min(left, 0.5))

    def text(self) -> str:
        with self._cond:
            return bytes(self.buf).decode("utf-8", "replace")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def resize(self, cols: int, rows: int) -> None:
        self._setsize(cols, rows)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGWINCH)

    def wait(self, timeout: float = 20.0) -> int:
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.master = -1


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    key = d / "id_ed25519"
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "student", "-f", str(key)],
                   check=True, timeout=30)
    auth = d / "authorized_keys"
    auth.write_text(key.with_suffix(".pub").read_text())
    return {"key": key, "authorized_keys": auth, "known_hosts": d / "known_hosts"}


def ssh_argv(port: int, keys: dict[str, Path], command: str | None = None, *,
             tty: bool = True, options: tuple[str, ...] = ()) -> list[str]:
    """OpenSSH, hermetic (no user config, no agent), ending in HOST [COMMAND].
    ``options`` come first, and for ssh the first value of an option wins."""
    argv = [SSH or "ssh", *options, "-F", "/dev/null", "-p", str(port), "-l", "student",
            "-i", str(keys["key"]), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={keys['known_hosts']}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", "-o", "BatchMode=yes"]
    if tty:
        argv.append("-tt")
    return [*argv, HOST] + ([command] if command is not None else [])


def run_ssh(argv: list[str], timeout: float = 30.0, stdin: bytes = b"") -> \
        subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                          env={**os.environ, "TERM": "xterm-256color"})


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for s in started:
        with contextlib.suppress(Exception):
            s.stop(timeout=15)
        s.kill()


@pytest.fixture
def start(servers: list[Server], tmp_path: Path, keys: dict[str, Path]):
    def start(*args: str, state: Path | None = None, auth: bool = True) -> Server:
        extra = ["--authorized-keys", str(keys["authorized_keys"])] if auth else []
        server = Server([*args, *extra], state or tmp_path / "state")
        servers.append(server)
        return server

    return start


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Iterator[Server]:
    """One server for the tests that do not need flags of their own."""
    server = Server(["hello", "--authorized-keys", str(keys["authorized_keys"]),
                     "--max-sessions", "60"], tmp_path_factory.mktemp("state"))
    yield server
    try:
        assert server.stop(timeout=20) == 0
    finally:
        server.kill()
    log = server.log()
    if os.environ.get("RNN_TUI_SHOW_SSH_LOG"):
        print("\n[ssh] server log:\n" + log)
    assert "Traceback" not in log and "exception" not in log.lower(), log


def connect(clients: list[Client], server: Server, keys: dict[str, Path], cols: int = 80,
            rows: int = 24) -> Client:
    c = Client(ssh_argv(server.port, keys), cols, rows)
    clients.append(c)
    return c


def step_label(n: int) -> bytes:
    return f"forward t={n}".encode()


# ------------------------------------------------------------------- tests


def test_starting_without_auth_flags_fails_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    for args, message in (
        ([], "--authorized-keys FILE, --password-file FILE, or --no-auth"),
        (["--no-auth", "--password-file", "x"], "--no-auth cannot be combined"),
        (["--no-auth", "--room", "x"], "--room needs --follow"),
    ):
        r = subprocess.run([sys.executable, "-m", "rnn_tui", "ssh-serve", "--port", "0", *args],
                           capture_output=True, text=True, timeout=30, env=env)
        assert r.returncode == 2, r
        assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "rnn-tui").exists()  # refused before making a host key


@pytest.mark.slow
def test_connect_step_resize_quit(shared: Server, keys: dict[str, Path],
                                 clients: list[Client]) -> None:
    before = set(shared.children())
    c = connect(clients, shared, keys, 80, 24)
    c.expect(FIRST_FRAME)
    c.expect(b"hello")  # the model's name, in the status line
    print(f"\n[ssh] first frame after {c.first_frame:.2f} s (one session, idle server)")
    (child,) = set(shared.children()) - before  # the session: a child of the server, in its own pty
    env = dict(kv.split("=", 1) for kv in
               Path(f"/proc/{child}/environ").read_text().split("\0") if "=" in kv)
    assert env["RNN_TUI_SERVED"] == "1" and env["TERM"] == "xterm-256color"
    assert "COLUMNS" not in env and "LINES" not in env
    assert Path(f"/proc/{child}/cmdline").read_text().split("\0")[1:3] == [
        "-m", "rnn_tui.serve.ssh_child"]

    mark = c.mark()
    c.send(b" ")
    c.expect(step_label(2), since=mark)

    mark = c.mark()
    c.resize(130, 40)  # wide: every panel; the app repaints to row 40
    c.expect(b"\x1b[40;1H", since=mark)
    c.expect(b"Gradients", since=mark)  # a panel of the wide layout only

    mark = c.mark()
    c.resize(70, 20)  # too small: the app says so
    c.expect(b"Enlarge the terminal", since=mark)

    mark = c.mark()
    c.resize(100, 30)
    c.expect(b"\x1b[30;1H", since=mark)
    c.send(b" ")
    c.expect(step_label(3), since=mark)

    c.send(b"q")  # the app exits: the server closes the channel with its status
    assert c.wait(20) == 0
    c.expect(b"\x1b[?1049l")  # the app left the alternate screen itself
    wait_for(lambda: gone(child), 10, "the session's child to be reaped")
    shared.wait_line(r"disconnect #\d+ student from 127\.0\.0\.1:\d+ after", 10)


@pytest.mark.slow
def test_twenty_concurrent_sessions(shared: Server, keys: dict[str, Path],
                                    clients: list[Client]) -> None:
    before = set(shared.children())
    started = time.monotonic()
    many = [connect(clients, shared, keys) for _ in range(MANY)]
    for c in many:
        c.expect(FIRST_FRAME, timeout=120)
    all_up = time.monotonic() - started
    for c in many:
        mark = c.mark()
        c.send(b" ")
        c.expect(step_label(2), since=mark)
    kids = [p for p in shared.children() if p not in before]
    assert len(kids) == MANY
    mem = [memory_kib(p) for p in kids]
    rss = sorted(r for r, _ in mem)
    pss = sorted(p for _, p in mem)
    firsts = sorted(c.first_frame or 0.0 for c in many)
    print(f"\n[ssh] {MANY} concurrent sessions: all first frames within {all_up:.1f} s; "
          f"ssh -> first frame median {firsts[MANY // 2]:.2f} s, max {firsts[-1]:.2f} s")
    print(f"[ssh] memory per session (child): RSS median {rss[MANY // 2] / 1024:.1f} MiB "
          f"(max {rss[-1] / 1024:.1f}); PSS median {pss[MANY // 2] / 1024:.1f} MiB; "
          f"server RSS {memory_kib(shared.proc.pid)[0] / 1024:.1f} MiB")

    for c in many:  # abrupt: the ssh clients are killed, not asked to quit
        c.close()
    wait_for(lambda: all(gone(p) for p in kids), 20, "every session's child to end")
    wait_for(lambda: not any(state_of(p) == "Z" for p in shared.children()), 5, "no zombies")
    assert shared.proc.poll() is None


@pytest.mark.slow
def test_misbehaving_clients_do_not_affect_others(shared: Server, keys: dict[str, Path],
                                                 clients: list[Client]) -> None:
    good = connect(clients, shared, keys)
    bad = connect(clients, shared, keys)
    good.expect(FIRST_FRAME)
    bad.expect(FIRST_FRAME)
    kids = set(shared.children())

    # A storm of resizes, including absurd sizes (the server clamps them).
    for cols, rows in [(1, 1), (65535, 65535), (0, 0), (500, 3), (3, 500)] * 20:
        bad.resize(cols, rows)
    bad.resize(90, 30)
    mark = good.mark()
    good.send(b" ")
    good.expect(step_label(2), since=mark)

    # Garbage typed into a session, then the client vanishes without a word.
    with contextlib.suppress(OSError):
        bad.send(os.urandom(20_000))
    bad.close()

    # Garbage on the SSH port itself, and a connection that says nothing.
    with socket.create_connection((HOST, shared.port), timeout=5) as raw:
        raw.sendall(b"SSH-2.0-garbage\r\n" + os.urandom(4096))
        raw.settimeout(10)
        with contextlib.suppress(OSError):
            while raw.recv(4096):
                pass
    silent = socket.create_connection((HOST, shared.port), timeout=5)
    silent.close()

    mark = good.mark()
    good.send(b" ")
    good.expect(step_label(3), since=mark)
    assert shared.proc.poll() is None
    mine = [p for p in shared.children() if p in kids]
    wait_for(lambda: len([p for p in mine if not gone(p)]) == 1, 15,
             "the vanished client's session to end")
    good.close()


@pytest.mark.slow
def test_exec_requests_are_refused(shared: Server, keys: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    r = run_ssh(ssh_argv(shared.port, keys, f"touch {marker}", tty=False))
    assert r.returncode != 0
    assert b"commands are not allowed" in r.stderr, r
    assert not marker.exists()

    # Another model cannot be swapped in: "ssh host other.toml" runs nothing.
    other = tmp_path / "other.toml"
    subprocess.run([sys.executable, "-m", "rnn_tui", "new", "--text", "abcabc", "--name",
                    "othermodel", "-o", str(other)], check=True, timeout=30, capture_output=True)
    before = set(shared.children())
    r = run_ssh(ssh_argv(shared.port, keys, str(other)))
    assert r.returncode != 0
    assert b"commands are not allowed" in r.stdout + r.stderr
    assert b"othermodel" not in r.stdout + r.stderr
    assert set(shared.children()) <= before  # no session was started for it
    shared.wait_line(r"refused command", 5)


@pytest.mark.slow
def test_sftp_subsystems_and_forwarding_are_refused(shared: Server, keys: dict[str, Path],
                                                    tmp_path: Path) -> None:
    base = ssh_argv(shared.port, keys, tty=False)
    sftp = shutil.which("sftp")
    if sftp:  # the same options; sftp spells the port -P and takes the user in user@host
        opts = base[1:-1]
        i = opts.index("-p")
        opts[i] = "-P"
        i = opts.index("-l")
        del opts[i:i + 2]
        r = subprocess.run([sftp, "-b", "-", *opts, f"student@{HOST}"], input=b"ls\n",
                           capture_output=True, timeout=30)
        assert r.returncode != 0, r
    r = run_ssh([*base[:-1], "-s", HOST, "sftp"])
    assert r.returncode != 0, r
    shared.wait_line(r"refused subsystem 'sftp'", 5)

    # stdio forwarding (a direct-tcpip channel) to a port on this machine
    r = run_ssh([*base[:-1], "-W", f"{HOST}:{shared.port}", HOST])
    assert r.returncode != 0, r
    # remote TCP forwarding and remote unix-socket forwarding
    for spec in (f"0:{HOST}:{shared.port}", f"{tmp_path / 'sock'}:{HOST}:{shared.port}"):
        r = run_ssh([*base[:-1], "-N", "-o", "ExitOnForwardFailure=yes", "-R", spec, HOST])
        assert r.returncode != 0, r
        assert b"forwarding failed" in r.stderr, r
    assert not (tmp_path / "sock").exists()
    shared.wait_line(r"refused remote TCP forwarding", 5)
    # X11: the client asks, the server says no (the session itself still works)
    env = {**os.environ, "DISPLAY": "127.0.0.1:99", "TERM": "xterm-256color"}
    c = Client(ssh_argv(shared.port, keys, options=("-o", "ForwardX11=yes",
                                                    "-o", "ForwardX11Trusted=yes")), env=env)
    try:
        c.expect(FIRST_FRAME)
        c.expect(b"X11 forwarding request failed", timeout=10)
    finally:
        c.close()


@pytest.mark.slow
def test_max_sessions_refuses_the_next_with_a_message(start, keys: dict[str, Path],
                                                      clients: list[Client]) -> None:
    server = start("--max-sessions", "2")
    a = connect(clients, server, keys)
    b = connect(clients, server, keys)
    a.expect(FIRST_FRAME)
    b.expect(FIRST_FRAME)
    c = connect(clients, server, keys)
    c.expect(b"the server is full (2 sessions running)", timeout=20)
    assert c.wait(20) != 0
    server.wait_line(r"refused session: full", 5)

    b.send(b"q")  # one leaves: there is room again
    assert b.wait(20) == 0
    d = connect(clients, server, keys)
    d.expect(FIRST_FRAME)


@pytest.mark.slow
def test_password_auth(start, tmp_path: Path, keys: dict[str, Path],
                       clients: list[Client]) -> None:
    pw = tmp_path / "passwords"
    pw.write_text("# classroom\nalice:right horse battery\n*:shared-secret\n")
    pw.chmod(0o600)
    server = start("--password-file", str(pw), auth=False)
    sshpass = shutil.which("sshpass")
    base = [SSH or "ssh", "-F", "/dev/null", "-p", str(server.port),
            "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={tmp_path / 'kh'}",
            "-o", "LogLevel=ERROR",
            "-o", "PubkeyAuthentication=no", "-o", "IdentityAgent=none",
            "-o", "PreferredAuthentications=password,keyboard-interactive",
            "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10"]
    if sshpass:
        r = subprocess.run([sshpass, "-p", "wrong", *base, "-l", "alice", HOST, "x"],
                           capture_output=True, timeout=60)
        assert r.returncode == 5, r  # sshpass: invalid password
        r = subprocess.run([sshpass, "-p", "shared-secret", *base, "-l", "alice", HOST, "x"],
                           capture_output=True, timeout=60)
        assert r.returncode not in (5, 6), r  # accepted (then the command is refused)
        assert b"commands are not allowed" in r.stderr
        c = Client([sshpass, "-p", "right horse battery", *base, "-tt", "-l", "alice", HOST])
        clients.append(c)
        c.expect(FIRST_FRAME)
    else:  # asyncssh's own client, for this one case
        import asyncio

        import asyncssh

        async def attempt(password: str) -> bool:
            try:
                async with asyncssh.connect(HOST, server.port, username="alice",
                                            password=password, known_hosts=None,
                                            client_keys=None, agent_path=None,
                                            config=None, preferred_auth="password"):
                    return True
            except asyncssh.PermissionDenied:
                return False

        assert asyncio.run(attempt("wrong")) is False
        assert asyncio.run(attempt("right horse battery")) is True
    server.wait_line(r"disconnect #\d+ alice \(not authenticated\)", 5)


@pytest.mark.slow
def test_host_key_is_private_and_reused(start, tmp_path: Path, keys: dict[str, Path]) -> None:
    state = tmp_path / "xdg-state"
    key = state / "rnn-tui" / "ssh_host_ed25519_key"
    first = start(state=state)
    made = first.wait_line(r"host key (SHA256:\S+) \(new, (.*)\)", 5)
    assert Path(made.group(2)) == key
    assert key.stat().st_mode & 0o777 == 0o600
    known = tmp_path / "known_hosts"
    strict = ("-o", "StrictHostKeyChecking=accept-new", "-o", f"UserKnownHostsFile={known}")
    r = run_ssh(ssh_argv(first.port, keys, "true", tty=False, options=strict))
    assert b"commands are not allowed" in r.stderr, r  # the key got recorded
    assert first.stop() == 0

    second = start(state=state)
    again = second.wait_line(r"host key (SHA256:\S+) \((.*)\)", 5)
    assert again.group(1) == made.group(1) and "new" not in again.group(2)
    # the known_hosts entry (keyed by host:port) must match on the new port too
    text = known.read_text().replace(f"]:{first.port} ", f"]:{second.port} ")
    assert f"]:{second.port} " in text
    known.write_text(text)
    strict = ("-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}")
    r = run_ssh(ssh_argv(second.port, keys, "true", tty=False, options=strict))
    assert b"commands are not allowed" in r.stderr, r  # not "HOST IDENTIFICATION HAS CHANGED"
    fp = subprocess.run([KEYGEN or "ssh-keygen", "-l", "-f", str(key)], capture_output=True,
                        text=True, timeout=10).stdout
    assert made.group(1) in fp


@pytest.mark.slow
def test_sigint_ends_every_session(start, keys: dict[str, Path],
                                   clients: list[Client]) -> None:
    server = start()
    a = connect(clients, server, keys)
    b = connect(clients, server, keys)
    a.expect(FIRST_FRAME)
    b.expect(FIRST_FRAME)
    kids = server.children()
    assert len(kids) == 2
    assert server.stop(signal.SIGINT) == 130
    assert server.log().splitlines()[-1].endswith("stopped by SIGINT; ended 2 sessions")
    assert all(gone(p) for p in kids)
    for c in (a, b):
        c.expect(b"the server is shutting down", timeout=10)
        c.wait(10)


@pytest.mark.slow
def test_idle_sessions_end(start, keys: dict[str, Path], clients: list[Client]) -> None:
    server = start("--idle-timeout", "4")
    c = connect(clients, server, keys)
    c.expect(FIRST_FRAME)
    c.expect(b"no input for 4 s: session closed", timeout=20)
    c.wait(10)
    server.wait_line(r"ending session: no input", 5)


# ----------------------------------------------- the parts, without a client


def test_password_file_format(tmp_path: Path) -> None:
    from rnn_tui.cli.args import UsageError
    from rnn_tui.serve.ssh_auth import read_password_file

    f = tmp_path / "pw"
    f.write_text("# comment\n\nalice: a:b \n*:any-user\nbob:bob1\nshared-too\n")
    f.chmod(0o600)
    pw = read_password_file(f)
    assert pw.check("alice", "a:b") and not pw.check("alice", "bob1")
    assert pw.check("bob", "bob1") and pw.check("carol", "any-user")
    assert pw.check("dave", "shared-too") and not pw.check("dave", "")
    for text, message in (("alice:\n", "line 1: empty password"),
                          (":x\n", "line 1: no user name"),
                          ("# nothing\n", "no passwords")):
        f.write_text(text)
        with pytest.raises(UsageError, match=message):
            read_password_file(f)
    with pytest.raises(UsageError, match="no such file"):
        read_password_file(tmp_path / "missing")


def test_host_key_location_and_permissions(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from rnn_tui.cli.args import UsageError
    from rnn_tui.serve.ssh_auth import default_host_key_path, load_or_create_host_key

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_host_key_path() == tmp_path / "rnn-tui" / "ssh_host_ed25519_key"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")  # XDG: ignored unless absolute
    assert default_host_key_path() == (Path.home() / ".local" / "state" / "rnn-tui" /
                                       "ssh_host_ed25519_key")
    path = tmp_path / "sub" / "key"
    key, created = load_or_create_host_key(path)
    assert created and path.stat().st_mode & 0o777 == 0o600
    again, created = load_or_create_host_key(path)
    assert not created and again.get_fingerprint() == key.get_fingerprint()
    path.chmod(0o644)
    with pytest.raises(UsageError, match="readable by others"):
        load_or_create_host_key(path)


def test_session_command(tmp_path: Path) -> None:
    import argparse

    from rnn_tui.cli.args import UsageError
    from rnn_tui.core.model_file import builtin_dir
    from rnn_tui.serve.common import child_command

    def args(**kw: object) -> argparse.Namespace:
        return argparse.Namespace(**{"follow": True, "room": None, "owner": None,
                                     "model": None, "mode": None, **kw})

    launcher = [sys.executable, "-m", "rnn_tui.serve.ssh_child"]
    with pytest.raises(UsageError, match="give no MODEL"):
        child_command(args(model="hello"), launcher)
    with pytest.raises(UsageError, match="--owner needs --follow"):
        child_command(args(follow=False, owner="alice"), launcher)
    assert child_command(args(room=tmp_path, owner="alice"), launcher) == (
        [*launcher, "follow", "--room", str(tmp_path), "--owner", "alice"],
        f"the room {tmp_path} (follow mode)")
    hello = str((builtin_dir() / "hello.toml").resolve())
    assert child_command(args(follow=False, mode="x_t"), launcher) == (
        [*launcher, hello, "--handout"], "hello")


@pytest.mark.slow
def test_follow_sessions(start, tmp_path: Path, keys: dict[str, Path],
                         clients: list[Client]) -> None:
    import importlib.util

    from rnn_tui import cli

    if importlib.util.find_spec("rnn_tui.core.follow") is None or "follow" not in cli.COMMANDS:
        pytest.skip("the classroom follow mode (rnn_tui.core.follow) is not there yet")
    room = tmp_path / "room"
    server = start("--follow", "--room", str(room))
    server.wait_line(rf"serving the room {re.escape(str(room))} \(follow mode\)", 5)
    before = set(server.children())
    c = connect(clients, server, keys)
    c.expect(FIRST_FRAME)
    (child,) = set(server.children()) - before
    cmd = Path(f"/proc/{child}/cmdline").read_text().split("\0")
    assert cmd[1:6] == ["-m", "rnn_tui.serve.ssh_child", "follow", "--room", str(room)]
