"""One ``ssh-serve`` session: the debugger in a pseudo-terminal of the
client's size, with bytes pumped both ways.

The server opens a pty, starts ``python -m rnn_tui.serve.ssh_child MODEL`` in
it (a trampoline that makes the pty the child's controlling terminal, then
runs the ordinary ``rnn-tui MODEL``) and copies output to the channel and
input to the pty, with back-pressure both ways (a slow client stops the
child's output; a busy child stops the client's window). Resizes are passed
on (TIOCSWINSZ on the pty, SIGWINCH to the child), coalesced; a client that
goes away takes its child with it (SIGHUP, then SIGKILL), and a child that
exits closes the channel with its exit status.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import struct
import time
from typing import TYPE_CHECKING, Any

import asyncssh

from rnn_tui.serve.common import (
    child_env,
    escalate,
    log,
    one_line,
    shown,
    signal_group,
    window_size,
)

try:  # Unix only: pseudo-terminals
    import fcntl
    import termios
except ImportError:  # pragma: no cover - e.g. Windows: ssh-serve says so and exits 2
    fcntl = termios = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from rnn_tui.serve.ssh import Connection, Hub

INPUT_LIMIT = 64 * 1024  # bytes of a client's input held while its child is busy
RESIZE_INTERVAL = 0.05  # resizes are coalesced: at most one per interval
CHANNEL_WINDOW = 256 * 1024  # bytes a client may send before it has to wait
TERM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
DEFAULT_TERM = "xterm-256color"
# Written to a client whose child the server ended (idle, shutdown), so its
# terminal leaves the app's modes: main screen, cursor on, no mouse reports.
TERMINAL_RESET = (
    b"\x1b[?2026l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?1004l"
    b"\x1b[?2004l\x1b[?2048l\x1b[<u\x1b[0m\x1b[?25h\x1b[?1049l"
)


def prepare_pty(slave: int) -> None:
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


def set_winsize(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Session(asyncssh.SSHServerSession):
    """One channel of a connection: a shell request runs the debugger."""

    def __init__(self, hub: Hub, owner: Connection) -> None:
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
        self.killer: asyncio.Future[int] | None = None

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
        self.size = window_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        # Accepted only to say why nothing runs; no command ever does.
        log(f"#{self.owner.id} {self.owner.username}: refused command "
            f"{shown(command, 60)!r}")
        self.refusal = ("this server runs only the rnn-tui debugger; commands are not "
                        "allowed. Connect without a command: ssh -t -p "
                        f"{self.hub.config.port} HOST")
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        log(f"#{self.owner.id} {self.owner.username}: refused subsystem "
            f"{shown(subsystem, 40)!r}")
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
            env = child_env(os.environ, self.term or DEFAULT_TERM, self._colorterm())
            master, slave = os.openpty()
            self.master = master
            try:
                prepare_pty(slave)
                set_winsize(master, *self.size)
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

    def kill(self) -> None:
        signal_group(self.proc, signal.SIGKILL)

    def _terminate(self, sig: int) -> None:
        """``sig`` now, SIGKILL if the child still runs after KILL_GRACE."""
        signal_group(self.proc, sig)
        if self.killer is None and self.proc is not None and self.running:
            self.killer = asyncio.ensure_future(escalate(self.proc, (signal.SIGKILL,)))

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
        self.pending_size = window_size(width, height)
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
            set_winsize(self.master, *size)
        except OSError:
            return
        signal_group(self.proc, signal.SIGWINCH)

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
