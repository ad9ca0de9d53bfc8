"""Every example of the webshoes README (the seed's), run as written, gives the documented output.

Deviations from the literal text, all forced by running under a test runner: servers listen on
port 0 instead of 15801 (the snippets use ``app.port``), the HTTP snippets use ``httpx`` (the
same ``get``/``post``/``json`` calls as ``requests``), and the asyncio snippets are wrapped in
``asyncio.wait_for`` so a missing reply fails the test. The JavaScript client example is covered
by the browser tests.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

import webshoes as ws
from webshoes import WebShoesApp

PACKAGE = Path(__file__).resolve().parents[1]


# --- the README's handlers, verbatim ---------------------------------------------------------


def cmdHeartbeat(ctx, q):
    return {"status": "ok"}


def cmdAdd(ctx, q):
    return {"result": int(q.a) + int(q.b)}


def cmdCatchAll(ctx, q):
    return {"path": ctx.p, "args": q.as_dict()}


@pytest.fixture
def wsa(make_app: Callable[..., WebShoesApp]) -> WebShoesApp:
    """The README's "Registering handlers" example (on a free port)."""
    wsa = make_app({"verbose": True}, start=False)
    wsa.register(
        "cmd",
        "cmd",
        "q",
        "evt",
        "r",
        {
            "heartbeat": cmdHeartbeat,
            "add": cmdAdd,
            "*": cmdCatchAll,  # catches any unmatched command
        },
    )
    wsa.start()
    return wsa


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


def show(printed: str) -> list[Any]:
    """The printed lines, each evaluated (they are reprs of dicts, or numbers/strings)."""
    return [ast.literal_eval(line) for line in printed.splitlines()]


# --- the quick-start example ------------------------------------------------------------------


def test_quick_start(make_app: Callable[..., WebShoesApp], http: httpx.Client) -> None:
    wsa = make_app({"verbose": True}, start=False)
    wsa.register("cmd", "cmd", "q", "evt", "r", {"add": cmdAdd})
    wsa.start()
    assert http.get(f"{wsa.url}/cmd/add?a=3&b=4").json() == {"result": 7}


# --- HTTP requests ----------------------------------------------------------------------------


def test_http_heartbeat_and_add(wsa: WebShoesApp, capsys: pytest.CaptureFixture[str]) -> None:
    base = f"http://127.0.0.1:{wsa.port}"
    # Calls cmdHeartbeat
    r = httpx.get(f"{base}/cmd/heartbeat")
    print(r.json())  # {'status': 'ok'}
    # Calls cmdAdd with a=3, b=4
    r = httpx.get(f"{base}/cmd/add?a=3&b=4")
    print(r.json())  # {'result': 7}
    assert show(capsys.readouterr().out) == [{"status": "ok"}, {"result": 7}]


def test_http_post_form_merged_with_query(wsa: WebShoesApp, http: httpx.Client) -> None:
    """ "POST parameters are also supported and merged with query string parameters.\""""
    assert http.post(f"{wsa.url}/cmd/add", data={"a": 10, "b": 20}).json() == {"result": 30}
    assert http.post(f"{wsa.url}/cmd/add?a=1", data={"b": 2}).json() == {"result": 3}


def test_http_catch_all(wsa: WebShoesApp, http: httpx.Client) -> None:
    r = http.get(f"{wsa.url}/cmd/anything?x=1&y=two")
    assert r.status_code == 200
    assert r.json() == {"path": "/cmd/anything", "args": {"x": "1", "y": "two"}}


# --- WebSocket requests -----------------------------------------------------------------------


def test_ws_heartbeat_and_add(wsa: WebShoesApp, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"ws://127.0.0.1:{wsa.port}"

    async def main() -> None:
        async with websockets.connect(url) as wsc:
            # Call heartbeat — 'cmd' is the sub name, 'heartbeat' is the function
            await wsc.send(json.dumps({"cmd": "cmd/heartbeat"}))
            reply = json.loads(await wsc.recv())
            print(reply)  # {'r': {'status': 'ok'}, 't': ...}
            # Call add with arguments in the 'q' field
            await wsc.send(json.dumps({"cmd": "cmd/add", "q": {"a": 3, "b": 4}}))
            reply = json.loads(await wsc.recv())
            print(reply["r"]["result"])  # 7

    run(main())
    first, second = show(capsys.readouterr().out)
    assert list(first) == ["r", "t"]
    assert first["r"] == {"status": "ok"}
    assert isinstance(first["t"], float)
    assert second == 7


def test_ws_top_level_args(wsa: WebShoesApp) -> None:
    """ "If the q field is absent, arguments are read from the top level of the message.\""""
    url = f"ws://127.0.0.1:{wsa.port}"

    async def main() -> Any:
        async with websockets.connect(url) as wsc:
            await wsc.send(json.dumps({"cmd": "cmd/add", "a": "3", "b": "4"}))
            return json.loads(await wsc.recv())

    assert run(main())["r"] == {"result": 7}


def test_ws_transaction_id_echoed(wsa: WebShoesApp, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"ws://127.0.0.1:{wsa.port}"

    async def main() -> None:
        async with websockets.connect(url) as wsc:
            await wsc.send(json.dumps({"cmd": "cmd/heartbeat", "tid": "abc123"}))
            reply = json.loads(await wsc.recv())
            print(reply["tid"])  # 'abc123'

    run(main())
    assert capsys.readouterr().out == "abc123\n"


def test_ws_catch_all(wsa: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(wsa)
    reply = c.call({"cmd": "cmd/whatever", "q": {"x": 1, "nested": {"y": [1, 2]}}})
    assert reply["r"] == {"path": "cmd/whatever", "args": {"x": 1, "nested": {"y": [1, 2]}}}


def test_ctx_fields_documented(
    make_app: Callable[..., WebShoesApp], http: httpx.Client, ws_connect: Callable[..., Any]
) -> None:
    """ctx.req (the raw request), ctx.opts (server options), ctx.wsa (the server instance)."""
    seen: list[Any] = []

    def inspect(ctx, q):
        seen.append(ctx)
        return {"verbose": ctx.opts.verbose, "same_app": ctx.wsa is wsa, "has_req": ctx.req is not None}

    wsa = make_app({"verbose": True}, start=False)
    wsa.register("cmd", "cmd", "q", "evt", "r", {"inspect": inspect})
    wsa.start()
    expected = {"verbose": True, "same_app": True, "has_req": True}
    assert http.get(f"{wsa.url}/cmd/inspect").json() == expected
    assert ws_connect(wsa).call({"cmd": "cmd/inspect"})["r"] == expected


# --- events -----------------------------------------------------------------------------------


def test_event_subscribe_ack_and_push(wsa: WebShoesApp, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"ws://127.0.0.1:{wsa.port}"

    async def main() -> None:
        async with websockets.connect(url) as wsc:
            # Subscribe to the event
            await wsc.send(json.dumps({"evt": "sensorUpdate"}))
            ack = json.loads(await wsc.recv())
            print(ack["r"]["uid"])  # assigned uid for this subscription
            # Server side — push an event:
            wsa.triggerEvent("sensorUpdate", {"temperature": 72.3})
            # Receive pushed event data
            push = json.loads(await wsc.recv())
            print(push["r"])  # {'temperature': 72.3}

    run(main())
    uid, data = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"[0-9a-f]{32}", uid)
    assert ast.literal_eval(data) == {"temperature": 72.3}


# --- static files -----------------------------------------------------------------------------


def test_static_folder_with_defpage(
    make_app: Callable[..., WebShoesApp], http: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "style.css").write_text("body{}")
    wsa = make_app(start=False)
    wsa.register("*", "", "", "", "", {"*": {"root": str(tmp_path), "defpage": "index.html"}})
    wsa.start()

    r = http.get(f"{wsa.url}/")
    assert r.status_code == 303
    assert r.headers["location"] == "/index.html"
    r = http.get(f"{wsa.url}/", follow_redirects=True)
    assert (r.status_code, r.text) == (200, "<h1>home</h1>")
    assert r.headers["content-type"].startswith("text/html")
    r = http.get(f"{wsa.url}/style.css")
    assert (r.status_code, r.text) == (200, "body{}")
    assert r.headers["content-type"].startswith("text/css")


def test_libpath_web_serves_the_js_client(make_app: Callable[..., WebShoesApp], http: httpx.Client) -> None:
    """The demos serve the JS client with ``{'*': {'root': libPath('web')}}``."""
    wsa = make_app(start=False)
    wsa.register("webshoes", "", "", "", "", {"*": {"root": ws.libPath("web")}})
    wsa.start()
    r = http.get(f"{wsa.url}/webshoes/webshoes.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.content == (Path(ws.libPath("web")) / "webshoes.js").read_bytes()
    assert b"WebShoes" in r.content


# --- the basic demo ---------------------------------------------------------------------------


def test_basic_demo_prints_the_documented_output(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location(
        "webshoes_demo_basic", PACKAGE / "demo" / "basic" / "basic.py"
    )
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main(["--port", "0"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "--- HTTP ---",
        'GET /cmd/add?a=2&b=3 → {"result": 5}',
        'POST /cmd/add {a:10, b:20} → {"result": 30}',
        "--- WebSocket ---",
        "cmd/add {a:2, b:3} → {'r': {'result': 5}, 't': ...}",
        "cmd/add with tid → {'r': {'result': 9}, 'tid': 'req-001', 't': ...}",
    ]
