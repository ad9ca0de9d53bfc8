"""wirecore backend: PyWebIO apps on the project's own core, served by granian.

``wirecore_app(...)`` returns a :class:`wirecore.App` (ASGI and RSGI) serving the apps at ``/``;
``add_webio_routes(app, applications, "/tool/")`` adds them to an existing wirecore App at any
path; ``start_server(...)`` serves them (same signature as the tornado one, with granian options
in place of tornado settings). The protocol lives in :mod:`pywebio.platform.ws`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from wirecore import (
    App,
    HTMLResponse,
    Request,
    StaticFiles,
    TextResponse,
    WebSocket,
    WebSocketDisconnect,
    serve,
)

from .. import STATIC_PATH
from ..utils import get_free_port, parse_file_size
from .page import render_page
from .remote_access import start_remote_access_service
from .utils import Applications, open_webbrowser_on_ready, print_listen_address, set_max_payload_size
from .ws import WebSocketHub

__all__ = ["add_webio_routes", "start_server", "webio_app", "wirecore_app"]

logger = logging.getLogger("pywebio")


@dataclass(frozen=True)
class UpgradeRequest:
    """``info.request`` on this backend: the WebSocket upgrade request's data.

    A snapshot rather than the live socket, so a session that outlives its connection (reconnect,
    references kept by the app) never keeps a closed connection's transport alive.
    """

    path: str
    query_string: str
    headers: Any
    client: tuple[str, int] | None


def add_webio_routes(
    app: App,
    applications: Applications,
    path: str = "/",
    *,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    debug: bool = False,
    assets: bool = True,
) -> WebSocketHub:
    """Serve ``applications`` at ``path`` of an existing wirecore ``app``: the page (GET) and the
    session channel (WebSocket) there, the front end's assets under it (``assets=False`` to
    serve them yourself). Returns the hub that holds the sessions (closed at app shutdown)."""
    hub = WebSocketHub(
        applications,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="wirecore",
        debug=debug,
        max_message_size=app.max_message_size,
    )
    prefix = "/" + path.strip("/")
    base = "" if prefix == "/" or path.endswith("/") else prefix + "/"

    async def page(request: Request) -> Any:
        if request.query("test") is not None:
            return TextResponse("")
        return HTMLResponse(render_page(hub.app_for(request.query("app", "index")), "ws", cdn, base=base))

    async def channel(ws: WebSocket) -> None:
        headers = ws.headers
        origin = headers.get("origin")
        if not hub.origin_allowed(origin, headers.get("host")):
            logger.warning("WebSocket from origin %r refused (not same-site, not allowed)", origin)
            await ws.close(1008)  # before accept(): the upgrade is refused with 403
            return
        await ws.accept()
        await _run_connection(hub, ws)

    app.add_route("GET", path, page)
    app.add_websocket_route(path, channel)
    if assets:
        if os.path.isdir(STATIC_PATH):
            app.mount(prefix, StaticFiles(STATIC_PATH))
        else:
            logger.warning("the front end is missing (%s): pages will not load", STATIC_PATH)
    app.on_shutdown.append(hub.close_all)
    return hub


async def _run_connection(hub: WebSocketHub, ws: WebSocket) -> None:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()

    loop_thread = threading.get_ident()

    def wake() -> None:  # no self-pipe write when a coroutine session wakes us from the loop
        if threading.get_ident() == loop_thread:
            ready.set()
        else:
            loop.call_soon_threadsafe(ready.set)

    query = ws.query_params
    conn = hub.connect(
        query.get("app"),
        query.get("session"),
        ws.headers,
        wake=wake,
        call_later=loop.call_later,
        user_ip=ws.client[0] if ws.client else None,
        request=UpgradeRequest(ws.path, ws.query_string, ws.headers, ws.client),
    )

    async def pump() -> None:
        while not conn.finished:
            await ready.wait()
            ready.clear()
            if ws.closed:  # leave the commands queued in the session, for a reconnect
                return
            for frame in conn.outgoing():
                await ws.send(frame)

    async def read() -> None:
        async for data in ws:
            conn.receive(data)

    # No task is cancelled here: a cancelled task's traceback would keep this socket alive in a
    # reference cycle, and granian ends the TCP connection only when the socket is freed.
    writer = asyncio.ensure_future(pump())
    reader = asyncio.ensure_future(read())
    try:
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # server shutdown
        writer.cancel()
        reader.cancel()
        conn.lost()
        raise
    conn.lost()
    ready.set()
    await ws.close(conn.close_code)
    _, pending = await asyncio.wait({writer, reader}, timeout=5)
    for task in pending:  # a transport that never reports its close: give up on it
        task.cancel()
    for task in (writer, reader):
        exc = None if task.cancelled() else task.exception()
        if exc is not None and not isinstance(exc, WebSocketDisconnect):
            logger.debug("WebSocket connection ended: %r", exc)  # a dropped transport, mostly
    writer = reader = None  # type: ignore[assignment]


def wirecore_app(
    applications: Applications,
    cdn: bool | str = True,
    static_dir: str | None = None,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    debug: bool = False,
) -> App:
    """A wirecore :class:`~wirecore.App` serving ``applications``: the page and WebSocket at
    ``/``, the front end's assets next to it, ``static_dir`` at ``/static/``."""
    size = parse_file_size(max_payload_size)
    set_max_payload_size(size)
    app = App(max_message_size=size, max_body_size=size, name="pywebio")
    if static_dir is not None:
        if not os.path.isdir(static_dir):
            raise ValueError(f"static_dir {static_dir!r} is not a directory")
        app.mount("/static", StaticFiles(static_dir))
    hub = add_webio_routes(
        app,
        applications,
        "/",
        cdn=cdn,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        debug=debug,
    )
    app.state["pywebio_hub"] = hub
    return app


webio_app = wirecore_app


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
    **granian_options: Any,
) -> None:
    """Serve ``applications`` on granian until interrupted; the parameters are those of the
    tornado ``start_server`` (``**granian_options`` go to the granian server)."""
    app = wirecore_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        max_payload_size=max_payload_size,
        debug=debug,
    )
    bind = host or "0.0.0.0"
    if port == 0:
        port = get_free_port(bind)
    print_listen_address(host, port)
    if auto_open_webbrowser:
        open_webbrowser_on_ready(host, port)
    if remote_access:
        start_remote_access_service(port)
    serve(app, bind, port, name="pywebio", **granian_options)
