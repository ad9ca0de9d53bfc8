"""Fixtures for the pywebio suite: real servers on 127.0.0.1 (port 0) on both backends.

- ``serve(applications, backend="tornado", **options)``: start a server for ``applications``
  (options are ``start_server``'s: ``reconnect_timeout``, ``allowed_origins``, ``check_origin``,
  ``max_payload_size``, ``static_dir``, ``cdn``, ``debug``); returns an object with ``url`` (the
  page URL, ending in ``/``) and ``hub`` (the sessions); stopped after the test.
- ``backend``: parametrises a test over ``"tornado"`` and ``"wirecore"``.
- ``wait_until(predicate, timeout=5)``: bounded polling for server-side state.

Script mode is turned off for the whole suite (a PyWebIO call outside a session raises
``SessionNotFoundException`` instead of starting a server); test it in a subprocess.

The browser side is :mod:`browserclient` (``from browserclient import BrowserClient``): this file
puts the tests folder on ``sys.path`` because the workspace runs pytest with
``--import-mode=importlib``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pywebio.session.base import disable_script_mode

# a PyWebIO call outside a session must raise in tests, never start a script-mode server
disable_script_mode()


class _Served:
    def __init__(self, url: str, hub: Any, stop: Callable[[], None]) -> None:
        self.url = url
        self.hub = hub
        self.stop = stop


def _start(applications: Any, backend: str, options: dict[str, Any]) -> _Served:
    if backend == "tornado":
        from pywebio.platform.tornado import ServerThread

        server = ServerThread(applications, "127.0.0.1", 0, **options).start()
        return _Served(server.url, server.hub, server.stop)
    if backend == "wirecore":
        from pywebio.platform.wirecore import wirecore_app
        from wirecore import Server

        app = wirecore_app(applications, **options)
        wserver = Server(app, "127.0.0.1", 0, name="pywebio-test").start()
        return _Served(wserver.url + "/", app.state["pywebio_hub"], wserver.stop)
    raise ValueError(f"unknown backend {backend!r}")


@pytest.fixture
def serve() -> Iterator[Callable[..., _Served]]:
    started: list[_Served] = []

    def start(applications: Any, backend: str = "tornado", **options: Any) -> _Served:
        served = _start(applications, backend, options)
        started.append(served)
        return served

    yield start
    for served in reversed(started):
        served.stop()


@pytest.fixture(params=["tornado", "wirecore"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    def wait(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not reached within {timeout}s")
            time.sleep(0.01)

    return wait
