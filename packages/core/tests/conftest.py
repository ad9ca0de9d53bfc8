"""Shared fixtures: real granian servers on 127.0.0.1, port 0, over both interfaces."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wirecore import Server


@pytest.fixture(params=["rsgi", "asgi"])
def interface(request: pytest.FixtureRequest) -> str:
    """Run the test once over RSGI and once over ASGI."""
    return str(request.param)


@pytest.fixture
def serve(interface: str) -> Iterator[Callable[..., Server]]:
    """``serve(app) -> Server``: start ``app`` on a free port; every server is stopped after."""
    started: list[Server] = []

    def start(app: Any, **kwargs: Any) -> Server:
        kwargs.setdefault("interface", interface)
        server = Server(app, host="127.0.0.1", port=0, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
