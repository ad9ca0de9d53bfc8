"""Flask backend over the HTTP short-polling transport: ``webio_view``, ``wsgi_app`` and
``start_server``.

The protocol lives in :mod:`pywebio.platform.http`; this module only moves WSGI requests.
Coroutine-based apps run on the loop of :func:`pywebio.platform.run_event_loop`, which
``start_server`` starts in a daemon thread (run it yourself when mounting ``webio_view``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

try:
    import flask
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing Flask
    raise ImportError('the Flask backend of PyWebIO needs Flask: pip install "pywebio[flask]"') from exc

from .. import STATIC_PATH
from ..utils import parse_file_size
from . import _needs_event_loop, _serve_from_thread
from .http import HttpHub
from .utils import Applications, set_max_payload_size

__all__ = ["start_server", "webio_view", "wsgi_app"]

logger = logging.getLogger("pywebio")

METHODS = ["GET", "POST", "OPTIONS"]


def _view(hub: HttpHub, cdn: bool | str) -> Callable[..., flask.Response]:
    on_loop = _needs_event_loop(hub)

    def view(*args: Any, **kwargs: Any) -> flask.Response:
        req = flask.request
        limit = hub.max_payload_size
        if limit is not None and (req.content_length or 0) > limit:
            logger.warning("a %d-byte request exceeds the limit of %d bytes: 413", req.content_length, limit)
            return flask.Response("payload too large", status=413, content_type="text/plain")
        body = req.get_data(cache=False)  # 413 from Flask beyond MAX_CONTENT_LENGTH
        response = _serve_from_thread(
            hub,
            req.method,
            req.args.to_dict(),
            req.headers,
            body,
            user_ip=req.remote_addr,
            request=req._get_current_object(),  # type: ignore[attr-defined]
            cdn=cdn,
            on_loop=on_loop,
        )
        return flask.Response(response.body, status=response.status, headers=response.headers)

    view.methods = METHODS  # type: ignore[attr-defined]
    view.provide_automatic_options = False  # type: ignore[attr-defined]  # OPTIONS gets CORS headers
    view.hub = hub  # type: ignore[attr-defined]
    return view


def webio_view(
    applications: Applications,
    cdn: bool | str = True,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> Callable[..., flask.Response]:
    """A Flask view serving ``applications`` over HTTP polling: the page on a plain GET, the
    session on the same URL. Register it for GET, POST and OPTIONS, e.g.
    ``app.add_url_rule('/tool', 'webio_view', webio_view(main), methods=['GET', 'POST', 'OPTIONS'])``,
    and serve the front end (``pywebio.STATIC_PATH``) next to it. Its sessions are ``view.hub``."""
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="flask",
    )
    return _view(hub, cdn)


def wsgi_app(
    applications: Applications,
    cdn: bool | str = True,
    static_dir: str | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    max_payload_size: int | str = "200M",
) -> flask.Flask:
    """A Flask app: ``applications`` at ``/``, the front end's assets beside it, ``static_dir``
    (if given) at ``/static``; requests over ``max_payload_size`` get 413. Its sessions are
    ``app.extensions["pywebio"]``."""
    if static_dir is not None and not os.path.isdir(static_dir):
        raise ValueError(f"static_dir {static_dir!r} is not a directory")
    limit = parse_file_size(max_payload_size)
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="flask",
        max_payload_size=limit,
    )
    set_max_payload_size(limit)
    app = flask.Flask(
        __name__,
        static_folder=os.path.abspath(static_dir) if static_dir else None,
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = limit
    app.add_url_rule("/", "webio_view", _view(hub, cdn), methods=METHODS)

    def assets(path: str) -> flask.Response:
        return flask.send_from_directory(STATIC_PATH, path)

    app.add_url_rule("/<path:path>", "pywebio_assets", assets)
    app.extensions["pywebio"] = hub
    return app


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host if host not in ("", "0.0.0.0") else "", 0))
        return int(s.getsockname()[1])


def start_server(
    applications: Applications,
    port: int = 8080,
    host: str = "",
    cdn: bool | str = True,
    static_dir: str | None = None,
    remote_access: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    debug: bool = False,
    max_payload_size: int | str = "200M",
    **flask_options: Any,
) -> None:
    """Serve ``applications`` with Flask's threaded development server until interrupted
    (``host=''`` listens on all interfaces; ``debug`` turns on the reloader and error popups;
    ``flask_options`` go to ``Flask.run``)."""
    from . import run_event_loop

    app = wsgi_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        max_payload_size=max_payload_size,
    )
    hub: HttpHub = app.extensions["pywebio"]
    hub.debug = hub.debug or debug
    host = host or "0.0.0.0"
    if port == 0:
        port = _free_port(host)
    if _needs_event_loop(hub):
        threading.Thread(target=run_event_loop, daemon=True, name="pywebio-event-loop").start()
    # with the reloader, the watching parent process serves nothing: open the tunnel in the child
    if remote_access and (not debug or os.environ.get("WERKZEUG_RUN_MAIN") == "true"):
        from .remote_access import start_remote_access_service

        start_remote_access_service(port)
    options: dict[str, Any] = {"threaded": True, "use_evalex": False}
    options.update(flask_options)
    try:
        app.run(host=host, port=port, debug=debug, **options)
    finally:
        hub.close_all()
