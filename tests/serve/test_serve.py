"""`rnn-tui serve` end to end: the server as a real subprocess on 127.0.0.1
(a free port it picks itself), and real browsers: headless Chromium (Debian's
/usr/bin/chromium, driven by playwright; no browser is ever downloaded).

textual-serve draws the terminal on a canvas (no DOM text), so what a page
shows is read back by OCR: a screenshot, Debian's `tesseract` binary, and a
few robust words. Every screenshot is saved in the test's tmp_path. Every wait
is bounded; servers and browsers are stopped in fixture finalisers.

Screenshots are taken at device scale 1 with a larger font (textual-serve's
``?fontsize=``): headless Chromium's emulated device_scale_factor=2 reports
ResizeObserver's device-pixel box in CSS pixels, so xterm.js draws 2x glyphs
into a 1x canvas and only the top-left quarter of the screen shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("textual_serve", reason="rnn-tui serve needs textual-serve: "
                    "pip install 'rnn-tui[web]'")

from rnn_tui.core.follow import Presenter
from rnn_tui.core.model_file import builtin_dir
from rnn_tui.core.stepper import Phase, Position

from helpers.server_process import ServerProcess, gone, wait_for

pytestmark = pytest.mark.slow  # real web servers, sessions and a browser

HOST = "127.0.0.1"  # every connection of these tests stays on loopback
HELLO = builtin_dir() / "hello.toml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
VIEWPORT = {"width": 1920, "height": 1080}
FONT_SIZE = 24  # 1920x1080 at 24px is about 137x38 cells: every panel on screen
START_TIMEOUT = 30.0
SCREEN_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
SERVING = r"serving .* at http://(\S+?):(\d+)/"


# ------------------------------------------------------------------ server


class Server(ServerProcess):
    """`rnn-tui serve ARGS --port 0` as a subprocess; its stderr collected."""

    def __init__(self, args: list[str], wait: str = SERVING) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rnn_tui", "serve", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        self._collect()
        m = self.wait_line(wait, START_TIMEOUT)
        self.port = int(m.group(2)) if m.re.groups >= 2 else 0
        self.url = f"http://{HOST}:{self.port}"


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*args: str, wait: str = SERVING) -> Server:
        server = Server([*args, "--port", "0"] if "--port" not in args else list(args), wait)
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            try:
                server.stop()
            except Exception:
                server.kill()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rnn_tui", *args], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnn-tui: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


# ------------------------------------------------------- without a browser


def test_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error_line(run_cli("serve", "--port", str(port)))
    assert f"cannot listen on {HOST}:{port}" in line and "in use" in line


@pytest.mark.parametrize(("args", "says"), [
    (["serve", "no-such-model.toml"], "no such file"),
    (["serve", "--room", "/tmp/x"], "--room needs --follow"),
    (["serve", "--owner", "alice"], "--owner needs --follow"),
    (["serve", "hello", "--follow"], "give no MODEL"),
    (["serve", "--follow", "--handout"], "give no --handout"),
    (["serve", "--port", "70000"], "65535"),
])
def test_bad_arguments_are_one_line(args: list[str], says: str) -> None:
    assert says in one_error_line(run_cli(*args))


def test_binds_loopback_and_stops_cleanly(serve) -> None:
    server = serve()
    m = server.wait_line(SERVING, 1)
    assert m.group(1) == HOST
    assert "bound to localhost only" in server.log() and "warning" not in server.log()
    assert server.stop(signal.SIGINT) == 130
    assert server.log().splitlines()[-1] == ("rnn-tui serve: stopped by SIGINT; "
                                             "ended 0 sessions")


def test_non_loopback_host_warns(serve) -> None:
    server = serve("--host", "0.0.0.0",
                   wait=r"warning: listening on 0\.0\.0\.0, not only on localhost")
    server.wait_line(r"serving hello at http://0\.0\.0\.0:(\d+)/", START_TIMEOUT)
    assert server.stop() == 0
    assert server.log().splitlines()[-1].startswith("rnn-tui serve: stopped by SIGTERM")


def test_foreign_host_and_origin_are_refused(serve) -> None:
    import aiohttp

    server = serve()

    async def probe() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/") as page:
                assert page.status == 200
                html = await page.text()
                assert f"ws://{HOST}:{server.port}/ws" in html
                assert "googleapis" not in html  # nothing is loaded from elsewhere
            async with http.get(server.url + "/", headers={"Host": "evil.example"}) as page:
                assert page.status == 403  # DNS rebinding: a foreign name for 127.0.0.1
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(server.url + "/ws", origin="http://evil.example")
            assert refused.value.status == 403

    asyncio.run(asyncio.wait_for(probe(), 30))
    server.wait_line(r"refused a session from another site \(http://evil\.example\)", 5)
    assert server.children() == []  # no process was started for them


def test_session_process_env_and_shutdown(serve) -> None:
    """A WebSocket (as the page opens) starts `python -m rnn_tui /abs/hello.toml
    --handout` with RNN_TUI_SERVED=1; SIGTERM ends it and the server."""
    import aiohttp

    server = serve("hello", "--handout")
    pids: list[int] = []

    async def session() -> None:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(server.url + "/ws?width=100&height=30",
                                       origin=server.url)
            received = b""
            while b"finite" not in received:  # the status line of the first frame
                msg = await ws.receive(timeout=START_TIMEOUT)
                assert msg.type == aiohttp.WSMsgType.BINARY, msg
                received += msg.data
            pids.extend(server.children())
            assert len(pids) == 1
            argv = Path(f"/proc/{pids[0]}/cmdline").read_bytes().split(b"\0")[:-1]
            assert [a.decode() for a in argv] == [
                sys.executable, "-m", "rnn_tui", str(HELLO.resolve()), "--handout"]
            env = dict(kv.split(b"=", 1) for kv in
                       Path(f"/proc/{pids[0]}/environ").read_bytes().split(b"\0") if kv)
            assert env[b"RNN_TUI_SERVED"] == b"1"
            assert env[b"TEXTUAL_DRIVER"].startswith(b"textual.drivers.web_driver")
            assert os.getsid(pids[0]) == pids[0]  # its own session: Ctrl+C is the server's
            server.proc.send_signal(signal.SIGTERM)
            msg = await ws.receive(timeout=STOP_TIMEOUT)
            while msg.type == aiohttp.WSMsgType.BINARY:
                msg = await ws.receive(timeout=STOP_TIMEOUT)
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg

    asyncio.run(asyncio.wait_for(session(), 60))
    assert server.proc.wait(STOP_TIMEOUT) == 0
    assert server.log().splitlines()[-1] == ("rnn-tui serve: stopped by SIGTERM; "
                                             "ended 1 session")
    wait_for(lambda: gone(pids[0]), 5, "the session's process to end")


def test_sessions_beyond_max_are_refused(serve) -> None:
    import aiohttp

    server = serve("--max-sessions", "1")

    async def two() -> None:
        async with aiohttp.ClientSession() as http:
            first = await http.ws_connect(server.url + "/ws", origin=server.url)
            await first.receive(timeout=START_TIMEOUT)  # the first is running
            second = await http.ws_connect(server.url + "/ws", origin=server.url)
            msg = await second.receive(timeout=START_TIMEOUT)
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1013, msg
            assert "full" in msg.extra
            await first.close()

    asyncio.run(asyncio.wait_for(two(), 60))
    server.wait_line(r"refused a session: the server is full \(1 sessions running\)", 5)
    server.wait_line(r"#1 127\.0\.0\.1: session ended \(exit status 0, 0 running\)", 10)
    wait_for(lambda: server.children() == [], 10, "the session's process to end")


def test_without_textual_serve_is_one_line() -> None:
    code = ("import sys; sys.modules['textual_serve'] = None; from rnn_tui.cli import main; "
            "sys.exit(main(['serve', '--port', '0']))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert "pip install 'rnn-tui[web]'" in one_error_line(result)


# ------------------------------------------------------------ in a browser


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright Python package: pip install playwright"
    if shutil.which("tesseract") is None:
        return "needs tesseract to read the canvas: apt-get install tesseract-ocr"
    return None


needs_browser = pytest.mark.skipif(_browser_missing() is not None,
                                   reason=_browser_missing() or "")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                           timeout=START_TIMEOUT * 1000)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        manager.stop()


@pytest.fixture
def open_page(browser) -> Iterator[Callable[[Server], object]]:
    contexts: list[object] = []

    def open_(server: Server) -> object:
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(START_TIMEOUT * 1000)
        # ?delay shows textual-serve's start dialog; its Start button opens the session.
        page.goto(f"{server.url}/?delay=1&fontsize={FONT_SIZE}", wait_until="domcontentloaded")
        page.locator("#start").click()
        page.wait_for_function("document.body.classList.contains('-first-byte')")
        # The page gives the terminal the keyboard by itself: no click, no focus() here.
        page.wait_for_function("document.activeElement && document.activeElement"
                               ".classList.contains('xterm-helper-textarea')")
        return page

    try:
        yield open_
    finally:
        for context in contexts:
            with contextlib.suppress(Exception):
                context.close()


def ocr(png: Path) -> str:
    """The text of a screenshot, lower case, one space between words."""
    result = subprocess.run(["tesseract", str(png), "stdout"], capture_output=True,
                            timeout=60, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return " ".join(result.stdout.decode("utf-8", "replace").lower().split())


class Screen:
    """Screenshots of one page, OCR'd whenever they change."""

    def __init__(self, page, folder: Path, name: str) -> None:
        self.page, self.folder, self.name = page, folder, name
        self.n = 0
        self.png = b""
        self.text = ""

    def until(self, want: Callable[[str], bool], what: str,
              timeout: float = SCREEN_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            path = self.folder / f"{self.name}-{self.n:02d}.png"
            png = self.page.screenshot(path=str(path))
            if png != self.png:  # only a new frame is worth an OCR
                self.n += 1
                self.png = png
                self.text = ocr(path)
                if want(self.text):
                    return self.text
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not on screen after {timeout}s; OCR of "
                                     f"{path}: {self.text!r}")
            time.sleep(0.5)


def squeezed(text: str) -> str:
    return text.replace(" ", "")


@pytest.mark.slow
@needs_browser
def test_browser_shows_the_debugger_and_steps(serve, open_page, tmp_path: Path) -> None:
    server = serve()
    page = open_page(server)
    screen = Screen(page, tmp_path, "hello")
    words = ("hello", "epoch", "forward", "formula")
    text = screen.until(lambda t: sum(w in t for w in words) >= 3 and "(1/4)" in squeezed(t),
                        "the debugger at forward t=1 (1/4)")
    assert "epoch" in text and "forward" in text
    first = screen.png
    page.keyboard.press("Space")
    screen.until(lambda t: "(2/4)" in squeezed(t), "forward t=2 (2/4) after space")
    assert screen.png != first
    server.wait_line(r"#1 127\.0\.0\.1: session started \(\d+x\d+, 1 running\)", 1)
    page.keyboard.press("q")  # the app quits: the page says the session ended
    page.wait_for_function("document.body.classList.contains('-closed')")
    page.screenshot(path=str(tmp_path / "hello-ended.png"))
    server.wait_line(r"#1 127\.0\.0\.1: session ended \(exit status 0, 0 running\)", 10)
    wait_for(lambda: server.children() == [], 10, "the session's process to end")


@pytest.mark.slow
@needs_browser
def test_browser_follows_the_presenter(serve, open_page, tmp_path: Path) -> None:
    room = tmp_path / "room"
    lecturer = Presenter(room, HELLO)
    lecturer.publish("x_k", Position(epoch=1, phase=Phase.FORWARD, index=0))
    server = serve("--follow", "--room", str(room))
    page = open_page(server)
    screen = Screen(page, tmp_path, "follow")
    screen.until(lambda t: "following" in t and "(1/4)" in squeezed(t),
                 "the follower at forward t=1 (1/4)")
    lecturer.publish("x_k", Position(epoch=1, phase=Phase.BPTT, index=4))
    text = screen.until(lambda t: "k=2(5/10)" in squeezed(t),
                        "the lecturer's position, BPTT t=3 k=2 (5/10)")
    assert "bptt" in text and "following" in text
    lecturer.close("x_k", Position(epoch=1, phase=Phase.BPTT, index=4))
