"""The async Application: sessions, the WebSocket protocol endpoint and the connector page."""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import inspect
import ipaddress
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pgwidgets_js

from wirecore import (
    App,
    BytesResponse,
    FileResponse,
    HTMLResponse,
    HTTPError,
    LoopServer,
    Request,
    RequestGuard,
    StaticFiles,
    WebSocket,
    WebSocketDisconnect,
    origin_allowed,
)

from .. import protocol as P
from ..protocol import Ack, CallbackEvent, Chunk, Ignored, ProtocolViolation, Reply
from .session import BrowserDisconnected, BrowserError, Connection, RequestTimeout, Session
from .widget import WIDGET_CLASSES, Widget

__all__ = ["Application", "BrowserDisconnected", "BrowserError", "RequestTimeout", "Session"]

MODES = ("serialized", "per_session", "concurrent")
F = TypeVar("F", bound=Callable[..., Any])
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

CONNECTOR_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="/Widgets.css">
<style>body {{ margin: 0; }}</style>
</head>
<body>
<script type="module">
import {{ Widgets }} from "/Widgets.js";
// The WebSocket address comes only from the server (never from the page's own URL).
const config = {config};
const scheme = location.protocol === "https:" ? "wss:" : "ws:";
const host = location.hostname.includes(":") ? "[" + location.hostname + "]" : location.hostname;
const url = config.ws_url || (scheme + "//" + host + ":" + config.ws_port + "/");
const remote = new Widgets.RemoteInterface(Widgets, {{url: url, reconnect_interval: 500}});
// Reconnect with backoff (0.5 s doubling to 10 s, back to 0.5 s once connected), not every 500 ms forever.
const watch = (ws) => {{
  if (!ws) return;
  ws.addEventListener("open", () => {{ remote._reconnectInterval = 500; }});
  ws.addEventListener("close", () => {{
    remote._reconnectInterval = Math.min(10000, (remote._reconnectInterval || 500) * 2);
  }});
}};
watch(remote._ws);
const connect = remote.connect.bind(remote);
remote.connect = () => {{ connect(); watch(remote._ws); }};
// Keep the session token out of the address bar (history, logs, Referer): the tab keeps it
// in sessionStorage, which survives a reload.
remote._updateUrl = () => {{}};
const here = new URL(location.href);
if (here.searchParams.has("token")) {{
  here.searchParams.delete("session");
  here.searchParams.delete("token");
  history.replaceState(null, "", here);
}}
</script>
</body>
</html>
"""



def _server(app: App, host: str, port: int, name: str) -> LoopServer:
    """granian on the application's own loop (widgets are awaited there), over ASGI: granian's
    RSGI WebSocket drops close codes, and the page needs 4000-4999 to stop reconnecting."""
    return LoopServer(app, host, port, interface="asgi", name=f"pgwidgets {name}")

class _Refused(Session):
    def __init__(self) -> None:  # a marker, never used as a session
        pass


_REFUSED: Session = _Refused()


class _Slots:
    """``max_sessions``: live sessions (with a browser) hold a slot; others wait in FIFO order."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self.limit is None:
            return
        if self.used < self.limit and not self.waiters:
            self.used += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # the slot came just as the waiter left: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self.waiters.remove(fut)
            raise

    def release(self) -> None:
        if self.limit is None:
            return
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot goes straight to the next waiter
                return
        self.used = max(0, self.used - 1)


class Application:
    """Main entry point for an async pgwidgets application.

    Serves the WebSocket protocol on ``ws_port`` and (with ``http_server=True``) the pgwidgets-js
    assets and the connector page on ``http_port``, both with wirecore on granian, inside the
    running event loop. Each browser connection joins a Session.

    :param concurrency_handling: ``"per_session"`` (a lock per session), ``"serialized"`` (one
        lock for all sessions) or ``"concurrent"`` (no lock) around callbacks, ``on_connect`` and
        reconstruction.
    :param max_sessions: how many sessions may have a browser at once (``None``: unlimited);
        further browsers wait until one ends, reconnects included.
    :param allowed_origins: more page origins that may open the WebSocket (when the assets are
        served by another server); the built-in page's origin is always allowed.
    :param allowed_hosts: Host header names to answer (default: the loopback names when bound to
        loopback, any name otherwise); list your public name when a proxy forwards it.
    :param public_ws_url: the WebSocket address the built-in page gives the browser (behind a
        proxy: ``wss://app.example.org/pgwidgets/``); default: ``ws_port`` on the page's host.
    :param request_timeout: seconds to wait for a browser's answer before ``RequestTimeout``.
    :param max_upload_size: the most bytes one file drop or FileDialog upload may announce.
    :param session_timeout: close a session that has had no browser for this many seconds
        (``None``: sessions live until closed, like the original's).
    :param token_lifetime: seconds a browser's own reconnect token stays valid after that
        browser leaves (``None``: until the session ends). Each browser gets a new token every
        time it connects; the link token of ``Session.get_url()`` is not affected.
    """

    def __init__(
        self,
        ws_port: int = 9500,
        http_port: int = 9501,
        host: str = "127.0.0.1",
        http_server: bool = True,
        concurrency_handling: str = "per_session",
        max_sessions: int | None = 1,
        logger: logging.Logger | None = None,
        *,
        allowed_origins: tuple[str, ...] | list[str] = (),
        allowed_hosts: tuple[str, ...] | list[str] | None = None,
        public_ws_url: str | None = None,
        request_timeout: float | None = 30.0,
        handshake_timeout: float = 10.0,
        session_timeout: float | None = None,
        token_lifetime: float | None = 24 * 3600.0,
        max_upload_size: int | None = 64 * 1024 * 1024,
        title: str = "pgwidgets",
    ) -> None:
        if concurrency_handling not in MODES:
            raise ValueError(f"concurrency_handling must be one of {MODES}, got {concurrency_handling!r}")
        if max_sessions is not None and (not isinstance(max_sessions, int) or max_sessions < 1):
            raise ValueError(f"max_sessions must be a positive int or None, got {max_sessions!r}")
        if isinstance(allowed_origins, str):
            raise TypeError("allowed_origins takes a list of origins, not one string")
        self._host = host
        self._ws_port = ws_port
        self._http_port = http_port
        self._use_http_server = http_server
        self._concurrency = concurrency_handling
        self._max_sessions = max_sessions
        self._allowed_origins = tuple(allowed_origins)
        if isinstance(allowed_hosts, str):
            raise TypeError("allowed_hosts takes a list of host names, not one string")
        self._allowed_hosts = None if allowed_hosts is None else tuple(allowed_hosts)
        if public_ws_url is not None and urlsplit(public_ws_url).scheme not in ("ws", "wss"):
            raise ValueError(f"public_ws_url must be a ws:// or wss:// URL, not {public_ws_url!r}")
        self._public_ws_url = public_ws_url
        self.request_timeout = request_timeout
        self.handshake_timeout = handshake_timeout
        self.session_timeout = session_timeout
        self.token_lifetime = token_lifetime
        self.max_upload_size = max_upload_size
        self.title = title
        if logger is None:
            logger = logging.getLogger("pgwidgets")
            if not logger.handlers:
                logger.addHandler(logging.NullHandler())
        self._logger = logger
        self._sessions: dict[int | str, Session] = {}
        self._next_session_id = 1
        self._on_connect: Callable[[Session], Any] | None = None
        self._on_disconnect: Callable[[Session], Any] | None = None
        self._widget_classes: dict[str, type[Widget]] = dict(WIDGET_CLASSES)
        self._favicon: Path = pgwidgets_js.get_static_path() / "icons" / "pgicon.svg"
        self._servers: list[LoopServer] = []
        self._lock: asyncio.Lock | None = None
        self._slots = _Slots(max_sessions)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conns: set[Connection] = set()  # every open browser socket, admitted or held
        self._internal_ids: dict[str, int] = {}
        """JS class -> ids its constructor takes for internal objects (learnt from replies)."""
        self._stopped: asyncio.Event | None = None
        self._started = False
        self._fonts: dict[
            int, tuple[str, str, str, bytes, str]
        ] = {}  # id -> family, weight, style, data, mime
        self._default_font: dict[str, Any] | None = None

    # configuration ---------------------------------------------------------------------------

    def on_connect(self, handler: F) -> F:
        """Register the handler run (sync or async) with each new Session; usable as a decorator."""
        self._on_connect = handler
        return handler

    def on_disconnect(self, handler: F) -> F:
        """Register the handler run with a Session when one of its browsers leaves."""
        self._on_disconnect = handler
        return handler

    @property
    def sessions(self) -> dict[int | str, Session]:
        """Dict of active sessions (session_id -> Session)."""
        return dict(self._sessions)

    @property
    def running(self) -> bool:
        """True between start() and close()."""
        return self._started

    @property
    def waiting(self) -> int:
        """How many browsers are held, waiting for a session slot (``max_sessions``)."""
        return sum(1 for fut in self._slots.waiters if not fut.done())

    @property
    def static_path(self) -> Path:
        """Path to the pgwidgets static files directory."""
        return Path(pgwidgets_js.get_static_path())

    @property
    def remote_html(self) -> Path:
        """Path to pgwidgets-js's stock remote.html (prefer :meth:`connector_html`, which cannot be
        pointed at another WebSocket server by a link)."""
        return Path(pgwidgets_js.get_remote_html())

    @property
    def ws_port(self) -> int:
        return self._ws_port

    @property
    def http_port(self) -> int | None:
        return self._http_port if self._use_http_server else None

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str | None:
        """``http://host:http_port/``, or None without the built-in HTTP server."""
        if not self._use_http_server:
            return None
        return f"http://{_display_host(self._host)}:{self._http_port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{_display_host(self._host)}:{self._ws_port}/"

    def set_favicon(self, path: str | os.PathLike[str]) -> None:
        """Set a custom favicon for the built-in HTTP server (call before start())."""
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"favicon {p} is not a file")
        self._favicon = p

    def register_widget(self, cls: type[Widget], name: str | None = None) -> None:
        """Add (or replace) a widget class in every session's ``get_widgets()``."""
        if not (isinstance(cls, type) and issubclass(cls, Widget)):
            raise TypeError(f"{cls!r} is not a Widget subclass")
        self._widget_classes[name or cls.__name__] = cls

    def get_widgets(self) -> Any:
        """The widget classes (unbound: pass the session first)."""
        from .widget import _Namespace

        return _Namespace(self._widget_classes)

    def connector_html(self, ws_url: str | None = None) -> str:
        """Our connector page: loads /Widgets.js and connects to ``ws_url`` (default: this app's
        WebSocket port on the page's own host name). Serve it at the root of your own server
        together with :attr:`static_path` when ``http_server=False``."""
        config: dict[str, Any] = {"ws_port": self._ws_port}
        if ws_url is not None:
            if urlsplit(ws_url).scheme not in ("ws", "wss"):
                raise ValueError(f"ws_url must be a ws:// or wss:// URL, not {ws_url!r}")
            config["ws_url"] = ws_url
        text = json.dumps(config).replace("<", "\\u003c")
        return CONNECTOR_PAGE.format(config=text, title=_html_escape(self.title))

    # fonts and pages --------------------------------------------------------------------------

    def register_font(
        self,
        family: str,
        source: str | os.PathLike[str] | bytes,
        *,
        weight: str = "normal",
        style: str = "normal",
    ) -> int:
        """Make a font file (path or bytes: ttf, otf, woff, woff2) available as ``family`` in every
        browser, now and later; returns its id."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
        else:
            data = Path(source).read_bytes()
        mime = _font_mime(data)
        fid = len(self._fonts) + 1
        self._fonts[fid] = (family, str(weight), str(style), data, mime)
        for session in list(self._sessions.values()):
            session._send(lambda mid: self._font_message(mid, fid))
        return fid

    def set_default_font(
        self,
        family: str | None = None,
        size: int | None = None,
        weight: str | None = None,
        style: str | None = None,
    ) -> None:
        """The font every widget uses unless told otherwise, in every browser (no family: clear)."""
        font = None if family is None else {"family": family, "size": size, "weight": weight, "style": style}
        self._default_font = font
        for session in list(self._sessions.values()):
            session._send(lambda mid: {"type": "set-default-font", "id": mid, "font": font})

    def open_url(self, url: str) -> None:
        """Open ``url`` in a new tab of every connected browser."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"open_url takes an http(s) URL, not {url!r}")
        for session in list(self._sessions.values()):
            session._send(lambda mid: {"type": "open-url", "id": mid, "url": url})

    async def process_events(self, timeout: float = 0) -> None:
        """Let the server run for ``timeout`` seconds (callbacks, browsers, timers), as in the
        original; a script that awaits nothing else calls this to keep its app responsive.
        Everything runs on the event loop, so it is ``asyncio.sleep``."""
        await asyncio.sleep(timeout)

    def _font_message(self, mid: int, fid: int) -> dict[str, Any]:
        family, weight, style, data, mime = self._fonts[fid]
        if self._use_http_server:
            url = f"/_pgwidgets/font/{fid}"
        else:
            url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        return {
            "type": "register-font",
            "id": mid,
            "family": family,
            "weight": weight,
            "style": style,
            "url": url,
        }

    def _greet(self, session: Session, conn: Connection) -> None:
        """Queue the application-wide settings (fonts) for a browser that just joined."""
        for fid in self._fonts:
            conn.enqueue(P.encode(self._font_message(session._new_mid(), fid)))
        font = self._default_font
        if font is not None:
            conn.enqueue(P.encode({"type": "set-default-font", "id": session._new_mid(), "font": font}))

    # sessions --------------------------------------------------------------------------------

    def create_session(self, session_id: int | str | None = None) -> Session:
        """Create a session without a browser connection; its tree can be built before a browser
        presents the session's id and token (``session.get_url()``)."""
        if session_id is None:
            while self._next_session_id in self._sessions:
                self._next_session_id += 1
            session_id = self._next_session_id
            self._next_session_id += 1
        elif isinstance(session_id, bool) or not isinstance(session_id, (int, str)):
            raise TypeError(f"session_id must be an int or a str, not {session_id!r}")
        elif session_id in self._sessions:
            raise ValueError(f"Session {session_id!r} already exists")
        session = Session(self, session_id)
        self._sessions[session_id] = session
        return session

    def _forget_session(self, session: Session) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]
        if session._holds_slot:
            session._holds_slot = False
            self._slots.release()

    # dispatch --------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _lock_for(self, session: Session) -> asyncio.Lock | None:
        if self._concurrency == "per_session":
            return session._lock
        if self._concurrency == "serialized":
            if self._lock is None:
                self._lock = asyncio.Lock()
            return self._lock
        return None

    def _dispatch(self, session: Session, fn: Callable[..., Awaitable[Any]], *args: Any) -> asyncio.Task[Any]:
        """Run ``fn(*args)`` as a task under the concurrency mode's lock; errors are logged."""
        return self._spawn(self._guarded(session, fn, *args))

    async def _guarded(self, session: Session, fn: Callable[..., Any], *args: Any) -> None:
        lock = self._lock_for(session)
        try:
            if lock is None:
                await _call(fn, *args)
            else:
                async with lock:
                    await _call(fn, *args)
        except asyncio.CancelledError:
            raise
        except BrowserDisconnected as exc:
            self._logger.info("session %r: %s", session.id, exc)
        except Exception:
            self._logger.error("Exception in callback handler", exc_info=True)

    # servers ---------------------------------------------------------------------------------

    def _guard(self) -> RequestGuard | None:
        """The Host allowlist (against DNS rebinding): loopback names on a loopback bind, or
        ``allowed_hosts``; a public bind without ``allowed_hosts`` answers to any Host."""
        if self._allowed_hosts is not None:
            return RequestGuard(allowed_hosts=self._allowed_hosts, allowed_origins=["*"])
        if self._host not in _LOOPBACK:
            return None
        return RequestGuard(allowed_origins=["*"])  # Origin is checked by the WebSocket endpoint

    def _build_ws_app(self, app: App | None = None) -> App:
        app = app or App(name="pgwidgets", guard=self._guard(), max_message_size=32 * 1024 * 1024)
        app.add_websocket_route("/", self._ws_endpoint)
        return app

    def _build_http_app(self) -> App:
        app = App(name="pgwidgets", guard=self._guard())

        async def page(request: Request) -> HTMLResponse:
            return HTMLResponse(
                self.connector_html(self._public_ws_url), headers={"cache-control": "no-store"}
            )

        async def favicon(request: Request) -> FileResponse:
            return FileResponse(self._favicon)

        for path in ("/", "/index.html", "/remote.html"):
            app.add_route("GET", path, page)

        async def font(request: Request) -> BytesResponse:
            fid = request.path_params["fid"]
            entry = self._fonts.get(int(fid)) if fid.isdigit() else None
            if entry is None:
                raise HTTPError(404, "no such font")
            return BytesResponse(
                entry[3], entry[4], headers={"cache-control": "public, max-age=31536000, immutable"}
            )

        for path in ("/favicon.svg", "/favicon.ico"):
            app.add_route("GET", path, favicon)
        app.add_route("GET", "/_pgwidgets/font/{fid}", font)
        app.mount("/", StaticFiles(self.static_path, index=None))
        return app

    async def start(self) -> None:
        """Start the WebSocket server (and HTTP server if enabled)."""
        if self._started:
            raise RuntimeError("application already started")
        self._stopped = asyncio.Event()
        if self._lock is None:
            self._lock = asyncio.Lock()
        try:
            same_port = self._use_http_server and self._ws_port == self._http_port and self._ws_port != 0
            if same_port:
                app = self._build_ws_app(self._build_http_app())
                server = _server(app, self._host, self._ws_port, "ws+http")
                self._servers.append(server)
                await server.start()
            else:
                ws = _server(self._build_ws_app(), self._host, self._ws_port, "ws")
                self._servers.append(ws)
                await ws.start()
                self._ws_port = ws.port
                if self._use_http_server:
                    http = _server(self._build_http_app(), self._host, self._http_port, "http")
                    self._servers.append(http)
                    await http.start()
                    self._http_port = http.port
        except BaseException:
            await self._stop_servers()
            raise
        self._started = True
        if self._host not in _LOOPBACK:
            self._logger.warning(
                "pgwidgets is listening on %s without TLS: put it behind a wss:// proxy to expose it",
                self._host,
            )
        self._logger.info("pgwidgets: WebSocket on %s, page at %s", self.ws_url, self.url)

    async def _stop_servers(self) -> None:
        servers, self._servers = self._servers, []
        for server in reversed(servers):
            await server.stop()

    async def close(self) -> None:
        """Close all sessions' browsers and shut the servers down; ``run()`` then returns."""
        conns = list(self._conns)
        if conns:  # 4003: the pages say so instead of reconnecting to a server that is gone
            await asyncio.gather(*(c.close(P.CLOSE_APP_GONE, "Application closed") for c in conns))
        for session in list(self._sessions.values()):
            for widget in list(session._widgets.values()):
                session._cancel_local(widget)
        await self._stop_servers()
        tasks = [t for t in self._tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        self._started = False
        if self._stopped is not None:
            self._stopped.set()

    async def run(self) -> None:
        """Start servers and run until close() or Ctrl-C."""
        await self.start()
        loop = asyncio.get_running_loop()
        installed = []
        assert self._stopped is not None
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._stopped.set)
                installed.append(sig)
        try:
            await self._stopped.wait()
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)
            if self._started:
                await self.close()

    # the WebSocket endpoint --------------------------------------------------------------------

    def _origin_ok(self, ws: WebSocket) -> bool:
        origin = ws.headers.get("origin")
        if not origin:
            return True  # not a browser
        host = ws.headers.get("host")
        if origin_allowed(origin, host, self._allowed_origins):
            return True
        parts = urlsplit(origin)
        if self._use_http_server and parts.port == self._http_port and host is not None:
            host_name = urlsplit(f"//{host}").hostname
            if parts.hostname == host_name:
                return True  # our own page (same host name, the HTTP port)
            if parts.hostname in _LOOPBACK and host_name in _LOOPBACK:
                return True
        return False

    async def _ws_endpoint(self, ws: WebSocket) -> None:
        if not self._origin_ok(ws):
            self._logger.warning("refused a WebSocket from foreign origin %r", ws.headers.get("origin"))
            await ws.close(403)
            return
        await ws.accept()
        conn = Connection(self, ws)
        self._conns.add(conn)
        session: Session | None = None
        reader: asyncio.Task[None] | None = None
        try:
            await ws.send(conn.protocol.start())
            try:
                data = await asyncio.wait_for(ws.receive(), self.handshake_timeout)
            except TimeoutError:
                await ws.close(P.CLOSE_PROTOCOL, "handshake timeout")
                return
            try:
                events = conn.protocol.receive(data)
            except ProtocolViolation as exc:
                self._logger.warning("refused a browser: %s", exc)
                await conn.close(P.CLOSE_PROTOCOL, str(exc)[:120])
                return
            ack = events[0] if events else None
            if not isinstance(ack, Ack):
                await conn.close(P.CLOSE_PROTOCOL, "handshake: expected the result of init")
                return
            target = self._lookup(ack)
            if target is _REFUSED:
                self._logger.warning("refused session %r: invalid credentials", ack.session_id)
                await conn.close(P.CLOSE_BAD_CREDENTIALS, "Invalid session credentials")
                return
            reader = conn.reader = asyncio.ensure_future(self._read_loop(conn))
            session = await self._admit(conn, target, reader, ack.token)
            if session is not None:
                await asyncio.wait({reader})
        except WebSocketDisconnect:
            pass
        finally:
            conn.mark_closed()
            if reader is not None and not reader.done():
                reader.cancel()
                await asyncio.wait({reader})
            if conn.close_request is not None and not ws.closed:
                await ws.close(*conn.close_request)
            conn.finished.set()
            self._conns.discard(conn)
            if session is not None:
                await self._detach(session, conn)

    def _lookup(self, ack: Ack) -> Session | None:
        """The session a browser's credentials name; None for a new one; _REFUSED if refused."""
        if ack.session_id is None:
            return None
        session = self._sessions.get(ack.session_id)
        if session is None:
            return None  # unknown (e.g. after a restart): a new session with a new id and token
        if not session._accepts(ack.token):
            return _REFUSED
        return session

    async def _admit(
        self, conn: Connection, target: Session | None, reader: asyncio.Task[None], presented: str | None
    ) -> Session | None:
        """Wait for a slot if needed, then join (and rebuild) or create the session."""
        needs_slot = target is None or not target._holds_slot
        if needs_slot:
            acquire = asyncio.ensure_future(self._slots.acquire())
            if not acquire.done():
                self._logger.info(
                    "browser waiting for a free session slot (max_sessions=%s)", self._max_sessions
                )
            await asyncio.wait({acquire, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not acquire.done() or reader.done():
                acquire.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await acquire
                if acquire.done() and not acquire.cancelled():
                    self._slots.release()
                return None
        if target is not None and target.closed:
            target = None
        session = target if target is not None else self.create_session()
        if needs_slot:
            if session._holds_slot:
                self._slots.release()  # another browser revived it meanwhile
            else:
                session._holds_slot = True
        token = session._issue_token(conn, presented if session is target else None)
        conn.enqueue(conn.protocol.accept(session.id, token))  # first in the queue
        self._greet(session, conn)
        fresh = target is None or target._build_state == "interrupted"
        if fresh:
            session.add_connection(conn)
        await conn.flush()  # on its own frame, before anything else
        if fresh:
            self._spawn(self._build(session))
        else:
            # attached and replayed in one step, so the session never looks browserless meanwhile
            replayed = session._start_replay(conn)
            await conn.flush()
            self._spawn(self._await_replay(session, replayed))
        return session

    async def _build(self, session: Session) -> None:
        """Run ``on_connect`` (under the concurrency lock). If the browser leaves in the middle,
        the half-built tree is dropped and the next browser gets a complete build."""
        handler = self._on_connect
        if handler is None:
            session._build_state = "built"
            return
        lock = self._lock_for(session)
        async with contextlib.AsyncExitStack() as stack:
            if lock is not None:
                await stack.enter_async_context(lock)
            for _attempt in range(3):
                session._build_state = "building"
                try:
                    await _call(handler, session)
                except BrowserDisconnected:
                    session._reset_tree()
                    session._build_state = "interrupted"
                    if not session.is_connected:
                        self._logger.info("session %r: the browser left during on_connect", session.id)
                        return
                    try:  # an empty tree: the remaining browsers start over
                        await session.reconstruct()
                    except BrowserDisconnected:  # the last one left too, before we noticed
                        if not session.is_connected:
                            self._logger.info("session %r: the browser left during on_connect", session.id)
                            return
                    continue
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._logger.error("Exception in on_connect handler", exc_info=True)
                session._build_state = "built"
                return

    def _expire(self, session: Session) -> None:
        if not session.is_connected and not session.closed:
            self._logger.info(
                "session %r had no browser for %ss: closing it", session.id, self.session_timeout
            )
            self._spawn(session.close())

    async def _await_replay(self, session: Session, replayed: asyncio.Future[Any]) -> None:
        timeout = self.request_timeout
        try:
            await asyncio.wait_for(replayed, timeout * 4 if timeout else None)
        except BrowserDisconnected:
            pass
        except Exception as exc:
            self._logger.warning("session %r: the rebuild did not finish: %s", session.id, exc)

    async def _read_loop(self, conn: Connection) -> None:
        ws = conn.websocket
        proto = conn.protocol
        try:
            while True:
                data = await ws.receive()
                try:
                    events = proto.receive(data)
                except ProtocolViolation as exc:
                    self._logger.warning("%r: %s; closing it", conn, exc)
                    await conn.close(P.CLOSE_PROTOCOL, str(exc)[:120])
                    return
                if conn.credential is not None and len(conn.credential.tokens) > 1 and conn.session:
                    conn.session._token_confirmed(conn)  # it speaks after session-info: it has the new token
                for event in events:
                    kind = type(event)
                    if kind is Reply:
                        conn.on_reply(event)  # type: ignore[arg-type]
                    elif kind is CallbackEvent and conn.session is not None:
                        conn.session._on_callback(event, conn)  # type: ignore[arg-type]
                    elif kind is Chunk and conn.session is not None:
                        conn.session._on_chunk(event, conn)  # type: ignore[arg-type]
                    elif kind is Ignored and not conn.warned:
                        conn.warned = True
                        self._logger.warning("%r: ignored a %s", conn, event.reason)  # type: ignore[union-attr]
        except (WebSocketDisconnect, asyncio.CancelledError):
            return
        finally:
            conn.mark_closed()

    async def _detach(self, session: Session, conn: Connection) -> None:
        session.remove_connection(conn)
        session._token_released(conn, self.token_lifetime)
        if not session.is_connected and session._holds_slot:
            session._holds_slot = False
            self._slots.release()
        if not session.is_connected and self.session_timeout is not None and not session.closed:
            session._expiry = asyncio.get_running_loop().call_later(
                self.session_timeout, self._expire, session
            )
        if self._on_disconnect is not None and not session.closed:
            try:
                await _call(self._on_disconnect, session)
            except Exception:
                self._logger.error("Exception in on_disconnect handler", exc_info=True)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]"
    return host


def _font_mime(data: bytes) -> str:
    head = data[:4]
    if head == b"wOF2":
        return "font/woff2"
    if head == b"wOFF":
        return "font/woff"
    if head == b"OTTO":
        return "font/otf"
    return "font/ttf"


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
