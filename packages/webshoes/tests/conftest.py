"""Fixtures for the webshoes suite: real servers on 127.0.0.1 (port 0) and small clients.

- ``app``: a started :class:`webshoes.WebShoesApp` with default options, stopped after the test.
- ``make_app(opts=None, start=True, port=0)``: more apps (own options, not started yet, ...);
  every app it made is stopped after the test, newest first.
- ``http``: an :class:`httpx.Client` with a short timeout.
- ``ws_connect(app, path="/", origin=None, **kw)``: a WebSocket client (``websockets`` sync
  client) wrapped with ``send(obj)``, ``recv()`` (decoded JSON) and ``call(obj)``; every receive
  has a timeout, so a missing reply fails the test instead of hanging it.
- ``raw_http(app, target, ...)``: one request over a plain socket, for request targets an HTTP
  client would normalise (``//evil.example/d``, ``/site/../x``).
- ``wait_until(predicate, timeout)``: bounded polling (the only waiting the suite does).

Helpers are fixtures because the workspace runs pytest with ``--import-mode=importlib`` (test
modules cannot import this file).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets.sync.client as ws_sync

from webshoes import WebShoesApp

TIMEOUT = 5.0
"""Seconds any single reply may take before the test fails."""


class WSClient:
    """A connected WebSocket client speaking JSON."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def send(self, msg: Any) -> None:
        """Send ``msg``: str/bytes as they are, anything else as JSON text."""
        self.conn.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    def recv(self, timeout: float = TIMEOUT) -> Any:
        """The next message, decoded; ``TimeoutError`` if none arrives in time."""
        return json.loads(self.conn.recv(timeout=timeout))

    def call(self, msg: Any, timeout: float = TIMEOUT) -> Any:
        self.send(msg)
        return self.recv(timeout)

    def recv_until(self, predicate: Callable[[Any], bool], timeout: float = TIMEOUT) -> list[Any]:
        """Messages up to and including the first one ``predicate`` accepts."""
        deadline = time.monotonic() + timeout
        seen: list[Any] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching message within {timeout}s; got {seen[-5:]!r}")
            msg = self.recv(left)
            seen.append(msg)
            if predicate(msg):
                return seen

    def close(self) -> None:
        self.conn.close()


def ws_url(app: WebShoesApp, path: str = "/") -> str:
    return f"ws://127.0.0.1:{app.port}{path}"


@pytest.fixture
def make_app() -> Iterator[Callable[..., WebShoesApp]]:
    apps: list[WebShoesApp] = []

    def make(opts: dict[str, Any] | None = None, *, start: bool = True, port: int = 0) -> WebShoesApp:
        app = WebShoesApp("127.0.0.1", port, opts)
        apps.append(app)
        if start:
            app.start()
        return app

    yield make
    for app in reversed(apps):
        app.stop()


@pytest.fixture
def app(make_app: Callable[..., WebShoesApp]) -> WebShoesApp:
    """A started app on 127.0.0.1, port 0 (``app.port`` holds the real one); stopped after."""
    return make_app()


@pytest.fixture
def http(make_app: Callable[..., WebShoesApp]) -> Iterator[httpx.Client]:
    # depends on make_app so that it is closed before the servers stop
    with httpx.Client(timeout=TIMEOUT) as client:
        yield client


@pytest.fixture
def ws_connect(make_app: Callable[..., WebShoesApp]) -> Iterator[Callable[..., WSClient]]:
    with contextlib.ExitStack() as stack:

        def connect(app: WebShoesApp, path: str = "/", *, origin: str | None = None, **kw: Any) -> WSClient:
            kw.setdefault("open_timeout", TIMEOUT)
            kw.setdefault("close_timeout", 1)
            conn = stack.enter_context(ws_sync.connect(ws_url(app, path), origin=origin, **kw))  # type: ignore[arg-type]
            return WSClient(conn)

        yield connect


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip(" ")
    return status, headers, body


@pytest.fixture
def raw_http() -> Callable[..., tuple[int, dict[str, str], bytes]]:
    """``raw_http(app, target, method="GET", headers=None, body=b"")`` -> (status, headers, body).

    The request target is sent byte for byte; header names come back lower-cased.
    """

    def request(
        app: WebShoesApp,
        target: str | bytes,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> tuple[int, dict[str, str], bytes]:
        if isinstance(target, str):
            target = target.encode("latin-1")
        lines = [f"Host: 127.0.0.1:{app.port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        head = method.encode() + b" " + target + b" HTTP/1.1\r\n" + "\r\n".join(lines).encode() + b"\r\n\r\n"
        with socket.create_connection(("127.0.0.1", app.port), timeout=TIMEOUT) as sock:
            sock.sendall(head + body)
            return _read_response(sock)

    return request


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """``wait_until(predicate, timeout=5, what="...")``: poll until true, else fail the test."""

    def wait(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not reached within {timeout}s")
            time.sleep(0.01)

    return wait
