"""The application object: one route table served identically over ASGI 3 and RSGI.

``App`` is an ASGI callable (``app(scope, receive, send)``) and an RSGI application
(``app.__rsgi__(scope, protocol)``) at once; granian picks the interface it is told to use and
both give the same answers. Handlers take a :class:`~wirecore.Request` (HTTP) or a
:class:`~wirecore.WebSocket`; plain ``def`` handlers run in a thread pool so they never block
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from ._transport import AsgiTransport, RsgiTransport, Transport
from .codec import encode
from .exceptions import ClientDisconnected, HTTPError, WebSocketDisconnect
from .fanout import has_remote_hubs, start_remote_hubs
from .requests import Request, asgi_request, read_body, rebase, rsgi_request
from .responses import JSONResponse, RedirectResponse, Response, to_response
from .routing import WEBSOCKET, Handler, Match, Route, Router, SlashPolicy, run_sync
from .security import SAFE_METHODS, RequestGuard
from .websockets import AsgiWebSocket, RsgiWebSocket, WebSocket

__all__ = ["App", "Middleware", "Mount"]

logger = logging.getLogger("wirecore")

CallNext = Callable[[Request], Awaitable[Response]]
Middleware = Callable[[Request, CallNext], Awaitable[Response]]
"""``async def mw(request, call_next) -> Response``: runs around every HTTP handler."""
Lifespan = Callable[["App"], contextlib.AbstractAsyncContextManager[Any]]

MiB = 1024 * 1024
_JSON_HEADERS = [("content-type", "application/json")]  # read-only: shared by every fast reply
_JSON_RAW_HEADERS = ((b"content-type", b"application/json"),)
_GONE = Response(b"", 499)  # marker: the client disconnected, send nothing


class Mount:
    """Something that answers every path under a prefix (static files, a sub-app)."""

    async def handle(self, request: Request, subpath: str) -> Response:
        raise NotImplementedError


class App:
    """A web application.

    :param router: an existing :class:`Router` (a new one is made otherwise).
    :param middleware: ``async def mw(request, call_next)`` callables, outermost first.
    :param lifespan: ``lifespan(app)`` returning an async context manager, entered before the
        first request and exited at shutdown; if entering raises, the server does not start.
    :param max_body_size: request bodies larger than this are refused with 413 (``None``: no cap).
    :param max_message_size: incoming WebSocket messages larger than this close the socket with 1009.
    :param ws_idle_timeout: close a WebSocket whose peer sent nothing for this many seconds.
    :param slashes: trailing-slash policy for a new router (see :data:`~wirecore.routing.SlashPolicy`).
    :param name: the logger name used for this app's errors.
    :param guard: a :class:`~wirecore.security.RequestGuard` (Host allowlist, Origin check) run
        before anything else for every HTTP request and WebSocket upgrade; refusals answer 403
        (HTTP) or close the socket with 1008, and are logged. ``None``: no checks.
    """

    def __init__(
        self,
        router: Router | None = None,
        *,
        middleware: Sequence[Middleware] = (),
        lifespan: Lifespan | None = None,
        max_body_size: int | None = 16 * MiB,
        max_message_size: int | None = 4 * MiB,
        ws_idle_timeout: float | None = None,
        slashes: SlashPolicy = "strict",
        name: str = "wirecore",
        guard: RequestGuard | None = None,
    ) -> None:
        self.guard = guard if guard is not None and not guard.disabled else None
        self.router = router if router is not None else Router(slashes=slashes)
        self.middleware = list(middleware)
        self.lifespan = lifespan
        self.max_body_size = max_body_size
        self.max_message_size = max_message_size
        self.ws_idle_timeout = ws_idle_timeout
        self.logger = logging.getLogger(name)
        self.mounts: list[tuple[str, Mount]] = []
        self.fallback: Handler | None = None
        self.on_startup: list[Callable[[], Any]] = []
        self.on_shutdown: list[Callable[[], Any]] = []
        self.state: dict[str, Any] = {}
        self._live: set[asyncio.Task[Any]] = set()
        self._lifespan_cm: contextlib.AbstractAsyncContextManager[Any] | None = None
        self._started = False
        self._closing = False
        self._startup_task: asyncio.Task[None] | None = None
        self._hubs: list[Any] = []  # remote hubs this app started (closed at shutdown)

    # registration ---------------------------------------------------------------------

    def add_route(self, method: str, path: str, handler: Handler) -> Route:
        return self.router.add_route(method, path, handler)

    def route(self, path: str, methods: Sequence[str] = ("GET",)) -> Callable[[Handler], Handler]:
        return self.router.route(path, tuple(methods))

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.router.get(path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.router.post(path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.router.put(path)

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.router.patch(path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.router.delete(path)

    def websocket(self, path: str) -> Callable[[Handler], Handler]:
        """Register ``async def handler(websocket)`` for WebSocket upgrades on ``path``."""
        return self.router.websocket(path)

    def add_websocket_route(self, path: str, handler: Handler) -> Route:
        return self.router.add_route(WEBSOCKET, path, handler)

    def mount(self, prefix: str, target: Mount) -> None:
        """Let ``target`` answer every unrouted GET/HEAD path under ``prefix`` (``/assets``)."""
        self.mounts.append(("/" + prefix.strip("/"), target))

    # lifespan -------------------------------------------------------------------------

    async def startup(self) -> None:
        """Join the backplane (hubs with a remote one), run startup hooks and enter the lifespan
        context (idempotent)."""
        if self._started:
            return
        if has_remote_hubs():
            self._hubs = await start_remote_hubs()
        for hook in self.on_startup:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        if self.lifespan is not None:
            cm = self.lifespan(self)
            await cm.__aenter__()
            self._lifespan_cm = cm
        self._started = True

    async def shutdown(self) -> None:
        """Close live connections, exit the lifespan context and run shutdown hooks."""
        if not self._started:
            return
        self._started = False
        await self.close_connections()
        cm, self._lifespan_cm = self._lifespan_cm, None
        if cm is not None:
            await cm.__aexit__(None, None, None)
        for hook in self.on_shutdown:
            result = hook()
            if asyncio.iscoroutine(result):
                await result
        hubs, self._hubs = self._hubs, []
        for hub in hubs:  # flush and leave the backplane
            await hub.close()

    async def close_connections(self) -> None:
        """End every open stream and WebSocket (WebSockets are closed with 1001)."""
        self._closing = True
        try:
            tasks = [t for t in self._live if not t.done()]
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=1.5)
        finally:
            self._closing = False

    @contextlib.asynccontextmanager
    async def lifespan_context(self) -> AsyncIterator[App]:
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()

    # dispatch (shared) ------------------------------------------------------------------

    async def _call_handler(self, route: Route, request: Request) -> Response:
        cls = route.request_class
        if type(request) is not cls:  # middleware saw a plain Request; the handler takes cls
            request = rebase(request, cls)
        pre = cls.preread_body
        if pre is not None and (request.method in pre or request.has_body):
            await read_body(request)
        if route.is_async:
            result = await route.handler(request)
        else:
            result = await run_sync(asyncio.get_running_loop(), route.handler, request)
        return result if isinstance(result, Response) else route.convert(result)

    async def _endpoint(self, request: Request) -> Response:
        """Route ``request`` and run its handler (the innermost step of the middleware chain)."""
        found = self.router.resolve(request.method, request.path)
        if found is not None:
            request.path_params = found[1]
            return await self._call_handler(found[0], request)
        return await self._unrouted(request, self.router.lookup(request.method, request.path))

    async def _unrouted(self, request: Request, match: Match | None) -> Response:
        """No route for this method: a slash redirect, a mount, the fallback, 405 or 404."""
        if match is not None and match.redirect is not None:
            location = match.redirect + (f"?{request.query_string}" if request.query_string else "")
            return RedirectResponse(location, 308)
        if match is not None and match.allowed:
            # the path exists for other methods: that is the answer, not a mount or the fallback
            allow = ", ".join(sorted(match.allowed))
            return JSONResponse({"detail": "Method Not Allowed"}, 405, {"allow": allow})
        if request.method in ("GET", "HEAD"):
            path = request.path
            for prefix, target in self.mounts:
                if path == prefix or path.startswith(prefix + "/") or prefix == "/":
                    sub = path[len(prefix) :] if prefix != "/" else path
                    return await target.handle(request, sub.lstrip("/"))
            if self.fallback is not None:
                result = self.fallback(request)
                if asyncio.iscoroutine(result):
                    result = await result
                return to_response(result)
        return JSONResponse({"detail": "Not Found"}, 404)

    def error_response(self, exc: BaseException, request: Request | None = None) -> Response:
        """Turn an exception into a response: HTTPError as itself, anything else a logged 500."""
        if isinstance(exc, ClientDisconnected):
            return _GONE
        if isinstance(exc, HTTPError):
            return JSONResponse({"detail": exc.detail}, exc.status, exc.headers)
        where = f" in {request.method} {request.path}" if request is not None else ""
        self.logger.error("unhandled error%s", where, exc_info=exc)
        return JSONResponse({"detail": "Internal Server Error"}, 500)

    async def _run_http(self, request: Request, transport: Transport) -> None:
        try:
            if self.middleware:
                response = await self._chain(request)
            else:
                response = await self._endpoint(request)
        except Exception as exc:
            response = self.error_response(exc, request)
        await self._send_response(response, request, transport)

    async def _send_response(self, response: Response, request: Request, transport: Transport) -> None:
        if response is _GONE:
            return  # the client left while we read its body: nobody to answer
        head = request.method == "HEAD"
        try:
            if response.streaming:
                await self._send_live(response, transport, head)
            else:
                await response.send(transport, head)
        except Exception as exc:
            if transport.sent:
                self.logger.error(
                    "error after the response started in %s %s", request.method, request.path, exc_info=exc
                )
                return
            await self.error_response(exc, request).send(transport, head)

    async def _send_live(self, response: Response, transport: Transport, head: bool) -> None:
        task = asyncio.current_task()
        if task is None:
            await response.send(transport, head)
            return
        self._live.add(task)
        try:
            await response.send(transport, head)
        except asyncio.CancelledError:
            if not self._closing:
                raise
        finally:
            self._live.discard(task)

    async def _chain(self, request: Request) -> Response:
        call_next: CallNext = self._endpoint
        for mw in reversed(self.middleware):
            call_next = _bind(mw, call_next)
        return await call_next(request)

    async def _run_websocket(self, ws: WebSocket) -> None:
        match = self.router.lookup(WEBSOCKET, ws.path)
        if match is None or match.route is None:
            await ws.close(1008 if ws.accepted else 403)
            return
        ws.path_params = match.params
        task = asyncio.current_task()
        if task is not None:
            self._live.add(task)
        try:
            await match.route.handler(ws)
        except WebSocketDisconnect:
            await ws.close()  # the peer is gone: release the connection (RSGI holds it otherwise)
        except asyncio.CancelledError:
            await ws.close(1001, "server shutting down")
            if not self._closing:
                raise
        except Exception as exc:
            self.logger.error("unhandled error in WebSocket %s", ws.path, exc_info=exc)
            await ws.close(1011)
        else:
            await ws.close(1000)
        finally:
            if task is not None:
                self._live.discard(task)

    # RSGI --------------------------------------------------------------------------------

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # Under the granian CLI nothing runs our lifespan for RSGI; start it here and let the
        # first requests wait for it. wirecore's own servers run it themselves first.
        if not self._started and (self.lifespan is not None or self.on_startup or has_remote_hubs()):
            self._startup_task = loop.create_task(self._rsgi_startup())

    async def _rsgi_startup(self) -> None:
        try:
            await self.startup()
        except Exception:
            self.logger.exception("lifespan startup failed")
            raise

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._started:
            loop.run_until_complete(self.shutdown()) if not loop.is_running() else loop.create_task(
                self.shutdown()
            )

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if self._startup_task is not None:
            try:
                await asyncio.shield(self._startup_task)
            except Exception:
                proto.response_str(503, [("content-type", "text/plain")], "startup failed")
                return
        # granian builds each scope attribute anew on every access: read each once
        headers = scope.headers
        kind = scope.proto
        method = scope.method if kind == "http" else "WEBSOCKET"
        guard = self.guard
        # the usual request (a safe method, a Host seen before) passes the guard on the spot
        if guard is not None and not (method in SAFE_METHODS and headers.get("host") in guard.seen):
            reason = guard.check_rsgi(scope, headers, method)
            if reason is not None:
                ws = kind == "ws"
                target = RsgiWebSocket(self, scope, proto, {}) if ws else RsgiTransport(proto)
                await self._refuse(reason, scope.path, target)
                return
        if kind == "http":
            transport = RsgiTransport(proto)
            path = scope.path
            if self.middleware:
                await self._run_http(rsgi_request(Request, self, scope, method, path, headers, transport), transport)
                return
            # The fast path, for the common case: routed, no middleware, a dict or list result.
            # Routing comes first: the route says which class of request its handler takes.
            found = self.router.resolve(method, path)
            cls = found[0].request_class if found is not None else Request
            request = rsgi_request(cls, self, scope, method, path, headers, transport)
            try:
                if found is not None:
                    route, request.path_params = found
                    pre = cls.preread_body
                    if pre is not None and (
                        method in pre or "content-length" in headers or "transfer-encoding" in headers
                    ):
                        await read_body(request)
                    if route.is_async:
                        result = await route.handler(request)
                    else:
                        result = await run_sync(asyncio.get_running_loop(), route.handler, request)
                    kind = type(result)
                    if (kind is dict or kind is list) and method != "HEAD":
                        body = encode(result)
                        transport.sent = True
                        proto.response_bytes(200, _JSON_HEADERS, body)
                        return
                    response = result if isinstance(result, Response) else route.convert(result)
                else:
                    response = await self._unrouted(request, self.router.lookup(method, path))
            except Exception as exc:
                response = self.error_response(exc, request)
            await self._send_response(response, request, transport)
        elif kind == "ws":
            match = self.router.lookup(WEBSOCKET, scope.path)
            await self._run_websocket(RsgiWebSocket(self, scope, proto, match.params if match else {}))

    # ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        guard = self.guard
        if guard is not None and (kind == "http" or kind == "websocket"):
            reason = guard.check_asgi(scope)
            if reason is not None:
                ws = kind == "websocket"
                target = AsgiWebSocket(self, scope, receive, send, {}) if ws else AsgiTransport(receive, send)
                await self._refuse(reason, scope["path"], target)
                return
        if kind == "http":
            transport = AsgiTransport(receive, send)
            method = scope["method"]
            if not self.middleware and method != "HEAD":
                # The fast path: a routed async handler returning a dict or list. Routing comes
                # first: the route says which class of request its handler takes.
                found = self.router.resolve(method, scope["path"])
                if found is not None and found[0].is_async:
                    route, params = found
                    cls = route.request_class
                    request = asgi_request(cls, self, scope, method, transport)
                    request.path_params = params
                    try:
                        pre = cls.preread_body
                        if pre is not None and (method in pre or request.has_body):
                            await read_body(request)
                        result = await route.handler(request)
                    except Exception as exc:
                        await self._send_response(self.error_response(exc, request), request, transport)
                        return
                    kind = type(result)
                    if kind is dict or kind is list:
                        body = encode(result)
                        transport.sent = True
                        await send(
                            {
                                "type": "http.response.start",
                                "status": 200,
                                "headers": [*_JSON_RAW_HEADERS, (b"content-length", str(len(body)).encode())],
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
                    try:
                        response = result if isinstance(result, Response) else route.convert(result)
                    except Exception as exc:
                        response = self.error_response(exc, request)
                    await self._send_response(response, request, transport)
                    return
            request = asgi_request(Request, self, scope, method, transport)
            await self._run_http(request, transport)
        elif kind == "websocket":
            await self._run_websocket(AsgiWebSocket(self, scope, receive, send, {}))
        elif kind == "lifespan":
            await self._asgi_lifespan(receive, send)

    async def _refuse(self, reason: str, path: str, target: Transport | WebSocket) -> None:
        """Answer a request the guard refused: 403 for HTTP, close code 1008 for a WebSocket."""
        self.logger.warning("refused %s: %s", path, reason)
        if isinstance(target, WebSocket):
            await target.close(1008)
        else:
            await JSONResponse({"detail": reason}, 403).send(target)

    async def _asgi_lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    self.logger.exception("lifespan startup failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.shutdown()
                except Exception as exc:
                    await send({"type": "lifespan.shutdown.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return


def _bind(mw: Middleware, call_next: CallNext) -> CallNext:
    async def step(request: Request) -> Response:
        return await mw(request, call_next)

    return step
