"""The stderr of a server under test, collected line by line in a thread,
so a test can wait for a line (the servers of test_serve and test_ssh)."""

from __future__ import annotations

import re
import subprocess
import threading
import time


class StderrLines:
    proc: subprocess.Popen[bytes]

    def _collect(self) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pattern: str, timeout: float) -> re.Match[str]:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if m := rx.search(line):
                        return m
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    break
                self._cond.wait(0.2)
        raise AssertionError(f"no line matching {pattern!r} from the server "
                             f"(rc={self.proc.poll()}):\n{self.log()}")

    def log(self) -> str:
        with self._cond:
            return "\n".join(self.lines)
