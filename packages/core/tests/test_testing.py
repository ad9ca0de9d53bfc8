"""The in-process test client, against small wirecore apps and plain ASGI apps."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from wirecore import (
    App,
    HTTPError,
    LifespanError,
    Request,
    Response,
    StreamResponse,
    TextResponse,
    WebSocket,
    WebSocketDisconnect,
)
from wirecore.testing import ClientDisconnected, TestClient

# apps -------------------------------------------------------------------------------------------


def make_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, Any]:
        return {"hello": request.query("name", "world")}

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return await request.json()

    @app.post("/raw")
    async def raw(request: Request) -> bytes:
        return await request.body()

    @app.post("/form")
    async def form(request: Request) -> dict[str, list[str]]:
        fields = await request.form()
        return {k: fields.getlist(k) for k in fields}

    @app.get("/query")
    async def query(request: Request) -> dict[str, Any]:
        return {
            "tags": request.query_params.getlist("tag"),
            "n": request.query("n", 0, int),
            "flag": request.query("flag", False, bool),
            "raw": request.query_string,
        }

    @app.get("/headers")
    async def headers(request: Request) -> Response:
        return TextResponse(request.headers.get("x-token", "-"), headers={"X-Reply": "yes"})

    @app.route("/thing", methods=["GET", "PUT"])
    async def thing(request: Request) -> str:
        return request.method

    @app.get("/teapot")
    async def teapot(request: Request) -> None:
        raise HTTPError(418, "short and stout", headers={"x-kind": "teapot"})

    @app.get("/boom")
    async def boom(request: Request) -> None:
        raise ValueError("boom")

    @app.get("/sync")
    def sync_handler(request: Request) -> dict[str, Any]:
        return {"thread": threading.current_thread().name, "name": request.query("name")}

    @app.get("/items/{item_id}")
    async def item(request: Request) -> dict[str, str]:
        return {"id": request.path_params["item_id"], "path": request.path}

    @app.post("/login")
    async def login(request: Request) -> Response:
        response = TextResponse("ok")
        response.set_cookie("session", "abc123")
        response.set_cookie("theme", "dark")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        response = TextResponse("bye")
        response.set_cookie("session", "", max_age=0)
        return response

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        return request.cookies

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        return dict(request.app.state)

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


# HTTP basics ------------------------------------------------------------------------------------


def test_json_get_and_post_round_trip(client: TestClient) -> None:
    r = client.get("/hello", params={"name": "Ada"})
    assert r.status_code == 200 and r.ok
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "Ada"}

    payload = {"a": [1, 2, 3], "b": {"c": None, "d": "é"}}
    r = client.post("/echo", json=payload)
    assert r.status_code == 200
    assert r.json() == payload


def test_bodies_as_content_text_chunks_and_form(client: TestClient) -> None:
    assert client.post("/raw", content=b"\x00\x01bytes").content == b"\x00\x01bytes"
    assert client.post("/raw", content="text é").content == "text é".encode()
    big = bytes(range(256)) * 1024  # several ASGI body messages
    assert client.post("/raw", content=big).content == big
    assert client.post("/raw", content=[b"one ", b"two ", b"three"]).content == b"one two three"
    r = client.post("/form", data={"a": "1", "b": ["x", "y z"]})
    assert r.json() == {"a": ["1"], "b": ["x", "y z"]}
    with pytest.raises(TypeError):
        client.post("/raw", content=b"x", json={"y": 1})


def test_query_params(client: TestClient) -> None:
    r = client.get("/query", params=[("tag", "a"), ("tag", "b c"), ("n", 7)])
    assert r.json()["tags"] == ["a", "b c"]
    assert r.json()["n"] == 7
    r = client.get("/query?tag=x", params={"tag": ["y"], "flag": True})
    assert r.json()["tags"] == ["x", "y"]
    assert r.json()["flag"] is True
    assert client.get("/query", params={"n": "nope"}).status_code == 400


def test_headers_are_case_insensitive(client: TestClient) -> None:
    r = client.get("/headers", headers={"X-TOKEN": "secret"})
    assert r.text == "secret"
    assert r.headers["x-reply"] == r.headers["X-Reply"] == "yes"
    assert "CONTENT-TYPE" in r.headers
    assert r.headers["Content-Type"].startswith("text/plain")


def test_default_headers_and_per_request_override() -> None:
    with TestClient(make_app(), headers={"x-token": "default"}) as c:
        assert c.get("/headers").text == "default"
        assert c.get("/headers", headers={"X-Token": "override"}).text == "override"


def test_404_and_405_with_allow(client: TestClient) -> None:
    r = client.get("/nowhere")
    assert r.status_code == 404 and not r.ok
    assert r.json() == {"detail": "Not Found"}
    r = client.delete("/thing")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "PUT"}
    assert client.put("/thing").text == "PUT"


def test_http_error(client: TestClient) -> None:
    r = client.get("/teapot")
    assert r.status_code == 418
    assert r.json() == {"detail": "short and stout"}
    assert r.headers["x-kind"] == "teapot"


def test_exception_in_handler_is_a_500(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    # wirecore's App answers the exception itself, so nothing escapes to the client
    with caplog.at_level("ERROR", logger="wirecore"):
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    assert "boom" not in r.text
    assert any("unhandled error" in rec.getMessage() for rec in caplog.records)


def test_malformed_json_is_a_400(client: TestClient) -> None:
    r = client.post("/echo", content=b'{"a": ', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("malformed JSON body")


def test_oversize_body_is_a_413() -> None:
    with TestClient(make_app(max_body_size=10)) as c:
        assert c.post("/raw", content=b"x" * 10).status_code == 200
        r = c.post("/raw", content=b"x" * 11)  # refused on the declared content-length
        assert r.status_code == 413
        assert "10 bytes" in r.json()["detail"]
        r = c.post("/raw", content=[b"x" * 6, b"x" * 6])  # chunked: refused while reading
        assert r.status_code == 413


def test_head(client: TestClient) -> None:
    r = client.head("/hello")
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == len(b'{"hello":"world"}')
    assert r.headers["content-type"] == "application/json"


def test_sync_handler_runs_in_a_worker_thread(client: TestClient) -> None:
    r = client.get("/sync", params={"name": "x"})
    assert r.status_code == 200
    assert r.json()["name"] == "x"
    assert r.json()["thread"] != "wirecore-testclient"  # not on the event loop's thread


def test_path_params_and_percent_decoding(client: TestClient) -> None:
    r = client.get("/items/a%20b")
    assert r.json() == {"id": "a b", "path": "/items/a b"}
    assert client.get("/items/é").json()["id"] == "é"


def test_cookies_are_kept_sent_and_deleted(client: TestClient) -> None:
    r = client.post("/login")
    assert r.cookies == {"session": "abc123", "theme": "dark"}
    assert client.cookies == {"session": "abc123", "theme": "dark"}
    assert client.get("/whoami").json() == {"session": "abc123", "theme": "dark"}
    assert client.get("/whoami", cookies={"extra": "1"}).json()["extra"] == "1"
    assert "extra" not in client.cookies  # per-request cookies are not kept
    client.post("/logout")
    assert client.cookies == {"theme": "dark"}
    assert client.get("/whoami").json() == {"theme": "dark"}


def test_redirects() -> None:
    app = App(slashes="redirect")

    @app.get("/docs")
    async def docs(request: Request) -> str:
        return "docs " + request.query_string

    with TestClient(app) as c:
        r = c.get("/docs/?page=2")
        assert r.status_code == 308
        assert r.headers["location"] == "/docs?page=2"
        r = c.get("/docs/?page=2", follow_redirects=True)
        assert r.status_code == 200 and r.text == "docs page=2"
        assert [h.status_code for h in r.history] == [308]
        assert r.url == "http://testserver/docs?page=2"


def test_client_without_with_block() -> None:
    c = TestClient(make_app())
    try:
        assert c.get("/hello").json() == {"hello": "world"}
    finally:
        c.close()
    c.close()  # idempotent


# lifespan ---------------------------------------------------------------------------------------


def test_lifespan_startup_and_shutdown_hooks() -> None:
    app = make_app()
    events: list[str] = []

    async def start() -> None:
        app.state["db"] = "connected"
        events.append("startup")

    app.on_startup.append(start)
    app.on_shutdown.append(lambda: events.append("shutdown"))

    with TestClient(app) as c:
        assert events == ["startup"]
        assert c.get("/state").json() == {"db": "connected"}
    assert events == ["startup", "shutdown"]


def test_lifespan_context_manager() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        app.state["pool"] = 3
        events.append("enter")
        yield
        events.append("exit")

    app = make_app(lifespan=lifespan)
    with TestClient(app) as c:
        assert c.get("/state").json() == {"pool": 3}
    assert events == ["enter", "exit"]


def test_lifespan_startup_failure_is_raised() -> None:
    app = make_app()

    def fail() -> None:
        raise RuntimeError("no database")

    app.on_startup.append(fail)
    with pytest.raises(LifespanError, match="no database"), TestClient(app):
        pass


# streaming --------------------------------------------------------------------------------------


def test_stream_is_read_incrementally_and_stopped_on_leaving() -> None:
    app = App()
    cleaned_up = threading.Event()
    sent: list[int] = []

    @app.get("/events")
    async def events(request: Request) -> StreamResponse:
        async def gen() -> AsyncIterator[str]:
            try:
                n = 0
                while True:  # endless: only an incremental reader gets anywhere
                    sent.append(n)
                    yield f"id: {n}\ndata: tick {n}\n\n"
                    n += 1
                    await asyncio.sleep(0.005)
            finally:
                cleaned_up.set()

        return StreamResponse(gen(), "text/event-stream")

    with TestClient(app) as c:
        with c.stream("GET", "/events") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            lines = r.iter_lines()
            events_seen = []
            for line in lines:
                if line.startswith("data: "):
                    events_seen.append(line[len("data: ") :])
                if len(events_seen) == 3:
                    break
            assert events_seen == ["tick 0", "tick 1", "tick 2"]
            assert not cleaned_up.is_set()
        assert cleaned_up.is_set()  # the generator's finally ran when the block was left
        produced = len(sent)
        time.sleep(0.05)
        assert len(sent) == produced  # and nothing runs on
        # the app is still fine afterwards
        with c.stream("GET", "/events") as r:
            first = next(r.iter_bytes())
        assert first == b"id: 0\ndata: tick 0\n\n"


def test_finite_stream_read_whole_and_iter_lines_splits() -> None:
    app = App()

    @app.get("/lines")
    async def lines(request: Request) -> StreamResponse:
        async def gen() -> AsyncIterator[bytes]:
            for part in (b"one\r", b"\ntwo\n", b"thr", b"ee\rfour"):
                yield part

        return StreamResponse(gen(), "text/plain")

    with TestClient(app) as c:
        assert c.get("/lines").text == "one\r\ntwo\nthree\rfour"
        with c.stream("GET", "/lines") as r:
            assert list(r.iter_lines()) == ["one", "two", "three", "four"]
        with c.stream("GET", "/lines") as r:
            assert r.read() == b"one\r\ntwo\nthree\rfour"


# WebSocket --------------------------------------------------------------------------------------


def make_ws_app(record: list[Any] | None = None) -> App:
    app = App()
    seen = record if record is not None else []

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                message = await ws.receive()
                if message == "json":
                    await ws.send_json({"echo": await ws.receive_json()})
                else:
                    await ws.send(message)
        except WebSocketDisconnect as exc:
            seen.append(("client closed", exc.code))
            raise

    @app.websocket("/goodbye")
    async def goodbye(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(await ws.receive_text())
        await ws.close(4001, "go away")

    @app.websocket("/refuse")
    async def refuse(ws: WebSocket) -> None:
        await ws.close()

    @app.websocket("/proto")
    async def proto(ws: WebSocket) -> None:
        offered = ws.scope["subprotocols"]
        await ws.accept(subprotocol=offered[-1] if offered else None)
        await ws.send_json({"offered": offered, "token": ws.headers.get("x-token")})
        await ws.receive()

    @app.websocket("/chatty")
    async def chatty(ws: WebSocket) -> None:
        await ws.accept()
        n = 0
        try:
            while True:  # never reads, never yields except through send
                await ws.send_text(str(n))
                n += 1
        finally:
            seen.append(("chatty stopped", n > 0))

    return app


def test_websocket_echo_text_bytes_and_json() -> None:
    record: list[Any] = []
    with TestClient(make_ws_app(record)) as c:
        with c.websocket_connect("/echo") as ws:
            ws.send_text("hello")
            assert ws.receive_text() == "hello"
            ws.send_bytes(b"\x00\xff")
            assert ws.receive_bytes() == b"\x00\xff"
            ws.send_text("json")
            ws.send_json({"n": [1, 2]})
            assert ws.receive_json() == {"echo": {"n": [1, 2]}}
            ws.send_bytes(b"bin")
            with pytest.raises(TypeError):
                ws.receive_text()  # the app answered with a binary message
        assert record == [("client closed", 1000)]
        with c.websocket_connect("/echo") as ws:
            ws.close(code=4100)
        assert record[-1] == ("client closed", 4100)


def test_websocket_server_close_code_surfaces() -> None:
    with TestClient(make_ws_app()) as c, c.websocket_connect("/goodbye") as ws:
        ws.send_text("last words")
        assert ws.receive_text() == "last words"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == 4001
        assert info.value.reason == "go away"
        with pytest.raises(WebSocketDisconnect):
            ws.send_text("too late")


def test_websocket_refused_before_accept() -> None:
    with TestClient(make_ws_app()) as c:
        with pytest.raises(WebSocketDisconnect) as info:
            c.websocket_connect("/refuse")
        assert info.value.code == 403
        with pytest.raises(WebSocketDisconnect) as info:
            c.websocket_connect("/no-such-socket")
        assert info.value.code == 403


def test_websocket_subprotocols_and_headers() -> None:
    with TestClient(make_ws_app()) as c:
        with c.websocket_connect("/proto", subprotocols=["v1", "v2"], headers={"X-Token": "t"}) as ws:
            assert ws.accepted_subprotocol == "v2"
            assert ws.receive_json() == {"offered": ["v1", "v2"], "token": "t"}
        with c.websocket_connect("ws://testserver/proto") as ws:
            assert ws.accepted_subprotocol is None
            assert ws.receive_json()["offered"] == []


def test_websocket_sender_that_never_reads_is_stopped_on_close() -> None:
    record: list[Any] = []
    with TestClient(make_ws_app(record)) as c:
        with c.websocket_connect("/chatty") as ws:
            assert [ws.receive_text() for _ in range(3)] == ["0", "1", "2"]
        assert record == [("chatty stopped", True)]


# raw ASGI apps ----------------------------------------------------------------------------------


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app (no framework): echoes its scope, speaks lifespan, raises on /fail."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "hi from lifespan"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": message["text"].upper()})
        await send({"type": "websocket.close", "code": 1000})
        return
    if scope["path"] == "/fail":
        raise KeyError("raw failure")
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    from wirecore import codec

    described = {
        "type": scope["type"],
        "asgi": scope["asgi"],
        "http_version": scope["http_version"],
        "method": scope["method"],
        "scheme": scope["scheme"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "query_string": scope["query_string"].decode(),
        "root_path": scope["root_path"],
        "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
        "client": list(scope["client"]),
        "server": list(scope["server"]),
        "state": scope.get("state"),
        "body": body.decode(),
    }
    payload = codec.encode(described)
    await send(
        {"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": payload[:10], "more_body": True})
    await send({"type": "http.response.body", "body": payload[10:]})


def test_raw_asgi_app_scope() -> None:
    with TestClient(raw_app, base_url="https://example.org:8443") as c:
        r = c.post("/a%2Fb/caf%C3%A9 x", params={"q": "1 2"}, content=b"body", cookies={"k": "v"})
    assert r.status_code == 201
    scope = r.json()
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/a/b/café x"
    assert scope["raw_path"] == "/a%2Fb/caf%C3%A9%20x"
    assert scope["query_string"] == "q=1+2"
    assert scope["root_path"] == ""
    assert scope["client"] == ["testclient", 50000]
    assert scope["server"] == ["example.org", 8443]
    assert scope["state"] == {"greeting": "hi from lifespan"}
    assert scope["body"] == "body"
    headers = dict(scope["headers"])
    assert all(k == k.lower() for k in headers)
    assert headers["host"] == "example.org:8443"
    assert headers["content-length"] == "4"
    assert headers["cookie"] == "k=v"


def test_raw_asgi_app_websocket() -> None:
    with TestClient(raw_app) as c, c.websocket_connect("/ws") as ws:
        ws.send_text("shout")
        assert ws.receive_text() == "SHOUT"
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_text()
        assert info.value.code == 1000


def test_raw_asgi_app_exception_is_raised_or_answered_500() -> None:
    with TestClient(raw_app) as c, pytest.raises(KeyError, match="raw failure"):
        c.get("/fail")
    with TestClient(raw_app, raise_server_exceptions=False) as c:
        r = c.get("/fail")
        assert r.status_code == 500
        assert c.get("/ok").status_code == 201  # the client still works


def test_app_without_lifespan_support() -> None:
    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"  # raises for lifespan: the client carries on
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    with TestClient(http_only) as c:
        r = c.get("/")
        assert r.status_code == 204 and r.content == b""


def test_raw_app_notices_the_disconnect() -> None:
    """After the client leaves a stream, the app's receive says http.disconnect and send raises."""
    outcome: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        assert (await receive())["type"] == "http.request"
        outcome.append((await receive())["type"])
        try:
            await send({"type": "http.response.body", "body": b"late", "more_body": True})
        except ClientDisconnected:
            outcome.append("send refused")

    with TestClient(app) as c, c.stream("GET", "/") as r:
        assert next(r.iter_bytes()) == b"first"
    assert outcome == ["http.disconnect", "send refused"]


def test_protocol_errors_are_reported() -> None:
    async def no_response(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    async def body_first(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.body", "body": b"x"})

    with TestClient(no_response) as c, pytest.raises(RuntimeError, match="without answering"):
        c.get("/")
    with TestClient(body_first) as c, pytest.raises(RuntimeError, match=r"before http\.response\.start"):
        c.get("/")


# timeouts ---------------------------------------------------------------------------------------


def test_a_hung_app_fails_the_test_instead_of_hanging() -> None:
    app = App()
    cancelled = threading.Event()

    @app.get("/hang")
    async def hang(request: Request) -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            cancelled.set()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    with TestClient(app, timeout=0.2) as c:
        start = time.monotonic()
        with pytest.raises(TimeoutError, match="GET http://testserver/hang"):
            c.get("/hang")
        assert time.monotonic() - start < 5
        assert cancelled.is_set()  # the handler was cancelled, not left running
        with c.websocket_connect("/echo") as ws:
            with pytest.raises(TimeoutError):
                ws.receive_text(timeout=0.1)  # nothing was sent: nothing arrives
            ws.send_text("still open")
            assert ws.receive_text() == "still open"


def test_raw_websocket_app_errors() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        if scope["path"] == "/early":
            raise LookupError("before accept")
        await send({"type": "websocket.accept"})
        await receive()
        raise LookupError("after accept")

    with TestClient(app) as c:
        with pytest.raises(LookupError, match="before accept"):
            c.websocket_connect("/early")
        with c.websocket_connect("/late") as ws:
            ws.send_text("x")
            with pytest.raises(LookupError, match="after accept"):
                ws.receive()
    with TestClient(app, raise_server_exceptions=False) as c:
        with pytest.raises(WebSocketDisconnect) as info:
            c.websocket_connect("/early")
        assert info.value.code == 1011
        with c.websocket_connect("/late") as ws:
            ws.send_text("x")
            with pytest.raises(WebSocketDisconnect) as info:
                ws.receive()
            assert info.value.code == 1011


def test_error_in_the_middle_of_a_stream() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ConnectionResetError("upstream went away")

    with TestClient(app) as c:
        with pytest.raises(ConnectionResetError), c.stream("GET", "/") as r:
            list(r.iter_bytes())
        with pytest.raises(ConnectionResetError):
            c.get("/")
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/").content == b"partial"


def test_clients_leave_no_threads_behind() -> None:
    before = {t.name for t in threading.enumerate()}
    for _ in range(3):
        with TestClient(make_app()) as c:
            c.get("/sync")
    leftover = {t.name for t in threading.enumerate()} - before
    assert leftover == set()  # neither the loop thread nor its worker threads
