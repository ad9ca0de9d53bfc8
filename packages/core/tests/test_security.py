"""The request guard: a Host allowlist and an Origin check, before routing, on both interfaces."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from wirecore import App, Request, RequestGuard, Server, WebSocket
from wirecore.security import host_name

Serve = Callable[..., Server]


def guarded_app(**guard: object) -> tuple[App, list[str]]:
    """An app whose handlers record that they ran, behind a guard and a middleware."""
    ran: list[str] = []

    async def middleware(request: Request, call_next: object) -> object:
        ran.append("middleware")
        return await call_next(request)  # type: ignore[operator]

    app = App(guard=RequestGuard(**guard), middleware=[middleware])  # type: ignore[arg-type]

    @app.get("/read")
    async def read(request: Request) -> dict[str, bool]:
        ran.append("read")
        return {"ok": True}

    @app.post("/write")
    async def write(request: Request) -> dict[str, bool]:
        ran.append("write")
        return {"ok": True}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        ran.append("ws")
        await websocket.send("hello")
        await websocket.close()

    return app, ran


def test_host_names() -> None:
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "[::1]"
    assert host_name("example.com") == "example.com"


def test_a_foreign_host_is_refused_before_any_middleware(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    app, ran = guarded_app()
    srv = serve(app)
    with caplog.at_level(logging.WARNING, logger="wirecore"):
        r = httpx.get(srv.url + "/read", headers={"host": "evil.example:8000"})
    assert r.status_code == 403
    assert "evil.example" in r.json()["detail"]
    assert ran == []
    assert "refused /read" in caplog.text
    # loopback names with any port pass, and the pass is remembered
    for host in ("127.0.0.1", "localhost:1234", "LOCALHOST:9", "[::1]:80"):
        assert httpx.get(srv.url + "/read", headers={"host": host}).status_code == 200
    assert ran == ["middleware", "read"] * 4


def test_unknown_paths_are_refused_too(serve: Serve) -> None:
    app, _ = guarded_app()
    srv = serve(app)
    assert httpx.get(srv.url + "/nowhere", headers={"host": "evil.example"}).status_code == 403
    assert httpx.get(srv.url + "/nowhere").status_code == 404


def test_cross_origin_writes_are_refused_reads_are_not(serve: Serve) -> None:
    app, ran = guarded_app()
    srv = serve(app)
    evil = {"origin": "https://evil.example"}
    assert httpx.post(srv.url + "/write", headers=evil).status_code == 403
    assert ran == []
    assert httpx.get(srv.url + "/read", headers=evil).status_code == 200  # the browser guards the answer
    assert httpx.post(srv.url + "/write", headers={"origin": srv.url}).status_code == 200  # same origin
    assert httpx.post(srv.url + "/write").status_code == 200  # no Origin: not a browser page
    assert ran == ["middleware", "read", "middleware", "write", "middleware", "write"]


def test_configured_hosts_and_origins(serve: Serve) -> None:
    app, _ = guarded_app(allowed_hosts=["*.example.com"], allowed_origins=["http://localhost:5173"])
    srv = serve(app)
    assert httpx.get(srv.url + "/read", headers={"host": "app.example.com"}).status_code == 200
    assert httpx.get(srv.url + "/read", headers={"host": "127.0.0.1"}).status_code == 403  # not listed
    ok = {"host": "app.example.com", "origin": "http://localhost:5173"}
    assert httpx.post(srv.url + "/write", headers=ok).status_code == 200
    bad = {"host": "app.example.com", "origin": "http://localhost:5174"}
    assert httpx.post(srv.url + "/write", headers=bad).status_code == 403


def test_websocket_upgrades_from_another_site_are_refused(serve: Serve) -> None:
    app, ran = guarded_app()
    srv = serve(app)
    url = srv.url.replace("http", "ws", 1) + "/ws"
    with pytest.raises((InvalidStatus, ConnectionClosed)), connect(url, origin="https://evil.example") as ws:  # type: ignore[arg-type]
        ws.recv()
    assert ran == []
    with connect(url, origin=srv.url) as ws:  # type: ignore[arg-type]
        assert ws.recv() == "hello"
    assert ran == ["ws"]


def test_a_guard_with_both_checks_off_is_no_guard() -> None:
    assert App(guard=RequestGuard(["*"], ["*"])).guard is None
    assert App().guard is None
    with pytest.raises(TypeError):
        RequestGuard("localhost")  # type: ignore[arg-type]
