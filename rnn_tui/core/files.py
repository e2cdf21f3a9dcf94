"""Writing files without ever losing what the user had.

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


class WriteError(Exception):
    """One line naming the path and what went wrong."""

    def __init__(self, message: str) -> None:
        # A file name may hold a newline or an escape: shown escaped, one line.
        super().__init__("".join(c if c.isprintable() else repr(c)[1:-1] for c in message))


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
