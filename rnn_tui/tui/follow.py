"""Follow mode (a student's screen tracks the lecturer's) and presenting
(the lecturer's position published to the room). The room file itself is
core logic: rnn_tui.core.follow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rnn_tui.core.maths import EmbeddingRows
from rnn_tui.core.stepper import Position, Stepper

if TYPE_CHECKING:
    from rnn_tui.core.follow import Presenter, RoomState
    from rnn_tui.tui.app import RnnApp

POLL = 0.2  # seconds between reads of the lecturer's state
FAR = 50  # epochs away from the lecturer: catch up in a background job


class FollowMode:
    def __init__(self, app: RnnApp, presenter: Presenter | None = None,
                 room: Path | None = None, owner: str | None = None) -> None:
        self.app = app
        self.presenter = presenter
        self.room = room
        self.owner = owner
        self.following = room is not None
        self._read: RoomState | None = None  # last state read from the room
        self._applied: RoomState | None = None  # last state shown here
        self._note = ""
        self._short = ""  # the note in fewer words, if it has them

    def start(self) -> None:
        if self.room is not None:
            self.poll()
            self.app.set_interval(POLL, self.poll)

    def label(self) -> str:
        return self.labels()[0]

    def labels(self) -> tuple[str, ...]:
        """The status bar's follow note, longest first: it shows the longest
        that fits. The shortest keeps the news (the lecturer stopped, the
        file is untrustworthy) and drops the state: at 80 columns the long
        form was cut to "exploring (s syncs…" and a student never saw that
        the lecturer had stopped presenting."""
        if self.presenter is not None:
            return f"presenting in {self.presenter.room}", "presenting"
        if self.room is None:
            return ("",)
        state = "following" if self.following else "exploring"
        hint = "" if self.following else " (s syncs)"
        if not self._note:
            return (state + hint, state) if hint else (state,)
        return (f"{state}{hint}: {self._note}", f"{state}: {self._note}", self._note,
                *([self._short] if self._short else []))

    def publish(self) -> None:
        """The presenter's side: write where this app is to the room."""
        from rnn_tui.core.follow import FollowError

        if self.presenter is None:
            return
        try:
            self.presenter.publish(self.app.stepper.mode, self.app.stepper.position)
        except FollowError as err:
            self.app.notify(str(err), severity="error", timeout=6)
            self.presenter = None

    def close(self) -> None:
        if self.presenter is not None:
            self.presenter.close(self.app.stepper.mode, self.app.stepper.position)

    def break_away(self) -> None:
        """A stepping key while following: explore on one's own."""
        if self.following:
            self.following = False
            self.app.notify("Exploring on your own; press s to follow the lecturer again.",
                            timeout=3)

    def sync(self) -> None:
        """Back to the lecturer's position, and keep following."""
        if self.room is None:
            self.app.notify("Not in follow mode (start with: rnn-tui follow).", timeout=3)
            return
        self.following = True
        if self._read is not None and not self._read.ended and not self.app.busy:
            self._apply(self._read)
        self.app.show_follow(self.labels())

    def _set_note(self, note: str, short: str = "") -> None:
        if (note, short) != (self._note, self._short):
            self._note, self._short = note, short
            self.app.show_follow(self.labels())

    def poll(self) -> None:
        """Read the lecturer's state; apply it when following and it moved."""
        from rnn_tui.core.follow import STATE_FILE, FollowError, read_state

        assert self.room is not None
        try:
            room = read_state(self.room, self.owner, self._read)
        except FollowError as err:  # the header names the problem, not the long path
            self._set_note(str(err).removeprefix(f"{self.room / STATE_FILE}: "))
            return
        news = room.ended and not (self._read is not None and self._read.ended)
        self._read = room
        if room.ended:
            if news:  # once: also where a narrow status bar cuts the note
                self.app.notify(f"{room.presenter} stopped presenting.", timeout=4)
            self._set_note(f"{room.presenter} stopped presenting", "stopped presenting")
            return
        self._set_note("")
        if self.following and not self.app.busy and not room.same_place(self._applied):
            self._apply(room)

    def _apply(self, room: RoomState) -> None:
        from rnn_tui.core.follow import FollowError, load_model

        app = self.app
        if self._applied is None or (room.model, room.sha256) != (
                self._applied.model, self._applied.sha256):
            try:
                spec = load_model(room)
            except FollowError as err:
                self._set_note(str(err))
                return
            app.replace_stepper(Stepper(spec, room.mode))  # type: ignore[arg-type]
        self._applied = room
        target = room.position
        try:
            app.stepper.layout.check(target)
        except ValueError as err:
            self._set_note(f"presenter's position is not valid here: {err}")
            return
        if room.mode != app.stepper.mode or abs(target.epoch - app.stepper.position.epoch) > FAR:
            app.start_job("following", _catch_up(app.stepper, room.mode, target))
        else:
            app.stepper.goto(target)
            app.sync()


def _catch_up(stepper: Stepper, mode: EmbeddingRows, target: Position):  # type: ignore[no-untyped-def]
    def work(**kw: object) -> None:
        stepper.set_mode(mode)
        stepper.goto(target, **kw)  # type: ignore[arg-type]

    return work
