"""Follow the lecturer: a state file the presenter writes and followers read.

The mechanism is one small JSON file, ``state.json``, in a *room* directory
on the shared machine: ``--room DIR``, or ``$RNN_TUI_ROOM``, or by default
one room per user, ``/tmp/rnn-tui-room-USER`` (a student following the
lecturer ``alice`` with ``--owner alice`` looks in ``/tmp/rnn-tui-room-alice``).
The presenter rewrites it atomically (temp file + rename) whenever its
position changes; followers poll it a few times a second. Nothing listens on
a network port, and a follower only ever opens the file for reading, so it
cannot change or drive the presenter.

Trust, on a machine shared with users who may be hostile:

- the presenter only publishes into a room it owns that nobody else can
  write (it creates it 0755, or refuses an existing one that is another
  user's, group- or world-writable, or a symbolic link): nobody can swap the
  state file, plant a link, or read a lecture from a room they control;
- a follower opens the state file without following links and without
  blocking (a FIFO swapped in is refused, never waited on), checks it is a
  regular file that only its owner can write, owned by itself or by the
  ``--owner`` it was given, and reads at most 64 kB;
- every state carries the presenter's start time and a sequence number, so
  a replayed older file is recognised and ignored;
- the file names the model (a built-in name, or an absolute path) and its
  SHA-256; each follower re-reads and re-validates the model itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import stat
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rnn_tui.core.files import ReadError, read_regular
from rnn_tui.core.model_file import MAX_MODEL_BYTES, ModelFileError, ModelSpec, builtin_dir, load
from rnn_tui.core.stepper import Phase, Position

STATE_FILE = "state.json"
VERSION = 2
MAX_STATE_BYTES = 64 * 1024


class FollowError(Exception):
    """Why the follower cannot follow right now, in one line."""


def default_room(owner: str | None = None) -> Path:
    """``$RNN_TUI_ROOM``, else the room of ``owner`` (default: this user),
    ``/tmp/rnn-tui-room-USER``. Not ``$XDG_RUNTIME_DIR``: that directory is
    private to its user, and followers are other users."""
    env = os.environ.get("RNN_TUI_ROOM")
    if env:
        return Path(env)
    # /tmp itself, not $TMPDIR: the lecturer's and the students' must agree
    return Path("/tmp") / f"rnn-tui-room-{owner or _user(os.geteuid())}"


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
    started: float  # the presenter's start time (seconds since the epoch)
    seq: int  # 1, 2, 3, ... for each state the presenter writes
    ended: bool = False
    version: int = VERSION
    chunk: int = 0  # 0-based; always 0 without [train] seq_length

    @property
    def position(self) -> Position:
        return Position(epoch=self.epoch, phase=Phase(self.phase), index=self.index,
                        chunk=self.chunk)

    def older_than(self, other: RoomState | None) -> bool:
        """Written before ``other``: by an earlier presenter, or earlier by
        the same one (a replayed file)."""
        return other is not None and (self.started, self.seq) < (other.started, other.seq)

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
    """SHA-256 of a model file (read as the loader reads it: never a FIFO or
    a device, never more than a model can be)."""
    try:
        return hashlib.sha256(read_regular(path, MAX_MODEL_BYTES, "a model file")).hexdigest()
    except (ReadError, OSError) as err:
        raise FollowError(f"{path}: {err.strerror if isinstance(err, OSError) else err}"
                          ) from None


def claim_room(room: Path) -> None:
    """Create the room (0755: followers are other users) or accept an existing
    one only if it is this user's own directory that nobody else can write."""
    # Whoever owns or can write the room's directory could rename the room away
    # and put theirs (or a link) in its place: only ours, root's, or sticky.
    parent = os.stat(room.parent) if room.parent.is_dir() else None
    if parent is not None and parent.st_uid not in (0, os.geteuid()):
        raise FollowError(f"{room}: its directory {room.parent} belongs to "
                          f"{_user(parent.st_uid)}; refusing to present in it")
    if parent is not None and parent.st_mode & 0o022 and not parent.st_mode & stat.S_ISVTX:
        raise FollowError(f"{room}: its directory {room.parent} is writable by others (and "
                          "not sticky like /tmp); refusing to present in it")
    try:
        room.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(room, 0o755)
        os.chmod(room, 0o755)  # whatever the umask: followers must read it
    except FileExistsError:
        pass
    except FileNotFoundError:
        raise FollowError(f"{room}: cannot create the room: its parent does not exist"
                          ) from None
    except OSError as err:
        raise FollowError(f"{room}: cannot create the room: {err.strerror}") from None
    info = os.lstat(room)
    if stat.S_ISLNK(info.st_mode):
        raise FollowError(f"{room}: is a symbolic link; refusing it as a room")
    if not stat.S_ISDIR(info.st_mode):
        raise FollowError(f"{room}: exists and is not a directory")
    if info.st_uid != os.geteuid():
        raise FollowError(f"{room}: belongs to {_user(info.st_uid)}, not to you; refusing "
                          "to present in it (choose another --room)")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise FollowError(f"{room}: others can write to it (mode {stat.S_IMODE(info.st_mode):o})"
                          "; refusing to present in it (chmod 755 it, or another --room)")


class Presenter:
    """Publishes the lecturer's position into the room."""

    def __init__(self, room: Path, model_path: Path) -> None:
        self.room = room
        self.model = model_reference(model_path)
        self.sha256 = digest(model_path)
        self.user = _user(os.geteuid())
        claim_room(room)
        if not os.access(room, os.W_OK):
            raise FollowError(f"{room}: not writable by {self.user}")
        self.last: RoomState | None = None
        self.started = time.time()
        self.seq = 0

    @property
    def path(self) -> Path:
        return self.room / STATE_FILE

    def publish(self, mode: str, pos: Position, ended: bool = False) -> None:
        if self.last is not None and (mode, pos, ended) == (
                self.last.mode, self.last.position, self.last.ended):
            return
        state = RoomState(self.model, self.sha256, mode, pos.epoch, pos.phase.value, pos.index,
                          self.user, os.getpid(), self.started, self.seq + 1, ended,
                          chunk=pos.chunk)
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
        self.seq = state.seq

    def close(self, mode: str, pos: Position) -> None:
        try:
            self.publish(mode, pos, ended=True)
        except FollowError:
            pass


def read_state(room: Path, owner: str | None = None,
               newest: RoomState | None = None) -> RoomState:
    """The presenter's state, checked; any problem is a FollowError line.
    ``newest``: the newest state read so far; an older one is a replay."""
    path = room / STATE_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
                     | os.O_NOCTTY)
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
        if info.st_mode & stat.S_IWGRP:
            raise FollowError(f"{path}: writable by its group, refusing to follow it")
        file_owner = _user(info.st_uid)
        if info.st_uid != os.geteuid() and file_owner != owner:
            raise FollowError(f"{path}: owned by {file_owner}; follow with --owner "
                              f"{file_owner} if you trust that user")
        raw = os.read(fd, MAX_STATE_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_STATE_BYTES:
        raise FollowError(f"{path}: too large to be a state file")
    try:
        doc = json.loads(raw.decode("utf-8"))
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        if doc.get("version") != VERSION:
            raise ValueError(f"version {doc.get('version')!r}, expected {VERSION}")
        state = RoomState(**doc)
        if not (isinstance(state.seq, int) and isinstance(state.started, (int, float))):
            raise ValueError("seq and started must be numbers")
        state.position  # noqa: B018 - validates epoch, phase and index types
        if state.mode not in ("x_k", "x_t"):
            raise ValueError(f"mode {state.mode!r}")
    except (ValueError, TypeError, UnicodeDecodeError) as err:
        raise FollowError(f"{path}: garbled state file ({_short(err)})") from None
    except RecursionError:  # json reads nested arrays recursively: [[[[...
        raise FollowError(f"{path}: garbled state file (nested too deeply)") from None
    if state.older_than(newest):
        raise FollowError(f"{path}: an older state file than one already seen (replayed?); "
                          "ignoring it")
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
