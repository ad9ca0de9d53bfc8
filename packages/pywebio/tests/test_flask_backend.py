"""``pywebio.platform.flask`` on werkzeug's threaded server (127.0.0.1, port 0), with an httpx
client playing the browser's HTTP polling (spec §1.10)."""

from __future__ import annotations

import importlib
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("flask")

import flask
import httpx
from test_tornado_http import HttpBrowser, async_greeter, greeter
from werkzeug.serving import make_server

import pywebio.platform
from pywebio.output import put_buttons, put_text
from pywebio.platform.flask import webio_view, wsgi_app
from pywebio.session import defer_call, hold

Wait = Callable[..., None]
Serve = Callable[..., str]


@pytest.fixture
def serve_wsgi() -> Iterator[Serve]:
    """Serve a WSGI app on a threaded werkzeug server; returns its URL (ending in ``/``)."""
    servers: list[Any] = []
    hubs: list[Any] = []

    def start(app: Any, hub: Any = None) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), daemon=True, name="test-werkzeug"
        )
        thread.start()
        servers.append(server)
        hubs.append(hub or app.extensions["pywebio"])
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
    flask_app = wsgi_app(app)
    url = serve_wsgi(flask_app)
    b = HttpBrowser(url)
    first = b.poll()
    assert first.status_code == 200 and b.texts()[:1] in (["hello"], ["hello async"])
    form = b.expect(wait_until, "input_group")
    answer = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    assert answer.status_code == 200 and answer.json()["ack"] == 0
    b.expect(wait_until, "close_session")
    assert b.texts()[-1] in ("hi Ada", "hi Ada from a coroutine")
    assert flask_app.extensions["pywebio"].entries == {}
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
    evil = HttpBrowser(url, headers={"Origin": "https://evil.example"})
    assert evil.poll().status_code == 403
    friend = HttpBrowser(url, headers={"Origin": "https://app.friends.example"})
    answer = friend.poll()
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.friends.example"
    preflight = httpx.options(url, headers={"Origin": "https://app.friends.example"}, timeout=5)
    assert (
        preflight.status_code == 204
        and "webio-session-id" in preflight.headers["access-control-allow-headers"]
    )
    for b in (evil, friend):
        b.close()


def test_max_payload_size_is_enforced(serve_wsgi: Serve, wait_until: Wait) -> None:
    b = HttpBrowser(serve_wsgi(wsgi_app(greeter, max_payload_size="4K")))
    form = b.expect(wait_until, "input_group")
    big = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "x" * 10_000}})
    assert big.status_code == 413
    b.next_event = 0
    assert (
        b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}}).status_code
        == 200
    )
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


def test_webio_view_mounted_beside_another_flask_route(serve_wsgi: Serve, wait_until: Wait) -> None:
    app = flask.Flask("host_app")

    @app.route("/hello")
    def hello() -> str:
        return "hello from flask"

    view = webio_view(greeter)
    app.add_url_rule("/tool", "webio_view", view, methods=["GET", "POST", "OPTIONS"])
    url = serve_wsgi(app, hub=view.hub)  # type: ignore[attr-defined]
    assert httpx.get(url + "hello", timeout=5).text == "hello from flask"
    assert '"http"' in httpx.get(url + "tool", timeout=5).text
    b = HttpBrowser(url)
    b.path = "/tool"
    form = b.expect(wait_until, "input_group")
    b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi Ada")
    b.close()


def test_missing_flask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flask", None)
    monkeypatch.delitem(sys.modules, "pywebio.platform.flask")
    with pytest.raises(ImportError, match=r'pip install "pywebio\[flask\]"'):
        importlib.import_module("pywebio.platform.flask")


START_SERVER = textwrap.dedent(
    """
    import sys
    from pywebio.input import input
    from pywebio.output import put_text
    from pywebio.platform.flask import start_server

    async def main():
        put_text("hello async")
        put_text("hi " + await input("Your name"))

    start_server(main, port=int(sys.argv[1]), host="127.0.0.1", max_payload_size="4K")
    """
)


def test_start_server_runs_coroutine_apps(wait_until: Wait, tmp_path: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "serve.py"
    script.write_text(START_SERVER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    try:

        def up() -> bool:
            try:
                return httpx.get(url + "?test=1", timeout=1).text == "ok"
            except httpx.TransportError:
                time.sleep(0.05)
                return False

        wait_until(up, timeout=15, what="the Flask server")
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
        proc.wait(timeout=10)
