"""Application normalisation, the generated index app and the Origin check, shared by every
transport."""

from __future__ import annotations

import fnmatch
import html
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..utils import get_function_name

__all__ = ["is_same_site", "make_applications", "make_index_app", "origin_checker"]

logger = logging.getLogger("pywebio")

Applications = (
    Callable[..., Any] | list[Callable[..., Any]] | tuple[Callable[..., Any], ...] | Mapping[Any, Any]
)


def make_applications(applications: Applications) -> dict[str, Callable[..., Any]]:
    """``{name: app}`` from a function, a list of functions (named by ``__name__``, partials
    unwrapped) or a dict; adds a generated ``index`` app listing the others when none is given.

    :raises ValueError: two apps of a list share a name.
    :raises TypeError: an app is not callable.
    """
    if isinstance(applications, Mapping):
        apps = {str(name): app for name, app in applications.items()}
    elif isinstance(applications, (list, tuple)):
        apps = {}
        for app in applications:
            name = get_function_name(app)
            if name in apps:
                raise ValueError(f"two applications are named {name!r}: use a dict to name them")
            apps[name] = app
    elif callable(applications):
        apps = {"index": applications}
    else:
        raise TypeError(
            f"applications must be a function, a list or a dict, not {type(applications).__name__}"
        )
    for name, app in apps.items():
        if not callable(app):
            raise TypeError(f"application {name!r} is not callable: {app!r}")
    if "index" not in apps:
        apps["index"] = make_index_app(apps)
    return apps


def make_index_app(apps: Mapping[str, Callable[..., Any]]) -> Callable[[], None]:
    """An app that lists ``apps`` as links (``WebIO.openApp(name, true)``), with their titles and
    descriptions (see :func:`pywebio.platform.page.app_meta`)."""
    from .page import app_meta

    items = []
    for name, app in apps.items():
        meta = app_meta(app)
        title = meta.title if meta.title_set else name
        href = html.escape(f"javascript:WebIO.openApp({json.dumps(name)}, true)")
        desc = f": {html.escape(meta.description)}" if meta.description else ""
        items.append(f'<li><a href="{href}">{html.escape(title)}</a>{desc}</li>')
    content = "<h2>Applications</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>"

    def index() -> None:
        """Index

        The applications of this server."""
        from ..session import get_current_session

        get_current_session().send_task_command(
            {
                "command": "output",
                "spec": {
                    "type": "html",
                    "content": content,
                    "sanitize": False,
                    "scope": "#pywebio-scope-ROOT",
                    "position": -1,
                },
            }
        )

    return index


def is_same_site(origin: str, host: str | None) -> bool:
    """Whether the Origin's ``host[:port]`` equals the Host header (case-insensitive)."""
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()


def origin_checker(
    allowed_origins: Iterable[str] | None = None, check_origin: Callable[[str], bool] | None = None
) -> Callable[[str | None, str | None], bool]:
    """``allowed(origin, host) -> bool``: same-site always; else ``check_origin(origin)`` when
    given, else the Origin matched against ``allowed_origins`` with shell wildcards (``fnmatch``:
    ``https://*.example.com``, ``*://*.example.com``). A request without Origin is allowed."""
    if isinstance(allowed_origins, str):
        raise TypeError("allowed_origins is a list of patterns, not a string")
    patterns = [p.lower() for p in (allowed_origins or [])]

    def allowed(origin: str | None, host: str | None) -> bool:
        if not origin:
            return True
        if is_same_site(origin, host):
            return True
        if check_origin is not None:
            try:
                return bool(check_origin(origin))
            except Exception:
                logger.exception("check_origin(%r) failed: origin refused", origin)
                return False
        lowered = origin.lower()
        return any(fnmatch.fnmatchcase(lowered, p) for p in patterns)

    return allowed


def display_url(host: str | None, port: int) -> str:
    """The URL to show for a server listening on ``host:port`` (an all-interfaces bind shows the
    machine's outward address)."""
    import socket

    if not host or host in ("0.0.0.0", "::"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
                shown = s.getsockname()[0]
        except OSError:
            shown = "127.0.0.1"
    else:
        shown = host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def print_listen_address(host: str | None, port: int) -> None:
    """The documented startup line (the only ``print`` of the library)."""
    if not host or host in ("0.0.0.0", "::"):
        print(
            f"Running on all addresses.\nUse {display_url(host, port)} to access the application", flush=True
        )
    else:
        print(f"Running on {display_url(host, port)}", flush=True)


def open_webbrowser_on_ready(host: str | None, port: int) -> None:
    """In a daemon thread: wait (up to 20 s) for the port, then open the app in a browser."""
    import threading
    import webbrowser

    from ..utils import wait_host_port

    local = "127.0.0.1" if not host or host in ("0.0.0.0", "::") else host

    def run() -> None:
        if not wait_host_port(local, port, duration=20):
            logger.warning("auto_open_webbrowser: the server did not accept connections within 20 s")
            return
        url = f"http://{local}:{port}/"
        try:
            if not webbrowser.open(url):
                logger.info("auto_open_webbrowser: no browser available to open %s", url)
        except Exception as exc:
            logger.info("auto_open_webbrowser: could not open %s (%s)", url, exc)

    threading.Thread(target=run, daemon=True, name="pywebio-open-browser").start()


_max_payload_size: int | None = None


def set_max_payload_size(size: int) -> None:
    """Record the server's message size limit (bytes), the default and upper bound of
    ``file_upload(max_size=, max_total_size=)`` (spec §3.5)."""
    global _max_payload_size
    _max_payload_size = size


def get_max_payload_size() -> int | None:
    """The message size limit of the server started in this process (``None``: none started)."""
    return _max_payload_size


def tornado_server_limits(max_payload_size: int) -> dict[str, int]:
    """``HTTPServer`` options for a payload limit: bodies are capped at the limit (the handlers
    answer 413), but the read buffer never goes below 1 MiB: with a buffer as small as the limit,
    tornado drops a connection whose bytes simply arrive faster than it reads them, and the client
    sees a reset instead of the 413."""
    return {"max_body_size": max_payload_size, "max_buffer_size": max(max_payload_size, 1 << 20)}
