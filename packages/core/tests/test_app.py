"""The App over a real granian server, the same assertions over RSGI and ASGI."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable

import httpx
import msgspec
import pytest

from wirecore import (
    App,
    BytesResponse,
    HTMLResponse,
    HTTPError,
    JSONResponse,
    LifespanError,
    Request,
    Response,
    Server,
    StreamResponse,
    TextResponse,
)

Serve = Callable[..., Server]


class User(msgspec.Struct):
    id: int
    name: str


def make_app(**kwargs: object) -> App:
    app = App(**kwargs)  # type: ignore[arg-type]

    @app.get("/json")
    async def as_json(request: Request) -> object:
        return {"ok": True, "items": [1, 2]}

    @app.get("/users/{id}")
    async def user(request: Request) -> object:
        return User(int(request.path_params["id"]), "ada")

    @app.post("/echo")
    async def echo(request: Request) -> object:
        return {"got": await request.json()}

    @app.post("/raw")
    async def raw(request: Request) -> Response:
        body = await request.body()
        return BytesResponse(body, "application/x-test")

    @app.get("/query")
    async def query(request: Request) -> object:
        return {
            "flag": request.query("flag", None, bool),
            "n": request.query("n", 0, int),
            "all": request.query_params.getlist("t"),
        }

    @app.get("/headers")
    async def headers(request: Request) -> object:
        return {
            "x": request.header("X-Thing"),
            "cookie": request.cookies.get("session"),
            "client": request.client[0] if request.client else None,
        }

    @app.get("/text")
    async def text(request: Request) -> object:
        return "plain words"

    @app.get("/html")
    async def html(request: Request) -> Response:
        return HTMLResponse("<h1>hi</h1>")

    @app.get("/csv")
    async def csv(request: Request) -> Response:
        return TextResponse("a,b\n", "text/csv", headers={"content-disposition": "attachment"})

    @app.get("/none")
    async def none(request: Request) -> None:
        return None

    @app.get("/teapot")
    async def teapot(request: Request) -> object:
        raise HTTPError(418, "short and stout", headers={"x-why": "tea"})

    @app.get("/boom")
    async def boom(request: Request) -> object:
        raise RuntimeError("secret internals")

    @app.get("/created")
    async def created(request: Request) -> Response:
        return JSONResponse({"id": 1}, status=201)

    @app.get("/sync")
    def sync(request: Request) -> object:
        return {"thread": threading.current_thread().name != "MainThread"}

    return app


def test_json_and_struct_responses(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"ok": True, "items": [1, 2]}
    assert httpx.get(srv.url + "/users/7").json() == {"id": 7, "name": "ada"}
    r = httpx.get(srv.url + "/created")
    assert r.status_code == 201


def test_return_value_conversion(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/text")
    assert r.headers["content-type"] == "text/plain; charset=utf-8" and r.text == "plain words"
    r = httpx.get(srv.url + "/html")
    assert r.headers["content-type"] == "text/html; charset=utf-8" and r.text == "<h1>hi</h1>"
    r = httpx.get(srv.url + "/csv")
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == "attachment"
    r = httpx.get(srv.url + "/none")
    assert r.status_code == 204 and r.content == b""


def test_post_json_and_bytes(serve: Serve) -> None:
    srv = serve(make_app())
    assert httpx.post(srv.url + "/echo", json={"a": [1, "x"]}).json() == {"got": {"a": [1, "x"]}}
    payload = bytes(range(256)) * 100
    r = httpx.post(srv.url + "/raw", content=payload)
    assert r.content == payload and r.headers["content-type"] == "application/x-test"


def test_malformed_json_is_a_400(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.post(srv.url + "/echo", content=b'{"a": ')
    assert r.status_code == 400
    assert "malformed JSON" in r.json()["detail"]
    # the server is intact afterwards
    assert httpx.get(srv.url + "/json").status_code == 200


def test_oversize_body_is_a_413_declared_or_chunked(serve: Serve) -> None:
    srv = serve(make_app(max_body_size=1000))
    r = httpx.post(srv.url + "/raw", content=b"x" * 5000)
    assert r.status_code == 413
    assert "1000" in r.json()["detail"]

    def chunks():  # no content-length: the cap is enforced while reading
        for _ in range(10):
            yield b"y" * 500

    r = httpx.post(srv.url + "/raw", content=chunks())
    assert r.status_code == 413
    assert httpx.post(srv.url + "/raw", content=b"z" * 999).content == b"z" * 999


def test_typed_query(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/query", params=[("flag", "false"), ("n", "12"), ("t", "a"), ("t", "b")])
    assert r.json() == {"flag": False, "n": 12, "all": ["a", "b"]}
    assert httpx.get(srv.url + "/query?flag=yes").json()["flag"] is True
    assert httpx.get(srv.url + "/query").json() == {"flag": None, "n": 0, "all": []}
    r = httpx.get(srv.url + "/query?n=twelve")
    assert r.status_code == 400 and "'n'" in r.json()["detail"]
    assert httpx.get(srv.url + "/query?flag=maybe").status_code == 400


def test_headers_cookies_client(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/headers", headers={"x-THING": "v"}, cookies={"session": "abc"})
    assert r.json() == {"x": "v", "cookie": "abc", "client": "127.0.0.1"}


def test_unknown_route_and_method(serve: Serve) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/nowhere")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = httpx.delete(srv.url + "/json")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_head_answers_get_routes_without_body(serve: Serve) -> None:
    srv = serve(make_app())
    get = httpx.get(srv.url + "/json")
    head = httpx.head(srv.url + "/json")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "application/json"


def test_http_error_and_500(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    srv = serve(make_app())
    r = httpx.get(srv.url + "/teapot")
    assert r.status_code == 418 and r.json() == {"detail": "short and stout"}
    assert r.headers["x-why"] == "tea"
    with caplog.at_level(logging.ERROR, logger="wirecore"):
        r = httpx.get(srv.url + "/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    assert "secret" not in r.text  # internals never reach the client
    assert any("secret internals" in (rec.exc_text or str(rec.exc_info)) for rec in caplog.records)


def test_error_after_stream_started_does_not_send_a_second_response(serve: Serve) -> None:
    app = App()

    @app.get("/half")
    async def half(request: Request) -> Response:
        async def gen() -> AsyncIterator[bytes]:
            yield b"first\n"
            raise RuntimeError("midway")

        return StreamResponse(gen(), "text/plain")

    srv = serve(app)
    with contextlib.suppress(httpx.HTTPError):
        r = httpx.get(srv.url + "/half")
        assert r.status_code == 200
        assert r.text.startswith("first")
    assert httpx.get(srv.url + "/half").status_code == 200  # the server carries on


def test_sync_handlers_run_off_the_loop(serve: Serve) -> None:
    app = make_app()

    @app.get("/slow")
    def slow(request: Request) -> object:
        time.sleep(1.0)
        return {"slow": True}

    srv = serve(app)
    assert httpx.get(srv.url + "/sync").json() == {"thread": True}
    done: list[float] = []

    def call_slow() -> None:
        httpx.get(srv.url + "/slow", timeout=5)
        done.append(time.monotonic())

    t = threading.Thread(target=call_slow)
    t.start()
    time.sleep(0.2)
    assert httpx.get(srv.url + "/json", timeout=5).status_code == 200
    fast_done = time.monotonic()
    t.join()
    assert done and fast_done < done[0]  # the fast call did not wait for the slow one


def test_middleware_runs_outermost_first(serve: Serve) -> None:
    order: list[str] = []

    def tag(name: str):  # type: ignore[no-untyped-def]
        async def mw(request: Request, call_next):  # type: ignore[no-untyped-def]
            order.append(f"{name}>")
            response = await call_next(request)
            order.append(f"<{name}")
            response.set_header(f"x-{name}", "1")
            return response

        return mw

    async def guard(request: Request, call_next):  # type: ignore[no-untyped-def]
        if request.header("x-deny"):
            raise HTTPError(403, "denied")
        return await call_next(request)

    app = make_app(middleware=[tag("outer"), tag("inner"), guard])
    srv = serve(app)
    r = httpx.get(srv.url + "/json")
    assert r.status_code == 200 and r.headers["x-outer"] == "1" and r.headers["x-inner"] == "1"
    assert order == ["outer>", "inner>", "<inner", "<outer"]
    assert httpx.get(srv.url + "/json", headers={"x-deny": "1"}).status_code == 403


def test_lifespan_runs_before_requests_and_after_stop(interface: str) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        await asyncio.sleep(0.05)
        app.state["db"] = "connected"
        events.append("start")
        yield
        events.append("stop")

    app = App(lifespan=lifespan)

    @app.get("/db")
    async def db(request: Request) -> object:
        return {"db": request.app.state.get("db")}

    with Server(app, port=0, interface=interface) as srv:  # type: ignore[arg-type]
        assert httpx.get(srv.url + "/db").json() == {"db": "connected"}
        assert events == ["start"]
    assert events == ["start", "stop"]


def test_failing_startup_stops_the_server_with_the_error(interface: str) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise ConnectionError("database unreachable")
        yield

    server = Server(App(lifespan=lifespan), port=0, interface=interface)  # type: ignore[arg-type]
    with pytest.raises(LifespanError, match="database unreachable"):
        server.start()
    assert not server.running
    with socket.socket() as s:  # nothing listens on the port it had
        assert s.connect_ex(("127.0.0.1", server.port)) != 0


def test_cookie_values_survive_a_round_trip(serve: Serve) -> None:
    app = App()

    @app.get("/set")
    async def set_cookie(request: Request) -> Response:
        response = JSONResponse({"ok": True})
        response.set_cookie("note", "a b;c=d")
        return response

    @app.get("/read")
    async def read_cookie(request: Request) -> object:
        return {"note": request.cookies.get("note")}

    srv = serve(app)
    with httpx.Client(base_url=srv.url) as client:
        r = client.get("/set")
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=lax" in r.headers["set-cookie"]
        assert client.get("/read").json() == {"note": "a b;c=d"}


def test_head_keeps_declared_lengths_and_streams_send_none(serve: Serve) -> None:
    app = App()

    @app.get("/fixed")
    async def fixed(request: Request) -> Response:
        return Response(b"hello", headers={"content-length": "5"}, media_type="text/plain")

    @app.get("/stream")
    async def stream(request: Request) -> Response:
        return StreamResponse(iter([b"a", b"b"]), "text/plain")

    srv = serve(app)
    r = httpx.head(srv.url + "/fixed")
    assert r.headers.get_list("content-length") == ["5"]
    r = httpx.head(srv.url + "/stream")
    assert r.status_code == 200 and r.content == b""
    assert "content-length" not in r.headers  # unknown length: none is claimed
    assert httpx.get(srv.url + "/stream").text == "ab"


def test_typed_json_body_mismatch_is_a_422(serve: Serve) -> None:
    app = App()

    @app.post("/users")
    async def create(request: Request) -> object:
        user = await request.json(User)
        return {"created": user.name}

    srv = serve(app)
    assert httpx.post(srv.url + "/users", json={"id": 1, "name": "ada"}).json() == {"created": "ada"}
    r = httpx.post(srv.url + "/users", json={"id": "one", "name": "ada"})
    assert r.status_code == 422 and "$.id" in r.json()["detail"]
    assert httpx.post(srv.url + "/users", content=b"{").status_code == 400


async def test_failed_startup_can_be_retried() -> None:
    calls: list[int] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("not yet")

    app = App()
    app.on_startup.append(flaky)
    with pytest.raises(ConnectionError):
        await app.startup()
    await app.startup()
    assert len(calls) == 2


def test_sync_websocket_handlers_are_refused_at_registration() -> None:
    app = App()
    with pytest.raises(TypeError, match="async"):

        @app.websocket("/ws")
        def ws(websocket: object) -> None: ...


def test_wrong_method_is_405_even_with_a_fallback(serve: Serve) -> None:
    app = App()

    @app.post("/api/items")
    async def create(request: Request) -> object:
        return {"created": True}

    app.fallback = lambda request: HTMLResponse("<p>app shell</p>")
    srv = serve(app)
    r = httpx.get(srv.url + "/api/items")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert httpx.get(srv.url + "/client/route").text == "<p>app shell</p>"


def test_has_body_tells_a_declared_body_without_reading_it(serve: Serve) -> None:
    app = App()

    @app.route("/peek", methods=["GET", "POST"])
    async def peek(request: Request) -> dict[str, bool]:
        return {"has_body": request.has_body}

    srv = serve(app)
    assert httpx.get(srv.url + "/peek").json() == {"has_body": False}
    assert httpx.post(srv.url + "/peek", content=b"x").json() == {"has_body": True}
    chunked = httpx.post(srv.url + "/peek", content=iter([b"a", b"b"]))  # Transfer-Encoding: chunked
    assert chunked.json() == {"has_body": True}
