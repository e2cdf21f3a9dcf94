"""Standard streams that are closed, full or gone: one line, never a traceback.

A command started with ``>&-`` has no standard output (``sys.stdout`` is None),
``> /dev/full`` fails at the first flush, and ``| head`` closes the pipe
early. :func:`guard` runs once at the start of ``main``: it keeps file
descriptors 0-2 occupied (by ``/dev/null``) so that no file the command opens
takes their place, and puts a :class:`Output` in front of standard output, so
that a failed write or flush is an :class:`OutputError` for ``main`` to report
in one line. :func:`finish` flushes inside ``main`` and, after a failure,
points standard output at ``/dev/null`` so that the interpreter's own flush at
exit is silent.
"""

from __future__ import annotations

import errno
import io
import os
import sys

from rnn_tui.cli.args import UsageError


class OutputError(Exception):
    """Standard output cannot be written; str() is the one line to print."""

    def __init__(self, err: OSError | None) -> None:
        self.broken_pipe = isinstance(err, BrokenPipeError)
        why = "it is closed" if err is None else (err.strerror or str(err)).lower()
        super().__init__(f"cannot write to standard output: {why}")


class Output(io.TextIOBase):
    """Standard output for the headless commands; ``None`` when it was closed."""

    def __init__(self, stream: io.TextIOBase | None) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:  # type: ignore[override]
        if self.stream is None:
            raise OutputError(None)
        try:
            return self.stream.write(text)
        except OSError as err:
            raise OutputError(err) from None

    def flush(self) -> None:
        if self.stream is None:
            return
        try:
            self.stream.flush()
        except OSError as err:
            raise OutputError(err) from None
        except ValueError:  # already closed by someone: nothing left to flush
            pass

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    def fileno(self) -> int:
        if self.stream is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", None) or "utf-8"


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def guard() -> None:
    """Occupy closed descriptors 0-2 and wrap standard output (see above).
    A closed standard error is replaced by /dev/null: its lines are lost, the
    exit status still tells."""
    for fd in (0, 1, 2):
        if _closed(fd):
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")
    if not isinstance(sys.stdout, Output):
        sys.stdout = Output(sys.stdout)  # type: ignore[arg-type]


def stdin_closed() -> bool:
    return sys.stdin is None


def finish() -> OutputError | None:
    """Flush standard output now; after a failure, send what is left to
    /dev/null so that the flush at exit neither fails nor prints."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OutputError as err:
        silence()
        return err
    except OSError as err:  # the real stream, after the debugger had it
        silence()
        return OutputError(err)
    except ValueError:  # closed
        pass
    return None


def silence() -> None:
    """Point standard output's descriptor at /dev/null (what is still
    buffered goes nowhere, quietly)."""
    out = sys.stdout.stream if isinstance(sys.stdout, Output) else sys.stdout
    if out is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, out.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass


def for_terminal(what: str = "the debugger") -> None:
    """Before Textual starts: a closed standard input is one line, and
    Textual gets the real standard output back (it has its own handling)."""
    if sys.stdin is None:
        raise UsageError(f"standard input is closed; {what} needs a terminal")
    if isinstance(sys.stdout, Output):
        sys.stdout = sys.stdout.stream or open(os.devnull, "w")


def restore() -> None:
    """Standard output as it was before :func:`guard` (for callers of main
    in-process); a closed one stays wrapped, so the flush at exit is silent."""
    if isinstance(sys.stdout, Output) and sys.stdout.stream is not None:
        sys.stdout = sys.stdout.stream
