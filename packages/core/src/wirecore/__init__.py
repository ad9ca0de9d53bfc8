"""wirecore: the transport core under wesktop, webshoes, pywebio and pgwidgets.

An ASGI 3 + RSGI application object with a compiled router, request and response types, one
msgspec JSON codec, static files, WebSockets, a fan-out hub with SSE and WebSocket delivery, and
granian server lifecycle (blocking or embedded in a background thread).
"""

from importlib.metadata import PackageNotFoundError, version

from . import codec
from .app import App, Middleware, Mount
from .datastructures import Headers, QueryParams
from .exceptions import (
    AlreadyRunningError,
    BodyTooLarge,
    ClientDisconnected,
    HTTPError,
    LifespanError,
    PortInUseError,
    ServerError,
    WebSocketDisconnect,
    WireError,
)
from .fanout import Hub, Message, Subscription
from .requests import Request
from .responses import (
    BytesResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamResponse,
    TextResponse,
)
from .routing import Router
from .security import RequestGuard
from .sse import format_sse, sse_response
from .staticfiles import StaticFiles, guess_type, spa_fallback_handler
from .websockets import WebSocket, origin_allowed

try:
    __version__ = version("wirecore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "AlreadyRunningError",
    "App",
    "BodyTooLarge",
    "BytesResponse",
    "ClientDisconnected",
    "FileResponse",
    "HTMLResponse",
    "HTTPError",
    "Headers",
    "Hub",
    "JSONResponse",
    "LifespanError",
    "Message",
    "Middleware",
    "Mount",
    "PortInUseError",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestGuard",
    "Response",
    "Router",
    "ServerError",
    "StaticFiles",
    "StreamResponse",
    "Subscription",
    "TextResponse",
    "WebSocket",
    "WebSocketDisconnect",
    "WireError",
    "codec",
    "format_sse",
    "guess_type",
    "origin_allowed",
    "spa_fallback_handler",
    "sse_response",
    "__version__",
]

from .server import LoopServer, PidFile, Server, serve

__all__ += ["LoopServer", "PidFile", "Server", "serve"]
