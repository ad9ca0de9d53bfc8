"""Routing, requests, responses and the application: wesktop's documented API on wirecore.

Everything HTTP is wirecore's: the compiled router, body reading with its size cap, JSON, the
response types, static files, 404/405/HEAD, errors and the two interfaces (ASGI 3 and RSGI).
This module only gives it wesktop's shape:

- :class:`Router` is a wirecore router with slashes ignored, whose handlers take a wesktop
  :class:`Request` (body already read, ``json`` a property) and may return any value;
- :func:`create_app` builds a :class:`WesktopApp`: a wirecore app plus wesktop's ASGI middleware
  classes, static directory, SPA fallback, and the Host/Origin guard of :mod:`wesktop.security`;
- :func:`add_ws_route` registers raw ASGI WebSocket handlers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from wirecore import (
    App,
    BytesResponse,
    HTMLResponse,
    HTTPError,
    JSONResponse,
    Response,
    TextResponse,
    codec,
)
from wirecore import Request as WireRequest
from wirecore import Router as WireRouter
from wirecore import StreamResponse as WireStreamResponse
from wirecore.datastructures import convert
from wirecore.requests import fill_asgi, rebase
from wirecore.routing import WEBSOCKET, Match, Route, is_async
from wirecore.staticfiles import StaticFiles, spa_fallback_handler

from ._bridge import AsgiWebSocketHandler, asgi_scope, asgi_websocket_endpoint
from .security import RequestGuard

if TYPE_CHECKING:
    from wirecore.responses import HeadersLike

__all__ = [
    "BytesResponse",
    "HTMLResponse",
    "HTTPError",
    "JSONResponse",
    "Request",
    "Response",
    "Router",
    "StreamResponse",
    "TextResponse",
    "WesktopApp",
    "add_ws_route",
    "create_app",
    "remove_ws_route",
]

logger = logging.getLogger("wesktop")

Handler = Callable[..., Any]
ASGIApp = Callable[[dict[str, Any], Any, Any], Any]

MiB = 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ORIGINAL = "_wesktop_handler"  # the user's function, kept on the WebSocket endpoint that wraps it


# responses ------------------------------------------------------------------------------------


class StreamResponse(WireStreamResponse):
    """Chunks from an async (or plain) generator of ``bytes`` or ``str``, sent as produced.

    wesktop's argument order: ``StreamResponse(generator, content_type, headers=None)``; the
    status is a keyword (``status=200``). The generator is closed as soon as the client leaves.
    """

    __slots__ = ()

    def __init__(
        self,
        generator: Any,
        content_type: str = "application/octet-stream",
        headers: HeadersLike = None,
        *,
        status: int = 200,
    ) -> None:
        super().__init__(generator, content_type, status, headers)


# requests -------------------------------------------------------------------------------------


class _Malformed:
    __slots__ = ("detail",)

    def __init__(self, detail: str) -> None:
        self.detail = detail


class Request(WireRequest):
    """One HTTP request, as a wesktop handler sees it: a :class:`wirecore.Request` whose body is
    already read (``body`` is bytes, not a coroutine) and whose ``json`` is a property.

    wirecore builds this class itself for wesktop's routes (the route says which class its
    handler takes), so a request costs one object, not a wirecore request wrapped in a wesktop
    one. ``Request(scope, path_params=None, body=None)`` builds one from an ASGI scope dict
    (handy in unit tests).
    """

    preread_body = _BODY_METHODS
    """The body is read before the handler runs: always for POST, PUT and PATCH, for other
    methods when the request declares one (``Content-Length`` or ``Transfer-Encoding``), capped
    by the app's ``max_body_size`` (413)."""

    __slots__ = ("_asgi", "_json", "_wire")

    _json: Any  # set on first access of ``json``
    _wire: WireRequest  # made on first access of ``wire``
    _asgi: dict[str, Any]  # the ASGI scope dict, once built (RSGI)

    def __init__(
        self, scope: dict[str, Any], path_params: dict[str, str] | None = None, body: bytes | None = None
    ) -> None:
        # no app and no transport: a hand-made request has no body to read but ``body``
        fill_asgi(self, None, scope, scope.get("method", "GET"), None)
        self.path_params = path_params if path_params is not None else {}
        if body is not None:
            self._body = body

    # wesktop's documented members ---------------------------------------------------------------

    @property  # type: ignore[override]  # wesktop's body is the bytes, read before the handler
    def body(self) -> bytes | None:
        """The raw body, read before the handler runs; ``None`` when the request carried none
        (a GET without ``Content-Length``)."""
        try:
            return self._body
        except AttributeError:
            return None

    @body.setter
    def body(self, value: bytes | None) -> None:
        if value is not None:
            self._body = value
        elif hasattr(self, "_body"):
            del self._body

    @property
    def scope(self) -> dict[str, Any]:
        """The ASGI scope dict. Under RSGI an equivalent dict is built on first access."""
        raw = self._scope
        if isinstance(raw, dict):
            return raw
        try:
            return self._asgi
        except AttributeError:
            self._asgi = asgi_scope(raw, "http")
            return self._asgi

    @property
    def body_size(self) -> int:
        """Length of the body in bytes (0 without one)."""
        body = self.body
        return len(body) if body is not None else 0

    @property  # wesktop's json: a property of the body already read
    def json(self) -> Any:
        """The body decoded as JSON (msgspec), decoded on first access and cached.

        ``None`` when there is no body (or an empty one). Malformed JSON raises
        :class:`~wirecore.HTTPError` 400, which answers the request with
        ``{"detail": "malformed JSON body: ..."}`` unless the handler catches it.
        """
        try:
            value = self._json
        except AttributeError:
            body = self.body
            if not body:
                value = None
            else:
                try:
                    value = codec.decode(body)
                except codec.DecodeError as exc:
                    value = _Malformed(f"malformed JSON body: {exc}")
            self._json = value
        if type(value) is _Malformed:
            raise HTTPError(400, value.detail)
        return value

    def query(  # wesktop's: blank is missing, the first value wins
        self, name: str, default: Any = None, type_: Callable[[str], Any] = str
    ) -> Any:
        """The first value of query parameter ``name`` converted by ``type_``.

        Missing or blank (``?x=``) gives ``default``. ``bool`` reads ``false``/``0``/``no``/``off``
        as False and ``true``/``1``/``yes``/``on`` as True. A value that does not convert
        answers 400 (raises :class:`~wirecore.HTTPError`).
        """
        values = self.query_params.getlist(name)
        if not values or not values[0]:
            return default
        try:
            return convert(values[0], type_)
        except (TypeError, ValueError):
            type_name = getattr(type_, "__name__", str(type_))
            raise HTTPError(400, f"query parameter {name!r} is not a valid {type_name}") from None

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        values = self.headers.getlist(name)
        return values[0] if values else default

    @property
    def wire(self) -> WireRequest:
        """The same request as a plain :class:`wirecore.Request` (``await body()``,
        ``await json()``), sharing its ``state``."""
        try:
            return self._wire
        except AttributeError:
            self.state  # noqa: B018 - made first, so that both share it
            self._wire = rebase(self, WireRequest)
            return self._wire

    def __repr__(self) -> str:
        return f"<wesktop.Request {self.method} {self.path}>"


def _result_response(result: Any) -> Response:
    """A wesktop handler's return value, when not a ``dict``, ``list`` or response: JSON, as
    wesktop always did (``None`` is ``null``, a ``str`` a JSON string)."""
    return JSONResponse(result)


def _ws_endpoint(path: str, handler: AsgiWebSocketHandler) -> Handler:
    if not callable(handler):
        raise TypeError(f"WebSocket handler for {path} is not callable: {handler!r}")
    if not is_async(handler):
        raise TypeError(f"WebSocket handler for {path} must be an async function (scope, receive, send)")
    endpoint = asgi_websocket_endpoint(handler)
    setattr(endpoint, _ORIGINAL, handler)
    return endpoint


# routing --------------------------------------------------------------------------------------


class Router(WireRouter):
    """wesktop's route table: wirecore's compiled router with leading, trailing and doubled
    slashes ignored.

    ``{param}`` segments capture one whole segment; for one method the first registered route
    that matches wins. Handlers take a :class:`Request`; ``async def`` handlers run on the event
    loop, plain ``def`` ones in a thread pool. WebSocket routes (:meth:`add_ws_route`,
    :meth:`websocket`) take raw ASGI handlers ``(scope, receive, send)``, like :func:`add_ws_route`,
    but belong to this router only.
    """

    shared_ws_routes: bool
    """Whether WebSocket paths this router does not know fall back to the routes registered
    with the module-level :func:`add_ws_route` (set by ``create_app(shared_ws_routes=...)``)."""

    def __init__(self) -> None:
        super().__init__(slashes="ignore")
        self.shared_ws_routes = True

    def add_route(self, method: str, path: str, handler: Handler, *, name: str | None = None) -> Route:
        """Register ``handler`` for ``method`` (any case) and ``path``.

        ``method`` ``"WEBSOCKET"`` registers a raw ASGI WebSocket handler.
        """
        if not callable(handler):
            raise TypeError(f"handler for {method} {path} is not callable: {handler!r}")
        original = getattr(handler, _ORIGINAL, handler)  # re-registering (include) never wraps twice
        if method.upper() == WEBSOCKET:
            return super().add_route(method, path, _ws_endpoint(path, original), name=name)
        # an HTTP handler is registered as it is: wirecore hands it a wesktop Request, with the
        # body read, and turns what it returns into a response the wesktop way
        route = super().add_route(method, path, original, name=name)
        route.request_class = Request
        route.convert = _result_response
        return route

    def add_ws_route(self, path: str, handler: AsgiWebSocketHandler) -> Route:
        """Register a raw ASGI WebSocket handler on this router (only apps using it see it)."""
        return self.add_route(WEBSOCKET, path, handler)

    def lookup(self, method: str, path: str) -> Match | None:
        match = _wire_lookup(self, method, path)
        if method == WEBSOCKET and (match is None or match.route is None) and self.shared_ws_routes:
            return _shared_ws.lookup(path)
        return match

    def match(self, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
        """``(handler, path_params)`` for ``method`` (any case) and ``path``, or ``None``."""
        found = self.lookup(method.upper(), path)
        if found is None or found.route is None:
            return None
        handler = found.route.handler
        return getattr(handler, _ORIGINAL, handler), dict(found.params)


_wire_lookup = WireRouter.lookup


class _SharedWebSocketRoutes:
    """The process-wide WebSocket routes of :func:`add_ws_route`, compiled into a router.

    Each change builds and compiles a new router and then publishes it with one assignment, so
    lookups (on any server thread) never see a half-made table.
    """

    def __init__(self) -> None:
        self._routes: dict[str, tuple[AsgiWebSocketHandler, Handler]] = {}
        self._router: WireRouter | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _key(path: str) -> str:
        return "/" + "/".join(p for p in path.split("/") if p)

    def add(self, path: str, handler: AsgiWebSocketHandler) -> None:
        endpoint = _ws_endpoint(path, handler)
        key = self._key(path)
        with self._lock:
            old = self._routes.get(key)
            if old is not None and old[0] is not handler:
                logger.warning("add_ws_route: %s was registered before; the new handler replaces it", key)
            self._routes[key] = (handler, endpoint)
            self._publish()

    def remove(self, path: str) -> bool:
        with self._lock:
            if self._routes.pop(self._key(path), None) is None:
                return False
            self._publish()
            return True

    def _publish(self) -> None:
        if not self._routes:
            self._router = None
            return
        router = WireRouter(slashes="ignore")
        for key, (_, endpoint) in self._routes.items():
            router.add_route(WEBSOCKET, key, endpoint)
        router.compile()
        self._router = router

    def lookup(self, path: str) -> Match | None:
        router = self._router
        return router.lookup(WEBSOCKET, path) if router is not None else None


_shared_ws = _SharedWebSocketRoutes()


def add_ws_route(path: str, handler: AsgiWebSocketHandler) -> None:
    """Register a raw ASGI WebSocket handler ``(scope, receive, send)`` for ``path``.

    The registration is process-wide, as wesktop always documented: every app made by
    :func:`create_app` sees it, whether registered before or after the app was made, unless the
    app was made with ``shared_ws_routes=False``. A route on the app's own router
    (:meth:`Router.add_ws_route`) takes precedence. ``{param}`` segments work (the values are in
    ``scope["path_params"]``); slashes are ignored as for HTTP routes. Registering a path again
    replaces its handler, with a warning in the log; :func:`remove_ws_route` removes one.
    """
    _shared_ws.add(path, handler)


def remove_ws_route(path: str) -> bool:
    """Remove a route registered with :func:`add_ws_route`; False if there was none."""
    return _shared_ws.remove(path)


# the app --------------------------------------------------------------------------------------


class WesktopApp(App):
    """A wirecore :class:`~wirecore.App` with wesktop's ASGI middleware and request guard.

    The guard (a :class:`~wirecore.security.RequestGuard`, see :mod:`wesktop.security`) is
    wirecore's: it runs first, before routing and every middleware, for HTTP requests and
    WebSocket upgrades on both interfaces.

    Without ASGI middleware the app speaks ASGI 3 and RSGI alike (``preferred_interface`` is
    ``"rsgi"``). ASGI middleware classes can only wrap the ASGI interface, so an app made with
    them is ASGI-only: ``preferred_interface`` is ``"asgi"`` (what :func:`wesktop.serve` uses),
    and served over RSGI anyway it answers 500 and logs why, rather than skip the middleware.
    """

    asgi_middleware: list[Callable[[Any], Any]]

    def __new__(cls, *args: Any, asgi_middleware: Sequence[Callable[[Any], Any]] = (), **options: Any) -> Any:
        # An app with ASGI middleware is a _MiddlewareApp, so one without pays for nothing.
        if asgi_middleware and cls is WesktopApp:
            cls = _MiddlewareApp
        return object.__new__(cls)

    def __init__(
        self,
        router: Router | WireRouter | None = None,
        *,
        asgi_middleware: Sequence[Callable[[Any], Any]] = (),
        **options: Any,
    ) -> None:
        super().__init__(router if router is not None else Router(), **options)
        self.asgi_middleware = list(asgi_middleware)

    @property
    def preferred_interface(self) -> str:
        """``"rsgi"``, or ``"asgi"`` when ASGI middleware must run."""
        return "asgi" if self.asgi_middleware else "rsgi"


class _MiddlewareApp(WesktopApp):
    """A :class:`WesktopApp` whose ASGI interface runs through ASGI middleware classes."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        app: Any = self._inner
        for mw in reversed(self.asgi_middleware):
            app = mw(app)
        self._asgi_app: ASGIApp = app
        self._rsgi_warned = False

    async def _inner(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await App.__call__(self, scope, receive, send)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        guard = self.guard
        kind = scope["type"]
        if guard is not None and kind in ("http", "websocket") and guard.check_asgi(scope) is not None:
            await App.__call__(self, scope, receive, send)  # refuses it, outside the middleware
            return
        await self._asgi_app(scope, receive, send)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._warn_rsgi()
        super().__rsgi_init__(loop)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        self._warn_rsgi()
        if scope.proto == "ws":
            proto.close(500)  # before the upgrade is accepted: refuse it with this HTTP status
        elif scope.proto == "http":
            proto.response_bytes(
                500, [("content-type", "application/json")], b'{"detail":"Internal Server Error"}'
            )

    def _warn_rsgi(self) -> None:
        if not self._rsgi_warned:
            self._rsgi_warned = True
            self.logger.error(
                "this app has ASGI middleware, which cannot run under RSGI: serve it with "
                "interface='asgi' (wesktop.serve does so by itself); every request answers 500"
            )


def _spa_fallback(app: App, index: str | os.PathLike[str]) -> Handler:
    """Serve ``index`` for unmatched GET/HEAD requests, but 405 for a path that has routes for
    other methods (a GET to a POST-only API route is a client error, not a page)."""
    serve_index = spa_fallback_handler(index)

    async def fallback(request: WireRequest) -> Response:
        match = app.router.lookup(request.method, request.path)
        if match is not None and match.allowed:
            raise HTTPError(405, headers={"allow": ", ".join(sorted(match.allowed))})
        return await serve_index(request)

    return fallback


def create_app(
    router: Router | None = None,
    middleware: Sequence[Callable[[Any], Any]] | None = None,
    static_dir: str | os.PathLike[str] | None = None,
    static_path: str = "/assets",
    spa_fallback: str | os.PathLike[str] | None = None,
    lifespan: Callable[[Any], Any] | None = None,
    name: str | None = None,
    *,
    allowed_hosts: Iterable[str] | None = None,
    allowed_origins: Iterable[str] = (),
    max_body_size: int | None = 16 * MiB,
    shared_ws_routes: bool = True,
    static_cache_control: str | None = "no-cache",
) -> WesktopApp:
    """The application for ``router``: an ASGI 3 callable that is also an RSGI app.

    :param router: the routes (looked up at request time, so routes added later count).
    :param middleware: ASGI middleware classes, each called as ``mw(app)``; the first is the
        outermost. An app with middleware is served over ASGI (see :class:`WesktopApp`).
    :param static_dir: a directory whose files are served under ``static_path`` (GET and HEAD;
        no dotfiles, nothing outside it, ETags and ``Cache-Control: static_cache_control``).
    :param static_path: the URL prefix of ``static_dir``.
    :param spa_fallback: an ``index.html`` served for every unmatched GET (a single-page app's
        client-side routes). Only that file is served this way.
    :param lifespan: ``lifespan(app)`` returning an async context manager entered at startup and
        exited at shutdown; if entering raises, the server does not start.
    :param name: the logger name for this app's errors (default ``"wesktop"``).
    :param allowed_hosts: Host names the app answers (default: loopback names; ``["*"]``: any).
    :param allowed_origins: other origins allowed to send state-changing requests and open
        WebSockets (default: only the app's own origin; ``["*"]``: any).
    :param max_body_size: larger request bodies answer 413 (``None``: no cap).
    :param shared_ws_routes: whether routes from the module-level :func:`add_ws_route` apply.
    """
    if router is None:
        router = Router()
    if isinstance(router, Router):
        router.shared_ws_routes = shared_ws_routes
    app = WesktopApp(
        router,
        asgi_middleware=tuple(middleware or ()),
        guard=RequestGuard(allowed_hosts, allowed_origins),
        lifespan=lifespan,
        max_body_size=max_body_size,
        name=name or "wesktop",
    )
    if static_dir is not None:
        app.mount(static_path, StaticFiles(static_dir, index=None, cache_control=static_cache_control))
    if spa_fallback is not None:
        app.fallback = _spa_fallback(app, spa_fallback)
    return app
