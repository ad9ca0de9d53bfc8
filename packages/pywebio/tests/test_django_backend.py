"""``pywebio.platform.django`` on a threaded wsgiref server (127.0.0.1, port 0), with an httpx
client playing the browser's HTTP polling (spec §1.10); ``start_server`` in a subprocess."""

from __future__ import annotations

import importlib
import os
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

pytest.importorskip("django")

import django
import httpx
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test.utils import override_settings
from django.urls import path
from test_tornado_http import HttpBrowser, async_greeter, greeter

import pywebio.platform
from pywebio.output import put_buttons, put_text
from pywebio.platform.django import webio_view, wsgi_app
from pywebio.session import defer_call, hold

Wait = Callable[..., None]
Serve = Callable[..., str]


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module", autouse=True)
def django_settings() -> None:
    """A minimal project, unless the process configured Django already."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="test-only",
            ALLOWED_HOSTS=["127.0.0.1", "localhost"],
            ROOT_URLCONF="pywebio.platform.django",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
    django.setup()


@pytest.fixture
def serve_wsgi() -> Iterator[Serve]:
    """Serve a WSGI app on a threaded wsgiref server; returns its URL (ending in ``/``)."""
    servers: list[Any] = []
    hubs: list[Any] = []

    def start(app: Any, hub: Any = None) -> str:
        server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True, name="test-wsgiref").start()
        servers.append(server)
        hubs.append(hub or app.hub)
        return f"http://127.0.0.1:{server.server_port}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
    for hub in hubs:
        hub.close_all()


@pytest.fixture(scope="module")
def event_loop_thread() -> Iterator[None]:
    """``run_event_loop`` in a daemon thread, as coroutine apps under WSGI need it."""
    thread = threading.Thread(target=pywebio.platform.run_event_loop, daemon=True)
    thread.start()
    yield
    loop = pywebio.platform._event_loop
    if loop is not None:
        loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_page_and_assets_are_served(serve_wsgi: Serve) -> None:
    url = serve_wsgi(wsgi_app(greeter))
    page = httpx.get(url, timeout=5)
    assert page.status_code == 200 and '"http"' in page.text
    assert httpx.get(url + "?test=1", timeout=5).text == "ok"
    assert httpx.get(url + "js/pywebio.js", timeout=5).status_code == 200


@pytest.mark.parametrize("app", [greeter, async_greeter], ids=["thread", "coroutine"])
def test_input_round_trip(serve_wsgi: Serve, wait_until: Wait, event_loop_thread: None, app: Any) -> None:
    django_app = wsgi_app(app)
    b = HttpBrowser(serve_wsgi(django_app))
    first = b.poll()
    assert first.status_code == 200 and b.texts()[:1] in (["hello"], ["hello async"])
    form = b.expect(wait_until, "input_group")
    answer = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    assert answer.status_code == 200 and answer.json()["ack"] == 0
    b.expect(wait_until, "close_session")
    assert b.texts()[-1] in ("hi Ada", "hi Ada from a coroutine")
    assert django_app.hub.entries == {}
    b.close()


def test_callbacks_after_main_returned(serve_wsgi: Serve, wait_until: Wait) -> None:
    def app() -> None:
        put_buttons(["Greet"], onclick=lambda _: put_text("Hi there"))

    b = HttpBrowser(serve_wsgi(wsgi_app(app)))
    buttons = b.expect(wait_until, "output", lambda c: c["spec"]["type"] == "buttons")
    for _ in range(2):
        b.send({"event": "callback", "task_id": buttons["spec"]["callback_id"], "data": 0})
    wait_until(lambda: b.poll() is not None and b.texts().count("Hi there") == 2, what="two greetings")
    b.close()


def test_foreign_origin_is_refused(serve_wsgi: Serve) -> None:
    url = serve_wsgi(wsgi_app(greeter, allowed_origins=["https://*.friends.example"]))
    post = httpx.post(
        url + "?app=index&ack=-1&seq=0",
        headers={"webio-session-id": "NEW-" + "p" * 24, "content-type": "application/json"},
        content="[]",
        timeout=5,
    )
    assert post.status_code == 403  # no session created by a (cross-site) POST
    evil = HttpBrowser(url, headers={"Origin": "https://evil.example"})
    assert evil.poll().status_code == 403
    friend = HttpBrowser(url, headers={"Origin": "https://app.friends.example"})
    answer = friend.poll()
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.friends.example"
    for b in (evil, friend):
        b.close()


def test_max_payload_size_is_enforced(serve_wsgi: Serve, wait_until: Wait) -> None:
    b = HttpBrowser(serve_wsgi(wsgi_app(greeter, max_payload_size="4K")))
    form = b.expect(wait_until, "input_group")
    big = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "x" * 10_000}})
    assert big.status_code == 413
    b.next_event = 0
    ok = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    assert ok.status_code == 200
    b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi Ada")
    b.close()


def test_idle_session_expires(serve_wsgi: Serve, wait_until: Wait) -> None:
    closed = threading.Event()

    def app() -> None:
        defer_call(closed.set)
        put_text("waiting")
        hold()

    url = serve_wsgi(wsgi_app(app, session_expire_seconds=0.3, session_cleanup_interval=0.1))
    idle, active = HttpBrowser(url), HttpBrowser(url)
    idle.expect(wait_until, "output")
    active.poll()
    wait_until(lambda: active.poll() is not None and closed.is_set(), what="the idle session expired")
    gone = idle.poll().json()
    assert gone["commands"] == [[{"command": "close_session", "task_id": None, "spec": None}]]
    for b in (idle, active):
        b.close()


def test_webio_view_mounted_in_a_django_project(serve_wsgi: Serve, wait_until: Wait) -> None:
    from django.core.handlers.wsgi import WSGIHandler

    def hello(request: HttpRequest) -> HttpResponse:
        return HttpResponse("hello from django")

    view = webio_view(greeter)
    urls = types.ModuleType("test_project_urls")
    urls.urlpatterns = [path("hello", hello), path("tool", view)]  # type: ignore[attr-defined]
    with override_settings(ROOT_URLCONF=urls, ALLOWED_HOSTS=["127.0.0.1"], DATA_UPLOAD_MAX_MEMORY_SIZE=4096):
        url = serve_wsgi(WSGIHandler(), hub=view.hub)  # type: ignore[attr-defined]
        assert httpx.get(url + "hello", timeout=5).text == "hello from django"
        assert '"http"' in httpx.get(url + "tool", timeout=5).text
        b = HttpBrowser(url)
        b.path = "/tool"
        form = b.expect(wait_until, "input_group")
        big = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "x" * 10_000}})
        assert big.status_code == 413  # the project's DATA_UPLOAD_MAX_MEMORY_SIZE
        b.next_event = 0
        b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
        b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi Ada")
        b.close()


START_SERVER = textwrap.dedent(
    """
    import sys
    from pywebio.input import input
    from pywebio.output import put_text
    from pywebio.platform.django import start_server

    async def main():
        put_text("hello async")
        put_text("hi " + await input("Your name"))

    start_server(main, port=int(sys.argv[1]), host="127.0.0.1", max_payload_size="4K")
    """
)


def test_start_server_configures_django_and_runs_coroutine_apps(wait_until: Wait, tmp_path: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "serve.py"
    script.write_text(START_SERVER)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    try:

        def up() -> bool:
            try:
                return httpx.get(url + "?test=1", timeout=1).text == "ok"
            except httpx.TransportError:
                time.sleep(0.05)
                return False

        wait_until(up, timeout=15, what="the Django server")
        # ALLOWED_HOSTS is the bound host and localhost names, never '*'
        assert httpx.get(url, headers={"Host": "evil.example"}, timeout=5).status_code == 400
        b = HttpBrowser(url)
        form = b.expect(wait_until, "input_group")
        big = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "x" * 10_000}})
        assert big.status_code == 413
        b.next_event = 0
        b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
        b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi Ada")
        b.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert b"Running on http://127.0.0.1:" in out


def test_missing_django_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "django", None)
    monkeypatch.delitem(sys.modules, "pywebio.platform.django")
    with pytest.raises(ImportError, match=r'pip install "pywebio\[django\]"'):
        importlib.import_module("pywebio.platform.django")
