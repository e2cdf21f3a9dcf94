"""``rnn-tui ARGS`` in a process forked from one that has already imported the
CLI and its model code (a "zygote"): the real ``main()`` in a real process of
its own, with its own pipes, working directory, environment and exit status,
without paying ~0.2 s of interpreter start and imports per run.

The child does what the console script does, ``sys.exit(main())``, and the
interpreter ends the normal way (flushing, atexit, a traceback for a bug), so
stdout, stderr and the exit status are what a fresh ``rnn-tui`` gives; only
the imports were done before the fork, with the environment of the session.
"""

from __future__ import annotations

import json
import locale
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

# The zygote: import, then for each request fork a child that becomes the CLI.
ZYGOTE = r"""
import json, os, socket, sys
import rnn_tui.cli, rnn_tui.cli.training, rnn_tui.core.model_file  # the slow imports
sock = socket.socket(fileno=int(sys.argv[1]))
while True:
    msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
    if not msg:
        break
    req = json.loads(msg)
    pid = os.fork()
    if pid == 0:
        sock.close()
        for fd, target in zip(fds, (0, 1, 2)):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(req["cwd"])
        os.environ.clear()
        os.environ.update(req["env"])
        sys.argv = req["argv"]
        from rnn_tui.cli import main
        sys.exit(main())
    for fd in fds:
        os.close(fd)
    sock.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    sock.sendall(json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
"""


class Zygote:
    def __init__(self, env: dict[str, str]) -> None:
        self.sock, theirs = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(theirs.fileno())],
                                     pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, env=env)
        theirs.close()
        self.replies = self.sock.makefile("rb")

    def reply(self) -> dict:
        line = self.replies.readline()
        if not line:
            raise RuntimeError("the CLI zygote has gone")
        return json.loads(line)

    def run(self, argv: list[str], cwd: Path | None, env: dict[str, str],
            timeout: float) -> subprocess.CompletedProcess:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDONLY)
        req = {"argv": argv, "cwd": str(cwd or os.getcwd()), "env": env}
        try:
            socket.send_fds(self.sock, [json.dumps(req).encode()], [devnull, out_w, err_w])
        finally:
            for fd in (devnull, out_w, err_w):
                os.close(fd)
        pid = self.reply()["pid"]
        got = {out_r: bytearray(), err_r: bytearray()}
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            for fd in got:
                sel.register(fd, selectors.EVENT_READ)
            while sel.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    os.kill(pid, signal.SIGKILL)
                    self.reply()
                    for fd in got:
                        os.close(fd)
                    raise subprocess.TimeoutExpired(argv, timeout)
                for key, _ in sel.select(left):
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        got[key.fd] += chunk
                    else:
                        sel.unregister(key.fd)
        for fd in got:
            os.close(fd)
        code = self.reply()["status"]
        return subprocess.CompletedProcess(argv, code, text(got[out_r]), text(got[err_r]))

    def close(self) -> None:
        self.replies.close()
        self.sock.close()  # the zygote reads the end and exits
        self.proc.wait(timeout=10)


def text(data: bytes) -> str:
    """As ``subprocess.run(text=True)`` decodes (locale encoding, universal newlines)."""
    decoded = bytes(data).decode(locale.getpreferredencoding(False))
    return decoded.replace("\r\n", "\n").replace("\r", "\n")


_zygote: Zygote | None = None


def run(argv: list[str], cwd: Path | None, env: dict[str, str],
        timeout: float) -> subprocess.CompletedProcess:
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = Zygote(env)
    return _zygote.run(argv, cwd, env, timeout)


def stop() -> None:
    global _zygote
    if _zygote is not None:
        _zygote.close()
        _zygote = None
