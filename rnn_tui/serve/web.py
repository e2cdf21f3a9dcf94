"""``rnn-tui serve``: the debugger in a web browser, with textual-serve.

Every browser tab that opens the page gets its own debugger: the server starts
``python -m rnn_tui MODEL`` (or, with ``--follow``, ``python -m rnn_tui follow
--room DIR``, the same file-based follower as in a terminal) with Textual's web
driver, and textual-serve's page draws its screen with xterm.js. Closing the
tab ends the process; the app quitting (``q``) ends the page's session.

What this module adds to textual-serve's ``Server`` (pinned exactly: it
overrides a few of its methods):

- children are started from an argument list, never through a shell, in a
  session of their own, with ``RNN_TUI_SERVED=1`` (the app disables opening
  files and screenshots, which would act on the server's disk) and the
  environment of a truecolor terminal, less the server's own terminal;
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
import os
import re
import shlex
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rnn_tui.cli.args import UsageError
from rnn_tui.core.model_file import load
from rnn_tui.serve.common import add_session_arguments, is_loopback, log, one_line, say

HELP = "serve the debugger to web browsers: every browser tab gets its own session"
PROG = "rnn-tui serve"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_SESSIONS = 100
KILL_GRACE = 2.0  # seconds between asking a session to quit, SIGTERM and SIGKILL
SHUTDOWN_TIMEOUT = 3.0  # seconds aiohttp waits for open requests when stopping
MAX_COLS, MAX_ROWS = 1000, 500  # a browser's terminal size is clamped to this
MAX_MESSAGE = 1 << 20  # bytes of one WebSocket message from a browser
INDEX_TEMPLATE = "app_index.html"
# textual-serve's page asks Google for the Roboto Mono font; served pages
# load nothing from elsewhere (xterm.js falls back to a local monospace font).
_REMOTE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.IGNORECASE)
# The terminal takes the keyboard as soon as the page has loaded (textual-serve's
# page waits for a click first), so `space` steps right away.
_AUTOFOCUS = """<script>
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
# The server's own terminal (or devtools), not the browser's: never passed on.
HIDDEN_ENV = frozenset({
    "LINES", "TMUX", "TMUX_PANE", "STY", "WINDOWID", "WT_SESSION", "KITTY_WINDOW_ID",
    "VTE_VERSION", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "SSH_AUTH_SOCK", "DISPLAY",
    "WAYLAND_DISPLAY", "TEXTUAL", "TEXTUAL_LOG",
})


# ----------------------------------------------------------------- arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Serve the debugger to web browsers: every browser tab that opens the page gets "
        "its own rnn-tui session on MODEL. Binds 127.0.0.1 (this machine only) unless "
        "--host says otherwise; there is no login, so anyone who can reach the port gets "
        "a session. Opening files and screenshots are disabled in served sessions."
    )
    add_session_arguments(p, clients="browsers", host_note=", without a login",
                          port=DEFAULT_PORT, max_sessions=DEFAULT_MAX_SESSIONS,
                          sessions="sessions (browser tabs)", owner=True)


# ------------------------------------------------------------------ helpers





def _hostname(netloc: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    try:
        return (urlsplit(f"//{netloc}").hostname or "").lower()
    except ValueError:
        return ""


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host



def _clamp(value: Any, default: int, hi: int) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return min(max(n, 1), hi)


def child_argv(args: argparse.Namespace) -> tuple[list[str], str]:
    """What every session runs, and what to call it. Nothing in it comes from
    a browser. A model is passed as an absolute path (built-ins too: load()
    resolves them), so it never depends on the working directory and is
    never mistaken for an option or a command."""
    python = [sys.executable, "-m", "rnn_tui"]
    if not args.follow:
        if args.room is not None:
            raise UsageError("--room needs --follow")
        if args.owner is not None:
            raise UsageError("--owner needs --follow")
        spec, path = load(args.model or "hello")  # a bad model fails here, not per tab
        argv = [*python, str(path.resolve())]
        if args.mode == "x_t":
            argv.append("--handout")
        elif args.mode == "x_k":
            argv.append("--exact")
        return argv, spec.name
    if args.model is not None:
        raise UsageError("--follow shows the lecturer's model: give no MODEL")
    if args.mode is not None:
        raise UsageError("--follow shows the lecturer's mode: give no --handout/--exact")
    from rnn_tui.core.follow import default_room

    room = Path(args.room or default_room(args.owner)).absolute()
    argv = [*python, "follow", "--room", str(room)]
    if args.owner is not None:
        argv += ["--owner", args.owner]
    return argv, f"the room {room} (follow mode)"


def child_env(base: dict[str, str]) -> dict[str, str]:
    """textual-serve's environment for a session, made ours: the browser's
    terminal is xterm.js (truecolor), and the app knows it is served."""
    env = {k: v for k, v in base.items() if k not in HIDDEN_ENV}
    env["TERM"] = "xterm-256color"
    env["COLORTERM"] = "truecolor"
    env["RNN_TUI_SERVED"] = "1"
    return env


# ------------------------------------------------------------------ server


def _make_classes() -> tuple[type, type]:
    """The server and session classes, built when textual-serve is importable."""
    import aiohttp_jinja2
    import jinja2
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server

    class Session(AppService):
        """One browser tab: one child process, started from an argument list."""

        def __init__(self, argv: list[str], number: int, peer: str, **kwargs: Any) -> None:
            super().__init__(shlex.join(argv), **kwargs)
            self.argv = argv
            self.number = number
            self.peer = peer
            self._ending: asyncio.Future[int | None] | None = None

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            return child_env(super()._build_environment(width, height))

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
            await super().set_terminal_size(_clamp(width, 80, MAX_COLS),
                                            _clamp(height, 24, MAX_ROWS))

        @property
        def running(self) -> bool:
            return self._process is not None and self._process.returncode is None

        def _signal(self, sig: int) -> None:
            if self.running:  # never a reaped pid
                assert self._process is not None
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, sig)

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
            if self.running:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.send_meta({"type": "quit"}), KILL_GRACE)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    await asyncio.wait_for(asyncio.shield(process.wait()), KILL_GRACE)
                    break
                except TimeoutError:
                    self._signal(sig)
            else:
                await process.wait()
            if self._task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(self._task, KILL_GRACE)
            return process.returncode

    class WebServer(Server):
        def __init__(self, argv: list[str], name: str, host: str, port: int,
                     max_sessions: int) -> None:
            super().__init__(shlex.join(argv), host=host, port=port, title=f"rnn-tui: {name}")
            self.argv = argv
            self.name = name
            self.max_sessions = max_sessions
            self.loopback = is_loopback(host)
            self.sessions: set[Any] = set()
            self.sockets: set[web.WebSocketResponse] = set()
            self.tasks: set[asyncio.Future[Any]] = set()
            self.count = 0
            self.stopping = False

        # ------------------------------------------------------ the app
        async def _make_app(self) -> web.Application:
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
            return _REMOTE_FONT.sub("", text).replace("</body>", _AUTOFOCUS, 1)

        @web.middleware
        async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
            """Bound to loopback, answer only requests that name a loopback host:
            a web page that points its own name at 127.0.0.1 (DNS rebinding)
            gets nothing from this server."""
            if self.loopback and not is_loopback(_hostname(request.host)):
                raise web.HTTPForbidden(text="rnn-tui serve: this server answers only at "
                                        "localhost / 127.0.0.1\n")
            return await handler(request)

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            base = f"{request.scheme}://{request.host}"
            static = request.app.router["static"].url_for(filename="/")
            context = {
                "font_size": _clamp(request.query.get("fontsize", "16"), 16, 64),
                "app_websocket_url": f"ws://{request.host}/ws" if request.scheme == "http"
                else f"wss://{request.host}/ws",
                "config": {"static": {"url": f"{base}{static}".rstrip("/") + "/"}},
                "application": {"name": self.title},
            }
            return aiohttp_jinja2.render_template(INDEX_TEMPLATE, request, context)

        # ------------------------------------------------------ sessions
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
                origin = "".join(c for c in request.headers.get("Origin", "") if c.isprintable())
                log(f"{peer}: refused a session from another site ({origin[:100]})")
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
            width = _clamp(request.query.get("width", "80"), 80, MAX_COLS)
            height = _clamp(request.query.get("height", "24"), 24, MAX_ROWS)
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

        async def end_all(self) -> int:
            self.stopping = True
            sessions = list(self.sessions)
            await asyncio.gather(*(s.end() for s in sessions), return_exceptions=True)
            await asyncio.gather(*(ws.close() for ws in list(self.sockets)),
                                 return_exceptions=True)
            return len(sessions)

    return WebServer, Session


WebServer: Any = None
Session: Any = None


# --------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    argv, name = child_argv(args)
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise UsageError("serve needs the textual-serve package: pip install 'rnn-tui[web]'"
                         ) from None
    global WebServer, Session
    if WebServer is None:
        WebServer, Session = _make_classes()
    import logging

    # One line per event is ours; textual-serve's and aiohttp's own logs are
    # for errors only, on one line.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%H:%M:%S"))
    for logger_name, level in (("textual-serve", logging.ERROR), ("aiohttp", logging.CRITICAL)):
        logger = logging.getLogger(logger_name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False
    server = WebServer(argv, name, args.host, args.port, args.max_sessions)
    return asyncio.run(_serve(server, args.host, args.port))


async def _serve(server: Any, host: str, port: int) -> int:
    from aiohttp import web

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    got: list[int] = []

    def on_signal(sig: int) -> None:
        if not got:
            got.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    runner = web.AppRunner(await server._make_app(), handle_signals=False, access_log=None,
                           shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except (OSError, ValueError) as err:
        await runner.cleanup()
        why = getattr(err, "strerror", None) or one_line(err)
        hint = " (choose another with --port)" if "in use" in why else ""
        raise UsageError(f"cannot listen on {host}:{port}: {why}{hint}") from None
    ports = sorted({addr[1] for addr in runner.addresses})
    actual = ports[0] if ports else port
    url = f"http://{_url_host(host)}:{actual}/"
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
        await stop.wait()
    finally:
        ended = await server.end_all()
        await runner.cleanup()
    sig = got[0] if got else signal.SIGTERM
    say(PROG, f"stopped by {signal.Signals(sig).name}; ended {ended} "
         f"session{'s' if ended != 1 else ''}")
    return 130 if sig == signal.SIGINT else 0
