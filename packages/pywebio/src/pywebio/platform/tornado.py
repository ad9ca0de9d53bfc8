"""Tornado backend (WebSocket): ``start_server`` (``from pywebio import start_server``) and
``webio_handler`` for mounting apps into an existing Tornado application.

The protocol lives in :mod:`pywebio.platform.ws`; this module only moves frames.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.iostream
import tornado.netutil
import tornado.web
import tornado.websocket

from .. import STATIC_PATH
from ..utils import parse_file_size
from .page import render_page
from .remote_access import start_remote_access_service
from .utils import (
    Applications,
    open_webbrowser_on_ready,
    print_listen_address,
    set_max_payload_size,
    tornado_server_limits,
)
from .ws import WebSocketConnection, WebSocketHub

__all__ = ["ServerThread", "WebIOSocketHandler", "start_server", "start_server_in_thread", "webio_handler"]

logger = logging.getLogger("pywebio")


class WebIOSocketHandler(tornado.websocket.WebSocketHandler):
    """The WebSocket half of a PyWebIO handler: moves frames between the socket and the
    connection of :meth:`session_hub` (a :class:`~pywebio.platform.ws.WebSocketHub`)."""

    conn: WebSocketConnection | None = None

    def session_hub(self) -> WebSocketHub:
        raise NotImplementedError

    def open(self, *args: Any, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()

        def flush() -> None:
            conn = self.conn
            if conn is None or self.ws_connection is None or self.ws_connection.is_closing():
                return  # commands stay queued in the session (replayed on reconnect)
            frames = conn.outgoing()
            if frames:
                try:
                    self._write_frames(frames)
                except (tornado.websocket.WebSocketClosedError, tornado.iostream.StreamClosedError):
                    pass
            if conn.finished and self.ws_connection is not None:
                self.close(conn.close_code)

        loop_thread = threading.get_ident()

        def wake() -> None:  # no self-pipe write when a coroutine session wakes us from the loop
            if threading.get_ident() == loop_thread:
                loop.call_soon(flush)
            else:
                loop.call_soon_threadsafe(flush)

        self.conn = self.session_hub().connect(
            self.get_query_argument("app", "index"),
            self.get_query_argument("session", None),
            self.request.headers,
            wake=wake,
            call_later=loop.call_later,
            user_ip=self.request.remote_ip,
            request=self.request,
        )

    def _write_frames(self, frames: list[str]) -> None:
        """Write text frames, several in one stream write.

        ``write_message`` costs a task and a socket write per frame; a batch of commands is one
        write here. With permessage-deflate (off unless ``get_compression_options`` is
        overridden) or an unexpected protocol object, frames go through ``write_message``.
        """
        proto = self.ws_connection
        stream = getattr(proto, "stream", None)
        if len(frames) == 1 or stream is None or getattr(proto, "_compressor", True) is not None:
            for frame in frames:
                self.write_message(frame)
            return
        out = bytearray()
        for frame in frames:
            data = frame.encode()
            n = len(data)
            if n < 126:
                out += bytes((0x81, n))
            elif n <= 0xFFFF:
                out += bytes((0x81, 126)) + n.to_bytes(2, "big")
            else:
                out += bytes((0x81, 127)) + n.to_bytes(8, "big")
            out += data
        stream.write(bytes(out))

    def on_message(self, message: str | bytes) -> None:
        if self.conn is not None:
            self.conn.receive(message)

    def on_close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.lost()


def _handler_class(hub: WebSocketHub, cdn: bool | str) -> type[tornado.websocket.WebSocketHandler]:
    class WebIOHandler(WebIOSocketHandler):
        """GET without Upgrade: the page; upgrade: the session's WebSocket."""

        def session_hub(self) -> WebSocketHub:
            return hub

        def check_origin(self, origin: str) -> bool:
            ok = hub.origin_allowed(origin, self.request.headers.get("Host"))
            if not ok:
                logger.warning("WebSocket from origin %r refused (not same-site, not allowed)", origin)
            return ok

        async def get(self, *args: Any, **kwargs: Any) -> None:
            if self.request.headers.get("Upgrade", "").lower() != "websocket":
                if self.get_query_argument("test", None) is not None:
                    self.finish("")
                    return
                app = hub.app_for(self.get_query_argument("app", "index"))
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(render_page(app, "ws", cdn))
                return
            await super().get(*args, **kwargs)

    return WebIOHandler


def webio_handler(
    applications: Applications,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> type[tornado.websocket.WebSocketHandler]:
    """A Tornado ``RequestHandler`` class serving ``applications``: the page on GET, the session
    over WebSocket on the same URL. Serve the front end (``pywebio.STATIC_PATH``) next to it."""
    hub = WebSocketHub(
        applications,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="tornado",
    )
    handler = _handler_class(hub, cdn)
    handler.hub = hub  # type: ignore[attr-defined]
    return handler


def make_app(
    applications: Applications,
    *,
    cdn: bool | str = True,
    static_dir: str | None = None,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    debug: bool = False,
    hub: WebSocketHub | None = None,
    **tornado_app_settings: Any,
) -> tuple[tornado.web.Application, WebSocketHub]:
    """The Tornado application of :func:`start_server` and the hub holding its sessions (or
    serving ``hub`` when given)."""
    if hub is None:
        hub = WebSocketHub(
            applications,
            reconnect_timeout=reconnect_timeout,
            allowed_origins=allowed_origins,
            check_origin=check_origin,
            backend="tornado",
            debug=debug,
            max_message_size=parse_file_size(max_payload_size),
        )
    handlers: list[Any] = [(r"/", _handler_class(hub, cdn))]
    if static_dir is not None:
        if not os.path.isdir(static_dir):
            raise ValueError(f"static_dir {static_dir!r} is not a directory")
        handlers.append((r"/static/(.*)", tornado.web.StaticFileHandler, {"path": static_dir}))
    handlers.append(
        (r"/(.*)", tornado.web.StaticFileHandler, {"path": STATIC_PATH, "default_filename": "index.html"})
    )
    set_max_payload_size(parse_file_size(max_payload_size))
    settings: dict[str, Any] = {
        "websocket_max_message_size": parse_file_size(max_payload_size),
        "websocket_ping_interval": 30,  # keeps idle sessions alive through proxies
        "debug": debug,
    }
    settings.update(tornado_app_settings)
    return tornado.web.Application(handlers, **settings), hub


def start_server(
    applications: Applications,
    port: int = 0,
    host: str = "",
    debug: bool = False,
    cdn: bool | str = True,
    static_dir: str | None = None,
    remote_access: bool = False,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    auto_open_webbrowser: bool = False,
    max_payload_size: int | str = "200M",
    **tornado_app_settings: Any,
) -> None:
    """Serve ``applications`` with Tornado until interrupted (see the module docs of the
    original: every documented parameter is supported; ``port=0`` picks a free port, ``cdn`` is
    accepted but assets are always served locally unless it is a URL string)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("start_server() blocks: call it outside a running event loop")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # before the app: debug autoreload binds to the current loop
    app, hub = make_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        max_payload_size=max_payload_size,
        debug=debug,
        **tornado_app_settings,
    )
    serve_app(
        app, hub.close_all, port, host, max_payload_size,
        auto_open_webbrowser=auto_open_webbrowser, remote_access=remote_access,
    )  # fmt: skip


def serve_app(
    app: tornado.web.Application,
    close_sessions: Callable[[], None],
    port: int,
    host: str,
    max_payload_size: int | str,
    *,
    auto_open_webbrowser: bool = False,
    remote_access: bool = False,
) -> None:
    """Listen on host:port (0: a free port), print the address and run the current loop until
    interrupted; then close every session and the server. Shared by the blocking Tornado
    servers (WebSocket, HTTP polling, path_deploy)."""
    sockets = tornado.netutil.bind_sockets(port, address=host or None)
    server = tornado.httpserver.HTTPServer(app, **tornado_server_limits(parse_file_size(max_payload_size)))
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    print_listen_address(host, port)
    if auto_open_webbrowser:
        open_webbrowser_on_ready(host, port)
    if remote_access:
        start_remote_access_service(port)
    try:
        tornado.ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        pass
    finally:
        close_sessions()
        server.stop()


class ServerThread:
    """A Tornado server for ``applications`` running in a background thread (tests, embedding).

    ``start()`` returns once the port accepts connections; ``port``/``url`` are then set;
    ``stop()`` closes every session and the server.
    """

    def __init__(
        self,
        applications: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        factory: Callable[..., tuple[tornado.web.Application, Any]] | None = None,
        **options: Any,
    ) -> None:
        self.applications = applications
        self.factory = factory or make_app
        self.host = host
        self.port = port
        self.options = options
        self.hub: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self, timeout: float = 10) -> ServerThread:
        self._thread = threading.Thread(target=self._run, daemon=True, name="pywebio-tornado")
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the tornado server did not start")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            options = dict(self.options)
            payload = options.get("max_payload_size", "200M")
            app, self.hub = self.factory(self.applications, **options)
            sockets = tornado.netutil.bind_sockets(self.port, address=self.host)
            server = tornado.httpserver.HTTPServer(app, **tornado_server_limits(parse_file_size(payload)))
            server.add_sockets(sockets)
            self.port = sockets[0].getsockname()[1]
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self.hub.close_all()
            server.stop()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

    def stop(self, timeout: float = 5) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server_in_thread(
    applications: Applications, host: str = "127.0.0.1", port: int = 0, **options: Any
) -> ServerThread:
    """Start :class:`ServerThread` and return it (already accepting connections)."""
    return ServerThread(applications, host, port, **options).start()
