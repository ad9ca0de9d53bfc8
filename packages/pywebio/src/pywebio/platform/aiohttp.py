"""aiohttp backend (WebSocket): ``webio_handler`` to mount apps into an aiohttp application,
``static_routes`` for the front end's assets, and ``start_server``.

The protocol lives in :mod:`pywebio.platform.ws`; this module only moves frames.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

try:
    from aiohttp import WSMsgType, web
except ImportError as exc:  # pragma: no cover - exercised with sys.modules patched
    raise ImportError(
        "pywebio.platform.aiohttp needs aiohttp: install it with  pip install 'pywebio[aiohttp]'"
    ) from exc

from .. import STATIC_PATH
from ..utils import parse_file_size
from .page import render_page
from .remote_access import start_remote_access_service
from .utils import Applications, open_webbrowser_on_ready, print_listen_address, set_max_payload_size
from .ws import WebSocketHub

__all__ = ["HUB_KEY", "make_app", "start_server", "static_routes", "webio_handler"]

logger = logging.getLogger("pywebio")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HUB_KEY = web.AppKey("pywebio_hub", WebSocketHub)
"""``app[HUB_KEY]``: the sessions of a :func:`make_app` application."""


def _make_handler(
    hub: WebSocketHub, cdn: bool | str, max_msg_size: int, websocket_settings: Mapping[str, Any] | None
) -> Handler:
    settings = dict(websocket_settings or {})
    settings.setdefault("max_msg_size", max_msg_size)
    sockets: set[web.WebSocketResponse] = set()

    async def handler(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and not hub.origin_allowed(origin, request.host):
            logger.warning("request from origin %r refused (not same-site, not allowed)", origin)
            return web.Response(status=403, text="Cross origin websockets not allowed")
        ws = web.WebSocketResponse(**settings)
        if not ws.can_prepare(request).ok:
            if "test" in request.query:
                return web.Response(text="")
            page = render_page(hub.app_for(request.query.get("app", "index")), "ws", cdn)
            return web.Response(text=page, content_type="text/html", charset="utf-8")
        await ws.prepare(request)
        sockets.add(ws)
        try:
            await _run_connection(hub, ws, request)
        finally:
            sockets.discard(ws)
        return ws

    async def close_sockets(app: web.Application) -> None:
        """Server shutdown: end every session and socket (1001: going away)."""
        hub.close_all()
        for ws in list(sockets):
            await ws.close(code=1001)

    handler.hub = hub  # type: ignore[attr-defined]
    handler.close_sockets = close_sockets  # type: ignore[attr-defined]
    return handler


async def _run_connection(hub: WebSocketHub, ws: web.WebSocketResponse, request: web.Request) -> None:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop_thread = threading.get_ident()
    gone = False

    def wake() -> None:  # no self-pipe write when a coroutine session wakes us from the loop
        if threading.get_ident() == loop_thread:
            ready.set()
        else:
            loop.call_soon_threadsafe(ready.set)

    conn = hub.connect(
        request.query.get("app"),
        request.query.get("session"),
        request.headers,
        wake=wake,
        call_later=loop.call_later,
        user_ip=request.remote,
        request=request,
    )

    async def pump() -> None:
        while not conn.finished:
            await ready.wait()
            ready.clear()
            if gone or ws.closed:  # leave the commands queued in the session, for a reconnect
                return
            try:
                for frame in conn.outgoing():
                    await ws.send_str(frame)
            except (ConnectionError, RuntimeError) as exc:
                logger.debug("WebSocket write failed: %r", exc)
                return
        if not ws.closed:
            await ws.close(code=conn.close_code)

    writer = asyncio.ensure_future(pump())
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.receive(msg.data)
            elif msg.type == WSMsgType.ERROR:
                logger.info("WebSocket error: %r", ws.exception())
                break
    finally:
        gone = True
        conn.lost()
        ready.set()
        try:
            await asyncio.wait_for(writer, 5)
        except TimeoutError:  # wait_for has cancelled it
            logger.debug("the WebSocket writer did not end in time")
        except Exception as exc:  # a dropped transport, mostly
            logger.debug("WebSocket connection ended: %r", exc)


def webio_handler(
    applications: Applications,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    websocket_settings: Mapping[str, Any] | None = None,
) -> Handler:
    """An aiohttp request handler serving ``applications``: the page on GET, the session over
    WebSocket on the same URL (``app.router.add_get('/tool', handler)``). The page loads its
    assets relative to its URL: add :func:`static_routes` next to it.

    ``websocket_settings`` go to :class:`aiohttp.web.WebSocketResponse`; ``max_payload_size``
    becomes its ``max_msg_size``. Requests from a foreign ``Origin`` get a 403.
    """
    size = parse_file_size(max_payload_size)
    set_max_payload_size(size)
    hub = WebSocketHub(
        applications,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="aiohttp",
        max_message_size=size,
    )
    return _make_handler(hub, cdn, size, websocket_settings)


def static_routes(prefix: str = "/") -> list[web.AbstractRouteDef]:
    """Routes serving the front end's assets (``css/``, ``js/``, ...) under ``prefix``."""
    base = "/" + prefix.strip("/")
    if base != "/":
        base += "/"
    if not os.path.isdir(STATIC_PATH):
        logger.warning("the front end is missing (%s): pages will not load", STATIC_PATH)
        return []
    return [
        web.static(base + name, os.path.join(STATIC_PATH, name))
        for name in sorted(os.listdir(STATIC_PATH))
        if os.path.isdir(os.path.join(STATIC_PATH, name))
    ]


def make_app(
    applications: Applications,
    *,
    cdn: bool | str = True,
    static_dir: str | None = None,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    websocket_settings: Mapping[str, Any] | None = None,
    debug: bool = False,
) -> web.Application:
    """The aiohttp application of :func:`start_server`: the apps at ``/``, the assets next to
    them, ``static_dir`` at ``/static``; sessions are closed at shutdown."""
    size = parse_file_size(max_payload_size)
    set_max_payload_size(size)
    hub = WebSocketHub(
        applications,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="aiohttp",
        debug=debug,
        max_message_size=size,
    )
    handler = _make_handler(hub, cdn, size, websocket_settings)
    app = web.Application(client_max_size=size)
    app.router.add_get("/", handler)
    if static_dir is not None:
        if not os.path.isdir(static_dir):
            raise ValueError(f"static_dir {static_dir!r} is not a directory")
        app.router.add_static("/static", static_dir)
    app.add_routes(static_routes("/"))
    app.on_shutdown.append(handler.close_sockets)  # type: ignore[attr-defined]
    app[HUB_KEY] = hub
    return app


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
    websocket_settings: Mapping[str, Any] | None = None,
    **aiohttp_settings: Any,
) -> None:
    """Serve ``applications`` with aiohttp until interrupted; parameters as for the tornado
    ``start_server``, ``**aiohttp_settings`` go to :func:`aiohttp.web.run_app`."""
    app = make_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        max_payload_size=max_payload_size,
        websocket_settings=websocket_settings,
        debug=debug,
    )
    if debug:
        logging.getLogger("aiohttp").setLevel(logging.DEBUG)
    # bind first: port=0 is resolved before the startup line and the browser opener
    sock = socket.create_server((host or "0.0.0.0", port), reuse_port=False)
    port = sock.getsockname()[1]
    print_listen_address(host, port)
    if auto_open_webbrowser:
        open_webbrowser_on_ready(host, port)
    if remote_access:
        start_remote_access_service(port)
    loop = asyncio.new_event_loop()
    loop.set_debug(debug)
    aiohttp_settings.setdefault("print", None)
    web.run_app(app, sock=sock, loop=loop, **aiohttp_settings)
