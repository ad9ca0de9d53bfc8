"""Typed errors raised inside wirecore and answered at its edges."""

from __future__ import annotations

import errno
from http import HTTPStatus
from typing import Any

__all__ = [
    "AlreadyRunningError",
    "BodyTooLarge",
    "ClientDisconnected",
    "HTTPError",
    "LifespanError",
    "PortInUseError",
    "ServerError",
    "WebSocketDisconnect",
    "WireError",
]


class WireError(Exception):
    """Base class of every wirecore error."""


class HTTPError(WireError):
    """Raise in a handler to answer with ``status`` and a JSON body ``{"detail": detail}``.

    ``detail`` defaults to the status phrase ("Not Found"). ``headers`` are added to the reply.
    """

    def __init__(self, status: int, detail: Any = None, headers: dict[str, str] | None = None) -> None:
        if detail is None:
            try:
                detail = HTTPStatus(status).phrase
            except ValueError:
                detail = "Error"
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}"


class BodyTooLarge(HTTPError):
    """The request body exceeded the app's ``max_body_size`` (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds {limit} bytes")
        self.limit = limit


class ClientDisconnected(WireError):
    """The HTTP client went away before its request body was read; nothing is answered."""


class WebSocketDisconnect(WireError):
    """The WebSocket peer closed (or vanished); ``code`` is the close code."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class ServerError(WireError):
    """The server could not start or stop as asked."""


class PortInUseError(ServerError, OSError):
    """Another process already listens on the requested host and port (an ``OSError`` with
    ``errno.EADDRINUSE`` too, as a failed ``bind`` would raise)."""

    def __init__(self, host: str, port: int) -> None:
        OSError.__init__(self, errno.EADDRINUSE, f"{host}:{port} is already in use")
        self.host = host
        self.port = port

    def __str__(self) -> str:
        return str(self.strerror)


class AlreadyRunningError(ServerError):
    """The PID file names a process that is still alive."""

    def __init__(self, pid_file: Any, pid: int) -> None:
        super().__init__(f"already running as PID {pid} (PID file {pid_file})")
        self.pid_file = pid_file
        self.pid = pid


class LifespanError(ServerError):
    """The app's lifespan startup raised; the server did not start."""
