"""wesktop: web-based desktop apps on wirecore.

Routes in Python, served by granian, shown in a native pywebview window (``run``) or headless
(``serve``). Every public name is importable from ``wesktop``; submodules are loaded on first use,
so ``import wesktop`` stays cheap and never loads a GUI toolkit.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("wesktop")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

# public name -> the module that defines it
_EXPORTS = {
    "Router": "asgi",
    "Request": "asgi",
    "create_app": "asgi",
    "add_ws_route": "asgi",
    "JSONResponse": "asgi",
    "TextResponse": "asgi",
    "HTMLResponse": "asgi",
    "BytesResponse": "asgi",
    "StreamResponse": "asgi",
    "HTTPError": "asgi",
    "Broadcaster": "sse",
    "sse_route": "sse",
    "serve": "server",
    "run": "desktop",
    "create_entry": "entries",
    "remove_entry": "entries",
    "TestClient": "testing",
}

__all__ = [
    "BytesResponse",
    "Broadcaster",
    "HTMLResponse",
    "HTTPError",
    "JSONResponse",
    "Request",
    "Router",
    "StreamResponse",
    "TestClient",
    "TextResponse",
    "__version__",
    "add_ws_route",
    "create_app",
    "create_entry",
    "remove_entry",
    "run",
    "serve",
    "sse_route",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'wesktop' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"wesktop.{module}"), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .asgi import (
        BytesResponse,
        HTMLResponse,
        HTTPError,
        JSONResponse,
        Request,
        Router,
        StreamResponse,
        TextResponse,
        add_ws_route,
        create_app,
    )
    from .desktop import run
    from .entries import create_entry, remove_entry
    from .server import serve
    from .sse import Broadcaster, sse_route
    from .testing import TestClient
