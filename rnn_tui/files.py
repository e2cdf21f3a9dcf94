"""Writing files without ever losing what the user had.

A write goes to a temporary file in the target's directory and is then
moved into place in one step, so a crash or a full disk leaves either the
old file or the new one, never half of either. Without ``force`` the final
step is a hard link, which fails if the target appeared in the meantime.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


class WriteError(Exception):
    """One line naming the path and what went wrong."""


def write_atomic(path: Path, data: str | bytes, force: bool = False) -> None:
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if path.is_dir():
        raise WriteError(f"{path}: is a directory")
    if path.exists() and not force:
        raise WriteError(f"{path}: already exists; use --force to overwrite it")
    directory = path.parent if str(path.parent) else Path(".")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as fh:
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
        raise WriteError(f"{path}: directory {directory} does not exist") from None
    except OSError as err:
        raise WriteError(f"{path}: cannot write: {err.strerror or err}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
