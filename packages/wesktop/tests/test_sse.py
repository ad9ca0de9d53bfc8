"""Broadcaster and sse_route: the event registry, the wire format, and delivery over real servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from wesktop import Broadcaster, Request, Router, StreamResponse, TestClient, create_app, sse_route
from wirecore import Server
from wirecore.server import Interface

# registry ---------------------------------------------------------------------------------------


def test_event_registry() -> None:
    sse = Broadcaster()
    assert sse.event_types == frozenset()
    sse.register_event("status")
    sse.register_event("status")
    sse.register_event("progress")
    types = sse.event_types
    assert types == frozenset({"status", "progress"})
    with pytest.raises(AttributeError):
        types.add("x")  # type: ignore[attr-defined]
    sse.register_event("later")
    assert "later" not in types  # a snapshot


def test_strict_mode_refuses_unregistered_events() -> None:
    sse = Broadcaster()
    sse.register_event("b")
    sse.register_event("a")
    with pytest.raises(ValueError) as info:
        sse.broadcast("typo", {})
    message = str(info.value)
    assert "unregistered event type 'typo'" in message
    assert "register_event('typo')" in message
    assert "['a', 'b']" in message
    loose = Broadcaster(strict=False)
    loose.broadcast("anything", {"ok": True})  # no client: nothing to do, no error


def test_constructor_checks() -> None:
    assert Broadcaster().buffer_size == 256
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            Broadcaster(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Broadcaster(heartbeat=0)


def test_unencodable_data_raises_in_the_caller() -> None:
    sse = Broadcaster()
    sse.register_event("e")
    with pytest.raises(TypeError):
        sse.broadcast("e", object())


def test_sse_route_is_an_async_handler_returning_an_event_stream() -> None:
    import inspect

    sse = Broadcaster()
    handler = sse_route(sse)
    assert inspect.iscoroutinefunction(handler)
    assert inspect.iscoroutinefunction(sse.stream)

    async def check() -> None:
        response = await sse.stream(SimpleNamespace(method="HEAD"))
        assert isinstance(response, StreamResponse)
        assert response.status == 200
        headers = dict(response.headers)
        assert headers["content-type"] == "text/event-stream; charset=utf-8"
        assert headers["cache-control"] == "no-cache"
        assert "connection" not in headers

    asyncio.run(check())


# delivery ---------------------------------------------------------------------------------------


def sse_app(sse: Broadcaster) -> Any:
    router = Router()
    router.add_route("GET", "/events", sse_route(sse))

    @router.post("/api/notify")
    async def notify(req: Request) -> dict[str, bool]:
        sse.broadcast("status", req.json)
        return {"sent": True}

    @router.get("/api/count")
    async def count(req: Request) -> dict[str, int]:
        return {"clients": sse.client_count}

    return create_app(router)


async def test_every_client_gets_every_event_in_order(
    serve: Callable[..., Server], sse_client: Any, helpers: Any
) -> None:
    sse = Broadcaster()
    sse.register_event("status")
    sse.register_event("progress")
    server = serve(sse_app(sse))
    clients = [sse_client(server.url + "/events") for _ in range(3)]
    for c in clients:
        await c.__aenter__()
    try:
        for c in clients:
            assert c.response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert "connection" not in c.response.headers or c.response.headers["connection"] != "keep-alive"
        await helpers.aeventually(lambda: sse.client_count == 3)
        sent: list[tuple[str, Any]] = []
        for i in range(30):
            data: Any = {"i": i, "text": "é\nü"} if i % 3 else [i, None, True]
            event = "progress" if i % 2 else "status"
            sse.broadcast(event, data)
            sent.append((event, data))
        async with httpx.AsyncClient(base_url=server.url) as api:
            assert (await api.post("/api/notify", json={"message": "build complete"})).json() == {
                "sent": True
            }
        sent.append(("status", {"message": "build complete"}))
        for c in clients:
            got = await c.events(len(sent))
            assert [(e["event"], json.loads(e["data"])) for e in got] == sent
    finally:
        for c in clients:
            await c.aclose()
    await helpers.aeventually(lambda: sse.client_count == 0)


async def test_broadcast_from_other_threads(
    serve: Callable[..., Server], sse_client: Any, helpers: Any
) -> None:
    sse = Broadcaster()
    sse.register_event("tick")
    server = serve(sse_app(sse))
    async with sse_client(server.url + "/events") as c:
        await helpers.aeventually(lambda: sse.client_count == 1)

        def publish(worker: int) -> None:
            for n in range(50):
                sse.broadcast("tick", {"worker": worker, "n": n})

        threads = [threading.Thread(target=publish, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = [json.loads(e["data"]) for e in await c.events(200)]
        for w in range(4):
            assert [g["n"] for g in got if g["worker"] == w] == list(range(50))  # each thread in order


async def test_heartbeat_keeps_idle_streams_alive(serve: Callable[..., Server], sse_client: Any) -> None:
    sse = Broadcaster(heartbeat=0.1, retry=1500)
    server = serve(sse_app(sse))
    async with sse_client(server.url + "/events") as c:
        assert await c.next() == {"retry": "1500"}
        assert await c.next() == {"comments": ["ping"]}
        assert await c.next() == {"comments": ["ping"]}


async def test_a_client_that_leaves_is_removed(
    serve: Callable[..., Server], sse_client: Any, helpers: Any
) -> None:
    sse = Broadcaster()
    sse.register_event("e")
    server = serve(sse_app(sse))
    stays = sse_client(server.url + "/events")
    leaves = sse_client(server.url + "/events")
    await stays.__aenter__()
    await leaves.__aenter__()
    try:
        await helpers.aeventually(lambda: sse.client_count == 2)
        await leaves.aclose()
        await helpers.aeventually(lambda: sse.client_count == 1)
        sse.broadcast("e", 1)
        assert (await stays.events(1))[0]["data"] == "1"
        assert httpx.get(server.url + "/api/count").json() == {"clients": 1}
    finally:
        await stays.aclose()
    await helpers.aeventually(lambda: sse.client_count == 0)


def test_server_stop_ends_streams(interface: Interface) -> None:
    sse = Broadcaster()
    sse.register_event("e")
    server = Server(sse_app(sse), port=0, interface=interface).start()
    try:
        with httpx.stream("GET", server.url + "/events", timeout=5) as r:
            deadline = time.monotonic() + 3
            while sse.client_count < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            t0 = time.monotonic()
            server.stop()
            assert time.monotonic() - t0 < 3
            # the stream ends (over ASGI without its last chunk: wirecore cancels the response)
            with contextlib.suppress(httpx.RemoteProtocolError):
                for _ in r.iter_bytes():
                    pass
    finally:
        server.stop()
    assert sse.client_count == 0


def test_in_process_with_the_test_client() -> None:
    sse = Broadcaster()
    sse.register_event("status")
    with TestClient(sse_app(sse)) as client, client.stream("GET", "/events") as r:
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        deadline = time.monotonic() + 3
        while sse.client_count < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        sse.broadcast("status", "two\nlines")
        lines = r.iter_lines()
        assert [next(lines) for _ in range(4)] == ["event: status", "data: two", "data: lines", ""]
