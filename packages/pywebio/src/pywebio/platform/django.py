"""Django backend over the HTTP short-polling transport: ``webio_view``, ``wsgi_app`` and
``start_server``.

The protocol lives in :mod:`pywebio.platform.http`; this module only moves Django requests.
Coroutine-based apps run on the loop of :func:`pywebio.platform.run_event_loop`, which
``start_server`` starts in a daemon thread (run it yourself when mounting ``webio_view``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
import types
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

try:
    import django
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig
    from django.http import HttpRequest, HttpResponse
    from django.urls import path, re_path
    from django.views.static import serve
except ImportError as exc:  # pragma: no cover - exercised by simulating a missing Django
    raise ImportError('the Django backend of PyWebIO needs Django: pip install "pywebio[django]"') from exc

from .. import STATIC_PATH
from ..utils import parse_file_size
from . import _needs_event_loop, _serve_from_thread
from .http import HttpHub
from .utils import Applications, display_url, print_listen_address, set_max_payload_size

__all__ = ["start_server", "webio_view", "wsgi_app"]

logger = logging.getLogger("pywebio")

DRAIN_LIMIT = 1 << 20
"""Bytes beyond ``max_payload_size`` the Tornado server still reads, so that the view can answer
413 (larger requests lose their connection)."""

_setup_lock = threading.Lock()


def _view(hub: HttpHub, cdn: bool | str) -> Callable[..., HttpResponse]:
    on_loop = _needs_event_loop(hub)

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.get_host()  # validates Host against ALLOWED_HOSTS: DisallowedHost is a 400
        limit = hub.max_payload_size
        length = request.META.get("CONTENT_LENGTH") or ""
        if limit is not None and length.isdigit() and int(length) > limit:
            logger.warning("a %s-byte request exceeds the limit of %d bytes: 413", length, limit)
            return HttpResponse("payload too large", status=413, content_type="text/plain")
        try:
            body = request.body
        except RequestDataTooBig:  # over the project's DATA_UPLOAD_MAX_MEMORY_SIZE
            logger.warning("a %s-byte request exceeds DATA_UPLOAD_MAX_MEMORY_SIZE: 413", length)
            return HttpResponse("payload too large", status=413, content_type="text/plain")
        response = _serve_from_thread(
            hub,
            request.method or "GET",
            {key: request.GET.get(key, "") for key in request.GET},
            request.headers,
            body,
            user_ip=request.META.get("REMOTE_ADDR"),
            request=request,
            cdn=cdn,
            on_loop=on_loop,
        )
        answer = HttpResponse(response.body, status=response.status)
        for name, value in response.headers.items():
            answer[name] = value
        return answer

    view.csrf_exempt = True  # type: ignore[attr-defined]  # what @csrf_exempt does
    view.hub = hub  # type: ignore[attr-defined]
    return view


def webio_view(
    applications: Applications,
    cdn: bool | str = True,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
) -> Callable[..., HttpResponse]:
    """A Django view (CSRF-exempt) serving ``applications`` over HTTP polling: the page on a
    plain GET, the session on the same URL, e.g. ``path('tool', webio_view(main))``. Serve the
    front end (``pywebio.STATIC_PATH``) next to it. Request bodies are limited by the project's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413 beyond). Its sessions are ``view.hub``."""
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="django",
    )
    return _view(hub, cdn)


def local_hosts(host: str | None = None) -> list[str]:
    """The ``ALLOWED_HOSTS`` we set: the localhost names, plus the bound ``host`` when given; an
    all-interfaces bind (``''``/``0.0.0.0``/``::``) adds this machine's name and outward address."""
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    if host is None:
        return hosts
    if host and host not in ("0.0.0.0", "::"):
        names = [f"[{host}]" if ":" in host else host]
    else:
        outward = urlsplit(display_url(host, 1)).hostname or ""
        names = [socket.gethostname(), socket.getfqdn(), f"[{outward}]" if ":" in outward else outward]
    hosts += [name for name in names if name and name not in hosts]
    return hosts


class _Urls(types.ModuleType):
    urlpatterns: list[Any]


def _configure(debug: bool, limit: int, allowed_hosts: list[str], django_options: dict[str, Any]) -> None:
    """Configure and set up Django unless the process already did (then its settings apply)."""
    with _setup_lock:
        if settings.configured:
            logger.info("Django settings are already configured: DEBUG, ALLOWED_HOSTS and upload limits kept")
        else:
            options: dict[str, Any] = {
                "DEBUG": debug,
                "SECRET_KEY": secrets.token_urlsafe(32),
                "ALLOWED_HOSTS": allowed_hosts,
                "ROOT_URLCONF": __name__,
                "DATA_UPLOAD_MAX_MEMORY_SIZE": limit,
                "MIDDLEWARE": [],
                "INSTALLED_APPS": [],
            }
            options.update(django_options)
            settings.configure(**options)
            logging.getLogger("django").setLevel(logging.DEBUG if debug else logging.INFO)
        django.setup(set_prefix=False)


urlpatterns: list[Any] = []
"""Empty: each ``wsgi_app`` routes its requests through its own urlconf."""


def _make_wsgi_app(
    applications: Applications,
    *,
    cdn: bool | str,
    static_dir: str | None,
    allowed_origins: Iterable[str] | None,
    check_origin: Callable[[str], bool] | None,
    session_expire_seconds: float | None,
    session_cleanup_interval: float | None,
    debug: bool,
    max_payload_size: int | str,
    allowed_hosts: list[str],
    django_options: dict[str, Any],
) -> Any:
    from django.core.handlers.wsgi import WSGIHandler

    if static_dir is not None and not os.path.isdir(static_dir):
        raise ValueError(f"static_dir {static_dir!r} is not a directory")
    limit = parse_file_size(max_payload_size)
    _configure(debug, limit, allowed_hosts, django_options)
    hub = HttpHub(
        applications,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        backend="django",
        debug=debug,
        max_payload_size=limit,
    )
    set_max_payload_size(limit)
    urls = _Urls(f"{__name__}.urls_{id(hub):x}")
    urls.urlpatterns = []
    if static_dir is not None:
        urls.urlpatterns.append(
            re_path(r"^static/(?P<path>.*)$", serve, {"document_root": os.path.abspath(static_dir)})
        )
    urls.urlpatterns += [
        path("", _view(hub, cdn)),
        re_path(r"^(?P<path>.+)$", serve, {"document_root": STATIC_PATH}),
    ]

    class Handler(WSGIHandler):  # type: ignore[misc]
        def get_response(self, request: HttpRequest) -> Any:
            request.urlconf = urls  # ours, whatever ROOT_URLCONF says
            return super().get_response(request)

    app = Handler()
    app.hub = hub
    return app


def wsgi_app(
    applications: Applications,
    cdn: bool | str = True,
    static_dir: str | None = None,
    allowed_origins: Iterable[str] | None = None,
    check_origin: Callable[[str], bool] | None = None,
    session_expire_seconds: float | None = None,
    session_cleanup_interval: float | None = None,
    debug: bool = False,
    max_payload_size: int | str = "200M",
    **django_options: Any,
) -> Any:
    """A Django WSGI application: ``applications`` at the root, the front end's assets beside
    it, ``static_dir`` (if given) at ``static/``; requests over ``max_payload_size`` get 413.

    When Django is not configured yet, this configures it: ``DEBUG=debug``, a random
    ``SECRET_KEY``, ``DATA_UPLOAD_MAX_MEMORY_SIZE=max_payload_size`` and ``ALLOWED_HOSTS`` of the
    localhost names only (not ``'*'``): pass ``ALLOWED_HOSTS=[...]`` (any ``django_options``
    are settings) to serve other host names. Its sessions are ``app.hub``.
    """
    return _make_wsgi_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        debug=debug,
        max_payload_size=max_payload_size,
        allowed_hosts=local_hosts(),
        django_options=django_options,
    )


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
    **django_options: Any,
) -> None:
    """Serve ``applications`` with Django behind Tornado's WSGI container (requests run in a
    thread pool) until interrupted. ``host=''`` listens on all interfaces.

    Django is configured as in :func:`wsgi_app`, except that ``ALLOWED_HOSTS`` holds the localhost
    names plus the bound ``host`` (for an all-interfaces bind: this machine's name and outward
    address); pass ``ALLOWED_HOSTS=[...]`` to allow others.
    """
    import tornado.httpserver
    import tornado.ioloop
    import tornado.netutil
    from tornado.wsgi import WSGIContainer

    from . import run_event_loop

    host = host or "0.0.0.0"
    app = _make_wsgi_app(
        applications,
        cdn=cdn,
        static_dir=static_dir,
        allowed_origins=allowed_origins,
        check_origin=check_origin,
        session_expire_seconds=session_expire_seconds,
        session_cleanup_interval=session_cleanup_interval,
        debug=debug,
        max_payload_size=max_payload_size,
        allowed_hosts=local_hosts(host),
        django_options=django_options,
    )
    hub: HttpHub = app.hub
    if _needs_event_loop(hub):
        threading.Thread(target=run_event_loop, daemon=True, name="pywebio-event-loop").start()
    asyncio.set_event_loop(asyncio.new_event_loop())
    executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="pywebio-django")
    limit = parse_file_size(max_payload_size) + DRAIN_LIMIT
    server = tornado.httpserver.HTTPServer(
        WSGIContainer(app, executor=executor), max_buffer_size=limit, max_body_size=limit
    )
    sockets = tornado.netutil.bind_sockets(port, address=None if host == "0.0.0.0" else host)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    print_listen_address(host, port)
    if remote_access:
        from .remote_access import start_remote_access_service

        start_remote_access_service(port)
    try:
        tornado.ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        pass
    finally:
        hub.close_all()
        server.stop()
        executor.shutdown(wait=False)
