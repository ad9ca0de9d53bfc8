"""A test client for wesktop apps: wirecore's in-process client, addressed as ``localhost``.

::

    from wesktop import TestClient
    from myapp import app

    def test_health():
        with TestClient(app) as client:           # runs the app's lifespan
            assert client.get("/api/health").json() == {"status": "ok"}

No socket is opened. Requests carry ``Host: localhost`` so the app's Host allowlist lets them in;
pass ``base_url`` to test other names (and ``headers={"origin": ...}`` for the Origin check).
"""

from __future__ import annotations

from typing import Any

from wirecore.server import load_app
from wirecore.testing import ClientResponse, ClientWebSocket
from wirecore.testing import TestClient as WireTestClient

__all__ = ["ClientResponse", "ClientWebSocket", "TestClient"]


class TestClient(WireTestClient):
    """Drive ``app`` (an app or ``"module:attr"``) over HTTP and WebSocket, in-process.

    Everything but the default ``base_url`` is :class:`wirecore.testing.TestClient`: ``get``,
    ``post``..., ``stream``, ``websocket_connect``, cookies, redirects, timeouts.
    """

    __test__ = False

    def __init__(self, app: Any, base_url: str = "http://localhost", **options: Any) -> None:
        super().__init__(load_app(app), base_url, **options)
