"""pywebio: script-style web apps (put_text, input, pin...) served by tornado or wirecore.

``import pywebio`` stays light: ``start_server`` (the tornado backend, as in the original) and the
``output``/``input``/``pin``/``session``/``platform`` submodules are imported on first use.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("pywebio")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

STATIC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "html")
"""The browser front end shipped with the package (served at the app's URL)."""

logging.getLogger("pywebio").addHandler(logging.NullHandler())

from .exceptions import SessionClosedException, SessionException, SessionNotFoundException  # noqa: E402
from .platform.page import config  # noqa: E402

__all__ = [
    "STATIC_PATH",
    "SessionClosedException",
    "SessionException",
    "SessionNotFoundException",
    "__version__",
    "config",
    "enable_debug",
    "start_server",
]


def enable_debug(level: int = logging.DEBUG) -> None:
    """Print PyWebIO's log messages (and tornado's) on stderr, from ``level`` up."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(levelname)s %(asctime)s %(name)s] %(message)s"))
    for name in ("pywebio", "tornado.access", "tornado.application", "tornado.general"):
        log = logging.getLogger(name)
        log.setLevel(level)
        log.addHandler(handler)


_SUBMODULES = {"input", "output", "pin", "session", "platform", "utils", "exceptions", "io_ctrl"}


def __getattr__(name: str) -> Any:
    if name == "start_server":
        from .platform.tornado import start_server

        return start_server
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'pywebio' has no attribute {name!r}")
