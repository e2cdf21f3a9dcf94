"""``rnn-tui serve``: the debugger in a web browser, with textual-serve.

Every browser tab that opens the page gets its own debugger: the server starts
``python -m rnn_tui MODEL`` (or, with ``--follow``, ``python -m rnn_tui follow
--room DIR``, the same file-based follower as in a terminal) with Textual's web
driver, and textual-serve's page draws its screen with xterm.js. Closing the
tab ends the process; the app quitting (``q``) ends the page's session.

What this module adds to textual-serve's ``Server`` (pinned exactly: it
overrides a few of its methods):

- children are started from an argument list, never through a shell, in a
  session of their own, with the environment of :mod:`rnn_tui.serve.common`
  (``RNN_TUI_SERVED=1``, a truecolor terminal, not the server's own) and the
  settings of Textual's web driver;
- binds 127.0.0.1 unless ``--host`` says otherwise (with a warning: there is
  no login); while bound to loopback, only requests naming a loopback host
  are answered (DNS rebinding);
- the WebSocket that starts a session must come from a page of this server
  (its Origin header), so another web site open in the same browser cannot
  start or drive sessions;
- the page's URLs come from the address the browser used (so ``--port 0``,
  ``localhost`` and a machine's LAN address all work), the page loads no
  font from the internet (offline classrooms; no third-party requests), and
  the terminal has the keyboard as soon as the page has loaded;
- ``--max-sessions``; a window size from the browser is clamped;
- one line per event on stderr; a port in use is one line and exit status 2;
  SIGINT/SIGTERM/SIGHUP end every session (quit, then SIGTERM, then SIGKILL)
  and the server, with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from rnn_tui.serve.common import (
    KILL_GRACE,
    Signals,
    add_session_arguments,
    child_command,
    child_env,
    clamp,
    escalate,
    is_loopback,
    listen_error,
    log,
    one_line,
    quiet_logs,
    say,
    shown,
    signal_group,
    url_host,
    window_size,
)

HELP = "serve the debugger to web browsers: every browser tab gets its own session"
DESCRIPTION = """Serve the debugger to web browsers: every browser tab that opens the page gets its
own rnn-tui session on MODEL. Binds 127.0.0.1 (this machine only) unless --host says otherwise;
there is no login, so anyone who can reach the port gets a session. Opening files and screenshots
are disabled in served sessions."""
PROG = "rnn-tui serve"

DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 100
SHUTDOWN_TIMEOUT = 3.0  # seconds aiohttp waits for open requests when stopping
MAX_MESSAGE = 1 << 20  # bytes of one WebSocket message from a browser
INDEX_TEMPLATE = "app_index.html"
# What textual-serve sets for Textual's web driver (pinned exactly: these names).
WEB_DRIVER_ENV = ("TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM",
                  "TERM_PROGRAM_VERSION", "COLUMNS", "ROWS")
# textual-serve's page asks Google for the Roboto Mono font; served pages
# load nothing from elsewhere (xterm.js falls back to a local monospace font).
REMOTE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.IGNORECASE)
# The terminal takes the keyboard as soon as the page has loaded (textual-serve's
# page waits for a click first), so `space` steps right away.
AUTOFOCUS = """<script>
      window.addEventListener("load", () => {
        const focus = (tries) => {
          const input = document.querySelector(".xterm-helper-textarea");
          if (input) input.focus();
          else if (tries > 0) setTimeout(() => focus(tries - 1), 100);
        };
        focus(100);
      });
    </script>
  </body>"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_session_arguments(p, clients="browsers", host_note=", without a login",
                          port=DEFAULT_PORT, max_sessions=DEFAULT_MAX_SESSIONS,
                          sessions="sessions (browser tabs)")


def hostname(netloc: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:
        return ""


# ------------------------------------------------------------------ session


class Session(AppService):
    """One browser tab: one child process, started from an argument list."""

    def __init__(self, argv: list[str], number: int, peer: str, **kwargs: Any) -> None:
        super().__init__(shlex.join(argv), **kwargs)
        self.argv = argv
        self.number = number
        self.peer = peer
        self._ending: asyncio.Future[int | None] | None = None

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        served = super()._build_environment(width, height)
        env = child_env(os.environ, "xterm-256color", "truecolor")
        env.update((k, served[k]) for k in WEB_DRIVER_ENV if k in served)
        return env

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width, height),
            start_new_session=True,  # the server's Ctrl+C is the server's
            close_fds=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def set_terminal_size(self, width: Any, height: Any) -> None:
        await super().set_terminal_size(*window_size(width, height))

    async def end(self) -> int | None:
        """Quit the app, politely first; idempotent. Returns its exit status."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        return await asyncio.shield(self._ending)

    async def _end(self) -> int | None:
        process = self._process
        if process is None:
            return None
        with contextlib.suppress(Exception):
            await self._download_manager.cancel_app_downloads(
                app_service_id=self.app_service_id)
        if process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.send_meta({"type": "quit"}), KILL_GRACE)
        status = await escalate(process)
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, KILL_GRACE)
        return status

    def kill(self) -> None:
        signal_group(self._process, signal.SIGKILL)


# ------------------------------------------------------------------ server


class WebServer(Server):
    def __init__(self, argv: list[str], name: str, host: str, port: int,
                 max_sessions: int) -> None:
        super().__init__(shlex.join(argv), host=host, port=port, title=f"rnn-tui: {name}")
        self.argv = argv
        self.name = name
        self.max_sessions = max_sessions
        self.loopback = is_loopback(host)
        self.sessions: set[Session] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        self.tasks: set[asyncio.Future[Any]] = set()
        self.count = 0
        self.stopping = False

    # ---------------------------------------------------------- the app
    async def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        loader = jinja2.DictLoader({INDEX_TEMPLATE: self._index_template()})
        aiohttp_jinja2.setup(app, loader=loader)
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        return app

    def _index_template(self) -> str:
        text = (Path(self.templates_path) / INDEX_TEMPLATE).read_text(encoding="utf-8")
        return REMOTE_FONT.sub("", text).replace("</body>", AUTOFOCUS, 1)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Bound to loopback, answer only requests that name a loopback host:
        a web page that points its own name at 127.0.0.1 (DNS rebinding)
        gets nothing from this server."""
        if self.loopback and not is_loopback(hostname(request.host)):
            raise web.HTTPForbidden(text="rnn-tui serve: this server answers only at "
                                    "localhost / 127.0.0.1\n")
        return await handler(request)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        base = f"{request.scheme}://{request.host}"
        static = request.app.router["static"].url_for(filename="/")
        context = {
            "font_size": clamp(request.query.get("fontsize", "16"), 16, 64),
            "app_websocket_url": f"ws://{request.host}/ws" if request.scheme == "http"
            else f"wss://{request.host}/ws",
            "config": {"static": {"url": f"{base}{static}".rstrip("/") + "/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template(INDEX_TEMPLATE, request, context)

    # ---------------------------------------------------------- sessions
    def _same_origin(self, request: web.Request) -> bool:
        """A browser always sends Origin with a WebSocket: it must be a
        page of this server (any web site could open one otherwise)."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: no other site's page is involved
        try:
            parts = urlsplit(origin)
            netloc = parts.netloc.lower()
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and netloc == request.host.lower()

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        peer = request.remote or "?"
        if not self._same_origin(request):
            origin = shown(request.headers.get("Origin", ""), 100)
            log(f"{peer}: refused a session from another site ({origin})")
            raise web.HTTPForbidden(text="rnn-tui serve: sessions start only from this "
                                    "server's page\n")
        ws = web.WebSocketResponse(heartbeat=15, max_msg_size=MAX_MESSAGE)
        await ws.prepare(request)
        if self.stopping or len(self.sessions) >= self.max_sessions:
            why = ("the server is stopping" if self.stopping else
                   f"the server is full ({self.max_sessions} sessions running)")
            log(f"{peer}: refused a session: {why}")
            await ws.close(code=1013, message=why.encode()[:120])
            return ws
        width, height = window_size(request.query.get("width"), request.query.get("height"))
        self.count += 1
        session = Session(self.argv, self.count, peer,
                          write_bytes=ws.send_bytes, write_str=ws.send_str,
                          close=ws.close, download_manager=self.download_manager)
        self.sessions.add(session)
        self.sockets.add(ws)
        status: int | None = None
        try:
            await session.start(width, height)
            log(f"#{session.number} {peer}: session started ({width}x{height}, "
                f"{len(self.sessions)} running)")
            assert session._task is not None
            # The app ending (q, a crash) ends the page's session too.
            session._task.add_done_callback(lambda _: self._later(ws.close()))
            await self._process_messages(ws, session)
        except asyncio.CancelledError:
            pass
        except Exception as err:  # garbage from a browser: this session only
            log(f"#{session.number} {peer}: {one_line(err)}")
        finally:
            status = await session.end()
            self.sessions.discard(session)
            self.sockets.discard(ws)
            with contextlib.suppress(Exception):
                await ws.close()
            log(f"#{session.number} {peer}: session ended (exit status {status}, "
                f"{len(self.sessions)} running)")
        return ws

    def _later(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self.tasks.discard)

    async def end_all(self, force: asyncio.Event) -> int:
        """End every session (a set ``force``: kill what is left). Returns how many ran."""
        self.stopping = True
        sessions = list(self.sessions)
        ending = asyncio.ensure_future(
            asyncio.gather(*(s.end() for s in sessions), return_exceptions=True))
        forced = asyncio.ensure_future(force.wait())
        await asyncio.wait({ending, forced}, return_when=asyncio.FIRST_COMPLETED)
        if not ending.done():  # a second Ctrl+C: no more waiting
            for s in sessions:
                s.kill()
            await asyncio.wait({ending}, timeout=KILL_GRACE)
        forced.cancel()
        await asyncio.gather(*(ws.close() for ws in list(self.sockets)),
                             return_exceptions=True)
        return len(sessions)


# --------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    argv, name = child_command(args, [sys.executable, "-m", "rnn_tui"])
    # One line per event is ours; textual-serve's and aiohttp's own logs are
    # for errors only, on one line.
    quiet_logs({"textual-serve": logging.ERROR, "aiohttp": logging.CRITICAL})
    server = WebServer(argv, name, args.host, args.port, args.max_sessions)
    return asyncio.run(serve(server, args.host, args.port))


async def serve(server: WebServer, host: str, port: int) -> int:
    signals = Signals()
    runner = web.AppRunner(await server.make_app(), handle_signals=False, access_log=None,
                           shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except (OSError, ValueError) as err:
        await runner.cleanup()
        raise listen_error(host, port, err) from None
    ports = sorted({addr[1] for addr in runner.addresses})
    actual = ports[0] if ports else port
    url = f"http://{url_host(host)}:{actual}/"
    if len(ports) > 1:  # e.g. localhost with --port 0: IPv4 and IPv6 got different ports
        url += f" (and port {', '.join(map(str, ports[1:]))} on its other addresses)"
    if server.loopback:
        say(PROG, f"serving {server.name} at {url} (bound to localhost only: other machines "
            "cannot connect; each browser tab gets its own session)")
    else:
        say(PROG, f"warning: listening on {host}, not only on localhost: anyone who can reach "
            f"port {actual} of this machine gets a session, without a login")
        say(PROG, f"serving {server.name} at {url} (from other machines: http://THIS-MACHINE:"
            f"{actual}/; each browser tab gets its own session)")
    try:
        await signals.stop.wait()
    finally:
        ended = await server.end_all(signals.force)
        await runner.cleanup()
    return signals.goodbye(PROG, ended)
