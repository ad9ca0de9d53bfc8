"""The FastAPI/Starlette backend on a real uvicorn server (127.0.0.1, port 0), driven by the
Python browser client."""

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

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import uvicorn
import websockets.exceptions
from browserclient import BrowserClient, ServerClosed, fetch_page
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from pywebio.platform.fastapi import asgi_app, make_app, webio_routes
from pywebio.session import get_current_session

TIMEOUT = 5.0


class UvicornThread:
    """An ASGI app served by uvicorn from a background thread."""

    def __init__(self, app: Any, **config: Any) -> None:
        cfg = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", timeout_graceful_shutdown=2, **config
        )
        self.server = uvicorn.Server(cfg)
        self.port = 0
        self._thread = threading.Thread(target=self.server.run, daemon=True, name="uvicorn-test")

    def start(self) -> UvicornThread:
        self._thread.start()
        deadline = time.monotonic() + TIMEOUT
        while not self.server.started:
            assert time.monotonic() < deadline and self._thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(TIMEOUT)


@pytest.fixture
def uv() -> Iterator[Callable[..., UvicornThread]]:
    servers: list[UvicornThread] = []

    def start(app: Any, **config: Any) -> UvicornThread:
        servers.append(UvicornThread(app, **config).start())
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


def script_url(page_url: str) -> str:
    status, page = fetch_page(page_url)
    assert status == 200, page
    return urljoin(page_url, page.split('<script src="')[1].split('"')[0])


def test_thread_and_async_apps_round_trip(uv: Any) -> None:
    server = uv(asgi_app([greet, agreet]))
    for app, expected in (("greet", "hello Ada"), ("agreet", "async hello Ada")):
        with BrowserClient(server.url(), app=app, timeout=TIMEOUT) as b:
            f = b.expect("input_group")
            b.submit(f["task_id"], {"name": "Ada"})
            b.expect_text(expected)
            b.expect_close()


def test_callbacks_after_main_returned(uv: Any) -> None:
    def app() -> None:
        info = get_current_session().info
        put_text(f"{info.backend} {info.protocol} {info.user_ip}")
        cid = get_current_session().register_callback(lambda i: put_text(f"clicked {i}"))
        get_current_session().send_task_command(
            {"command": "output", "spec": {"type": "buttons", "callback_id": cid, "buttons": []}}
        )

    server = uv(asgi_app(app))
    with BrowserClient(server.url()) as b:
        b.expect_text("starlette websocket 127.0.0.1")
        btn = b.expect("output", lambda c: c["spec"]["type"] == "buttons")
        for i in range(2):
            b.click(btn["spec"]["callback_id"], i)
            b.expect_text(f"clicked {i}")


def test_reconnect_within_timeout_keeps_the_session(uv: Any) -> None:
    def app() -> None:
        put_text("first")
        put_text(f"got {ask('x')}")

    sub = asgi_app(app, reconnect_timeout=30)
    hub = sub.state.pywebio_hub
    server = uv(sub)
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


def test_foreign_origin_refused_on_the_websocket(uv: Any) -> None:
    server = uv(asgi_app(lambda: put_text("hi"), allowed_origins=["https://*.example.com"]))
    with pytest.raises(websockets.exceptions.InvalidStatus) as err:
        BrowserClient(server.url(), origin="http://evil.test")
    assert err.value.response.status_code == 403
    with BrowserClient(server.url(), origin="https://app.example.com") as b:
        b.expect_text("hi")
    with BrowserClient(server.url(), origin=f"http://127.0.0.1:{server.port}") as b:  # same site
        b.expect_text("hi")


@pytest.mark.parametrize("by_uvicorn", [True, False], ids=["uvicorn-limit", "hub-limit"])
def test_max_payload_size_enforced(uv: Any, by_uvicorn: bool) -> None:
    def app() -> None:
        put_text(f"got {len(ask('x'))}")

    server = uv(make_app(app, max_payload_size="1K"), ws_max_size=1024 if by_uvicorn else 1 << 20)
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


def test_asgi_app_mounted_under_a_path_beside_another_route(uv: Any) -> None:
    host = FastAPI()

    @host.get("/hello")
    def hello() -> PlainTextResponse:
        return PlainTextResponse("host app route")

    host.mount("/tool", asgi_app(greet))
    server = uv(host)
    assert fetch_page(server.url("/hello")) == (200, "host app route")
    status, page = fetch_page(server.url("/tool"))  # redirected to /tool/
    assert status == 200 and "<title>Greeter</title>" in page
    for asset in (script_url(server.url("/tool/")), server.url("/tool/pywebio_static/css/app.css")):
        assert fetch_page(asset)[0] == 200, asset
    with BrowserClient(server.url("/tool/")) as b:
        f = b.expect("input_group")
        b.submit(f["task_id"], {"name": "Bo"})
        b.expect_text("hello Bo")


def test_webio_routes_in_a_plain_starlette_app(uv: Any) -> None:
    from starlette.applications import Starlette

    server = uv(Starlette(routes=webio_routes(greet)))
    status, page = fetch_page(server.url("/"))
    assert status == 200 and "<title>Greeter</title>" in page
    with BrowserClient(server.url()) as b:
        f = b.expect("input_group")
        b.submit(f["task_id"], {"name": "Cy"})
        b.expect_text("hello Cy")


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "starlette" or m.startswith("starlette.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "pywebio.platform.fastapi")
    with pytest.raises(ImportError, match=r"pywebio\[fastapi\]"):
        importlib.import_module("pywebio.platform.fastapi")


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
    out = run_opener("fastapi")
    assert "OPENED http://127.0.0.1:" in out and " 200 True" in out, out
