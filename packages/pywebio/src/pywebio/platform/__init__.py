"""Transports and deployment: the tornado backend (default), tornado_http (HTTP polling), the
wirecore/granian backend, ``path_deploy(_http)``, ``config()`` and ``run_event_loop``.

Backends are imported on first use, so importing this package loads no web framework.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from typing import Any

from .page import config

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
