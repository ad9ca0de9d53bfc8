"""Serving headless: :func:`serve` blocks on granian through wirecore.

``serve("myapp:app")`` placed at the bottom of ``myapp.py`` and run as ``python myapp.py`` uses
the running script's ``app``; the script is never imported a second time (wirecore resolves a
target naming the running script to ``__main__``), and granian runs in this process, so no
worker process imports it either.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Literal

import wirecore
from wirecore import AlreadyRunningError, LifespanError, PortInUseError, ServerError
from wirecore.server import load_app

from .security import LOOPBACK_HOSTS, host_name

__all__ = [
    "AlreadyRunningError",
    "LifespanError",
    "PortInUseError",
    "ServerError",
    "command_loading",
    "interface_for",
    "load_app",
    "serve",
]

logger = logging.getLogger("wesktop")

Interface = Literal["rsgi", "asgi"]

_command_loading: str | None = None
"""Set by the ``wesktop`` command while it imports its target: a ``serve()`` (or ``run()``) call
at the bottom of that module, as the documentation's examples have, is then skipped, because the
command itself is about to serve the app."""


def command_loading() -> str | None:
    """The ``wesktop`` command (``"serve"``/``"run"``) importing its target right now, or None."""
    return _command_loading


def interface_for(app: Any) -> Interface:
    """The interface to serve ``app`` over: RSGI when it can, ASGI when it must (an app with
    ASGI middleware, or a plain ASGI callable)."""
    preferred = getattr(app, "preferred_interface", None)
    if preferred in ("rsgi", "asgi"):
        return preferred  # type: ignore[no-any-return]
    return "rsgi" if hasattr(app, "__rsgi__") else "asgi"


def _check_reachable(app: Any, host: str) -> None:
    """Warn when the bind address is not loopback but the app only answers loopback names."""
    guard = getattr(app, "guard", None)
    if guard is None or host_name(host) in LOOPBACK_HOSTS or host in ("127.0.0.1", "::1"):
        return
    if guard.allowed_hosts == LOOPBACK_HOSTS:
        logger.warning(
            "listening on %s, but the app answers only Host names %s (others get 403); "
            "pass create_app(allowed_hosts=[...]) to be reachable under other names",
            host,
            ", ".join(sorted(LOOPBACK_HOSTS)),
        )


def _default_logging() -> None:
    """INFO logging to stderr for a program that configured none (serve is its entry point)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(
    target: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    pid_path: str | os.PathLike[str] | None = None,
    name: str = "wesktop",
    interface: Interface | None = None,
    workers: int = 1,
) -> None:
    """Serve ``target`` headless on granian, blocking until SIGINT or SIGTERM.

    :param target: the app, or an import string ``"module:attribute"`` naming it.
    :param host: the bind address.
    :param port: the port (0: a free one, reported in the log).
    :param pid_path: a PID file, written at start and removed on every way out.
    :param name: the server's name in log lines.
    :param interface: ``"rsgi"`` or ``"asgi"``; by default RSGI unless the app needs ASGI.
    :param workers: granian worker processes (``target`` must then be an import string). A
        :class:`~wesktop.Broadcaster` reaches the clients of every worker when a Redis backplane
        is configured (``WIRECORE_REDIS_URL``); without one, each worker's broadcasts stay in it.

    Raises :class:`~wirecore.PortInUseError` when the address is taken,
    :class:`~wirecore.AlreadyRunningError` when ``pid_path`` names a live process, and
    :class:`~wirecore.LifespanError` when the app's lifespan startup fails; it never exits the
    interpreter itself. When the program has not configured logging, INFO lines go to stderr.
    """
    _default_logging()
    if _command_loading is not None:
        logger.info(
            "serve(%r) skipped: `wesktop %s` is loading this module and serves it", target, _command_loading
        )
        return
    app = load_app(target)
    iface = interface or interface_for(app)
    _check_reachable(app, host)
    logger.info("starting %s on http://%s:%s", name, f"[{host}]" if ":" in host else host, port)
    wirecore.serve(
        target if workers > 1 else app, host, port, interface=iface, pid_file=pid_path, name=name, workers=workers
    )
