"""Serve every PyWebIO app file under a directory: ``path_deploy`` and ``pywebio-path-deploy``.

URL ``/A/b`` runs the ``main`` of ``A/b.py`` (a function, list or dict of apps; ``?app=`` works
inside a file). Names starting with ``_`` or ``.`` are hidden (403). A directory URL (ending in
``/``) runs its ``index.py`` or shows an index page. ``?reload`` re-imports a changed file.

The path rules are plain functions (:func:`resolve`), tested without a server; the tornado
handlers below only add the WebSocket (``path_deploy``) or the HTTP polling (``path_deploy_http``)
channel, using the same sans-I/O hubs as ``start_server`` and ``tornado_http.start_server``.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import html
import importlib.util
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from ..utils import parse_file_size

__all__ = ["PathDeployment", "Resolved", "index_page", "main", "path_deploy", "path_deploy_http", "resolve"]

logger = logging.getLogger("pywebio")

STATIC_PREFIX = "/_pywebio_static/"


@dataclass
class Resolved:
    """What a URL path of a deployment is: ``kind`` is ``app`` (``file`` is the .py to run),
    ``index`` (``directory`` to list), ``redirect`` (``location``), ``forbidden`` or ``missing``."""

    kind: str
    file: str | None = None
    directory: str | None = None
    location: str | None = None
    reason: str = ""


def resolve(base: str, url_path: str) -> Resolved:
    """Map ``url_path`` (``/A/b``, ``/A/``) to a file of ``base`` by the deployment rules."""
    base = os.path.realpath(base)
    parts = [p for p in url_path.split("/") if p]
    for part in parts:
        if part.startswith((".", "_")) or "\\" in part or "\x00" in part:
            return Resolved("forbidden", reason="hidden path")
    target = os.path.realpath(os.path.join(base, *parts))
    if target != base and not target.startswith(base + os.sep):
        return Resolved("forbidden", reason="outside the deployed directory")
    if url_path.endswith("/") or not parts:
        if not os.path.isdir(target):
            return Resolved("missing", reason="no such directory")
        index = os.path.join(target, "index.py")
        if os.path.isfile(index):
            return Resolved("app", file=index, directory=target)
        return Resolved("index", directory=target)
    if os.path.isdir(target):
        return Resolved("redirect", location=url_path + "/")
    file = target + ".py"
    if os.path.isfile(file):
        return Resolved("app", file=file, directory=os.path.dirname(file))
    return Resolved("missing", reason="no such app")


def _main_description(path: str) -> tuple[bool, str]:
    """Whether the file defines or assigns ``main`` at top level, and the first paragraph of
    ``main``'s docstring (read by parsing, without importing)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return False, ""
    found, desc = False, ""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "main":
            found = True
            doc = ast.get_docstring(node) or ""
            desc = " ".join(doc.split("\n\n")[0].split())
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "main" for t in targets):
                found = True
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name) == "main" for a in node.names
        ):
            found = True
    return found, desc


def index_page(base: str, directory: str) -> str:
    """The generated listing of ``directory``: sub-directories and app files (those that have a
    ``main``), hidden names left out."""
    rel = os.path.relpath(directory, os.path.realpath(base))
    url = "/" if rel == "." else "/" + rel.replace(os.sep, "/") + "/"
    rows = []
    if url != "/":
        rows.append('<tr><td><a href="../">../</a></td><td></td></tr>')
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        names = []
    for name in names:
        if name.startswith((".", "_")):
            continue
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            esc = html.escape(name)
            rows.append(f'<tr><td><a href="{html.escape(quote(name))}/">{esc}/</a></td><td></td></tr>')
        elif name.endswith(".py") and name != "index.py":
            ok, desc = _main_description(path)
            if ok:
                esc, href = html.escape(name[:-3]), html.escape(quote(name[:-3]))
                rows.append(f'<tr><td><a href="{href}">{esc}</a></td><td>{html.escape(desc)}</td></tr>')
    title = f"Index of {html.escape(url)}"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{title}</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:880px;margin:2em auto;padding:0 1em}"
        "td{padding:.3em 1.5em .3em 0}a{text-decoration:none}</style></head>"
        f"<body><h1>{title}</h1><hr><table>{''.join(rows)}</table><hr></body></html>"
    )


class PathDeployment:
    """The app files of ``base`` loaded on demand, each with its own session hub (sans-I/O)."""

    def __init__(
        self,
        base: str,
        *,
        index: bool | Callable[[str], str] = True,
        reconnect_timeout: float = 0,
        allowed_origins: Iterable[str] | None = None,
        check_origin: Callable[[str], bool] | None = None,
        debug: bool = False,
        backend: str = "tornado",
        max_message_size: int | None = None,
        http: bool = False,
        session_expire_seconds: float | None = None,
        session_cleanup_interval: float | None = None,
    ) -> None:
        from ..session.base import disable_script_mode

        disable_script_mode()
        if not os.path.isdir(base):
            raise ValueError(f"path_deploy: {base!r} is not a directory")
        self.base = os.path.realpath(base)
        self.index = index
        self.http = http
        self.hub_options: dict[str, Any] = {
            "allowed_origins": allowed_origins,
            "check_origin": check_origin,
            "debug": debug,
            "backend": backend,
        }
        if http:
            self.hub_options.update(
                session_expire_seconds=session_expire_seconds,
                session_cleanup_interval=session_cleanup_interval,
                max_payload_size=max_message_size,
            )
        else:
            self.hub_options.update(reconnect_timeout=reconnect_timeout, max_message_size=max_message_size)
        self._hubs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        from .utils import origin_checker

        return origin_checker(self.hub_options["allowed_origins"], self.hub_options["check_origin"])(
            origin, host
        )

    def hub_for(self, file: str, reload: bool = False) -> Any:
        """The hub of the apps in ``file`` (imported once; again with ``reload``): a
        :class:`~pywebio.platform.http.HttpHub` for ``http`` deployments, else a WebSocket hub.

        :raises LookupError: the file has no ``main``.
        """
        from .http import HttpHub
        from .ws import WebSocketHub

        with self._lock:
            hub = self._hubs.get(file)
            if hub is not None and not reload:
                return hub
            module = _load(file)
            apps = getattr(module, "main", None)
            if apps is None:
                raise LookupError(f"{file} has no 'main' application")
            hub = HttpHub(apps, **self.hub_options) if self.http else WebSocketHub(apps, **self.hub_options)
            self._hubs[file] = hub
            return hub

    def index_html(self, directory: str) -> str:
        if callable(self.index):
            rel = os.path.relpath(directory, self.base)
            return str(self.index("" if rel == "." else rel.replace(os.sep, "/")))
        if self.index:
            return index_page(self.base, directory)
        return "403 Forbidden"

    def close_all(self) -> None:
        for hub in list(self._hubs.values()):
            hub.close_all()


def _load(file: str) -> Any:
    """Import ``file`` as a fresh module named ``__pywebio__`` with its folder on ``sys.path``."""
    spec = importlib.util.spec_from_file_location("__pywebio__", file)
    if spec is None or spec.loader is None:
        raise LookupError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(file)
    before = set(sys.modules)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass
        # sibling modules it imported stay private to it: ``A/helper.py`` must not be what
        # ``B/x.py`` gets for its own ``import helper``
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules.get(name), "__file__", None) or ""
            if origin and os.path.realpath(origin).startswith(base_of(file)):
                sys.modules.pop(name, None)
    return module


def base_of(file: str) -> str:
    return os.path.realpath(os.path.dirname(file)) + os.sep


# tornado ---------------------------------------------------------------------------------------


def _tornado_app(
    deployment: PathDeployment, cdn: bool | str, static_dir: str | None, settings: dict[str, Any]
) -> Any:
    import tornado.web

    from .. import STATIC_PATH
    from .page import render_page
    from .tornado import WebIOSocketHandler

    class PathHandler(WebIOSocketHandler):
        hub: Any = None

        def session_hub(self) -> Any:
            return self.hub

        def check_origin(self, origin: str) -> bool:
            ok = deployment.origin_allowed(origin, self.request.headers.get("Host"))
            if not ok:
                logger.warning("WebSocket from origin %r refused", origin)
            return ok

        async def get(self, *args: Any, **kwargs: Any) -> None:
            found = resolve(deployment.base, unquote(self.request.path))
            if found.kind == "forbidden":
                raise tornado.web.HTTPError(403, reason="Forbidden")
            if found.kind == "missing":
                raise tornado.web.HTTPError(404)
            if found.kind == "redirect":
                self.redirect(found.location or "/", permanent=False)
                return
            if found.kind == "index":
                if deployment.index is False:  # upstream answered 200 with this text (spec §6)
                    self.set_status(403)
                self.finish(deployment.index_html(found.directory or deployment.base))
                return
            upgrade = self.request.headers.get("Upgrade", "").lower() == "websocket"
            reload = not upgrade and "reload" in self.request.query_arguments
            try:
                self.hub = deployment.hub_for(found.file or "", reload=reload)
            except LookupError:
                raise tornado.web.HTTPError(404) from None
            except Exception:
                logger.exception("path_deploy: importing %s failed", found.file)
                raise tornado.web.HTTPError(500) from None
            if not upgrade:
                if self.get_query_argument("test", None) is not None:
                    self.finish("")
                    return
                app = self.hub.app_for(self.get_query_argument("app", "index"))
                self.finish(render_page(app, "ws", cdn, base=STATIC_PREFIX))
                return
            await super().get(*args, **kwargs)

    handlers: list[Any] = [(STATIC_PREFIX + "(.*)", tornado.web.StaticFileHandler, {"path": STATIC_PATH})]
    if deployment.http:
        handler: Any = _http_handler(deployment, cdn)
    else:
        handler = PathHandler
    if static_dir is not None:
        handlers.append((r"/static/(.*)", tornado.web.StaticFileHandler, {"path": static_dir}))
    handlers.append((r"/.*", handler))
    return tornado.web.Application(handlers, **settings)


def _http_handler(deployment: PathDeployment, cdn: bool | str) -> Any:
    """The tornado handler of ``path_deploy_http``: the path rules, then the HTTP transport."""
    import tornado.web

    from .tornado_http import WebIOHttpHandler

    class PathHttpHandler(WebIOHttpHandler):
        hub: Any = None
        page_base = STATIC_PREFIX

        def session_hub(self) -> Any:
            if self.hub is None:  # before routing (prepare): only the payload limit is read
                return _Limit(deployment.hub_options.get("max_payload_size"))
            return self.hub

        async def _serve(self) -> None:
            found = resolve(deployment.base, unquote(self.request.path))
            if found.kind == "forbidden":
                raise tornado.web.HTTPError(403, reason="Forbidden")
            if found.kind == "missing":
                raise tornado.web.HTTPError(404)
            if found.kind == "redirect":
                self.redirect(found.location or "/", permanent=False)
                return
            if found.kind == "index":
                if deployment.index is False:
                    self.set_status(403)
                self.finish(deployment.index_html(found.directory or deployment.base))
                return
            page = self.request.method == "GET" and "webio-session-id" not in self.request.headers
            reload = page and "reload" in self.request.query_arguments
            try:
                self.hub = deployment.hub_for(found.file or "", reload=reload)
            except LookupError:
                raise tornado.web.HTTPError(404) from None
            except Exception:
                logger.exception("path_deploy_http: importing %s failed", found.file)
                raise tornado.web.HTTPError(500) from None
            await super()._serve()

    PathHttpHandler.cdn = cdn
    return PathHttpHandler


@dataclass
class _Limit:
    max_payload_size: int | None


def make_app(
    base: str,
    index: bool | Callable[[str], str] = True,
    static_dir: str | None = None,
    reconnect_timeout: float = 0,
    cdn: bool | str = True,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    http: bool = False,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    **tornado_app_settings: Any,
) -> tuple[Any, PathDeployment]:
    """The Tornado application of :func:`path_deploy` (``http``: of :func:`path_deploy_http`)
    and its :class:`PathDeployment`."""
    from .utils import set_max_payload_size

    deployment = PathDeployment(
        base,
        index=index,
        reconnect_timeout=reconnect_timeout,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        debug=debug,
        max_message_size=parse_file_size(max_payload_size),
        http=http,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
    )
    set_max_payload_size(parse_file_size(max_payload_size))
    settings: dict[str, Any] = {"debug": debug}
    if not http:
        settings.update(
            websocket_max_message_size=parse_file_size(max_payload_size), websocket_ping_interval=30
        )
    settings.update(tornado_app_settings)
    return _tornado_app(deployment, cdn, static_dir, settings), deployment


def _run(base: str, port: int, host: str, max_payload_size: int | str, **options: Any) -> None:
    """Build the deployment's Tornado app and serve it until interrupted."""
    from .tornado import serve_app

    asyncio.set_event_loop(asyncio.new_event_loop())  # before the app (debug autoreload)
    app, deployment = make_app(base, max_payload_size=max_payload_size, **options)
    serve_app(app, deployment.close_all, port, host, max_payload_size)


def path_deploy(
    base: str,
    port: int = 0,
    host: str = "",
    index: bool | Callable[[str], str] = True,
    static_dir: str | None = None,
    reconnect_timeout: float = 0,
    cdn: bool | str = True,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    max_payload_size: int | str = "200M",
    **tornado_app_settings: Any,
) -> None:
    """Serve the apps of directory ``base`` (WebSocket) until interrupted."""
    _run(
        base,
        port,
        host,
        max_payload_size,
        index=index,
        static_dir=static_dir,
        reconnect_timeout=reconnect_timeout,
        cdn=cdn,
        debug=debug,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        **tornado_app_settings,
    )


def path_deploy_http(
    base: str,
    port: int = 0,
    host: str = "",
    index: bool | Callable[[str], str] = True,
    static_dir: str | None = None,
    cdn: bool | str = True,
    debug: bool = False,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    max_payload_size: int | str = "200M",
    **tornado_app_settings: Any,
) -> None:
    """Serve the apps of directory ``base`` over HTTP polling until interrupted."""
    _run(
        base,
        port,
        host,
        max_payload_size,
        index=index,
        static_dir=static_dir,
        cdn=cdn,
        debug=debug,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        http=True,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        **tornado_app_settings,
    )


def main(argv: list[str] | None = None) -> None:
    """The ``pywebio-path-deploy`` command."""
    parser = argparse.ArgumentParser(
        prog="pywebio-path-deploy",
        description="Deploy the PyWebIO applications of a directory.",
        add_help=False,
    )
    parser.add_argument("path", help="the directory of the application files")
    parser.add_argument("-p", "--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("-h", "--host", default="0.0.0.0", help="host to listen on (default 0.0.0.0)")
    parser.add_argument("--no-index", action="store_true", help="no index pages for directories")
    parser.add_argument("--static-dir", default=None, help="directory served at /static/")
    parser.add_argument(
        "--no-cdn", action="store_true", help="accepted; the front end is always served locally"
    )
    parser.add_argument("-d", "--debug", action="store_true", help="debug mode (tracebacks, autoreload)")
    parser.add_argument("--http", action="store_true", help="HTTP polling transport instead of WebSocket")
    parser.add_argument("--session-expire-seconds", type=int, default=None, help="HTTP only")
    parser.add_argument("--session-cleanup-interval", type=int, default=None, help="HTTP only")
    parser.add_argument("--websocket-max-message-size", default=None, help="e.g. 4M (WebSocket only)")
    parser.add_argument("--websocket-ping-interval", type=int, default=None, help="seconds (WebSocket only)")
    parser.add_argument("--websocket-ping-timeout", type=int, default=None, help="seconds (WebSocket only)")
    parser.add_argument("--help", action="help", help="show this help and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not os.path.isdir(args.path):
        parser.error(f"{args.path!r} is not a directory")
    options: dict[str, Any] = {
        "port": args.port,
        "host": args.host,
        "index": not args.no_index,
        "static_dir": args.static_dir,
        "cdn": not args.no_cdn,
        "debug": args.debug,
    }
    if args.http:
        path_deploy_http(
            args.path,
            session_expire_seconds=args.session_expire_seconds,
            session_cleanup_interval=args.session_cleanup_interval,
            **options,
        )
        return
    if args.websocket_max_message_size:
        options["max_payload_size"] = args.websocket_max_message_size
    if args.websocket_ping_interval is not None:
        options["websocket_ping_interval"] = args.websocket_ping_interval
    if args.websocket_ping_timeout is not None:
        options["websocket_ping_timeout"] = args.websocket_ping_timeout
    path_deploy(args.path, **options)


if __name__ == "__main__":  # pragma: no cover
    main()
