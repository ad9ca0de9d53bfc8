"""Against the real server: lifecycle, handler execution, error replies, limits, static files.

Server behaviours that fix a weakness of the original live in test_weaknesses.py and are not
repeated here: start() readiness (w8), start() raising on a taken port (w6), stop() with
connected clients (w7), sync handlers in a thread pool (w9), 404/500 status codes (w13), the
Origin checks, dotfiles and the open redirect (w12).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from webshoes import UploadedFile, WebShoesApp
from wirecore import HTTPError, JSONResponse

SECRET = b"TOP-SECRET-OUTSIDE-ROOT"


def add(ctx: Any, q: Any) -> Any:
    return {"result": int(q.a) + int(q.b)}


def echo(ctx: Any, q: Any) -> Any:
    return {"args": q.as_dict()}


def boom(ctx: Any, q: Any) -> Any:
    raise RuntimeError("database password is hunter2")


@pytest.fixture
def api(app: WebShoesApp) -> WebShoesApp:
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add, "echo": echo, "boom": boom})
    return app


# --- lifecycle --------------------------------------------------------------------------------


def test_start_stop_start_on_the_same_port(
    make_app: Callable[..., WebShoesApp], http: httpx.Client, ws_connect: Callable[..., Any]
) -> None:
    app = make_app(start=False)
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add})
    app.start()
    port = app.port
    assert port != 0
    assert http.get(f"{app.url}/cmd/add?a=1&b=2").json() == {"result": 3}
    app.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    app.stop()  # stopping twice is harmless
    app.start()
    assert app.port == port
    assert http.get(f"{app.url}/cmd/add?a=2&b=2").json() == {"result": 4}
    assert ws_connect(app).call({"cmd": "cmd/add", "q": {"a": 3, "b": 3}})["r"] == {"result": 6}
    app.start()  # start() on a running app restarts it
    assert app.port == port
    assert http.get(f"{app.url}/cmd/add?a=5&b=5").json() == {"result": 10}


def test_two_apps_in_one_process(
    make_app: Callable[..., WebShoesApp], http: httpx.Client, ws_connect: Callable[..., Any]
) -> None:
    one, two = make_app(), make_app()
    one.register("cmd", "cmd", "q", "evt", "r", {"who": lambda ctx, q: {"me": "one"}})
    two.register("cmd", "cmd", "q", "evt", "r", {"who": lambda ctx, q: {"me": "two"}})
    assert one.port != two.port
    assert http.get(f"{one.url}/cmd/who").json() == {"me": "one"}
    assert http.get(f"{two.url}/cmd/who").json() == {"me": "two"}
    c1, c2 = ws_connect(one), ws_connect(two)
    c1.call({"evt": "tick"})
    c2.call({"evt": "tick"})
    one.triggerEvent("tick", 1)
    two.triggerEvent("tick", 2)
    assert c1.recv()["r"] == 1
    assert c2.recv()["r"] == 2


# --- handlers ---------------------------------------------------------------------------------


def test_async_handlers_run_on_the_server_loop(
    app: WebShoesApp, http: httpx.Client, ws_connect: Callable[..., Any]
) -> None:
    async def where(ctx: Any, q: Any) -> Any:
        await asyncio.sleep(0)
        if ctx.ws:  # over WebSocket: an extra frame on the handler's own socket, before the reply
            assert await ctx.wsa.sendMsg(ctx.ws, {"extra": True})
        return {"thread": threading.get_ident(), "loop": id(asyncio.get_running_loop())}

    def sync_where(ctx: Any, q: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        return {"on_loop": on_loop, "thread": threading.get_ident()}

    app.register("cmd", "cmd", "q", "evt", "r", {"where": where, "sync": sync_where})
    over_http = http.get(f"{app.url}/cmd/where").json()
    c = ws_connect(app)
    assert c.call({"cmd": "cmd/where"}) == {"extra": True}
    over_ws = c.recv()["r"]
    assert over_http == over_ws  # one loop, one thread, for both transports
    assert over_http["thread"] != threading.get_ident()
    sync = http.get(f"{app.url}/cmd/sync").json()
    assert sync["on_loop"] is False
    assert sync["thread"] != over_http["thread"]


def test_http_handler_exception_is_500_json_and_logged(
    api: WebShoesApp, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="webshoes")
    r = http.get(f"{api.url}/cmd/boom")
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": "Server error"}
    assert "hunter2" not in r.text
    records = [rec for rec in caplog.records if rec.name == "webshoes" and rec.exc_info]
    assert records, "no traceback logged on the 'webshoes' logger"
    assert isinstance(records[0].exc_info[1], RuntimeError)  # type: ignore[index]
    assert "Traceback" in caplog.text and "hunter2" in caplog.text
    # the server keeps serving
    assert http.get(f"{api.url}/cmd/add?a=1&b=1").json() == {"result": 2}


def test_handler_responses_and_http_errors_pass_through(app: WebShoesApp, http: httpx.Client) -> None:
    def created(ctx: Any, q: Any) -> Any:
        return JSONResponse({"id": 1}, 201)

    def teapot(ctx: Any, q: Any) -> Any:
        raise HTTPError(418, "short and stout")

    def unencodable(ctx: Any, q: Any) -> Any:
        return {"x": object()}

    app.register("cmd", "cmd", "q", "evt", "r", {"created": created, "teapot": teapot, "bad": unencodable})
    r = http.post(f"{app.url}/cmd/created")
    assert (r.status_code, r.json()) == (201, {"id": 1})
    assert http.get(f"{app.url}/cmd/teapot").status_code == 418
    r = http.get(f"{app.url}/cmd/bad")
    assert (r.status_code, r.json()) == (500, {"error": "Server error"})


def test_multipart_upload(api: WebShoesApp, http: httpx.Client) -> None:
    def upload(ctx: Any, q: Any) -> Any:
        f = q.f
        assert isinstance(f, UploadedFile)
        return {"name": f.filename, "type": f.content_type, "data": f.data.decode(), "note": q.note}

    api.register("up", "cmd", "q", "evt", "r", {"load": upload})
    r = http.post(
        f"{api.url}/up/load",
        data={"note": "hello"},
        files={"f": ("a.txt", b"file body", "text/plain")},
    )
    assert r.status_code == 200
    assert r.json() == {"name": "a.txt", "type": "text/plain", "data": "file body", "note": "hello"}


def test_register_replaces_and_unregister_removes(api: WebShoesApp, http: httpx.Client) -> None:
    api.register("cmd", "cmd", "q", "evt", "r", {"add": lambda ctx, q: {"replaced": True}})
    assert http.get(f"{api.url}/cmd/add?a=1&b=1").json() == {"replaced": True}
    assert list(api.handlers["cmd"]) == ["sub", "cmd", "q", "evt", "rep", "fm"]
    api.unregister("cmd")
    api.unregister("never-registered")
    assert http.get(f"{api.url}/cmd/add").status_code == 404
    with pytest.raises(TypeError):
        api.register("bad", "cmd", "q", "evt", "r", {"x": 42})
    with pytest.raises(TypeError):
        api.register("bad", "cmd", "q", "evt", "r", [add])  # type: ignore[arg-type]


# --- WebSocket errors -------------------------------------------------------------------------


def test_ws_unknown_command_error_carries_tid(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(api)
    assert c.call({"cmd": "cmd/nope", "tid": "t-9"}) == {"error": "Unknown command", "tid": "t-9"}
    assert c.call({"cmd": 12, "tid": 3}) == {"error": "Invalid command", "tid": 3}


def test_ws_handler_exception(
    api: WebShoesApp, ws_connect: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="webshoes")
    c = ws_connect(api)
    assert c.call({"cmd": "cmd/boom", "tid": 77}) == {"error": "Server Error", "tid": 77}
    assert any(rec.name == "webshoes" and rec.exc_info for rec in caplog.records)
    assert c.call({"cmd": "cmd/add", "q": {"a": 1, "b": 2}})["r"] == {"result": 3}


def test_ws_malformed_messages_get_errors_and_the_connection_stays(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    c = ws_connect(api)
    for bad in ("{not json", "", '"just a string"', "[1, 2]", b"\x00\x01binary"):
        out = c.call(bad)
        assert set(out) == {"error"} and out["error"], bad
    out = c.call({"cmd": "cmd/add", "q": {"a": 2, "b": 2}, "tid": 1})
    assert (out["r"], out["tid"]) == ({"result": 4}, 1)


# --- limits -----------------------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_oversize_ws_message_closes_with_1009(
    make_app: Callable[..., WebShoesApp], ws_connect: Callable[..., Any], interface: str
) -> None:
    app = make_app({"max_ws_msg_size": 1000, "interface": interface})
    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    c = ws_connect(app)
    fits = {"cmd": "cmd/echo", "q": {"s": "x" * 900}}
    assert c.call(fits)["r"] == {"args": {"s": "x" * 900}}
    c.send({"cmd": "cmd/echo", "q": {"s": "x" * 2000}})
    with pytest.raises(ConnectionClosed) as info:
        c.recv()
    # the server is fine and other connections still work
    assert ws_connect(app).call(fits)["r"] == {"args": {"s": "x" * 900}}
    if interface == "asgi":  # granian's RSGI drops close codes (documented): clients see 1005
        assert info.value.rcvd is not None, "the server closed without a close frame"
        assert info.value.rcvd.code == 1009


def test_ws_size_limit_counts_bytes(
    make_app: Callable[..., WebShoesApp], ws_connect: Callable[..., Any]
) -> None:
    """max_ws_msg_size is documented in bytes: 400 '€' are 1200 bytes of UTF-8."""
    app = make_app({"max_ws_msg_size": 1000})
    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    c = ws_connect(app)
    text = '{"cmd": "cmd/echo", "q": {"s": "' + "€" * 400 + '"}}'
    assert len(text.encode()) > 1000
    c.send(text)
    with pytest.raises(ConnectionClosed):
        c.recv()


def test_oversize_http_body_is_413(make_app: Callable[..., WebShoesApp], http: httpx.Client) -> None:
    app = make_app({"max_body_size": 1000})
    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    ok = http.post(
        f"{app.url}/cmd/echo",
        content=b"a=" + b"x" * 998,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert ok.status_code == 200 and len(ok.json()["args"]["a"]) == 998
    big = http.post(f"{app.url}/cmd/echo", data={"a": "x" * 1000})
    assert big.status_code == 413
    chunked = http.post(f"{app.url}/cmd/echo", content=iter([b"a=", b"x" * 800, b"x" * 800]))
    assert chunked.status_code == 413


@pytest.mark.parametrize("interface", ["asgi", "rsgi"])
def test_stop_closes_websockets_with_1001(
    make_app: Callable[..., WebShoesApp], ws_connect: Callable[..., Any], interface: str
) -> None:
    """The documented close code for "server going away" (stop() docstring)."""
    app = make_app({"interface": interface})
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add})
    c = ws_connect(app)
    assert c.call({"cmd": "cmd/add", "q": {"a": 1, "b": 1}})["r"] == {"result": 2}
    app.stop()
    with pytest.raises(ConnectionClosed) as info:
        c.recv()
    if interface == "asgi":  # granian's RSGI drops close codes (documented)
        assert info.value.rcvd is not None, "the server closed without a close frame"
        assert info.value.rcvd.code == 1001


# --- static files -----------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """tmp/root (served) and tmp/secret.txt (not)."""
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "index.html").write_text("root index")
    (root / "sub" / "index.html").write_text("sub index")
    (root / "sub" / "page.txt").write_text("a page")
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "root-evil").mkdir()
    (tmp_path / "root-evil" / "x.txt").write_bytes(SECRET)
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    os.symlink(tmp_path, root / "up")
    return root


@pytest.fixture
def static_app(app: WebShoesApp, site: Path) -> WebShoesApp:
    app.register("site", "", "", "", "", {"*": {"root": str(site), "defpage": "index.html"}})
    app.register("plain", "", "", "", "", {"*": {"root": str(site)}})
    app.register("gone", "", "", "", "", {"*": {"root": str(site / "missing"), "defpage": "index.html"}})
    app.register("*", "", "", "", "", {"*": {"root": str(site), "defpage": "index.html"}})
    return app


TRAVERSALS = [
    "/site/../secret.txt",
    "/site/%2e%2e/secret.txt",
    "/site/%2E%2E/secret.txt",
    "/site/..%2fsecret.txt",
    "/site/%2e%2e%2fsecret.txt",
    "/site/%252e%252e/secret.txt",
    "/site/sub/../../secret.txt",
    "/site/sub/%2e%2e/%2e%2e/secret.txt",
    "/site/..\\secret.txt",
    "/site/%5c..%5csecret.txt",
    "/site/../root-evil/x.txt",
    "/site/link.txt",
    "/site/up/secret.txt",
    "/site//etc/passwd",
    "/site/%2fetc%2fpasswd",
    "//etc/passwd",
    "/%2fetc/passwd",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/sub/../../secret.txt",
    "/up/secret.txt",
    "/plain/../secret.txt",
    "/plain//etc/passwd",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_static_traversal_never_serves_outside_root(
    static_app: WebShoesApp, raw_http: Callable[..., Any], target: str
) -> None:
    status, _, body = raw_http(static_app, target)
    assert SECRET not in body
    assert b"root:" not in body
    assert status != 200, (target, status, body[:80])


def test_static_serves_files_and_redirects_directories_to_defpage(
    static_app: WebShoesApp, http: httpx.Client
) -> None:
    base = static_app.url
    r = http.get(f"{base}/site/sub/page.txt")
    assert (r.status_code, r.text) == (200, "a page")
    for path, location in [
        ("/site", "/site/index.html"),
        ("/site/", "/site/index.html"),
        ("/site/sub", "/site/sub/index.html"),
        ("/site/sub/", "/site/sub/index.html"),
        ("/", "/index.html"),
        ("/sub", "/sub/index.html"),
    ]:
        r = http.get(base + path)
        assert r.status_code == 303, path
        assert r.headers["location"] == location, path
    r = http.get(f"{base}/site/sub", follow_redirects=True)
    assert (r.status_code, r.text) == (200, "sub index")
    # a directory without the default page, a group without defpage, a missing root: 404, no listing
    assert http.get(f"{base}/site/empty").status_code == 404
    assert http.get(f"{base}/plain/sub").status_code == 404
    assert http.get(f"{base}/plain/sub/index.html").text == "sub index"
    assert http.get(f"{base}/gone/index.html").status_code == 404
    assert http.get(f"{base}/site/nothing.txt").status_code == 404


def test_static_redirect_to_defpage_works_for_any_directory_name(
    static_app: WebShoesApp, site: Path, http: httpx.Client
) -> None:
    """A directory name with URL-special characters: following the 303 reaches its default page."""
    for name in ("a b", "c#d", "e?f", "100%"):
        (site / name).mkdir()
        (site / name / "index.html").write_text(f"index of {name}")
        r = http.get(f"{static_app.url}/site/{quote(name)}", follow_redirects=True)
        assert (r.status_code, r.text) == (200, f"index of {name}"), (
            name,
            r.history and r.history[0].headers["location"],
        )
