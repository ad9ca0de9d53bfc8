"""WebSockets over a real server with the `websockets` client, on RSGI and ASGI."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from wirecore import App, Server, WebSocket, WebSocketDisconnect, origin_allowed

Serve = Callable[..., Server]


def ws_url(srv: Server, path: str) -> str:
    return srv.url.replace("http://", "ws://") + path


def close_code(srv: Server, info: pytest.ExceptionInfo[ConnectionClosed], code: int) -> None:
    """The client saw the close; over ASGI with ``code``. granian's RSGI WebSocket sends an
    empty close frame whatever the app asks (a documented difference), which reads as 1005."""
    rcvd = info.value.rcvd
    assert rcvd is not None
    assert rcvd.code == (code if srv.interface == "asgi" else 1005)


def echo_app(**kwargs: object) -> App:
    app = App(**kwargs)  # type: ignore[arg-type]

    @app.websocket("/echo/{room}")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"room": ws.path_params["room"], "q": ws.query_params.get("q")})
        async for message in ws:
            await ws.send(message)

    @app.websocket("/json")
    async def as_json(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                data = await ws.receive_json()
            except WebSocketDisconnect:
                return
            except ValueError:
                await ws.send_json({"error": "malformed JSON"})
                continue
            await ws.send_json({"sum": sum(data)})

    @app.websocket("/closer")
    async def closer(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive()
        await ws.close(4000, "bye")

    @app.websocket("/broken")
    async def broken(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("handler bug")

    @app.websocket("/guarded")
    async def guarded(ws: WebSocket) -> None:
        if not ws.origin_allowed(["https://trusted.example"]):
            await ws.close()
            return
        await ws.accept()
        await ws.send("welcome")

    return app


def test_echo_text_and_bytes_with_params(serve: Serve) -> None:
    srv = serve(echo_app())
    with connect(ws_url(srv, "/echo/lobby?q=1")) as ws:
        assert json.loads(ws.recv()) == {"room": "lobby", "q": "1"}
        ws.send("hello")
        assert ws.recv() == "hello"
        ws.send(b"\x00\x01binary")
        assert ws.recv() == b"\x00\x01binary"


def test_json_messages_and_malformed_json(serve: Serve) -> None:
    srv = serve(echo_app())
    with connect(ws_url(srv, "/json")) as ws:
        ws.send("[1, 2, 3]")
        assert json.loads(ws.recv()) == {"sum": 6}
        ws.send("[1, 2,")
        assert json.loads(ws.recv()) == {"error": "malformed JSON"}
        ws.send("[4]")
        assert json.loads(ws.recv()) == {"sum": 4}


def test_server_close_code_reaches_the_client(serve: Serve) -> None:
    srv = serve(echo_app())
    with connect(ws_url(srv, "/closer")) as ws:
        ws.send("x")
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    close_code(srv, info, 4000)


def test_oversize_message_closes_with_1009(serve: Serve) -> None:
    srv = serve(echo_app(max_message_size=1024))
    with connect(ws_url(srv, "/echo/a"), max_size=None) as ws:
        ws.recv()
        ws.send("x" * 1024)
        assert ws.recv() == "x" * 1024
        ws.send("x" * 5000)
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    close_code(srv, info, 1009)


def test_unknown_route_is_refused(serve: Serve) -> None:
    srv = serve(echo_app())
    with pytest.raises((InvalidStatus, ConnectionClosed)), connect(ws_url(srv, "/nowhere")) as ws:
        ws.recv()


def test_handler_error_closes_with_1011_and_server_survives(serve: Serve) -> None:
    srv = serve(echo_app())
    with connect(ws_url(srv, "/broken")) as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv()
    close_code(srv, info, 1011)
    with connect(ws_url(srv, "/echo/b")) as ws:
        ws.recv()
        ws.send("still here")
        assert ws.recv() == "still here"


def test_origin_check(serve: Serve) -> None:
    srv = serve(echo_app())
    with connect(ws_url(srv, "/guarded"), origin="https://trusted.example") as ws:  # type: ignore[arg-type]
        assert ws.recv() == "welcome"
    same = srv.url  # same-origin page
    with connect(ws_url(srv, "/guarded"), origin=same) as ws:  # type: ignore[arg-type]
        assert ws.recv() == "welcome"
    evil = "https://evil.example"
    with (
        pytest.raises((InvalidStatus, ConnectionClosed)),
        connect(ws_url(srv, "/guarded"), origin=evil) as ws,
    ):  # type: ignore[arg-type]
        ws.recv()


def test_idle_timeout_closes_silent_peers(serve: Serve) -> None:
    srv = serve(echo_app(ws_idle_timeout=0.5))
    with connect(ws_url(srv, "/echo/a")) as ws:
        ws.recv()
        time.sleep(0.3)
        ws.send("keepalive")
        assert ws.recv() == "keepalive"
        t0 = time.monotonic()
        with pytest.raises(ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert time.monotonic() - t0 < 3
    close_code(srv, info, 1001)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "a:1", (), True),
        ("http://a:1", "a:1", (), True),
        ("http://b:1", "a:1", (), False),
        ("https://x.example.com", "a", ["*.example.com"], True),
        ("https://example.com.evil.net", "a", ["*.example.com"], False),
        ("https://app.test", "a", ["https://app.test"], True),
        ("http://app.test", "a", ["https://app.test"], False),
        ("null", "a", (), False),
        ("https://anything", "a", ["*"], True),
    ],
)
def test_origin_allowed_rules(origin: str | None, host: str, allowed: list[str], ok: bool) -> None:
    assert origin_allowed(origin, host, allowed) is ok


def test_a_peer_that_drops_tcp_ends_the_loop_cleanly(serve: Serve) -> None:
    """A client that vanishes without a close frame (a killed tab, a dropped network) ends
    ``async for`` like a normal close: the handler's code after the loop runs, nothing is logged
    as a handler error, and the server keeps serving."""
    import socket
    import threading

    ended: list[str] = []
    done = threading.Event()
    app = App()

    @app.websocket("/ws")
    async def loop(ws: WebSocket) -> None:
        await ws.accept()
        try:
            async for _ in ws:
                pass
            ended.append("loop ended")
        except Exception as exc:  # what the test guards against: a transport error escaping
            ended.append(f"raised {type(exc).__name__}")
        done.set()

    srv = serve(app)
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert sock.recv(1024).startswith(b"HTTP/1.1 101")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()  # RST, no close frame
    assert done.wait(5), "the handler never noticed the peer was gone"
    assert ended == ["loop ended"]
    with connect(ws_url(srv, "/ws")) as again:  # still serving
        again.send("hi")


def test_after_the_peer_closes_the_server_ends_the_connection(serve: Serve) -> None:
    """The client closes first (close frame); once the handler returns, the server ends the TCP
    connection, so the client's close completes instead of waiting for its own timeout, also
    when the app still holds a reference to the socket."""
    import socket
    import struct
    import threading

    returned = threading.Event()
    kept: list[WebSocket] = []  # an app that keeps its sockets (a session registry, a cycle...)
    app = App()

    @app.websocket("/ws")
    async def loop(ws: WebSocket) -> None:
        kept.append(ws)
        await ws.accept()
        async for _ in ws:
            pass
        returned.set()

    srv = serve(app)
    sock = socket.create_connection(("127.0.0.1", srv.port))
    sock.settimeout(5)
    sock.sendall(
        b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1024)
    assert head.startswith(b"HTTP/1.1 101")
    payload = struct.pack("!H", 1000)
    sock.sendall(bytes([0x88, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)  # masked close, zero key
    assert returned.wait(5), "the handler never saw the close"
    received = b""
    try:
        while chunk := sock.recv(1024):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open after the close ({received!r})") from None
    finally:
        sock.close()
