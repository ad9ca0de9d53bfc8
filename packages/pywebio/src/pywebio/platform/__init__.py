"""Transports and deployment: the tornado backend (default), tornado_http (HTTP polling), the
flask and django backends (HTTP polling over WSGI), aiohttp and FastAPI/Starlette (WebSocket),
the wirecore/granian backend, ``path_deploy(_http)``, ``config()`` and ``run_event_loop``.

Backends are imported on first use, so importing this package loads no web framework.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .page import config

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .http import HttpHub, HttpResponse

# bound eagerly (path_deploy.py imports only the standard library at import time): the submodule
# of the same name would otherwise shadow the function once imported
from .path_deploy import path_deploy, path_deploy_http

__all__ = [
    "config",
    "path_deploy",
    "path_deploy_http",
    "run_event_loop",
    "seo",
    "start_server",
    "webio_handler",
]

logger = logging.getLogger("pywebio")

_LAZY = {
    "start_server": ("tornado", "start_server"),
    "webio_handler": ("tornado", "webio_handler"),
}
_SUBMODULES = {
    "tornado",
    "tornado_http",
    "flask",
    "django",
    "aiohttp",
    "fastapi",
    "http",
    "wirecore",
    "page",
    "utils",
    "ws",
    "remote_access",
    "script_mode",
}


def run_event_loop(debug: bool = False) -> None:
    """Run a new asyncio event loop in the current thread forever.

    Coroutine-based sessions created by frameworks without a loop of their own run on it (spec
    §3.5); backends with a loop (tornado, wirecore) do not need this.
    """
    loop = asyncio.new_event_loop()
    loop.set_debug(debug)
    asyncio.set_event_loop(loop)
    global _event_loop
    _event_loop = loop
    try:
        loop.run_forever()
    finally:
        _event_loop = None


_event_loop: asyncio.AbstractEventLoop | None = None

_T = TypeVar("_T")


class _NoEventLoop(RuntimeError):
    """A coroutine session is needed but no :func:`run_event_loop` is running."""


def _call_on_event_loop(fn: Callable[[], _T], wait: float = 5.0, timeout: float = 30.0) -> _T:
    """Run ``fn()`` on the loop of :func:`run_event_loop` and return its result (WSGI request
    threads hand coroutine-session work to it this way).

    Waits up to ``wait`` seconds for the loop to start (it may be starting in another thread).

    :raises RuntimeError: no :func:`run_event_loop` is running.
    """
    deadline = time.monotonic() + wait
    loop = _event_loop
    while loop is None or not loop.is_running():
        if time.monotonic() > deadline:
            raise _NoEventLoop(
                "coroutine-based apps on a WSGI backend need pywebio.platform.run_event_loop() "
                "running in a thread"
            )
        time.sleep(0.01)
        loop = _event_loop
    future: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(run)
    return future.result(timeout)


def _needs_event_loop(hub: HttpHub) -> bool:
    """Whether any app of ``hub`` is coroutine-based (its sessions live on ``run_event_loop``)."""
    from ..session import CoroutineBasedSession, session_class_for

    return any(session_class_for(app) is CoroutineBasedSession for app in hub.applications.values())


def _serve_from_thread(
    hub: HttpHub,
    method: str,
    query: Mapping[str, str],
    headers: Any,
    body: bytes,
    *,
    user_ip: str | None,
    request: Any,
    cdn: bool | str,
    on_loop: bool,
) -> HttpResponse:
    """Answer one request with ``hub`` from a WSGI worker thread; session work of coroutine apps
    (``on_loop``) is handed to the :func:`~pywebio.platform.run_event_loop` loop."""
    from .http import HttpResponse
    from .page import render_page

    on_loop = on_loop and bool(headers.get("webio-session-id"))

    def call(fn: Callable[[], Any]) -> Any:
        return _call_on_event_loop(fn) if on_loop else fn()

    try:
        ex = call(lambda: hub.exchange(method, query, headers, body, user_ip=user_ip, request=request))
        if ex.pause > 0:
            time.sleep(ex.pause)  # a worker thread of a threaded server: blocking is fine
        if ex.kind == "page":
            html = render_page(hub.app_for(ex.app_name), "http", cdn)
            return HttpResponse(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
        response: HttpResponse = call(ex.respond)
    except _NoEventLoop as exc:
        logger.error("%s", exc)
        return HttpResponse(500, str(exc).encode(), {"Content-Type": "text/plain"})
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def seo(title: str, description: str | None = None, app: Any = None) -> Any:
    """Deprecated: use :func:`config` (``config(title=, description=)``)."""
    if app is not None:
        return config(title=title, description=description)(app)
    return config(title=title, description=description)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'pywebio.platform' has no attribute {name!r}")
