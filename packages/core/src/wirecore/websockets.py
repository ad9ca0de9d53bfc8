"""The WebSocket object handed to every WebSocket handler, over ASGI or RSGI.

granian does not let an application send protocol Ping frames, so a dead peer is detected two
ways: a failed send ends the connection at once, and ``idle_timeout`` (the app's
``ws_idle_timeout``) closes a connection that has sent nothing for that long; clients keep
themselves alive by sending any message (the project's JS clients send a small heartbeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import codec
from .datastructures import Headers, QueryParams
from .exceptions import WebSocketDisconnect

if TYPE_CHECKING:
    from .app import App

__all__ = ["WebSocket", "origin_allowed"]

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_ABNORMAL = 1006  # the connection dropped without a close frame (never sent on the wire)
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


def origin_allowed(origin: str | None, host: str | None, allowed: Iterable[str] = ()) -> bool:
    """Whether a browser ``Origin`` may open a socket on ``host``.

    Same-origin (the Origin's host:port equals the Host header) is always allowed; ``allowed``
    lists more origins, host names or ``fnmatch`` patterns (``"*.example.com"``, ``"*"``).
    A request with no Origin header (not a browser) is allowed.
    """
    if not origin:
        return True
    if origin == "null":
        return "null" in allowed or "*" in allowed
    parts = urlsplit(origin)
    netloc = parts.netloc.lower()
    if host is not None and netloc == host.lower():
        return True
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern in ("*", origin.lower(), netloc, parts.hostname or ""):
            return True
        target = origin.lower() if "://" in pattern else netloc
        if fnmatch.fnmatchcase(target, pattern) or fnmatch.fnmatchcase(parts.hostname or "", pattern):
            return True
    return False


class WebSocket:
    """One WebSocket connection. ``accept()`` it, then send and receive text, bytes or JSON.

    ``receive()`` raises :class:`~wirecore.WebSocketDisconnect` when the peer closes, when a
    message is larger than ``max_message_size`` (closed with 1009), or when the peer has been
    silent for ``idle_timeout`` seconds.
    """

    def __init__(
        self,
        app: App,
        path: str,
        query_string: str,
        raw_headers: Any,
        *,
        path_params: dict[str, str] | None = None,
        client: tuple[str, int] | None = None,
        scheme: str = "ws",
        scope: Any = None,
    ) -> None:
        self.app = app
        self.path = path
        self.query_string = query_string
        self.path_params = path_params or {}
        self.client = client
        self.scheme = scheme
        self.scope = scope
        self.state: dict[str, Any] = {}
        self.max_message_size: int | None = app.max_message_size
        self.idle_timeout: float | None = app.ws_idle_timeout
        self._raw_headers = raw_headers
        self._headers: Headers | None = None
        self.accepted = False
        self.closed = False
        self.close_code: int | None = None

    # request side ----------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        h = self._headers
        if h is None:
            raw = self._raw_headers
            if isinstance(raw, list):
                h = Headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
            else:
                h = Headers(raw.items())
            self._headers = h
        return h

    @property
    def query_params(self) -> QueryParams:
        return QueryParams(self.query_string)

    def origin_allowed(self, allowed: Iterable[str] = ()) -> bool:
        """Whether this upgrade's Origin is same-origin or in ``allowed`` (see :func:`origin_allowed`)."""
        return origin_allowed(self.headers.get("origin"), self.headers.get("host"), allowed)

    # protocol ----------------------------------------------------------------------

    async def accept(self, subprotocol: str | None = None) -> None:
        raise NotImplementedError

    async def _recv(self) -> str | bytes:
        raise NotImplementedError

    async def _send(self, data: str | bytes) -> None:
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> None:
        raise NotImplementedError

    async def receive(self) -> str | bytes:
        """The next message (``str`` for text frames, ``bytes`` for binary)."""
        if self.closed:
            raise WebSocketDisconnect(self.close_code or CLOSE_NORMAL)
        try:
            if self.idle_timeout:
                data = await asyncio.wait_for(self._recv(), self.idle_timeout)
            else:
                data = await self._recv()
        except TimeoutError:
            await self.close(CLOSE_GOING_AWAY, "idle timeout")
            raise WebSocketDisconnect(CLOSE_GOING_AWAY, "idle timeout") from None
        limit = self.max_message_size
        if limit is not None and (
            len(data) > limit or (type(data) is str and len(data) * 4 > limit and len(data.encode()) > limit)
        ):  # the limit is in bytes: a text message is measured encoded
            await self.close(CLOSE_TOO_BIG, "message too big")
            raise WebSocketDisconnect(CLOSE_TOO_BIG, "message too big")
        return data

    async def receive_text(self) -> str:
        data = await self.receive()
        return data if isinstance(data, str) else data.decode()

    async def receive_bytes(self) -> bytes:
        data = await self.receive()
        return data.encode() if isinstance(data, str) else data

    async def receive_json(self, type: Any = None) -> Any:
        """The next message decoded as JSON; malformed JSON raises :class:`~wirecore.codec.DecodeError`."""
        data = await self.receive()
        return codec.decode(data, type) if type is not None else codec.decode(data)

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        try:
            while True:
                yield await self.receive()
        except WebSocketDisconnect:
            return

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message; raises WebSocketDisconnect if gone."""
        if self.closed:
            raise WebSocketDisconnect(self.close_code or CLOSE_NORMAL)
        try:
            await self._send(data)
        except WebSocketDisconnect:
            self.closed = True
            raise
        except Exception as exc:  # the transport's own "closed" errors
            self.closed = True
            raise WebSocketDisconnect(CLOSE_GOING_AWAY, str(exc)) from None

    send_text = send
    send_bytes = send

    async def send_json(self, data: Any) -> None:
        """Send ``data`` as a JSON text message."""
        await self.send(codec.encode(data).decode())

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the connection (or refuse the upgrade, before ``accept``)."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        try:
            await self._close(code, reason)
        except Exception:
            pass


class RsgiWebSocket(WebSocket):
    def __init__(self, app: App, scope: Any, proto: Any, path_params: dict[str, str]) -> None:
        client = _split_addr(scope.client)
        super().__init__(
            app,
            scope.path,
            scope.query_string,
            scope.headers,
            path_params=path_params,
            client=client,
            scheme="wss" if scope.scheme in ("https", "wss") else "ws",
            scope=scope,
        )
        self._proto = proto
        self._transport: Any = None
        self._released = False

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        if self.closed and not self._released:
            # The peer closed first. granian still holds the TCP connection until it is told (or
            # the transport is garbage-collected, which an app holding the socket delays forever).
            self._release(self.close_code or code)
            return
        await super().close(code, reason)

    async def accept(self, subprotocol: str | None = None) -> None:
        self._transport = await self._proto.accept()
        self.accepted = True

    async def _recv(self) -> str | bytes:
        try:
            msg = await self._transport.receive()
        except Exception as exc:  # granian's RSGIProtocolClosed: the peer dropped TCP, no close frame
            self.closed = True
            self.close_code = CLOSE_ABNORMAL
            raise WebSocketDisconnect(CLOSE_ABNORMAL, str(exc)) from None
        if msg.kind == 0:
            self.closed = True
            code = getattr(msg, "code", None) or CLOSE_NORMAL
            self.close_code = code
            raise WebSocketDisconnect(code)
        return msg.data  # type: ignore[no-any-return]

    async def _send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            await self._transport.send_str(data)
        else:
            await self._transport.send_bytes(data)

    async def _close(self, code: int, reason: str) -> None:
        self._release(code if self.accepted else 403)

    def _release(self, code: int) -> None:
        if not self._released:
            self._released = True
            with contextlib.suppress(Exception):
                self._proto.close(code)
            self._transport = None  # granian ends the connection once its transport is freed


class AsgiWebSocket(WebSocket):
    def __init__(
        self, app: App, scope: dict[str, Any], receive: Any, send: Any, path_params: dict[str, str]
    ) -> None:
        client = scope.get("client")
        super().__init__(
            app,
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            scope.get("headers", []),
            path_params=path_params,
            client=tuple(client) if client else None,
            scheme=scope.get("scheme", "ws"),
            scope=scope,
        )
        self._asgi_receive = receive
        self._asgi_send = send
        self._connected = False

    async def _ensure_connect(self) -> None:
        if not self._connected:
            msg = await self._asgi_receive()
            if msg["type"] != "websocket.connect":
                raise WebSocketDisconnect(CLOSE_GOING_AWAY)
            self._connected = True

    async def accept(self, subprotocol: str | None = None) -> None:
        await self._ensure_connect()
        message: dict[str, Any] = {"type": "websocket.accept"}
        if subprotocol:
            message["subprotocol"] = subprotocol
        await self._asgi_send(message)
        self.accepted = True

    async def _recv(self) -> str | bytes:
        msg = await self._asgi_receive()
        kind = msg["type"]
        if kind == "websocket.receive":
            text = msg.get("text")
            return text if text is not None else msg.get("bytes") or b""
        self.closed = True
        code = msg.get("code", CLOSE_NORMAL)
        self.close_code = code
        raise WebSocketDisconnect(code, msg.get("reason") or "")

    async def _send(self, data: str | bytes) -> None:
        if isinstance(data, str):
            await self._asgi_send({"type": "websocket.send", "text": data})
        else:
            await self._asgi_send({"type": "websocket.send", "bytes": data})

    async def _close(self, code: int, reason: str) -> None:
        if not self.accepted:
            await self._ensure_connect()
        await self._asgi_send({"type": "websocket.close", "code": code, "reason": reason})


def _split_addr(addr: str | None) -> tuple[str, int] | None:
    if not addr:
        return None
    host, sep, port = addr.rpartition(":")
    if not sep:
        return (addr, 0)
    try:
        return (host.strip("[]"), int(port))
    except ValueError:
        return (addr, 0)
