"""Desktop mode: the app served in a background thread and shown in a native pywebview window.

:func:`run` starts wirecore's embedded granian server, waits until its port answers, opens one
window on it and blocks until the window is closed; then it stops the server, removes the PID
file and returns, so ``python myapp.py`` ends with status 0.

pywebview (and through it Qt, GTK, Cocoa or WebView2) is imported only inside :func:`run`:
``import wesktop`` and :func:`wesktop.serve` never load a GUI toolkit.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import platform
import signal
import socket
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from wirecore.server import Server, load_app

from .server import interface_for

__all__ = ["DesktopError", "run"]

logger = logging.getLogger("wesktop.desktop")

INSTALL_HINT = (
    'install the desktop extra: pip install "wesktop[desktop]" (pywebview; on Linux also a Qt '
    "binding with QtWebEngine: pip install qtpy PySide6), or serve the app headless with "
    "wesktop.serve() and open it in a browser"
)

# Qt platform plugins that draw to a display server; any other (offscreen, vnc, eglfs...) needs none.
_QT_DISPLAY_PLATFORMS = {"xcb", "wayland", "wayland-egl"}
_QT_BINDINGS = ("PySide6", "PyQt6", "PyQt5", "PySide2")


class DesktopError(RuntimeError):
    """A native window cannot be opened here: no pywebview, no GUI backend, or no display."""


def run(
    target: Any,
    *,
    title: str = "wesktop",
    width: int = 1280,
    height: int = 800,
    icon: str | os.PathLike[str] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    pid_path: str | os.PathLike[str] | None = None,
    js_api: Any = None,
    debug: bool = False,
) -> None:
    """Serve ``target`` and show it in a native window; return once the window is closed.

    :param target: the app, or an import string ``"module:attr"`` (the running script counts as
        that module, so ``run("myapp:app")`` at the bottom of ``myapp.py`` works).
    :param title: window title.
    :param width: window width in pixels.
    :param height: window height in pixels.
    :param icon: window icon file (honoured by the Qt and GTK backends).
    :param host: bind address; ``0.0.0.0``/``::`` still open the window on the loopback address.
    :param port: bind port; 0 picks a free one.
    :param pid_path: PID file written while the app runs and removed when it stops.
    :param js_api: an object whose public methods the page can call as
        ``await window.pywebview.api.name(...)``.
    :param debug: pywebview's debug mode (web inspector, verbose logging).
    :raises DesktopError: not on the main thread, pywebview or a GUI backend is missing, or
        there is no display: raised before the server starts (or after it was stopped again).
    :raises wirecore.PortInUseError: the port is taken (nothing is opened).
    :raises wirecore.AlreadyRunningError: ``pid_path`` names a live process.
    """
    if threading.current_thread() is not threading.main_thread():
        raise DesktopError("wesktop.run() must be called from the main thread: GUI toolkits need it")
    app = load_app(target)
    webview = _import_webview()
    system = platform.system()
    _require_display(system)
    gui = _choose_gui(system)
    _require_window_host(app, host)

    server = Server(app, host, port, interface=interface_for(app), pid_file=pid_path, name="wesktop")
    server.start()
    try:
        window = webview.create_window(title, url=server.url, width=width, height=height, js_api=js_api)
        options: dict[str, Any] = {"debug": debug}
        if gui is not None:
            options["gui"] = gui
        if icon is not None:
            options["icon"] = os.fspath(icon)
        logger.info("opening %r on %s", title, server.url)
        webview_error = getattr(webview, "WebViewException", None)
        expected: tuple[type[BaseException], ...] = ()
        if isinstance(webview_error, type) and issubclass(webview_error, BaseException):
            expected = (webview_error,)
        with _window_signals(window):
            try:
                webview.start(**options)
            except expected as exc:
                raise DesktopError(f"pywebview could not open a window: {exc}") from exc
    finally:
        server.stop()
    logger.info("window closed; server stopped")


def _window_host(host: str) -> str:
    """The host part of the window's URL for a bind address (as wirecore's ``Server.url``)."""
    name = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"[{name}]" if ":" in name else name


def _require_window_host(app: Any, host: str) -> None:
    """Refuse to open a window the app's Host check would answer with 403."""
    allowed = getattr(getattr(app, "guard", None), "host_allowed", None)
    if callable(allowed) and not allowed(_window_host(host)):
        raise DesktopError(
            f"the window would load the app as {_window_host(host)!r}, a Host name the app refuses; "
            "bind host='127.0.0.1' or add that name to create_app(allowed_hosts=[...])"
        )


def _import_webview() -> ModuleType:
    try:
        webview: ModuleType = importlib.import_module("webview")
    except ImportError as exc:
        raise DesktopError(f"wesktop.run() needs pywebview, which is not installed: {INSTALL_HINT}") from exc
    return webview


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _choose_gui(system: str) -> str | None:
    """The pywebview backend to force, or None to let pywebview pick.

    On Linux and the BSDs pywebview tries GTK first and logs a traceback when PyGObject is
    missing; with only Qt installed we ask for Qt directly. With neither, fail before serving.
    """
    if system in ("Darwin", "Windows") or os.environ.get("PYWEBVIEW_GUI"):
        return None
    has_gtk = _installed("gi")
    has_qt = _installed("qtpy") and any(_installed(f"{b}.QtWebEngineWidgets") for b in _QT_BINDINGS)
    if has_gtk:
        return None
    if has_qt:
        return "qt"
    raise DesktopError(
        "wesktop.run() found no GUI backend for pywebview (neither Qt with QtWebEngine nor "
        f"GTK/PyGObject): {INSTALL_HINT}"
    )


def _require_display(system: str) -> None:
    """Fail early (and clearly) where a window could not appear; Qt would abort the process."""
    if system in ("Darwin", "Windows"):
        return
    qpa = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if qpa and qpa not in _QT_DISPLAY_PLATFORMS:
        return  # e.g. QT_QPA_PLATFORM=offscreen
    if os.environ.get("WAYLAND_DISPLAY"):
        return
    display = os.environ.get("DISPLAY", "")
    if not display:
        raise DesktopError(
            "wesktop.run() needs a display to open a window, but neither $DISPLAY nor "
            "$WAYLAND_DISPLAY is set; use wesktop.serve() to run the app headless (or start an X "
            "server such as Xvfb)"
        )
    if not _x_display_reachable(display):
        raise DesktopError(
            f"wesktop.run() cannot connect to the X display {display!r}; check $DISPLAY, or use "
            "wesktop.serve() to run the app headless"
        )


def _x_display_reachable(display: str) -> bool:
    """Whether an X server answers at ``display`` (``[host]:N[.screen]``); True when unsure."""
    host, sep, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not sep or not number.isdigit() or host.startswith("/"):
        return True  # a socket path (XQuartz) or a form we do not parse: let the toolkit decide
    if host in ("", "unix"):
        path = f"/tmp/.X11-unix/X{number}"
        for address in (path, "\0" + path):  # the file socket, then Linux's abstract one
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                try:
                    sock.connect(address)
                except OSError:
                    continue
                return True
        return False
    try:
        with socket.create_connection((host.strip("[]"), 6000 + int(number)), timeout=1.0):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _window_signals(window: Any) -> Iterator[None]:
    """While the window is open, SIGTERM closes it, so ``kill <pid>`` ends the app as cleanly as
    the close button (pywebview already does so for Ctrl+C). Afterwards the SIGTERM and SIGINT
    handlers are put back as they were, so Ctrl+C raises KeyboardInterrupt again.

    The handler runs when the GUI loop next enters Python; it closes the window from a helper
    thread, as pywebview's API expects.
    """

    def on_sigterm(signum: int, frame: Any) -> None:
        logger.info("SIGTERM: closing the window")
        threading.Thread(target=window.destroy, name="wesktop-close", daemon=True).start()

    previous_int = signal.getsignal(signal.SIGINT)
    previous_term = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous_term is None else previous_term)
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
