"""The aiohttp backend on a real server (127.0.0.1, port 0), driven by the Python browser client."""

from __future__ import annotations

import asyncio
import importlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import pytest

pytest.importorskip("aiohttp")

import websockets.exceptions
from aiohttp import web
from browserclient import BrowserClient, ServerClosed, fetch_page

from pywebio.platform.aiohttp import HUB_KEY, make_app, static_routes, webio_handler
from pywebio.session import get_current_session

TIMEOUT = 5.0


class AioServer:
    """An aiohttp app served from a background thread with its own event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="aiohttp-test")

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(self.app, shutdown_timeout=2)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> AioServer:
        self._thread.start()
        assert self._ready.wait(TIMEOUT), "the aiohttp server did not start"
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(TIMEOUT)


@pytest.fixture
def aio() -> Iterator[Callable[[web.Application], AioServer]]:
    servers: list[AioServer] = []

    def start(app: web.Application) -> AioServer:
        servers.append(AioServer(app).start())
        return servers[-1]

    yield start
    for s in reversed(servers):
        s.stop()


def put_text(text: str) -> None:
    get_current_session().send_task_command({"command": "output", "spec": {"type": "text", "content": text}})


def _form(*names: str) -> dict[str, Any]:
    return {"command": "input_group", "spec": {"inputs": [{"type": "text", "name": n} for n in names]}}


def ask(name: str) -> str:
    session = get_current_session()
    session.send_task_command(_form(name))
    while True:
        event = session.next_client_event()
        if event["event"] == "from_submit":
            return str(event["data"][name])


async def ask_async(name: str) -> str:
    session = get_current_session()
    session.send_task_command(_form(name))
    while True:
        event = await session.next_client_event()
        if event["event"] == "from_submit":
            return str(event["data"][name])


def greet() -> None:
    """Greeter"""
    put_text(f"hello {ask('name')}")


async def agreet() -> None:
    await asyncio.sleep(0)
    put_text(f"async hello {await ask_async('name')}")


def test_thread_and_async_apps_round_trip_and_assets(aio: Any) -> None:
    server = aio(make_app([greet, agreet], cdn=False))
    status, page = fetch_page(server.url("/?app=greet"))
    assert status == 200 and "<title>Greeter</title>" in page
    status, js = fetch_page(urljoin(server.url("/"), page.split('<script src="')[1].split('"')[0]))
    assert status == 200 and "WebIO" in js
    for app, expected in (("greet", "hello Ada"), ("agreet", "async hello Ada")):
        with BrowserClient(server.url(), app=app, timeout=TIMEOUT) as b:
            f = b.expect("input_group")
            b.submit(f["task_id"], {"name": "Ada"})
            b.expect_text(expected)
            b.expect_close()


def test_callbacks_after_main_returned(aio: Any) -> None:
    def app() -> None:
        info = get_current_session().info
        put_text(f"{info.backend} {info.protocol} {info.user_ip}")
        cid = get_current_session().register_callback(lambda i: put_text(f"clicked {i}"))
        get_current_session().send_task_command(
            {"command": "output", "spec": {"type": "buttons", "callback_id": cid, "buttons": []}}
        )

    server = aio(make_app(app))
    with BrowserClient(server.url()) as b:
        b.expect_text("aiohttp websocket 127.0.0.1")
        btn = b.expect("output", lambda c: c["spec"]["type"] == "buttons")
        for i in range(2):
            b.click(btn["spec"]["callback_id"], i)
            b.expect_text(f"clicked {i}")


def test_reconnect_within_timeout_keeps_the_session(aio: Any) -> None:
    def app() -> None:
        put_text("first")
        put_text(f"got {ask('x')}")

    server = aio(make_app(app, reconnect_timeout=30))
    hub = server.app[HUB_KEY]
    b = BrowserClient(server.url())
    sid = b.expect("set_session_id")["spec"]
    b.expect_text("first")
    form = b.expect("input_group")
    b.drop()
    deadline = time.monotonic() + TIMEOUT
    while hub.entries[sid].connection is not None:
        assert time.monotonic() < deadline, "the session was not detached"
        time.sleep(0.01)
    with BrowserClient(server.url(), session=sid) as b2:
        b2.submit(form["task_id"], {"x": "back"})
        b2.expect_text("got back")
        b2.expect_close()


def test_foreign_origin_refused_with_403(aio: Any) -> None:
    server = aio(make_app(lambda: put_text("hi"), allowed_origins=["https://*.example.com"]))
    with pytest.raises(websockets.exceptions.InvalidStatus) as err:
        BrowserClient(server.url(), origin="http://evil.test")
    assert err.value.response.status_code == 403
    with BrowserClient(server.url(), origin="https://app.example.com") as b:
        b.expect_text("hi")
    with BrowserClient(server.url(), origin=f"http://127.0.0.1:{server.port}") as b:  # same site
        b.expect_text("hi")


def test_max_payload_size_enforced(aio: Any) -> None:
    def app() -> None:
        put_text(f"got {len(ask('x'))}")

    server = aio(make_app(app, max_payload_size="1K"))
    with BrowserClient(server.url()) as b:
        f = b.expect("input_group")
        b.submit(f["task_id"], {"x": "a" * 4096})
        with pytest.raises((ServerClosed, AssertionError)):
            b.expect_text("got")
        b.wait_socket_closed()
    with BrowserClient(server.url()) as b:  # the server still serves
        f = b.expect("input_group")
        b.submit(f["task_id"], {"x": "a" * 100})
        b.expect_text("got 100")


def test_webio_handler_mounted_beside_another_route(aio: Any) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="host app route")

    app = web.Application()
    app.router.add_get("/hello", hello)
    app.router.add_get("/tool/", webio_handler(greet, cdn=False))
    app.add_routes(static_routes("/tool/"))
    server = aio(app)
    assert fetch_page(server.url("/hello")) == (200, "host app route")
    status, page = fetch_page(server.url("/tool/"))
    assert status == 200 and "<title>Greeter</title>" in page
    js = urljoin(server.url("/tool/"), page.split('<script src="')[1].split('"')[0])
    assert fetch_page(js)[0] == 200
    with BrowserClient(server.url("/tool/")) as b:
        f = b.expect("input_group")
        b.submit(f["task_id"], {"name": "Bo"})
        b.expect_text("hello Bo")


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)
    monkeypatch.delitem(sys.modules, "pywebio.platform.aiohttp")
    with pytest.raises(ImportError, match=r"pywebio\[aiohttp\]"):
        importlib.import_module("pywebio.platform.aiohttp")


OPENER = """
import os, sys, urllib.request, webbrowser
def fake_open(url, *args, **kwargs):
    with urllib.request.urlopen(url, timeout=5) as r:
        print("OPENED", url, r.status, b"<title>" in r.read(), flush=True)
    os._exit(0)
webbrowser.open = fake_open
from pywebio.platform.{module} import start_server
start_server(lambda: None, host="127.0.0.1", auto_open_webbrowser=True)
"""


def run_opener(module: str) -> str:
    """``start_server(auto_open_webbrowser=True)`` in a subprocess whose browser fetches the URL."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-c", OPENER.replace("{module}", module)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return proc.stdout + proc.stderr


def test_start_server_opens_the_browser_once_listening() -> None:
    out = run_opener("aiohttp")
    assert "OPENED http://127.0.0.1:" in out and " 200 True" in out, out
