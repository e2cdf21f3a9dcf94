"""Follow the lecturer: a state file the presenter writes and followers read.

The mechanism is one small JSON file, ``state.json``, in a *room* directory
on the shared machine (default ``/tmp/rnn-tui-room``, or ``--room DIR``, or
``$RNN_TUI_ROOM``). The presenter rewrites it atomically (temp file +
rename) whenever its position changes; followers poll it a few times a
second. Nothing listens on a network port, and a follower only ever opens
the file for reading, so it cannot change or drive the presenter.

The file names the model (a built-in name, or an absolute path) and its
SHA-256; each follower re-reads and re-validates the model itself. A
follower refuses a state file that is writable by others, or owned by
another user unless told that user with ``--owner``.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import pwd
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from rnn_tui.core.model_file import ModelFileError, ModelSpec, builtin_dir, load
from rnn_tui.core.stepper import Phase, Position

STATE_FILE = "state.json"
VERSION = 1
MAX_STATE_BYTES = 64 * 1024


class FollowError(Exception):
    """Why the follower cannot follow right now, in one line."""


def default_room() -> Path:
    return Path(os.environ.get("RNN_TUI_ROOM") or "/tmp/rnn-tui-room")


@dataclass(frozen=True)
class RoomState:
    model: str  # a built-in name, or an absolute path to the model file
    sha256: str
    mode: str
    epoch: int
    phase: str
    index: int
    presenter: str
    pid: int
    ended: bool = False
    version: int = VERSION

    @property
    def position(self) -> Position:
        return Position(epoch=self.epoch, phase=Phase(self.phase), index=self.index)

    def same_place(self, other: RoomState | None) -> bool:
        return other is not None and (self.model, self.sha256, self.mode, self.position) == (
            other.model, other.sha256, other.mode, other.position)


def model_reference(path: Path) -> str:
    """How followers find the model: built-ins by name, files by absolute path."""
    resolved = path.resolve()
    if resolved.parent == builtin_dir().resolve():
        return resolved.stem
    return str(resolved)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Presenter:
    """Publishes the lecturer's position into the room."""

    def __init__(self, room: Path, model_path: Path) -> None:
        self.room = room
        self.model = model_reference(model_path)
        self.sha256 = digest(model_path)
        self.user = getpass.getuser()
        try:
            room.mkdir(mode=0o755, parents=True, exist_ok=True)
        except OSError as err:
            raise FollowError(f"{room}: cannot create the room: {err.strerror}") from None
        if not os.access(room, os.W_OK):
            raise FollowError(f"{room}: not writable by {self.user}")
        self.last: RoomState | None = None

    @property
    def path(self) -> Path:
        return self.room / STATE_FILE

    def publish(self, mode: str, pos: Position, ended: bool = False) -> None:
        state = RoomState(self.model, self.sha256, mode, pos.epoch, pos.phase.value, pos.index,
                          self.user, os.getpid(), ended)
        if state == self.last:
            return
        data = json.dumps(asdict(state)).encode()
        fd, tmp = tempfile.mkstemp(prefix=".state.", dir=self.room)
        try:
            os.fchmod(fd, 0o644)  # followers are other users: readable, never writable
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        except OSError as err:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise FollowError(f"{self.path}: cannot write: {err.strerror}") from None
        self.last = state

    def close(self, mode: str, pos: Position) -> None:
        try:
            self.publish(mode, pos, ended=True)
        except FollowError:
            pass


def read_state(room: Path, owner: str | None = None) -> RoomState:
    """The presenter's state, checked; any problem is a FollowError line."""
    path = room / STATE_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise FollowError(f"{path}: no presenter yet (waiting for rnn-tui --present)") from None
    except OSError as err:
        raise FollowError(f"{path}: cannot read: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FollowError(f"{path}: not a regular file")
        if info.st_mode & stat.S_IWOTH:
            raise FollowError(f"{path}: writable by anyone, refusing to follow it")
        file_owner = _user(info.st_uid)
        if info.st_uid != os.getuid() and file_owner != owner:
            raise FollowError(f"{path}: owned by {file_owner}; follow with --owner "
                              f"{file_owner} if you trust that user")
        raw = os.read(fd, MAX_STATE_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_STATE_BYTES:
        raise FollowError(f"{path}: too large to be a state file")
    try:
        doc = json.loads(raw.decode("utf-8"))
        state = RoomState(**doc)
        if state.version != VERSION:
            raise ValueError(f"version {state.version}")
        state.position  # noqa: B018 - validates epoch, phase and index types
        if state.mode not in ("x_k", "x_t"):
            raise ValueError(f"mode {state.mode!r}")
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise FollowError(f"{path}: garbled state file ({_short(err)})") from None
    return state


def load_model(state: RoomState) -> ModelSpec:
    """Re-read and re-validate the presenter's model, as this user."""
    try:
        spec, path = load(state.model)
    except ModelFileError as err:
        raise FollowError(f"presenter's model: {err}") from None
    if digest(path) != state.sha256:
        raise FollowError(f"the model differs from the presenter's copy ({path.name} changed "
                          "on disk?)")
    return spec


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _short(err: Exception) -> str:
    return " ".join(str(err).split())[:120]
