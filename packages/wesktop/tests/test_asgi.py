"""Router, Request, responses and the app, over real granian servers (RSGI and ASGI) and in-process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import msgspec
import pytest
import websockets.sync.client as ws_client
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

import wesktop
import wirecore
from wesktop import (
    BytesResponse,
    HTMLResponse,
    HTTPError,
    JSONResponse,
    Request,
    Router,
    StreamResponse,
    TestClient,
    TextResponse,
    add_ws_route,
    create_app,
)
from wesktop.asgi import WesktopApp, remove_ws_route
from wirecore import App, LifespanError, Server
from wirecore.server import Interface

# the public surface -----------------------------------------------------------------------------

DOCUMENTED = [
    "run",
    "serve",
    "Router",
    "create_app",
    "add_ws_route",
    "Request",
    "JSONResponse",
    "TextResponse",
    "HTMLResponse",
    "BytesResponse",
    "StreamResponse",
    "Broadcaster",
    "sse_route",
    "create_entry",
    "remove_entry",
    "__version__",
    "HTTPError",
    "TestClient",
]


@pytest.mark.parametrize("name", [n for n in DOCUMENTED if n not in ("run", "create_entry", "remove_entry")])
def test_every_web_symbol_is_importable_from_the_package(name: str) -> None:
    assert getattr(wesktop, name) is not None
    assert name in wesktop.__all__


def test_version_is_the_distribution_version() -> None:
    from importlib.metadata import version

    assert wesktop.__version__ == version("wesktop")


def test_documented_signatures() -> None:
    import inspect

    sig = inspect.signature(create_app)
    params = list(sig.parameters.values())
    assert [p.name for p in params[:7]] == [
        "router",
        "middleware",
        "static_dir",
        "static_path",
        "spa_fallback",
        "lifespan",
        "name",
    ]
    assert sig.parameters["static_path"].default == "/assets"
    assert all(
        sig.parameters[n].default is None
        for n in ("middleware", "static_dir", "spa_fallback", "lifespan", "name")
    )
    serve = inspect.signature(wesktop.serve).parameters
    assert serve["host"].default == "127.0.0.1" and serve["port"].default == 8000
    assert serve["pid_path"].default is None and serve["name"].default == "wesktop"
    assert all(serve[n].kind is inspect.Parameter.KEYWORD_ONLY for n in ("host", "port", "pid_path", "name"))
    query = inspect.signature(Request.query).parameters
    assert query["default"].default is None and query["type_"].default is str
    assert inspect.signature(Request.header).parameters["default"].default is None
    text = inspect.signature(TextResponse).parameters
    assert text["content_type"].default == "text/plain" and text["status"].default == 200
    assert inspect.signature(BytesResponse).parameters["content_type"].default == "application/octet-stream"
    assert list(inspect.signature(StreamResponse).parameters)[:3] == ["generator", "content_type", "headers"]
    assert list(inspect.signature(JSONResponse).parameters)[:2] == ["data", "status"]
    assert list(inspect.signature(HTMLResponse).parameters)[:2] == ["html", "status"]
    b = inspect.signature(wesktop.Broadcaster).parameters
    assert b["buffer_size"].default == 256 and b["strict"].default is True
    assert b["strict"].kind is inspect.Parameter.KEYWORD_ONLY


def test_import_loads_no_server_or_gui() -> None:
    import subprocess
    import sys

    code = (
        "import sys, wesktop\n"
        "wesktop.Router, wesktop.Broadcaster, wesktop.create_app\n"
        "print(sorted(m for m in ('granian', 'webview', 'wesktop.desktop') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "[]", out.stderr


# Router -------------------------------------------------------------------------------------------


async def _h(req: Request) -> dict[str, Any]:
    return {}


def test_decorators_return_the_function_unchanged() -> None:
    router = Router()
    for deco in (router.get, router.post, router.put, router.patch, router.delete):

        async def handler(req: Request) -> dict[str, Any]:
            return {}

        assert deco("/x")(handler) is handler
    assert {r.method for r in router.routes} == {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_match_returns_the_handler_and_params() -> None:
    router = Router()

    @router.get("/api/items/{item_id}/parts/{part}")
    async def part(req: Request) -> dict[str, Any]:
        return {}

    assert router.match("GET", "/api/items/7/parts/wheel") == (part, {"item_id": "7", "part": "wheel"})
    assert router.match("get", "/api/items/7/parts/wheel") == (part, {"item_id": "7", "part": "wheel"})
    assert router.match("POST", "/api/items/7/parts/wheel") is None
    assert router.match("GET", "/api/items/7") is None
    assert router.match("GET", "/api/items//parts/x") is None  # a parameter is never empty


def test_leading_and_trailing_slashes_are_ignored() -> None:
    router = Router()
    router.add_route("GET", "/api/x", _h)
    router.add_route("GET", "/", _h)
    router.add_route("GET", "api/y/", _h)
    for path in ("/api/x", "/api/x/", "api/x", "//api//x//"):
        assert router.match("GET", path) == (_h, {}), path
    assert router.match("GET", "/") == (_h, {})
    assert router.match("GET", "/api/y") == (_h, {})


def test_first_registered_match_wins() -> None:
    router = Router()

    async def by_param(req: Request) -> dict[str, Any]:
        return {}

    async def literal(req: Request) -> dict[str, Any]:
        return {}

    router.add_route("GET", "/users/{name}", by_param)
    router.add_route("GET", "/users/me", literal)
    assert router.match("GET", "/users/me") == (by_param, {"name": "me"})
    other = Router()
    other.add_route("GET", "/users/me", literal)
    other.add_route("GET", "/users/{name}", by_param)
    assert other.match("GET", "/users/me") == (literal, {})
    assert other.match("GET", "/users/bob") == (by_param, {"name": "bob"})


def test_a_parameter_is_a_whole_segment() -> None:
    router = Router()
    with pytest.raises(ValueError):
        router.add_route("GET", "/files/{name}.json", _h)
    with pytest.raises(TypeError):
        router.add_route("GET", "/x", "not callable")  # type: ignore[arg-type]


def test_include_does_not_wrap_handlers_twice() -> None:
    inner = Router()
    inner.add_route("GET", "/ping", _h)
    outer = Router()
    outer.include(inner, prefix="/v1")
    assert outer.match("GET", "/v1/ping") == (_h, {})
    with TestClient(create_app(outer)) as client:
        assert client.get("/v1/ping").json() == {}


# Request ------------------------------------------------------------------------------------------


def _scope(query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "query_string": query,
        "headers": headers or [],
    }


def test_request_built_from_a_scope() -> None:
    scope = _scope(b"a=1")
    req = Request(scope, {"id": "3"}, b'{"k": [1, 2]}')
    assert req.scope is scope
    assert req.path_params == {"id": "3"}
    assert req.body == b'{"k": [1, 2]}' and req.body_size == 13
    assert req.json == {"k": [1, 2]}
    assert req.method == "POST" and req.path == "/x"
    empty = Request(_scope())
    assert empty.body is None and empty.body_size == 0 and empty.json is None and empty.path_params == {}


def test_json_is_decoded_once_and_cached() -> None:
    req = Request(_scope(), None, b'{"a": 1}')
    first = req.json
    assert req.json is first
    req.body = b'{"a": 2}'  # the cache holds: decoded at most once
    assert req.json == {"a": 1}
    assert Request(_scope(), None, b"[1, 2]").json == [1, 2]
    assert Request(_scope(), None, b"3").json == 3
    assert Request(_scope(), None, b"").json is None


def test_malformed_json_raises_a_400() -> None:
    req = Request(_scope(), None, b"{not json")
    for _ in range(2):
        with pytest.raises(HTTPError) as info:
            req.json  # noqa: B018
        assert info.value.status == 400 and "malformed JSON" in str(info.value.detail)


def test_query_parameters() -> None:
    req = Request(_scope(b"page=2&name=a%20b&flag=false&on=1&blank=&dup=first&dup=second&bad=x"))
    assert req.query("page") == "2"
    assert req.query("page", type_=int) == 2
    assert req.query("name") == "a b"
    assert req.query("missing") is None
    assert req.query("missing", 10, int) == 10
    assert req.query("blank", "dflt") == "dflt"
    assert req.query("flag", type_=bool) is False
    assert req.query("on", type_=bool) is True
    assert req.query("dup") == "first"
    with pytest.raises(HTTPError) as info:
        req.query("bad", 0, int)
    assert info.value.status == 400


def test_headers_are_case_insensitive_first_value() -> None:
    req = Request(_scope(headers=[(b"x-token", b"one"), (b"X-Token", b"two"), (b"content-type", b"a/b")]))
    assert req.header("X-TOKEN") == "one"
    assert req.header("Content-Type") == "a/b"
    assert req.header("missing") is None and req.header("missing", "d") == "d"
    assert req.headers.getlist("x-token") == ["one", "two"]


# the app over real servers ------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Item(msgspec.Struct):
    name: str


def full_router() -> Router:
    router = Router()

    @router.get("/api/health")
    async def health(req: Request) -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/api/users/{uid}")
    async def user(req: Request) -> dict[str, Any]:
        return {"uid": req.path_params["uid"], "verbose": req.query("verbose", False, bool)}

    @router.post("/api/echo")
    async def echo(req: Request) -> dict[str, Any]:
        return {"json": req.json, "size": req.body_size}

    @router.put("/api/body")
    async def put(req: Request) -> dict[str, Any]:
        return {"method": req.method, "body": req.body.decode() if req.body is not None else None}

    router.add_route("patch", "/api/body", put)
    router.add_route("delete", "/api/body", put)
    router.add_route("GET", "/api/body", put)

    @router.get("/api/scope")
    async def scope(req: Request) -> dict[str, Any]:
        s = req.scope
        return {
            "type": s["type"],
            "method": s["method"],
            "path": s["path"],
            "query": s["query_string"].decode(),
            "has_host": any(k == b"host" for k, _ in s["headers"]),
            "client": s["client"][0],
        }

    @router.get("/r/none")
    async def none(req: Request) -> None:
        return None

    @router.get("/r/str")
    async def string(req: Request) -> str:
        return "hello"

    @router.get("/r/int")
    async def integer(req: Request) -> int:
        return 42

    @router.get("/r/list")
    async def lst(req: Request) -> list[int]:
        return [1, 2]

    @router.get("/r/dataclass")
    async def dc(req: Request) -> Point:
        return Point(1, 2)

    @router.get("/r/struct")
    async def struct(req: Request) -> Item:
        return Item("x")

    @router.get("/r/json")
    async def json_response(req: Request) -> JSONResponse:
        return JSONResponse({"created": True}, 201)

    @router.get("/r/text")
    async def text(req: Request) -> TextResponse:
        return TextResponse("a,b", "text/csv", 200, {"Content-Disposition": "attachment; filename=x.csv"})

    @router.get("/r/html")
    async def html(req: Request) -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", 202)

    @router.get("/r/bytes")
    async def raw(req: Request) -> BytesResponse:
        return BytesResponse(b"\x89PNG", "image/png")

    @router.get("/r/stream")
    async def stream(req: Request) -> StreamResponse:
        async def gen() -> AsyncIterator[str | bytes]:
            yield "one,"
            yield b"two,"
            yield "three"

        return StreamResponse(gen(), "text/plain", {"X-Stream": "yes"})

    @router.get("/r/unencodable")
    async def unencodable(req: Request) -> object:
        return object()

    @router.get("/r/http-error")
    async def http_error(req: Request) -> None:
        raise HTTPError(409, "already there", {"x-why": "dup"})

    @router.get("/r/sync")
    def sync(req: Request) -> dict[str, Any]:
        return {"thread": threading.current_thread().name, "uid": req.query("uid")}

    return router


def test_routes_and_conversions(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    with httpx.Client(base_url=server.url) as c:
        assert c.get("/api/health").json() == {"status": "ok"}
        assert c.get("/api/health/").json() == {"status": "ok"}
        assert c.get("/api/users/7?verbose=false").json() == {"uid": "7", "verbose": False}
        assert c.get("/api/users/7?verbose=yes").json() == {"uid": "7", "verbose": True}
        r = c.post("/api/echo", json={"a": [1, "é"]})
        assert r.json() == {"json": {"a": [1, "é"]}, "size": len(r.request.content)}
        assert c.post("/api/echo").json() == {"json": None, "size": 0}
        for path, body in [
            ("/r/none", b"null"),
            ("/r/str", b'"hello"'),
            ("/r/int", b"42"),
            ("/r/list", b"[1,2]"),
            ("/r/dataclass", b'{"x":1,"y":2}'),
            ("/r/struct", b'{"name":"x"}'),
        ]:
            r = c.get(path)
            assert (r.status_code, r.content, r.headers["content-type"]) == (200, body, "application/json"), (
                path
            )
        r = c.get("/r/json")
        assert (r.status_code, r.json()) == (201, {"created": True})
        r = c.get("/r/text")
        assert r.text == "a,b" and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == "attachment; filename=x.csv"
        r = c.get("/r/html")
        assert (r.status_code, r.text, r.headers["content-type"]) == (
            202,
            "<p>hi</p>",
            "text/html; charset=utf-8",
        )
        r = c.get("/r/bytes")
        assert r.content == b"\x89PNG" and r.headers["content-type"] == "image/png"
        r = c.get("/r/stream")
        assert r.text == "one,two,three" and r.headers["x-stream"] == "yes"
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        r = c.get("/r/http-error")
        assert (r.status_code, r.json(), r.headers["x-why"]) == (409, {"detail": "already there"}, "dup")
        r = c.get("/r/unencodable")
        assert (r.status_code, r.json()) == (500, {"detail": "Internal Server Error"})
        r = c.get("/r/sync?uid=5")
        assert r.json()["uid"] == "5" and r.json()["thread"] != "MainThread"


def test_not_found_and_method_not_allowed(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/nope")
        assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
        r = c.delete("/api/echo")
        assert (r.status_code, r.headers["allow"]) == (405, "POST")
        r = c.head("/api/health")
        assert r.status_code == 200 and r.content == b"" and int(r.headers["content-length"]) == 15


def test_scope_is_an_asgi_dict_on_both_interfaces(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    r = httpx.get(server.url + "/api/scope?a=1")
    assert r.json() == {
        "type": "http",
        "method": "GET",
        "path": "/api/scope",
        "query": "a=1",
        "has_host": True,
        "client": "127.0.0.1",
    }


def test_the_body_is_read_for_every_method(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    with httpx.Client(base_url=server.url) as c:
        for method in ("PUT", "PATCH", "DELETE", "GET"):
            r = c.request(method, "/api/body", content=b"payload")
            assert r.json() == {"method": method, "body": "payload"}, method
        assert c.get("/api/body").json() == {"method": "GET", "body": None}


def test_wire_is_the_same_request_with_wirecores_api(serve: Callable[..., Server]) -> None:
    router = Router()

    @router.post("/wire")
    async def wire(req: Request) -> dict[str, Any]:
        req.state["seen"] = True
        plain = req.wire
        return {
            "subclass": isinstance(req, wirecore.Request),
            "plain": type(plain) is wirecore.Request,
            "body": (await plain.body()).decode(),
            "json": await plain.json(),
            "state": plain.state.get("seen"),
            "cached": req.wire is plain,
        }

    server = serve(create_app(router))
    r = httpx.post(server.url + "/wire", json={"a": 1})
    assert r.json() == {
        "subclass": True,
        "plain": True,
        "body": '{"a":1}',
        "json": {"a": 1},
        "state": True,
        "cached": True,
    }


def test_wesktop_routes_keep_their_request_in_a_plain_wirecore_app(serve: Callable[..., Server]) -> None:
    # the route, not the app, says what its handler takes: included into a wirecore router and
    # run behind wirecore middleware, wesktop handlers still get the body read and JSON results
    inner = full_router()
    outer = wirecore.Router()
    outer.include(inner, prefix="/v1")
    seen: list[str] = []

    async def mw(request: wirecore.Request, call_next: Any) -> Any:
        seen.append(type(request).__name__)
        return await call_next(request)

    server = serve(App(outer, middleware=[mw]))
    with httpx.Client(base_url=server.url) as c:
        assert c.put("/v1/api/body", content=b"payload").json() == {"method": "PUT", "body": "payload"}
        assert c.get("/v1/api/body").json() == {"method": "GET", "body": None}
    assert seen == ["Request", "Request"]  # middleware saw wirecore's own request


def test_stream_response_status_and_generator_close(serve: Callable[..., Server]) -> None:
    closed = threading.Event()
    router = Router()

    @router.get("/forever")
    async def forever(req: Request) -> StreamResponse:
        async def gen() -> AsyncIterator[str]:
            try:
                while True:
                    yield "tick\n"
                    await asyncio.sleep(0.01)
            finally:
                closed.set()

        return StreamResponse(gen(), "text/plain", status=206)

    server = serve(create_app(router))
    with httpx.stream("GET", server.url + "/forever") as r:
        assert r.status_code == 206
        assert next(r.iter_lines()) == "tick"
    assert closed.wait(3), "the generator was not closed when the client left"


def test_max_body_size(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router(), max_body_size=1000))
    assert httpx.post(server.url + "/api/echo", content=b"x" * 1001).status_code == 413
    assert httpx.post(server.url + "/api/echo", json="x" * 100).json()["size"] == 102


# middleware ---------------------------------------------------------------------------------------


class Tagger:
    """ASGI middleware adding a header and recording the order it ran in."""

    order: ClassVar[list[str]] = []

    def __init__(self, app: Any, tag: str = "") -> None:
        self.app = app
        self.tag = tag or type(self).__name__

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        Tagger.order.append(self.tag)

        async def tagged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-mw", self.tag.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


class Outer(Tagger):
    pass


class Inner(Tagger):
    pass


def test_middleware_classes_outermost_first() -> None:
    Tagger.order.clear()
    app = create_app(full_router(), middleware=[Outer, Inner])
    assert isinstance(app, WesktopApp) and isinstance(app, App)
    assert app.preferred_interface == "asgi"
    assert wesktop.server.interface_for(app) == "asgi"
    assert create_app(full_router()).preferred_interface == "rsgi"
    with Server(app, port=0, interface="asgi") as server:
        r = httpx.get(server.url + "/api/health")
    assert r.json() == {"status": "ok"}
    assert Tagger.order == ["Outer", "Inner"]
    assert r.headers.get_list("x-mw") == ["Inner", "Outer"]  # the outer one sees the response last


def test_middleware_app_served_over_rsgi_refuses_instead_of_skipping_middleware(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app(full_router(), middleware=[Outer])
    with caplog.at_level(logging.ERROR, logger="wesktop"), Server(app, port=0, interface="rsgi") as server:
        r = httpx.get(server.url + "/api/health")
    assert r.status_code == 500 and "x-mw" not in r.headers
    assert "interface='asgi'" in caplog.text


def test_the_guard_runs_outside_the_middleware() -> None:
    Tagger.order.clear()
    app = create_app(full_router(), middleware=[Outer])
    with TestClient(app) as client:
        assert client.get("/api/health", headers={"host": "evil.test"}).status_code == 403
        assert Tagger.order == []
        assert client.get("/api/health").headers["x-mw"] == "Outer"


# lifespan -----------------------------------------------------------------------------------------


def test_lifespan_entered_and_exited(serve: Callable[..., Server]) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("start")
        app.state["db"] = "connected"
        yield
        events.append("stop")

    router = Router()

    @router.get("/db")
    async def db(req: Request) -> dict[str, str]:
        return {"db": req.app.state["db"]}

    server = serve(create_app(router, lifespan=lifespan))
    assert httpx.get(server.url + "/db").json() == {"db": "connected"}
    server.stop()
    assert events == ["start", "stop"]


def test_lifespan_failure_stops_the_server(interface: Interface) -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Any) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield  # pragma: no cover

    with pytest.raises(LifespanError, match="no database"):
        Server(create_app(Router(), lifespan=broken), port=0, interface=interface).start()


# static files and SPA -----------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "app.js").write_text("console.log(1)")
    (static / "style.css").write_text("p{}")
    (static / ".hidden").write_text("secret")
    (tmp_path / "index.html").write_text("<h1>shell</h1>")
    return tmp_path


def test_static_files(serve: Callable[..., Server], site: Path) -> None:
    server = serve(create_app(Router(), static_dir=site / "static"))
    with httpx.Client(base_url=server.url) as c:
        r = c.get("/assets/js/app.js")
        assert r.text == "console.log(1)"
        assert r.headers["content-type"] == "text/javascript; charset=utf-8"
        assert r.headers["cache-control"] == "no-cache"
        assert c.get("/assets/js/app.js", headers={"if-none-match": r.headers["etag"]}).status_code == 304
        assert c.get("/assets/.hidden").status_code == 404
        assert c.get("/assets/missing.css").status_code == 404
        assert c.get("/assets/js").status_code == 404  # no directory listings or index
    other = serve(create_app(Router(), static_dir=site / "static", static_path="/static/"))
    assert httpx.get(other.url + "/static/style.css").text == "p{}"


def test_spa_fallback(serve: Callable[..., Server], site: Path) -> None:
    router = full_router()
    server = serve(create_app(router, static_dir=site / "static", spa_fallback=site / "index.html"))
    with httpx.Client(base_url=server.url) as c:
        for path in ("/", "/settings/profile", "/api/typo"):
            r = c.get(path)
            assert (r.status_code, r.text) == (200, "<h1>shell</h1>"), path
            assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert c.get("/assets/missing.js").status_code == 404  # a missing asset is not the shell
        assert c.get("/api/health").json() == {"status": "ok"}
        r = c.get("/api/echo")  # a POST-only API route
        assert (r.status_code, r.headers["allow"]) == (405, "POST")
        assert c.post("/settings").status_code == 404


def test_static_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        create_app(Router(), static_dir=tmp_path / "missing")


# WebSockets ---------------------------------------------------------------------------------------


async def echo_ws(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    assert message["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    prefix = scope["path_params"].get("room", "")
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": f"{prefix}:{message['text']}"})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"][::-1]})


async def closing_ws(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": scope["type"] + " " + scope["path"]})
    await send({"type": "websocket.close", "code": 4000})


async def refusing_ws(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "websocket.close"})


def ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def test_add_ws_route_raw_asgi_handlers(serve: Callable[..., Server], shared_ws: list[str]) -> None:
    app = create_app(Router())  # made before the routes are registered: they still apply
    shared_ws += ["/ws/{room}", "/bye", "/no"]
    add_ws_route("/ws/{room}", echo_ws)
    add_ws_route("/bye", closing_ws)
    add_ws_route("/no", refusing_ws)
    server = serve(app)
    with ws_client.connect(ws_url(server, "/ws/lobby/")) as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "lobby:hi"
        ws.send(b"abc")
        assert ws.recv(timeout=5) == b"cba"
    with ws_client.connect(ws_url(server, "/bye")) as ws:
        assert ws.recv(timeout=5) == "websocket /bye"
        with pytest.raises(Exception):  # noqa: B017 - the server closed it
            ws.recv(timeout=5)
    for path in ("/no", "/unknown"):
        with pytest.raises(InvalidStatus) as info:
            ws_client.connect(ws_url(server, path))
        assert info.value.response.status_code == 403


def test_router_ws_routes_belong_to_their_app(serve: Callable[..., Server], shared_ws: list[str]) -> None:
    mine = Router()
    mine.add_ws_route("/private", echo_ws)
    shared_ws.append("/shared")
    add_ws_route("/shared", closing_ws)
    isolated = serve(create_app(mine, shared_ws_routes=False))
    other = serve(create_app(Router()))
    with ws_client.connect(ws_url(isolated, "/private")) as ws:
        ws.send("x")
        assert ws.recv(timeout=5) == ":x"
    for server, path in ((other, "/private"), (isolated, "/shared")):
        with pytest.raises(InvalidStatus):
            ws_client.connect(ws_url(server, path))
    with ws_client.connect(ws_url(other, "/shared")) as ws:
        assert ws.recv(timeout=5) == "websocket /shared"


def test_ws_route_registration_rules(caplog: pytest.LogCaptureFixture, shared_ws: list[str]) -> None:
    def not_async(scope: Any, receive: Any, send: Any) -> None:
        pass

    with pytest.raises(TypeError, match="async"):
        add_ws_route("/sync", not_async)  # type: ignore[arg-type]
    shared_ws.append("/dup")
    add_ws_route("/dup", echo_ws)
    with caplog.at_level(logging.WARNING, logger="wesktop"):
        add_ws_route("/dup/", closing_ws)
    assert "replaces" in caplog.text
    with TestClient(create_app(Router())) as client, client.websocket_connect("/dup") as ws:
        assert ws.receive_text() == "websocket /dup"
    assert remove_ws_route("/dup") is True
    assert remove_ws_route("/dup") is False
    router = Router()
    assert router.websocket("/deco/{room}")(echo_ws) is echo_ws  # the decorator form, app-scoped
    with TestClient(create_app(router)) as client, client.websocket_connect("/deco/r") as ws:
        ws.send_text("x")
        assert ws.receive_text() == "r:x"


def test_ws_handler_errors_close_with_1011(shared_ws: list[str]) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise RuntimeError("boom")

    router = Router()
    router.add_ws_route("/broken", broken)
    with TestClient(create_app(router)) as client, client.websocket_connect("/broken") as ws:
        with pytest.raises(Exception) as info:
            ws.receive_text()
        assert getattr(info.value, "code", None) == 1011


def test_unknown_asgi_message_is_an_error() -> None:
    seen: list[BaseException] = []

    async def odd(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        try:
            await send({"type": "websocket.nonsense"})
        except RuntimeError as exc:
            seen.append(exc)
        await send({"type": "websocket.close"})

    router = Router()
    router.add_ws_route("/odd", odd)
    with TestClient(create_app(router)) as client, pytest.raises(Exception):  # noqa: B017 - refused
        client.websocket_connect("/odd").__enter__()
    assert seen and "nonsense" in str(seen[0])


# the Host allowlist and Origin check --------------------------------------------------------------


def test_loopback_hosts_are_allowed_by_default(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    port = server.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "127.0.0.1"):
        r = httpx.get(server.url + "/api/health", headers={"host": host})
        assert r.status_code == 200, host
    for host in (f"evil.example:{port}", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]"):
        r = httpx.get(server.url + "/api/health", headers={"host": host})
        assert r.status_code == 403, host
        assert "not allowed" in r.json()["detail"]


def test_allowed_hosts_can_be_listed_or_switched_off() -> None:
    app = create_app(full_router(), allowed_hosts=["myapp.local", "*.lan", "::1"])
    with TestClient(app, base_url="http://myapp.local:8000") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/health", headers={"host": "pc.lan"}).status_code == 200
        assert c.get("/api/health", headers={"host": "[::1]:9"}).status_code == 200
        assert c.get("/api/health", headers={"host": "localhost"}).status_code == 403
    with TestClient(create_app(full_router(), allowed_hosts=["*"]), base_url="http://anything") as c:
        assert c.get("/api/health").status_code == 200
    with pytest.raises(TypeError):
        create_app(Router(), allowed_hosts="localhost")


def test_cross_origin_state_changes_are_refused(serve: Callable[..., Server]) -> None:
    server = serve(create_app(full_router()))
    own = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/api/echo", json=1, headers={"origin": own}).status_code == 200
        assert c.post("/api/echo", json=1).status_code == 200  # no Origin: not a browser page
        for origin in (
            "http://evil.example",
            f"http://localhost:{server.port}",
            "http://127.0.0.1:1",
            "null",
        ):
            r = c.post("/api/echo", json=1, headers={"origin": origin})
            assert r.status_code == 403, origin
            assert r.json()["detail"].startswith("cross-origin request")
        # reading is not a state change; the browser's same-origin policy guards the answer
        assert c.get("/api/health", headers={"origin": "http://evil.example"}).status_code == 200


def test_allowed_origins() -> None:
    app = create_app(full_router(), allowed_origins=["http://localhost:5173"])
    with TestClient(app) as c:
        assert c.post("/api/echo", json=1, headers={"origin": "http://localhost:5173"}).status_code == 200
        assert c.post("/api/echo", json=1, headers={"origin": "http://localhost:5174"}).status_code == 403
    with TestClient(create_app(full_router(), allowed_origins=["*"])) as c:
        assert c.post("/api/echo", json=1, headers={"origin": "http://evil.example"}).status_code == 200


def test_websocket_upgrades_are_guarded(serve: Callable[..., Server], shared_ws: list[str]) -> None:
    router = Router()
    router.add_ws_route("/ws", echo_ws)
    server = serve(create_app(router))
    own = f"http://127.0.0.1:{server.port}"
    with ws_client.connect(ws_url(server, "/ws"), origin=Origin(own)) as ws:
        ws.send("ok")
        assert ws.recv(timeout=5) == ":ok"
    with pytest.raises(InvalidStatus) as info:
        ws_client.connect(ws_url(server, "/ws"), origin=Origin("http://evil.example"))
    assert info.value.response.status_code == 403
    # a rebound name: the handshake's Host is the attacker's (sent by hand: one Host header)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            f"GET /ws HTTP/1.1\r\nHost: evil.example:{server.port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert s.recv(1024).startswith(b"HTTP/1.1 403")
