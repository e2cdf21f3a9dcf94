"""A hangup or SIGTERM ends the process within seconds, every time.

SIGHUP and SIGTERM (and a terminal that hangs up without a signal) first
ask the app to exit the normal way, which restores the terminal. That way
can hang: when a terminal goes away mid-frame, Textual's shutdown has been
seen waiting forever in ``Queue.put`` inside ``WriterThread.stop`` (the
writer thread no longer taking from the queue), with the event loop, which
is where asyncio's own signal handlers would run, blocked with it.

So the signals are caught with ``signal.signal``: Python runs such a
handler in the main thread between bytecodes, and a lock wait (``Queue.put``
without a timeout included) is interrupted for it. The handler only writes
the signal's number to a pipe. A daemon thread waits on that pipe and on
the terminal (``poll`` reports a hangup without reading any input), asks the
app to stop (``post_message`` is thread-safe), gives the normal shutdown
``GRACE`` seconds and then ends the process with ``os._exit(128 + signal)``
(129 for a hangup, 143 for SIGTERM). If the normal shutdown finishes first,
the process is gone and the thread with it.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

from textual.message import Message

GRACE = 2.0  # seconds the normal shutdown gets before the process is ended
SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class Watchdog:
    """``stop(name, code)`` is called from the watchdog's thread: it must be
    thread-safe and must not block (e.g. ``App.post_message``)."""

    def __init__(self, stop: Callable[[str, int], object], grace: float = GRACE) -> None:
        self.stop = stop
        self.grace = grace
        self._read, self._write = os.pipe()

    def install(self) -> None:
        """Catch SIGHUP and SIGTERM and start watching (in the main thread:
        elsewhere Python cannot catch signals, and nothing is installed)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            signal.signal(sig, self._caught)
        ttys = [f.fileno() for f in (sys.__stdin__, sys.__stderr__)
                if f is not None and _isatty(f.fileno())]
        threading.Thread(target=self._watch, args=(ttys,), name="rnn-tui-watchdog",
                         daemon=True).start()

    def _caught(self, signum: int, frame: object) -> None:
        os.write(self._write, bytes([signum]))

    def _watch(self, ttys: list[int]) -> None:
        poller = select.poll()
        poller.register(self._read, select.POLLIN)
        for fd in ttys:
            poller.register(fd, 0)  # hangup and error are reported whatever the mask
        signum = 0
        while not signum:
            for fd, _ in poller.poll():
                signum = os.read(self._read, 1)[0] if fd == self._read else signal.SIGHUP
        name = signal.Signals(signum).name
        code = 128 + signum
        try:
            self.stop(name, code)
        except Exception:  # the app is gone already: nothing to ask
            pass
        time.sleep(self.grace)
        os._exit(code)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


class Stop(Message):
    """What the watchdog posts to the app: a hangup or SIGTERM arrived."""

    def __init__(self, name: str, code: int) -> None:
        super().__init__()
        self.name, self.code = name, code
