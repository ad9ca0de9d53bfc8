"""ASGI shapes on top of wirecore: scope dicts for RSGI requests, and raw ASGI WebSocket handlers.

wesktop documents two things in raw ASGI terms: ``Request.scope`` is "the ASGI scope dict", and
``add_ws_route`` takes a handler ``(scope, receive, send)``. wirecore serves the same app over
ASGI and RSGI, so this module gives both the ASGI shape whatever the interface:

- :func:`asgi_scope` turns granian's RSGI scope object into the equivalent ASGI scope dict;
- :func:`asgi_websocket_endpoint` wraps a raw ASGI WebSocket handler into a wirecore WebSocket
  handler: ``receive()`` yields ``websocket.connect``, then ``websocket.receive`` messages and
  finally ``websocket.disconnect``; ``send()`` takes ``websocket.accept``, ``websocket.send``
  and ``websocket.close``. Everything on the wire (handshake, frames, size limits, idle
  timeouts, shutdown) stays wirecore's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from wirecore import WebSocket, WebSocketDisconnect

__all__ = ["AsgiWebSocketHandler", "asgi_scope", "asgi_websocket_endpoint"]

AsgiWebSocketHandler = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
"""``async def handler(scope, receive, send)``: a raw ASGI WebSocket application."""

_ASGI = {"version": "3.0", "spec_version": "2.3"}


def _addr(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        return (value, 0)
    return (host.strip("[]"), int(port))


def asgi_scope(scope: Any, kind: str) -> dict[str, Any]:
    """An ASGI scope dict (``kind`` ``"http"`` or ``"websocket"``) for an RSGI scope object.

    ``raw_path`` is the path re-encoded as UTF-8 (granian hands RSGI apps the decoded path only).
    """
    http_version = scope.http_version
    out: dict[str, Any] = {
        "type": kind,
        "asgi": dict(_ASGI),
        "http_version": "2" if http_version.startswith("2") else http_version,
        "scheme": scope.scheme if kind == "http" else ("wss" if scope.scheme in ("https", "wss") else "ws"),
        "path": scope.path,
        "raw_path": scope.path.encode(),
        "query_string": scope.query_string.encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in scope.headers.items()],
        "client": _addr(scope.client),
        "server": _addr(scope.server),
    }
    if kind == "http":
        out["method"] = scope.method
    else:
        protocols = scope.headers.get("sec-websocket-protocol")
        out["subprotocols"] = [p.strip() for p in protocols.split(",")] if protocols else []
    return out


class _AsgiChannel:
    """``receive``/``send`` callables over one wirecore :class:`~wirecore.WebSocket`."""

    __slots__ = ("connected", "gone", "ws")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.connected = False
        self.gone: dict[str, Any] | None = None

    async def receive(self) -> dict[str, Any]:
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        if self.gone is not None:
            return self.gone
        ws = self.ws
        if not ws.accepted:
            raise RuntimeError("accept the WebSocket (send websocket.accept) before receiving messages")
        try:
            data = await ws.receive()
        except WebSocketDisconnect as exc:
            self.gone = {"type": "websocket.disconnect", "code": exc.code, "reason": exc.reason}
            return self.gone
        if isinstance(data, str):
            return {"type": "websocket.receive", "text": data}
        return {"type": "websocket.receive", "bytes": data}

    async def send(self, message: dict[str, Any]) -> None:
        ws = self.ws
        kind = message["type"]
        if kind == "websocket.accept":
            if ws.accepted:
                raise RuntimeError("the WebSocket is already accepted")
            await ws.accept(message.get("subprotocol"))
        elif kind == "websocket.send":
            if not ws.accepted:
                raise RuntimeError("accept the WebSocket (send websocket.accept) before sending messages")
            text = message.get("text")
            await ws.send(text if text is not None else bytes(message.get("bytes") or b""))
        elif kind == "websocket.close":
            await ws.close(message.get("code") or 1000, message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            # The denial-response extension is not offered (no "extensions" in the scope); an app
            # that tries anyway gets the plain refusal, a 403.
            await ws.close(1008)
        elif kind != "websocket.http.response.body":
            raise RuntimeError(f"unexpected ASGI message for a WebSocket: {kind!r}")


def asgi_websocket_endpoint(handler: AsgiWebSocketHandler) -> Callable[[WebSocket], Awaitable[None]]:
    """A wirecore WebSocket handler that runs the raw ASGI ``handler``.

    The handler's scope is the ASGI scope (built from the RSGI scope under RSGI) with the
    route's ``path_params`` added. When the handler returns, wirecore closes the socket (1000)
    if the handler did not; a handler that returns without accepting refuses the upgrade (403).
    """

    async def endpoint(ws: WebSocket) -> None:
        raw = ws.scope
        scope = dict(raw) if isinstance(raw, dict) else asgi_scope(raw, "websocket")
        scope["path_params"] = ws.path_params
        channel = _AsgiChannel(ws)
        await handler(scope, channel.receive, channel.send)

    endpoint.__name__ = getattr(handler, "__name__", "websocket_endpoint")
    endpoint.__qualname__ = getattr(handler, "__qualname__", endpoint.__name__)
    return endpoint
