"""Follow the lecturer: a presenter publishes its position into a room, and
a follower (the real app) tracks it, breaks away, re-syncs, and survives a
missing, garbled or untrustworthy state file."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rnn_tui.core.follow import STATE_FILE, FollowError, Presenter, default_room, read_state
from rnn_tui.core.model_file import builtin_dir, load
from rnn_tui.core.stepper import Phase, Position
from rnn_tui.tui.app import RnnApp

from helpers.cli import assert_one_line_error, run
from helpers.scenarios import settle
from helpers.screen import text_of

HELLO = builtin_dir() / "hello.toml"


def follower(room: Path) -> RnnApp:
    return RnnApp(load("hello")[0], cursor_blink=False, theme="dark", follow_room=room)


async def wait_for(pilot, condition, seconds: float = 3.0) -> None:
    """Poll the follower the way a person would wait: up to a few seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("condition not met in time")


def pos(epoch: int, phase: Phase, index: int) -> Position:
    return Position(epoch=epoch, phase=phase, index=index)


async def test_follower_tracks_breaks_away_and_resyncs(tmp_path: Path) -> None:
    lecturer = Presenter(tmp_path, HELLO)
    lecturer.publish("x_k", pos(1, Phase.FORWARD, 2))
    app = follower(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.stepper.position == pos(1, Phase.FORWARD, 2))
        start = time.monotonic()
        lecturer.publish("x_k", pos(1, Phase.BPTT, 4))
        await wait_for(pilot, lambda: app.stepper.position == pos(1, Phase.BPTT, 4))
        assert time.monotonic() - start < 0.5 + 0.2  # within half a second (+ test slack)
        await settle(pilot)
        assert "following" in text_of(app, "#status")
        await pilot.press("n")  # break away
        await settle(pilot)
        assert app.stepper.position == pos(1, Phase.BPTT, 5) and not app.follow.following
        lecturer.publish("x_t", pos(3, Phase.UPDATE, 1))
        await pilot.pause(0.5)
        assert app.stepper.position == pos(1, Phase.BPTT, 5)  # exploring: not moved
        assert "exploring" in text_of(app, "#status")
        await pilot.press("s")  # re-sync: the lecturer's mode and position
        await wait_for(pilot, lambda: app.stepper.position == pos(3, Phase.UPDATE, 1))
        assert app.stepper.mode == "x_t" and app.follow.following


async def test_lecturer_quits_and_garbage(tmp_path: Path) -> None:
    app = follower(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await settle(pilot)
        assert "no presenter yet" in text_of(app, "#status")
        state = tmp_path / STATE_FILE
        state.write_text("{not json")
        await wait_for(pilot, lambda: "garbled state file" in text_of(app, "#status"))
        state.write_text(json.dumps({"model": "hello", "epoch": "x"}))
        await wait_for(pilot, lambda: "garbled" in text_of(app, "#status"))
        lecturer = Presenter(tmp_path, HELLO)
        lecturer.publish("x_k", pos(2, Phase.OUTPUT, 1))
        await wait_for(pilot, lambda: app.stepper.position == pos(2, Phase.OUTPUT, 1))
        lecturer.close("x_k", pos(2, Phase.OUTPUT, 1))
        await wait_for(pilot, lambda: "stopped presenting" in text_of(app, "#status"))
        await pilot.press("n")  # still a working debugger
        assert app.stepper.position == pos(2, Phase.OUTPUT, 2)


async def test_a_narrow_student_still_sees_the_lecturer_stop(tmp_path: Path) -> None:
    """At 80 columns (the least the app runs in) the status bar once cut the
    note to "exploring (s syncs…": the student never saw the lecturer quit
    (test_two_real_processes failed whenever COLUMNS=80 reached the apps)."""
    lecturer = Presenter(tmp_path, HELLO)
    lecturer.publish("x_k", pos(1, Phase.BPTT, 2))
    app = follower(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.stepper.position == pos(1, Phase.BPTT, 2))
        await pilot.press("p")  # break away: the longest note, "exploring (s syncs): ..."
        await wait_for(pilot, lambda: "exploring" in text_of(app, "#status"))
        lecturer.close("x_k", pos(1, Phase.BPTT, 2))
        await wait_for(pilot, lambda: "stopped presenting" in text_of(app, "#status"))
        assert text_of(app, "#status").rstrip().endswith("│ stopped presenting")
        # and a toast, once, names who stopped
        assert [str(n.message) for n in app._notifications].count(
            f"{lecturer.user} stopped presenting.") == 1
    wide = follower(tmp_path)  # room for it all: the long form, unchanged
    async with wide.run_test(size=(160, 34)) as pilot:
        await wait_for(pilot, lambda: "stopped presenting" in text_of(wide, "#status"))
        assert f"following: {lecturer.user} stopped presenting" in text_of(wide, "#status")


async def test_changed_model_file_is_not_followed(tmp_path: Path) -> None:
    model = tmp_path / "m.toml"
    shutil.copy(HELLO, model)
    room = tmp_path / "room"
    Presenter(room, model).publish("x_k", pos(1, Phase.FORWARD, 1))
    model.write_text(model.read_text().replace("learning_rate = 0.1", "learning_rate = 0.2"))
    app = follower(room)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: "differs from the presenter's copy" in
                       text_of(app, "#status"))
        assert app.stepper.position == pos(1, Phase.FORWARD, 0)


def test_followers_refuse_untrusted_state_files(tmp_path: Path) -> None:
    lecturer = Presenter(tmp_path, HELLO)
    lecturer.publish("x_k", pos(1, Phase.FORWARD, 0))
    state = tmp_path / STATE_FILE
    assert state.stat().st_mode & 0o777 == 0o644
    assert read_state(tmp_path).model == "hello"
    state.chmod(0o666)
    with pytest.raises(FollowError, match="writable by anyone"):
        read_state(tmp_path)
    state.chmod(0o644)
    if os.getuid() == 0:
        os.chown(state, 65534, 65534)  # owned by 'nobody' now
        with pytest.raises(FollowError, match="owned by nobody; follow with --owner nobody"):
            read_state(tmp_path)
        assert read_state(tmp_path, owner="nobody").model == "hello"
    link = tmp_path / "link"
    link.mkdir()
    (link / STATE_FILE).symlink_to(state)
    with pytest.raises(FollowError, match="cannot read"):
        read_state(link)  # no following symlinks planted in a shared room


def test_presenter_file_is_written_atomically(tmp_path: Path) -> None:
    lecturer = Presenter(tmp_path, HELLO)
    for i in range(50):
        lecturer.publish("x_k", pos(1, Phase.BPTT, i % 10))
    assert sorted(p.name for p in tmp_path.iterdir()) == [STATE_FILE]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_two_real_processes(tmp_path: Path) -> None:
    """The lecturer and a student as two real rnn-tui processes in tmux."""
    exe = [str(Path(sys.executable).parent / "rnn-tui")]
    if not Path(exe[0]).exists():
        exe = [sys.executable, "-m", "rnn_tui"]
    room = tmp_path / "room"
    sock = str(tmp_path / "tmux.sock")
    # Not COLUMNS or LINES: an xdist worker has COLUMNS=80 LINES=24 in its
    # environment, and the apps (shutil.get_terminal_size) take them over the
    # panes' sizes, drawing 80x24 inside 120-column panes.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-S", sock, *args], capture_output=True, text=True,
                              env=env, timeout=20).stdout

    lecture = " ".join([*exe, "hello", "--present", "--room", str(room), "--theme", "dark"])
    student = " ".join([*exe, "follow", "--room", str(room), "--theme", "dark"])
    tmux("new-session", "-d", "-s", "lecture", "-x", "120", "-y", "34", lecture)
    tmux("new-session", "-d", "-s", "student", "-x", "120", "-y", "30", student)
    try:
        def screen(session: str) -> str:
            return tmux("capture-pane", "-p", "-t", session)

        def until(session: str, text: str, seconds: float = 15) -> str:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                shown = screen(session)
                if text in shown:
                    return shown
                time.sleep(0.1)
            raise AssertionError(f"{text!r} not on {session}'s screen:\n{screen(session)}")

        until("lecture", "forward t=1 (1/4)")
        until("student", "following")
        tmux("send-keys", "-t", "lecture", "]", "]", "n", "n")
        until("lecture", "BPTT t=2 k=1 (3/10)")
        until("student", "BPTT t=2 k=1 (3/10)", seconds=5)
        tmux("send-keys", "-t", "student", "p")  # break away
        until("student", "exploring")
        until("student", "BPTT t=2 k=2 (2/10)")
        tmux("send-keys", "-t", "lecture", "q")
        # the lecturer's side first (its last state, written as it quits), then
        # the student's: a failure says which of the two did not happen
        deadline = time.monotonic() + 15
        while not ended(room) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ended(room), f"the lecturer quit without its last state:\n{screen('lecture')}"
        until("student", "stopped presenting")
        tmux("send-keys", "-t", "student", "q")
    finally:
        tmux("kill-server")


def ended(room: Path) -> bool:
    try:
        return read_state(room).ended
    except FollowError:
        return False


# ------------------------------------------------- trust on a shared machine

MALLORY = "rnntui-mallory"


@pytest.fixture(scope="module")
def mallory() -> Iterator[str]:
    """A second real user on this machine (created for the test, removed after)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second real user with useradd")
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not installed")
    created = False
    try:
        pwd.getpwnam(MALLORY)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", MALLORY],
                       check=True, capture_output=True)
        created = True
    yield MALLORY
    if created:
        subprocess.run(["userdel", MALLORY], capture_output=True)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory like /tmp: anyone may create in it (sticky)."""
    shared = Path(tempfile.mkdtemp(prefix="rnn-tui-shared-"))
    shared.chmod(0o1777)
    yield shared
    shutil.rmtree(shared, ignore_errors=True)


def test_presenter_refuses_a_room_another_user_made(mallory: str, shared_tmp: Path) -> None:
    room = shared_tmp / "room"
    subprocess.run(["mkdir", "-m", "777", str(room)], user=mallory, check=True)
    with pytest.raises(FollowError, match=f"belongs to {mallory}, not to you"):
        Presenter(room, HELLO)
    assert not (room / STATE_FILE).exists()
    r = run("hello", "--present", "--room", str(room))
    assert_one_line_error(r, str(room), f"belongs to {mallory}")
    assert list(room.iterdir()) == []
    tidy = shared_tmp / "tidy"  # not writable by others, but still not ours
    subprocess.run(["mkdir", "-m", "755", str(tidy)], user=mallory, check=True)
    with pytest.raises(FollowError, match="not to you"):
        Presenter(tidy, HELLO)
    with pytest.raises(FollowError, match=f"its directory {tidy} belongs to {mallory}"):
        Presenter(tidy / "inner", HELLO)  # mallory could swap the room for a link later


def test_presenter_refuses_open_rooms_and_links(tmp_path: Path) -> None:
    room = tmp_path / "room"
    room.mkdir()
    room.chmod(0o777)
    with pytest.raises(FollowError, match="others can write to it"):
        Presenter(room, HELLO)
    room.chmod(0o775)
    with pytest.raises(FollowError, match="others can write to it"):
        Presenter(room, HELLO)
    room.chmod(0o700)
    Presenter(room, HELLO)  # one's own private room is fine
    link = tmp_path / "link"
    link.symlink_to(room)
    with pytest.raises(FollowError, match="symbolic link"):
        Presenter(link, HELLO)
    open_parent = tmp_path / "open"
    open_parent.mkdir()
    open_parent.chmod(0o777)
    with pytest.raises(FollowError, match=r"writable by others \(and not sticky"):
        Presenter(open_parent / "room", HELLO)
    new = tmp_path / "new"
    Presenter(new, HELLO)
    assert new.stat().st_mode & 0o777 == 0o755  # followers (other users) can read it


def test_a_fifo_state_file_never_blocks_the_follower(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / STATE_FILE)
    outcome: list[BaseException | object] = []

    def follow() -> None:
        try:
            outcome.append(read_state(tmp_path))
        except BaseException as err:
            outcome.append(err)

    reader = threading.Thread(target=follow, daemon=True)
    started = time.monotonic()
    reader.start()
    reader.join(2)
    if reader.is_alive():  # release the blocked open before failing
        os.close(os.open(tmp_path / STATE_FILE, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(2)
    assert time.monotonic() - started < 2, "read_state blocked on a FIFO"
    assert isinstance(outcome[0], FollowError) and "not a regular file" in str(outcome[0])


def test_a_replayed_state_is_ignored(tmp_path: Path) -> None:
    lecturer = Presenter(tmp_path, HELLO)
    lecturer.publish("x_k", pos(1, Phase.FORWARD, 1))
    state = tmp_path / STATE_FILE
    old = state.read_bytes()
    lecturer.publish("x_k", pos(2, Phase.BPTT, 3))
    newest = read_state(tmp_path)
    assert newest.seq == 2 and newest.position == pos(2, Phase.BPTT, 3)

    def put_back(data: bytes) -> None:  # as an attacker would: atomically, mode 0644
        tmp = tmp_path / ".replay"
        tmp.write_bytes(data)
        tmp.chmod(0o644)
        os.replace(tmp, state)

    put_back(old)
    with pytest.raises(FollowError, match="older state file than one already seen"):
        read_state(tmp_path, newest=newest)
    earlier = json.loads(old)
    earlier.update(seq=99, started=earlier["started"] - 60)  # an earlier lecture's file
    put_back(json.dumps(earlier).encode())
    with pytest.raises(FollowError, match="replayed"):
        read_state(tmp_path, newest=newest)
    restarted = Presenter(tmp_path, HELLO)  # a new lecture: later start, seq from 1
    restarted.publish("x_t", pos(1, Phase.UPDATE, 2))
    again = read_state(tmp_path, newest=newest)
    assert again.seq == 1 and again.position == pos(1, Phase.UPDATE, 2)


async def test_the_follower_app_does_not_go_back_to_a_replayed_state(tmp_path: Path) -> None:
    lecturer = Presenter(tmp_path, HELLO)
    lecturer.publish("x_k", pos(1, Phase.FORWARD, 1))
    old = (tmp_path / STATE_FILE).read_bytes()
    lecturer.publish("x_k", pos(1, Phase.BPTT, 4))
    app = follower(tmp_path)
    async with app.run_test(size=(120, 34)) as pilot:
        await wait_for(pilot, lambda: app.stepper.position == pos(1, Phase.BPTT, 4))
        (tmp_path / ".replay").write_bytes(old)
        os.replace(tmp_path / ".replay", tmp_path / STATE_FILE)
        await wait_for(pilot, lambda: "older state file" in text_of(app, "#status"))
        await pilot.pause(0.4)
        assert app.stepper.position == pos(1, Phase.BPTT, 4)


def test_a_nesting_bomb_is_a_garbled_file(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text("[" * 60_000)
    with pytest.raises(FollowError, match="garbled state file"):
        read_state(tmp_path)


def test_default_room_is_per_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RNN_TUI_ROOM", raising=False)
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert default_room() == Path(f"/tmp/rnn-tui-room-{me}")
    assert default_room("alice") == Path("/tmp/rnn-tui-room-alice")
    monkeypatch.setenv("RNN_TUI_ROOM", "/srv/lecture")
    assert default_room("alice") == Path("/srv/lecture")
    assert_one_line_error(run("follow", "--owner", "no-such-user-here"), "--owner",
                          "no user named 'no-such-user-here'")
