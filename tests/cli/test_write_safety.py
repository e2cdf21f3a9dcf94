"""Nothing the user has is lost: ``rnn-tui new -o FILE`` (rnn_tui/core/files.py
write_atomic, the only command that writes a file) and model files as data.

- The file appears whole or not at all: the CLI (watched through Python's
  audit hooks in the real subprocess) writes only to a temporary file
  created exclusively in the target's own directory, then links (or, with
  --force, renames) it into place; the target is never opened for writing.
- No temporary file is left behind, on success or on any failure (a full
  disk, a read-only file system, an error or Ctrl+C in the middle).
- An existing file is never overwritten without --force (its bytes stay as
  they were, even when it appears between the check and the write), and a
  device, FIFO or socket is never replaced, even with --force.
- Every failure is one line on stderr naming the path, exit status 2.
- A full disk and a read-only directory are real: tiny tmpfs mounts (we run
  as root, so file modes would not stop us); where mounting is not allowed
  those tests are skipped and say why. /proc and /sys need no mount.
- A model file is data: code, shell and pickle payloads in it are rejected
  or read as text, never run.
"""

from __future__ import annotations

import ast
import errno
import io
import json
import os
import stat
import subprocess
import textwrap
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import rnn_tui.core.files as files
from rnn_tui.core.files import WriteError, write_atomic
from rnn_tui.core.model_file import ModelFileError, load, parse_bytes

from helpers.cli import assert_one_line_error, rnn_tui_command
from helpers.marks import slow_after

USER_BYTES = b'# my model, hand-edited\ntext = "mine"\n'

# Loaded at start-up by the CLI subprocess (via PYTHONPATH): logs every
# file-system event under one directory, from Python's audit hooks.
SITECUSTOMIZE = textwrap.dedent('''
    import json, os, sys
    _log, _root = os.environ.get("AUDIT_LOG"), os.environ.get("AUDIT_DIR")
    if _log and _root:
        _out = open(_log, "a", buffering=1)
        _events = {"open", "os.link", "os.rename", "os.remove", "os.chmod", "os.truncate"}

        def _hook(event, args):
            if event in _events and any(str(a).startswith(_root) for a in args[:2]):
                _out.write(json.dumps([event, [a if isinstance(a, int) else str(a)
                                               for a in args]]) + "\\n")

        sys.addaudithook(_hook)
''')


def cli(*args: str, env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*rnn_tui_command(), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **(env or {})}, stdin=subprocess.DEVNULL,
    )


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def new_model(path: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return cli("new", "--text", "hello world", "--hidden", "3", "--seed", "1", "-o", str(path),
               *more)


# ------------------------------------------------------- atomic writes


def audited_new(tmp_path: Path, target: Path, *more: str) -> list[tuple[str, list]]:
    hooks = tmp_path / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = tmp_path / "audit.jsonl"
    log.unlink(missing_ok=True)
    env = {"PYTHONPATH": str(hooks), "AUDIT_LOG": str(log), "AUDIT_DIR": str(target.parent)}
    r = cli("new", "--text", "hello world", "-o", str(target), *more, env=env)
    assert r.returncode == 0, r.stderr
    events = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    assert events, "the audit hook saw nothing: the test would prove nothing"
    return events  # type: ignore[return-value]


def writes(events: list[tuple[str, list]]) -> list[tuple[str, int]]:
    """(path, flags) of every open for writing."""
    out = []
    for name, args in events:
        if name == "open":
            path, mode, flags = args[0], args[1], args[2]
            if (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)) or (
                    isinstance(mode, str) and set(mode) & set("wax+")):
                out.append((path, flags))
    return out


def test_new_writes_a_temp_file_in_the_same_directory_then_links_it(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "m.toml"
    events = audited_new(tmp_path, target)
    opened = writes(events)
    assert len(opened) == 1, events
    tmp, flags = opened[0]
    assert Path(tmp).parent == out_dir and tmp != str(target)
    assert Path(tmp).name.startswith(".m.toml.") and tmp.endswith(".tmp")
    assert flags & os.O_CREAT and flags & os.O_EXCL  # a fresh file, never someone else's
    moves = [(n, a[:2]) for n, a in events if n in ("os.link", "os.rename")]
    assert moves == [("os.link", [tmp, str(target)])]  # fails if the target appeared
    assert any(n == "os.remove" and a[0] == tmp for n, a in events)  # the temp name goes
    assert not Path(tmp).exists()
    assert listing(out_dir) == ["m.toml"]
    assert load(str(target))[0].text == "hello world"


def test_force_renames_a_complete_temp_file_over_the_old_one(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "m.toml"
    target.write_bytes(USER_BYTES)
    target.chmod(0o640)
    events = audited_new(tmp_path, target, "--force")
    opened = writes(events)
    assert [Path(p).parent for p, _ in opened] == [out_dir]
    assert str(target) not in [p for p, _ in opened]  # never truncated in place
    tmp = opened[0][0]
    moves = [(n, a[:2]) for n, a in events if n in ("os.link", "os.rename")]
    assert moves == [("os.rename", [tmp, str(target)])]  # os.replace: one atomic step
    assert listing(out_dir) == ["m.toml"]
    assert b"mine" not in target.read_bytes() and load(str(target))[0].text == "hello world"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the old file's permissions kept


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "m.toml"
    assert new_model(target).returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    # mkstemp makes 0600; a model file is a normal file (0644 with umask 022).
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


# ------------------------------------------- failures leave nothing behind


def fail_with(exc: BaseException) -> Callable[..., None]:
    def raiser(*args: object, **kwargs: object) -> None:
        raise exc

    return raiser


def writer_failing_with(exc: BaseException) -> Callable[..., io.FileIO]:
    """An os.fdopen whose file refuses every write (a disk that is full)."""

    class Refusing(io.FileIO):
        def write(self, data: object) -> int:
            raise exc

    return lambda fd, *args, **kwargs: Refusing(fd, "wb")


# (what fails, the os function, its error, with --force?): each step of a
# write, for a new file and for --force over an old one.
FAULTS = [
    (f"{what}-{'force' if force else 'new'}", name, exc, force)
    for what, name, exc, modes in [
        ("disk-full-at-write", "write", OSError(errno.ENOSPC, "No space left on device"),
         (False, True)),
        ("disk-full-at-fsync", "fsync", OSError(errno.ENOSPC, "No space left on device"),
         (False, True)),
        ("io-error-at-fsync", "fsync", OSError(errno.EIO, "Input/output error"), (False, True)),
        ("link-refused", "link", OSError(errno.EPERM, "Operation not permitted"), (False,)),
        ("rename-refused", "replace", OSError(errno.EXDEV, "Invalid cross-device link"),
         (True,)),
        ("ctrl-c-at-fsync", "fsync", KeyboardInterrupt(), (False, True)),
    ]
    for force in modes
]


@pytest.mark.parametrize(("name", "exc", "force"), [f[1:] for f in FAULTS],
                         ids=[f[0] for f in FAULTS])
def test_a_failed_write_leaves_the_old_file_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, exc: BaseException,
        force: bool) -> None:
    target = tmp_path / "m.toml"
    if force:
        target.write_bytes(USER_BYTES)
    before = listing(tmp_path)
    if name == "write":
        monkeypatch.setattr(files.os, "fdopen", writer_failing_with(exc))
    else:
        monkeypatch.setattr(files.os, name, fail_with(exc))
    if isinstance(exc, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            write_atomic(target, "new content", force=force)
    else:
        with pytest.raises(WriteError) as caught:
            write_atomic(target, "new content", force=force)
        line = str(caught.value)
        assert line.splitlines() == [line] and line.startswith(f"{target}: ")
        assert exc.strerror in line  # type: ignore[union-attr]
    assert listing(tmp_path) == before  # no temp file left
    if force:
        assert target.read_bytes() == USER_BYTES


def test_a_file_that_appears_after_the_check_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between ``exists()`` and the write, another program creates the file:
    the final step is a hard link, which refuses an existing name."""
    target = tmp_path / "m.toml"
    target.write_bytes(USER_BYTES)
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda p: False if p == target else real_exists(p))
    with pytest.raises(WriteError, match="already exists"):
        write_atomic(target, "new content")
    assert target.read_bytes() == USER_BYTES
    assert listing(tmp_path) == ["m.toml"]


def test_new_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "m.toml"
    target.write_bytes(USER_BYTES)
    os.utime(target, (1_000_000_000, 1_000_000_000))
    r = new_model(target)
    assert_one_line_error(r, str(target), "already exists", "--force")
    assert target.read_bytes() == USER_BYTES
    assert target.stat().st_mtime == 1_000_000_000  # not even touched
    assert listing(tmp_path) == ["m.toml"]


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/null"])
@pytest.mark.parametrize("force", [False, True], ids=["new", "force"])
def test_new_never_replaces_a_device_or_fifo(tmp_path: Path, kind: str, force: bool) -> None:
    """As root, ``new -o /dev/null --force`` used to put a plain file in
    place of /dev/null; here the same on a FIFO and a link, in tmp_path."""
    target = tmp_path / "node"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/null")
    r = new_model(target, *(["--force"] if force else []))
    assert_one_line_error(r, str(target), "not a regular file")
    if kind == "fifo":
        assert stat.S_ISFIFO(target.lstat().st_mode)
    else:
        assert target.is_symlink() and os.readlink(target) == "/dev/null"
    assert listing(tmp_path) == ["node"]


@pytest.mark.parametrize(("where", "words"), slow_after(1, [
    ("no/such/dir/m.toml", ["does not exist"]),
    ("x" * 300 + ".toml", ["File name too long"]),
    ("dir", ["is a directory"]),
    ("line\nbreak.toml", ["already exists"]),
]))
def test_bad_targets_are_one_line(tmp_path: Path, where: str, words: list[str]) -> None:
    target = tmp_path / where
    if where == "dir":
        target.mkdir()
    if "\n" in where:
        target.write_bytes(USER_BYTES)
    r = cli("new", "--text", "abc", "--name", "m", "-o", str(target))
    shown = str(target).replace("\n", "\\x0a")  # printable(): the one escape for user text
    assert_one_line_error(r, shown, *words)
    if "\n" in where:
        assert target.read_bytes() == USER_BYTES


# --------------------------------------------------- real file systems


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str, str], Path]]:
    """mount(name, options) -> a fresh tmpfs under tmp_path, unmounted after."""
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root; not running as root")
        where = tmp_path / name
        where.mkdir()
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (mount: {r.stderr.strip()}); "
                        "a container without CAP_SYS_ADMIN cannot run this test")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount_read_only(where: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only (mount: {r.stderr.strip()})")


def test_read_only_directory(tmpfs: Callable[[str, str], Path]) -> None:
    ro = tmpfs("ro", "size=64k,mode=0755")
    kept = ro / "kept.toml"
    kept.write_bytes(USER_BYTES)
    remount_read_only(ro)
    with pytest.raises(OSError):  # root cannot write here: the test is real
        (ro / "probe").write_bytes(b"x")
    for target, more in ((ro / "m.toml", []), (kept, ["--force"])):
        r = new_model(target, *more)
        assert_one_line_error(r, str(target), "Read-only file system")
    assert kept.read_bytes() == USER_BYTES
    assert listing(ro) == ["kept.toml"]


@pytest.mark.parametrize("target", slow_after(1, [
    "/proc/rnn-tui-test.toml", "/sys/rnn-tui-test.toml", "/sys/kernel/rnn-tui-test.toml"]))
def test_unwritable_system_directories(target: str) -> None:
    """Root ignores file modes, but not /proc and /sys."""
    r = new_model(Path(target))
    assert_one_line_error(r, target)
    assert "does not exist" not in r.stderr  # /proc exists; it just takes no new files
    assert not Path(target).exists()


def fill(where: Path) -> Path:
    """Fill a file system to the last byte; returns the filler file."""
    filler = where / "filler"
    with open(filler, "wb", buffering=0) as fh:
        try:
            for _ in range(1024):
                fh.write(b"\0" * 4096)
        except OSError as err:
            assert err.errno == errno.ENOSPC
        else:
            pytest.fail("the tmpfs never filled up")
    return filler


@pytest.mark.parametrize("force", slow_after(1, [False, True]), ids=["new", "force"])
def test_full_disk(tmpfs: Callable[[str, str], Path], force: bool) -> None:
    full = tmpfs("full", "size=16k,mode=0755")
    target = full / "m.toml"
    if force:
        target.write_bytes(USER_BYTES)
    filler = fill(full)
    size = filler.stat().st_size
    before = listing(full)
    r = new_model(target, *(["--force"] if force else []))
    assert_one_line_error(r, str(target), "No space left on device")
    assert listing(full) == before  # no temp file left behind
    assert filler.stat().st_size == size
    if force:
        assert target.read_bytes() == USER_BYTES  # the old file survives a failed --force
    # Room again: the same command now works, and leaves exactly one file.
    filler.unlink()
    assert new_model(target, *(["--force"] if force else [])).returncode == 0
    assert listing(full) == ["m.toml"] and load(str(target))[0].text == "hello world"


# ------------------------------------------------- model files are data

VALID_REST = b"embedding_dim = 1\nhidden_size = 1\nlearning_rate = 0.1\n[init]\nseed = 1\n"

# MARK becomes the path of a file that must never appear.
PAYLOADS: dict[str, bytes] = {
    "python-in-text": b'text = "__import__(\'os\').system(\'touch MARK\')"\n' + VALID_REST,
    "python-in-name": b'name = "exec(open(\'MARK\', \'w\'))"\ntext = "ab"\n' + VALID_REST,
    "shell-in-text": b'text = "$(touch MARK); `touch MARK`"\n' + VALID_REST,
    "template-in-name": b'name = "{{ 7*7 }} ${touch MARK}"\ntext = "ab"\n' + VALID_REST,
    "yaml-tag-in-text": b'text = "!!python/object/apply:os.system [\'touch MARK\']"\n'
                        + VALID_REST,
    "code-as-number": b'text = "ab"\nembedding_dim = "__import__(\'os\').system(\'touch MARK\')"'
                      b"\nhidden_size = 1\nlearning_rate = 0.1\n[init]\nseed = 1\n",
    "backticks-in-key": b'"`touch MARK`" = 1\ntext = "ab"\n' + VALID_REST,
    "python-file": b"import os\nos.system('touch MARK')\n",
    "pickle-protocol-0": b"cos\nsystem\n(S'touch MARK'\ntR.",
    "pickle-protocol-4": b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94"
                         b"\x8c\x06system\x94\x93\x94\x8c\x0ctouch MARK\x94\x85\x94R\x94.",
}


@pytest.mark.parametrize("payload", slow_after(1, PAYLOADS))
def test_model_files_are_data_never_code(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    data = PAYLOADS[payload].replace(b"MARK", str(marker).encode())
    model = tmp_path / "model.toml"
    model.write_bytes(data)
    try:
        spec = parse_bytes(data, "model.toml")
    except ModelFileError as err:  # rejected: one line, no code run
        assert str(err).splitlines() == [str(err)]
    else:  # accepted: the code is only the model's text, character for character
        doc = tomllib.loads(data.decode())
        assert (spec.text, spec.name) == (doc["text"], doc.get("name", "model"))
    for command in ("check", "trace"):
        r = cli(command, str(model), cwd=tmp_path)
        assert r.returncode in (0, 2) and "Traceback" not in r.stderr, r.stderr
    assert not marker.exists(), "a model file ran code"
    assert model.read_bytes() == data


def test_the_loader_has_no_way_to_run_code() -> None:
    """model_file.py parses with tomllib and validates with pydantic: no
    eval/exec, no pickle, marshal, yaml, shelve or subprocess."""
    import rnn_tui.core.model_file as model_file

    tree = ast.parse(Path(model_file.__file__).read_text())
    builtins = {"eval", "exec", "compile", "__import__", "breakpoint"}
    methods = {"system", "popen", "import_module", "eval", "exec", "loads", "load"}
    forbidden_modules = {"pickle", "cPickle", "marshal", "shelve", "yaml", "dill",
                         "subprocess", "runpy", "code"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in builtins, ast.unparse(node)
            elif isinstance(func, ast.Attribute) and func.attr in methods:
                # the one parser allowed: tomllib.loads on the file's text
                assert ast.unparse(func) == "tomllib.loads", ast.unparse(node)
        elif isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & forbidden_modules
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in forbidden_modules
