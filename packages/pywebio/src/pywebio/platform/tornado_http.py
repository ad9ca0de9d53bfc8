"""Tornado backend over the HTTP short-polling transport: ``start_server`` and ``webio_handler``.

The protocol lives in :mod:`pywebio.platform.http`; this module only moves requests.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web

from .. import STATIC_PATH
from ..utils import parse_file_size
from .http import HttpHub
from .page import render_page
from .utils import (
    Applications,
    set_max_payload_size,
)

__all__ = ["WebIOHttpHandler", "make_app", "start_server", "webio_handler"]

logger = logging.getLogger("pywebio")

DRAIN_LIMIT = 1 << 20
"""Excess bytes of an oversized body read and dropped before answering 413 (beyond: the
connection is closed at once)."""


@tornado.web.stream_request_body
class WebIOHttpHandler(tornado.web.RequestHandler):
    """GET/POST/OPTIONS on the app URL, answered by :meth:`session_hub` (an
    :class:`~pywebio.platform.http.HttpHub`). Bodies are streamed so an oversized one is refused
    with 413 instead of being buffered."""

    cdn: bool | str = True
    page_base: str = ""

    def session_hub(self) -> HttpHub:
        raise NotImplementedError

    def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_big = False
        limit = self.session_hub().max_payload_size
        if limit is None:
            return
        connection: Any = self.request.connection
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            logger.warning("a %s-byte request exceeds the limit of %d bytes: 413", length, limit)
            self._too_big = True
            if int(length) - limit <= DRAIN_LIMIT:
                # read and drop the rest, so the client sees the 413 rather than a reset
                connection.set_max_body_size(int(length))
                return
            self.set_status(413)
            self.finish("payload too large")
            return
        connection.set_max_body_size(limit)

    def data_received(self, chunk: bytes) -> None:
        if self._too_big:
            return
        self._size += len(chunk)
        limit = self.session_hub().max_payload_size
        if limit is not None and self._size > limit:
            self._too_big = True
            self._chunks.clear()
            return
        self._chunks.append(chunk)

    async def _serve(self) -> None:
        if self._too_big:
            self.set_status(413)
            self.finish("payload too large")
            return
        hub = self.session_hub()
        query = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        ex = hub.exchange(
            self.request.method or "GET",
            query,
            self.request.headers,
            b"".join(self._chunks),
            user_ip=self.request.remote_ip,
            request=self.request,
        )
        if ex.pause > 0:
            await asyncio.sleep(ex.pause)
        if ex.kind == "page":
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(render_page(hub.app_for(ex.app_name), "http", self.cdn, base=self.page_base))
            return
        response = ex.respond()
        self.set_status(response.status)
        for name, value in response.headers.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")
        self.finish(response.body)

    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self._serve()

    async def post(self, *args: Any, **kwargs: Any) -> None:
        await self._serve()

    async def options(self, *args: Any, **kwargs: Any) -> None:
        await self._serve()


def _handler_class(hub: HttpHub, cdn: bool | str) -> type[WebIOHttpHandler]:
    class WebIOHandler(WebIOHttpHandler):
        def session_hub(self) -> HttpHub:
            return hub

    WebIOHandler.cdn = cdn
    return WebIOHandler


def webio_handler(
    applications: Applications,
    cdn: bool | str = True,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> type[tornado.web.RequestHandler]:
    """A Tornado ``RequestHandler`` class serving ``applications`` over HTTP polling: the page on
    a plain GET, the session on the same URL. Serve the front end (``pywebio.STATIC_PATH``) next
    to it."""
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
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
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    max_payload_size: int | str = "200M",
    debug: bool = False,
    **tornado_app_settings: Any,
) -> tuple[tornado.web.Application, HttpHub]:
    """The Tornado application of :func:`start_server` and the hub holding its sessions."""
    limit = parse_file_size(max_payload_size)
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="tornado",
        debug=debug,
        max_payload_size=limit,
    )
    handlers: list[Any] = [(r"/", _handler_class(hub, cdn))]
    if static_dir is not None:
        if not os.path.isdir(static_dir):
            raise ValueError(f"static_dir {static_dir!r} is not a directory")
        handlers.append((r"/static/(.*)", tornado.web.StaticFileHandler, {"path": static_dir}))
    handlers.append(
        (r"/(.*)", tornado.web.StaticFileHandler, {"path": STATIC_PATH, "default_filename": "index.html"})
    )
    set_max_payload_size(limit)
    settings: dict[str, Any] = {"debug": debug}
    settings.update(tornado_app_settings)
    return tornado.web.Application(handlers, **settings), hub


def start_server(
    applications: Applications,
    port: int = 8080,
    host: str = "",
    debug: bool = False,
    cdn: bool | str = True,
    static_dir: str | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    auto_open_webbrowser: bool = False,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    max_payload_size: int | str = "200M",
    **tornado_app_settings: Any,
) -> None:
    """Serve ``applications`` with Tornado over HTTP polling until interrupted."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("start_server() blocks: call it outside a running event loop")
    asyncio.set_event_loop(asyncio.new_event_loop())
    app, hub = make_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        max_payload_size=max_payload_size,
        debug=debug,
        **tornado_app_settings,
    )
    from .tornado import serve_app

    serve_app(app, hub.close_all, port, host, max_payload_size, auto_open_webbrowser=auto_open_webbrowser)
