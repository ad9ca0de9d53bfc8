"""FastAPI/Starlette backend (WebSocket): ``webio_routes`` for an existing app, ``asgi_app`` to
mount (its assets work at any mount path), ``start_server`` (uvicorn).

Built on Starlette alone, so it serves plain Starlette apps as well as FastAPI ones. The
protocol lives in :mod:`pywebio.platform.ws`; this module only moves frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

try:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, PlainTextResponse, Response
    from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket
except ImportError as exc:  # pragma: no cover - exercised with sys.modules patched
    raise ImportError(
        "pywebio.platform.fastapi needs starlette (or fastapi): install it with "
        " pip install 'pywebio[fastapi]'  (or 'pywebio[starlette]')"
    ) from exc

from .. import STATIC_PATH
from ..utils import get_free_port, parse_file_size
from .page import render_page
from .remote_access import start_remote_access_service
from .utils import Applications, open_webbrowser_on_ready, print_listen_address, set_max_payload_size
from .ws import WebSocketHub

__all__ = ["asgi_app", "start_server", "webio_routes"]

logger = logging.getLogger("pywebio")

ASSETS_PREFIX = "pywebio_static"


def _routes(hub: WebSocketHub, cdn: bool | str, base: str) -> list[BaseRoute]:
    def refused(origin: str | None, host: str | None) -> bool:
        if hub.origin_allowed(origin, host):
            return False
        logger.warning("request from origin %r refused (not same-site, not allowed)", origin)
        return True

    async def page(request: Request) -> Response:
        if refused(request.headers.get("origin"), request.headers.get("host")):
            return PlainTextResponse("Cross origin requests not allowed", status_code=403)
        if "test" in request.query_params:
            return PlainTextResponse("")
        return HTMLResponse(
            render_page(hub.app_for(request.query_params.get("app", "index")), "ws", cdn, base=base)
        )

    async def channel(ws: WebSocket) -> None:
        if refused(ws.headers.get("origin"), ws.headers.get("host")):
            await ws.close(code=1008)  # before accept(): the upgrade is refused with 403
            return
        await ws.accept()
        await _run_connection(hub, ws)

    return [Route("/", page, methods=["GET"]), WebSocketRoute("/", channel)]


async def _run_connection(hub: WebSocketHub, ws: WebSocket) -> None:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop_thread = threading.get_ident()
    gone = False

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
        user_ip=ws.client.host if ws.client else None,
        request=ws,
    )

    async def pump() -> None:
        while not conn.finished:
            await ready.wait()
            ready.clear()
            if gone:  # leave the commands queued in the session, for a reconnect
                return
            try:
                for frame in conn.outgoing():
                    await ws.send_text(frame)
            except Exception as exc:  # the socket went away under us
                logger.debug("WebSocket write failed: %r", exc)
                return
        if not gone:
            with contextlib.suppress(Exception):
                await ws.close(code=conn.close_code)

    writer = asyncio.ensure_future(pump())
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            data = text if text is not None else message.get("bytes")
            if data is not None:
                conn.receive(data)
    except Exception as exc:  # a dropped transport
        logger.debug("WebSocket read ended: %r", exc)
    finally:
        gone = True
        conn.lost()
        ready.set()
        try:
            await asyncio.wait_for(writer, 5)
        except TimeoutError:  # wait_for has cancelled it
            logger.debug("the WebSocket writer did not end in time")


def _hub(
    applications: Applications,
    reconnect_timeout: float,
    allowed_origins: Iterable[str] | None,
    check_origin: Callable[[str], bool] | None,
    debug: bool = False,
    max_message_size: int | None = None,
) -> WebSocketHub:
    return WebSocketHub(
        applications,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="starlette",  # info.backend, as documented
        debug=debug,
        max_message_size=max_message_size,
    )


def webio_routes(
    applications: Applications,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> list[BaseRoute]:
    """``[Route('/'), WebSocketRoute('/')]`` serving ``applications`` (the page, and the session
    over WebSocket): give them to ``Starlette(routes=...)``/``FastAPI(routes=...)`` or mount
    them. The page loads its assets relative to its URL: serve ``pywebio.STATIC_PATH`` there, or
    use :func:`asgi_app`."""
    hub = _hub(applications, reconnect_timeout, allowed_origins, check_origin)
    return _routes(hub, cdn, "")


def make_app(
    applications: Applications,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    static_dir: str | None = None,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str | None = None,
) -> Starlette:
    """:func:`asgi_app` with a message size limit (``max_payload_size``, also give it to the
    server: uvicorn's ``ws_max_size``)."""
    size = parse_file_size(max_payload_size) if max_payload_size is not None else None
    if size is not None:
        set_max_payload_size(size)
    hub = _hub(applications, reconnect_timeout, allowed_origins, check_origin, debug, size)
    routes = _routes(hub, cdn, ASSETS_PREFIX + "/")
    if os.path.isdir(STATIC_PATH):
        routes.append(Mount("/" + ASSETS_PREFIX, app=StaticFiles(directory=STATIC_PATH)))
    else:
        logger.warning("the front end is missing (%s): pages will not load", STATIC_PATH)
    if static_dir is not None:
        if not os.path.isdir(static_dir):
            raise ValueError(f"static_dir {static_dir!r} is not a directory")
        routes.append(Mount("/static", app=StaticFiles(directory=static_dir)))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        hub.close_all()

    app = Starlette(debug=debug, routes=routes, lifespan=lifespan)
    app.state.pywebio_hub = hub
    return app


def asgi_app(
    applications: Applications,
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    static_dir: str | None = None,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> Starlette:
    """A Starlette ASGI app serving ``applications`` at its root, the front end's assets at
    ``pywebio_static/`` and ``static_dir`` at ``static/``; mount it anywhere
    (``app.mount('/tool', asgi_app(main))``)."""
    return make_app(
        applications,
        cdn=cdn,
        reconnect_timeout=reconnect_timeout,
        static_dir=static_dir,
        debug=debug,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
    )


def start_server(
    applications: Applications,
    port: int = 0,
    host: str = "",
    cdn: bool | str = True,
    reconnect_timeout: float = 0,
    static_dir: str | None = None,
    remote_access: bool = False,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    auto_open_webbrowser: bool = False,
    max_payload_size: int | str = "200M",
    **uvicorn_settings: Any,
) -> None:
    """Serve ``applications`` with uvicorn until interrupted; parameters as for the tornado
    ``start_server``, ``**uvicorn_settings`` go to :func:`uvicorn.run`."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "pywebio.platform.fastapi.start_server needs uvicorn: install it with "
            " pip install 'pywebio[fastapi]'"
        ) from exc
    app = make_app(
        applications,
        cdn=cdn,
        reconnect_timeout=reconnect_timeout,
        static_dir=static_dir,
        debug=debug,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        max_payload_size=max_payload_size,
    )
    bind = host or "0.0.0.0"
    if port == 0:
        port = get_free_port(bind)
    print_listen_address(host, port)
    if auto_open_webbrowser:
        open_webbrowser_on_ready(host, port)
    if remote_access:
        start_remote_access_service(port)
    uvicorn_settings.setdefault("ws_max_size", parse_file_size(max_payload_size))
    uvicorn_settings.setdefault("log_level", "debug" if debug else "warning")
    uvicorn.run(app, host=bind, port=port, **uvicorn_settings)
