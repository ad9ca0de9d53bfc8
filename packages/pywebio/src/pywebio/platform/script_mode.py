"""Script mode: a program that calls PyWebIO functions without starting a server gets a
one-session server in a background thread, and its main thread becomes the session's app.

The port comes from env ``PYWEBIO_SCRIPT_MODE_PORT`` (which also keeps the browser from being
opened), else a free one. The first PyWebIO call waits for a browser to open the page. When the
script ends, the session is held while callbacks are
registered (until the browser leaves), then ``close_session`` is sent.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import webbrowser
from typing import Any

from ..session.base import Session
from ..session.threadbased import ThreadBasedSession

__all__ = ["script_mode_session"]

logger = logging.getLogger("pywebio")

_lock = threading.Lock()
_session: Session | None = None
_server: Any = None


def script_mode_session() -> Session:
    """The script's session, starting its server on first use."""
    global _session, _server
    with _lock:
        if _session is not None:
            return _session
        from .tornado import ServerThread, make_app
        from .utils import print_listen_address
        from .ws import WebSocketHub

        hub = WebSocketHub(lambda: None, backend="tornado")
        closed = threading.Event()

        def make(on_task_command: Any, on_session_close: Any) -> Session:
            def on_close() -> None:
                closed.set()
                on_session_close()

            return ThreadBasedSession(None, on_task_command=on_task_command, on_session_close=on_close)

        session = hub.adopt(make)
        env_port = os.environ.get("PYWEBIO_SCRIPT_MODE_PORT")
        port = int(env_port) if env_port else 0

        def factory(applications: Any, **options: Any) -> Any:
            return make_app(applications, hub=hub, **options)

        _server = ServerThread(None, "127.0.0.1", port, factory=factory).start()
        _session = session
        print_listen_address("127.0.0.1", _server.port)
        if not env_port:
            threading.Thread(target=_open_browser, args=(_server.url,), daemon=True).start()
        atexit.register(_at_exit, session, closed)
        # like the original, the script goes on once a browser is there (session info is known)
        hub.joined.wait()
        return session


def _open_browser(url: str) -> None:
    try:
        webbrowser.open(url)
    except Exception as exc:
        logger.info("could not open a browser for %s (%s)", url, exc)


def _at_exit(session: Session, closed: threading.Event) -> None:
    """The script ended: hold the session while callbacks can still run, then close it."""
    if session.closed():
        _stop()
        return
    if session.callbacks:
        logger.info("the script ended; its callbacks stay active until the browser page is closed")
        closed.wait()
    else:
        session.finish()
        _flushed(session)
    _stop()


def _flushed(session: Session, timeout: float = 2.0) -> None:
    """Give the server a moment to write the last commands before the process ends."""
    hub = getattr(_server, "hub", None)
    entry = getattr(hub, "fixed", None)
    conn = getattr(entry, "connection", None)
    if conn is None:
        return
    done = threading.Event()

    def check() -> None:
        while not (conn.finished and not session.has_commands()):
            if done.wait(0.01):
                return

    t = threading.Thread(target=check, daemon=True)
    t.start()
    t.join(timeout)
    done.set()


def _stop() -> None:
    if _server is not None:
        _server.stop()
