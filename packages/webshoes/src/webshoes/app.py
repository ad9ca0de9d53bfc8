"""``WebShoesApp``: one registered handler for HTTP and WebSocket, on wirecore.

The app is a :class:`wirecore.App` with two catch-all routes (``/{path:path}`` for HTTP and for
WebSocket upgrades), served by wirecore's embedded granian server in a background thread.
Which handler answers is decided by :mod:`webshoes.protocol`; events go through a
:class:`wirecore.Hub`, one bounded queue per subscription that keeps the newest pushes.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from wirecore import (
    App,
    HTTPError,
    Hub,
    JSONResponse,
    Message,
    RedirectResponse,
    Request,
    RequestGuard,
    Response,
    Server,
    StaticFiles,
    Subscription,
    WebSocket,
    WebSocketDisconnect,
    codec,
)
from wirecore.datastructures import QueryParams
from wirecore.routing import is_async, run_sync

from . import protocol
from .bag import Bag

__all__ = ["UploadedFile", "WebShoesApp"]

logger = logging.getLogger("webshoes")

MiB = 1024 * 1024
_HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_JSON = "application/json"
_PATH_SAFE = "/!$&'()*+,;=:@-._~"  # RFC 3986 pchar and "/": kept as they are in a Location


@dataclass(slots=True, frozen=True)
class UploadedFile:
    """A file part of a ``multipart/form-data`` body."""

    filename: str
    content_type: str
    data: bytes


class _Event:
    """One event's state: its version and its latest message (kept for late subscribers)."""

    __slots__ = ("latest", "version")

    def __init__(self) -> None:
        self.version = 0
        self.latest: Message | None = None


class WebShoesApp:
    """A web service whose registered handlers answer HTTP requests and WebSocket messages.

    :param addr: the address to listen on.
    :param port: the port (``0``: any free one; after :meth:`start`, :attr:`port` holds it).
    :param opts: options, shared with every handler as ``ctx.opts`` (the dict itself, not a
        copy). The library reads ``verbose`` (log each request and message), ``max_ws_msg_size``
        (bytes, default 4 MiB; larger messages close the socket with 1009), ``max_body_size``
        (bytes, default 1 MiB; larger bodies answer 413), ``origins`` (other origins whose pages
        may open WebSockets and POST; the server's own origin always may), ``allowed_hosts``
        (Host names to answer, default any) and ``max_subscriptions`` (per connection, default
        256), ``interface`` (granian's ``"rsgi"``, the default and the fastest, or ``"asgi"``,
        under which WebSocket close codes reach clients; granian's RSGI sends 1005) and ``event_queue`` (pushes kept per subscription for a client that is behind,
        default 256: it skips older ones); everything else is yours.
    """

    def __init__(self, addr: str = "127.0.0.1", port: int = 15801, opts: dict[str, Any] | None = None) -> None:
        self.addr = addr
        self.port = port
        self.opts = Bag(opts if opts is not None else {})
        self.handlers: dict[str, dict[str, Any]] = {}
        """Registered groups, ``sub -> {"sub", "cmd", "q", "evt", "rep", "fm"}``, in order."""
        self.server: Server | None = None
        self.hub = self._new_hub()
        self._events: dict[str, _Event] = {}
        self._lock = threading.Lock()
        self._origin = secrets.token_hex(4)
        self._static: dict[str, StaticFiles] = {}
        self._async: dict[Any, bool] = {}
        self.app = self._make_app()

    # registration -------------------------------------------------------------------------------

    def register(self, sub: str, cmd: str, q: str, evt: str, rep: str, fm: dict[str, Any]) -> None:
        """Register the functions of ``fm`` under ``sub`` (see the module docs of
        :mod:`webshoes.protocol`). Registering ``sub`` again replaces it."""
        if not isinstance(fm, dict):
            raise TypeError(f"fm must be a dict of name -> function or static folder, not {type(fm).__name__}")
        for name, entry in fm.items():
            if not callable(entry) and not isinstance(entry, dict):
                raise TypeError(f"{sub}/{name}: expected a function or a static folder dict, got {entry!r}")
        self.handlers[sub] = {"sub": sub, "cmd": cmd, "q": q, "evt": evt, "rep": rep, "fm": fm}

    def unregister(self, sub: str) -> None:
        """Remove the group ``sub`` (nothing happens if there is none)."""
        self.handlers.pop(sub, None)

    # lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start serving in a background thread; returns once the port accepts connections.

        Raises :class:`wirecore.PortInUseError` (an ``OSError``) when the port is taken. A
        running server is stopped first, so ``start()`` also restarts.
        """
        self.stop()
        opts = self.opts
        self.app.max_message_size = int(opts.get("max_ws_msg_size", 4 * MiB))
        self.app.max_body_size = int(opts.get("max_body_size", MiB))
        self.app.guard = _guard(opts.get("allowed_hosts", ["*"]), opts.get("origins", ()))
        interface = opts.get("interface", "rsgi")
        if interface not in ("rsgi", "asgi"):
            raise ValueError(f"opts['interface'] must be 'rsgi' or 'asgi', not {interface!r}")
        server = Server(self.app, self.addr, self.port, interface=interface, name="webshoes")
        server.start()
        self.server = server
        self.port = server.port
        logger.info("webshoes serving on %s", server.url)

    def _new_hub(self) -> Hub:
        # each subscription keeps the newest versions only: a client that cannot keep up skips
        # the oldest, and nobody waits for it
        return Hub(maxsize=int(self.opts.get("event_queue", 256)), policy="drop_oldest")

    def stop(self) -> None:
        """Stop serving: open WebSockets are closed (1001) and the port is released; returns
        within about 2 seconds. Safe to call when not started."""
        server, self.server = self.server, None
        if server is not None:
            server.stop()  # the app's shutdown closes a hub with a remote backplane

    @property
    def url(self) -> str:
        """``http://addr:port`` of the running server."""
        return self.server.url if self.server is not None else f"http://{self.addr}:{self.port}"

    # events -------------------------------------------------------------------------------------

    def triggerEvent(self, name: str, data: Any) -> int:
        """Push ``data`` to every subscriber of event ``name``; from any thread, never blocking.

        The data is encoded to JSON once, here: data that cannot be encoded raises
        ``TypeError`` and changes nothing. The value is kept, so a subscriber arriving later
        (or before :meth:`start`) gets it at once. Returns the event's new version.
        """
        if isinstance(data, Bag):
            data = data.as_dict()
        with self._lock:
            event = self._events.get(name)
            if event is None:
                event = self._events[name] = _Event()
            version = event.version + 1
            payload = {"ver": version, "t": time.time(), "r": data}
            msg_id = f"{version}@{self._origin}"  # unique across the processes of a backplane
            msg = self.hub.publish(name, payload, id=msg_id, retain=True)
            event.version = version
            event.latest = msg
        if self.opts.get("verbose"):
            logger.info("event %s version %d (%d bytes)", name, version, len(msg.json))
        return version

    @property
    def events(self) -> dict[str, int]:
        """Each triggered event's current version."""
        return {name: e.version for name, e in self._events.items()}

    async def sendMsg(self, ws: WebSocket, msg: Any) -> bool:
        """Send one extra message on a connection (``ctx.ws`` in a WebSocket handler): a dict,
        list or :class:`Bag` as JSON, a ``str`` as it is. False if it could not be sent."""
        try:
            await ws.send(msg if isinstance(msg, str) else codec.encode_str(msg))
        except Exception:
            return False
        return True

    # the server side ----------------------------------------------------------------------------

    def _make_app(self) -> App:
        app = App(name="webshoes")
        for method in _HTTP_METHODS:
            app.add_route(method, "/{path:path}", self._http)
        app.add_websocket_route("/{path:path}", self._websocket)
        return app

    async def _call(self, handler: Any, ctx: Bag, q: Bag) -> Any:
        """Run a handler: ``async`` ones on the loop, plain ones in the thread pool."""
        runs_async = self._async.get(handler)
        if runs_async is None:
            runs_async = self._async[handler] = is_async(handler)
        if runs_async:
            return await handler(ctx, q)
        result = await run_sync(asyncio.get_running_loop(), handler, ctx, q)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    async def _http(self, request: Request) -> Response:
        path = request.path
        if self.opts.get("verbose"):
            logger.info("%s %s", request.method, path)
        target = protocol.http_target(self.handlers, path)
        if target is None:
            return JSONResponse({"error": protocol.NOT_FOUND}, 404)
        if isinstance(target.entry, dict):
            return await self._serve_static(request, target)
        q = Bag(await _http_params(request))
        ctx = Bag({"p": path, "req": request, "opts": self.opts, "wsa": self})
        try:
            result = await self._call(target.entry, ctx, q)
            if isinstance(result, Response):
                return result
            body = codec.encode(result)
        except HTTPError:
            raise
        except Exception:
            logger.exception("handler %s/%s failed (HTTP %s)", target.group["sub"], target.name, path)
            return JSONResponse({"error": protocol.SERVER_ERROR_HTTP}, 500)
        return Response(body, 200, media_type=_JSON)

    async def _serve_static(self, request: Request, target: protocol.HttpTarget) -> Response:
        spec = target.entry
        root = spec.get("root")
        if not root or not os.path.isdir(root):
            return JSONResponse({"error": protocol.NOT_FOUND}, 404)
        files = self._static.get(root)
        if files is None:
            files = self._static[root] = StaticFiles(root, index=None)
        defpage = spec.get("defpage")
        if defpage and request.method in ("GET", "HEAD") and _is_directory_with(files, target.subpath, defpage):
            # a directory: its default page. The Location is a path on this site, percent-encoded,
            # without doubled slashes, backslashes or control characters (browsers read "//host",
            # "/\host" and "/<TAB>/host" as other sites)
            path = request.path
            if "\\" in path or any(ord(c) < 32 or c == "\x7f" for c in path):
                return JSONResponse({"error": protocol.NOT_FOUND}, 404)
            location = "/" + "/".join(s for s in path.split("/") if s)
            return RedirectResponse(quote(location.rstrip("/") + "/" + defpage, safe=_PATH_SAFE), 303)
        return await files.handle(request, target.subpath)

    async def _websocket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        connection = _Connection(self, websocket)
        try:
            async for data in websocket:
                await connection.receive(data)
        finally:
            connection.close()


def _guard(hosts: Iterable[str], origins: Iterable[str]) -> RequestGuard | None:
    guard = RequestGuard(list(hosts), list(origins))
    return None if guard.disabled else guard


def _is_directory_with(files: StaticFiles, subpath: str, page: str) -> bool:
    """Whether ``subpath`` is a directory inside ``files``' root holding the file ``page``."""
    root = os.fspath(files.directory)
    real = os.path.realpath(os.path.join(root, subpath))
    if real != root and not real.startswith(root + os.sep):
        return False
    if any(part.startswith(".") for part in os.path.relpath(real, root).split(os.sep) if part != "."):
        return False
    return os.path.isdir(real) and os.path.isfile(os.path.join(real, page))


async def _http_params(request: Request) -> dict[str, Any]:
    """Query parameters (first value of each), then the body's on top: a form, a multipart
    form (files as :class:`UploadedFile`) or a JSON object."""
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, value)
    if not request.has_body:
        return params
    body = await request.body()
    if not body:
        return params
    ctype = (request.headers.get("content-type") or "").lower()
    if ctype.startswith("application/x-www-form-urlencoded"):
        for key, value in QueryParams(body.decode("utf-8", "replace")).multi_items():
            params[key] = value
    elif ctype.startswith("multipart/form-data"):
        params.update(_multipart(ctype, body))
    elif ctype.startswith(_JSON) or body[:1] == b"{":
        try:
            data = codec.decode(body)
        except codec.DecodeError:
            raise HTTPError(400, "malformed JSON body") from None
        if isinstance(data, dict):
            params.update(data)
    return params


def _multipart(ctype: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise HTTPError(400, "malformed multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            payload = b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = UploadedFile(filename, part.get_content_type(), payload)
        else:
            fields[name] = payload.decode(part.get_content_charset() or "utf-8", "replace")
    return fields


class _Connection:
    """One WebSocket client: its messages, in order, and its subscriptions."""

    def __init__(self, app: WebShoesApp, websocket: WebSocket) -> None:
        self.app = app
        self.ws = websocket
        self.subs: dict[tuple[str, str], tuple[Subscription, asyncio.Task[None]]] = {}
        self.verbose = bool(app.opts.get("verbose"))

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send(codec.encode_str(obj))

    async def receive(self, data: str | bytes) -> None:
        if isinstance(data, bytes):
            await self.send(protocol.error_reply("Binary messages are not supported", None))
            return
        try:
            msg = codec.decode(data)
        except codec.DecodeError:
            await self.send(protocol.error_reply("Malformed JSON", None))
            return
        if not isinstance(msg, dict):
            await self.send(protocol.error_reply("Expected a JSON object", None))
            return
        action = protocol.ws_action(self.app.handlers, msg)
        if self.verbose:
            logger.info("ws %s: %s", self.ws.path, type(action).__name__)
        if isinstance(action, protocol.Failure):
            await self.send(protocol.error_reply(action.error, msg))
        elif isinstance(action, protocol.Subscribe):
            await self.subscribe(action, msg)
        else:
            await self.call(action, msg)

    async def call(self, action: protocol.Call, msg: dict[str, Any]) -> None:
        ctx = Bag({"p": action.path, "req": self.ws, "opts": self.app.opts, "wsa": self.app, "ws": self.ws})
        try:
            result = await self.app._call(action.handler, ctx, protocol.args_of(action.group, msg))
            text = codec.encode_str(protocol.reply(action.group, result, msg))
        except Exception:
            logger.exception("handler for %r failed (WebSocket)", action.path)
            text = codec.encode_str(protocol.error_reply(protocol.SERVER_ERROR_WS, msg))
        await self.ws.send(text)

    async def subscribe(self, action: protocol.Subscribe, msg: dict[str, Any]) -> None:
        uid = action.uid or secrets.token_hex(16)
        key = (uid, action.name)
        old = self.subs.pop(key, None)
        if old is not None:
            _end(*old)
        if action.unsubscribe:
            if old is None:
                await self.send(protocol.error_reply("Not subscribed", msg))
            else:
                await self.send(protocol.ack(action.group, uid, "Event removed", msg))
            return
        limit = int(self.app.opts.get("max_subscriptions", 256))
        if len(self.subs) >= limit:
            await self.send(protocol.error_reply(f"Too many subscriptions (at most {limit})", msg))
            return
        hub = self.app.hub
        subscription = hub.subscribe(action.name)
        # the latest value, read before any await: whatever is triggered later lands in the queue
        event = self.app._events.get(action.name)
        latest = event.latest if event is not None else None
        if not hub.backplane.local:  # another worker may have triggered it since
            latest = await hub.latest(action.name) or latest
        await self.send(protocol.ack(action.group, uid, "Event added", msg))
        prefix = '{"evt":' + codec.encode_str(action.name) + ',"uid":' + codec.encode_str(uid) + ","
        if latest is not None:
            await self.ws.send(prefix + latest.text[1:])
        skip = latest.id if latest is not None else None
        task = asyncio.get_running_loop().create_task(self._pump(subscription, prefix, skip))
        self.subs[key] = (subscription, task)

    async def _pump(self, subscription: Subscription, prefix: str, skip: str | None) -> None:
        """Deliver one subscription's pushes as the socket takes them (a client that falls
        behind skips the oldest; nobody else waits for it). ``skip``: the id of the latest value
        sent at subscription, should it also arrive through the queue."""
        try:
            async for msg in subscription:
                if skip is not None and msg.id == skip:
                    skip = None
                    continue
                await self.ws.send(prefix + msg.text[1:])
        except WebSocketDisconnect:
            pass
        finally:
            subscription.close()

    def close(self) -> None:
        for subscription, task in self.subs.values():
            _end(subscription, task)
        self.subs.clear()


def _end(subscription: Subscription, task: asyncio.Task[None]) -> None:
    task.cancel()
    subscription.close()
