"""Reading and writing files without hanging and without losing what the user had.

A read (:func:`read_regular`) refuses anything but a regular file of bounded
size before reading a byte of it: a FIFO would block forever, ``/dev/zero``
never ends, and a sparse file of gigabytes would be read whole.

A write goes to a temporary file in the target's directory and is then
moved into place in one step, so a crash or a full disk leaves either the
old file or the new one, never half of either. Without ``force`` the final
step is a hard link, which fails if the target appeared in the meantime.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from rnn_tui.core.text import printable


class ReadError(Exception):
    """Why a file was not read, in a few words (the caller names the file)."""


_KINDS = ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO (named pipe)"),
          (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
          (stat.S_ISSOCK, "is a socket"))


def _kind(mode: int) -> str:
    return next((what for test, what in _KINDS if test(mode)), "is not a regular file")


def _size(n: int) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def read_regular(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes.

    Anything else raises :class:`ReadError` before a byte is read: the type is
    checked with stat before opening (a device is never even opened), the file
    is opened non-blocking (a FIFO swapped in meanwhile cannot block the open)
    and checked again with fstat on the descriptor, and at most ``limit + 1``
    bytes are read (a file that grows meanwhile). ``what`` names the file's
    kind in the messages ("a model file"). OSError (missing, permission) is
    the caller's to word."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ReadError(f"{_kind(mode)}, not {what}")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ReadError(f"{_kind(info.st_mode)}, not {what}")
        if info.st_size > limit:
            raise ReadError(f"is {_size(info.st_size)}, more than {what} can be "
                            f"(at most {_size(limit)})")
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    if got > limit:
        raise ReadError(f"is more than {what} can be (at most {_size(limit)})")
    return b"".join(chunks)


class WriteError(Exception):
    """One line naming the path and what went wrong."""

    def __init__(self, message: str) -> None:
        # A file name may hold a newline or an escape: shown escaped, one line.
        super().__init__(printable(message))


def _mode_for(path: Path) -> int:
    """Permissions for the new file: the old file's when replacing one, else
    what the umask allows (mkstemp alone would make every file 0600)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise WriteError(f"{path}: is a directory")
    if path.exists() and not path.is_file():
        # A device, FIFO or socket (or a link to one): the rename would put a
        # plain file in its place (as root, even /dev/null).
        raise WriteError(f"{path}: is not a regular file; not replacing it")
    if path.exists() and not force:
        raise WriteError(f"{path}: already exists; use --force to overwrite it")


def write_atomic(path: Path, data: str | bytes, force: bool = False) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _check_target(path, force)
    except OSError as err:  # e.g. a name too long for the file system
        raise WriteError(f"{path}: cannot write: {err.strerror or err}") from None
    directory = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _mode_for(path))
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
        tmp = None
    except FileExistsError:
        raise WriteError(f"{path}: already exists; use --force to overwrite it") from None
    except FileNotFoundError:
        if not directory.is_dir():
            raise WriteError(f"{path}: directory {directory} does not exist") from None
        raise WriteError(f"{path}: cannot create a file in {directory}") from None
    except OSError as err:
        raise WriteError(f"{path}: cannot write: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
