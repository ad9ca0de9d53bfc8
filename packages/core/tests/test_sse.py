"""SSE framing, and hub topics streamed as server-sent events over a real granian server."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
import pytest

from wirecore import App, Request, Server
from wirecore.fanout import Hub, Message
from wirecore.sse import PING, SSE_HEADERS, format_sse, sse_response

# framing ------------------------------------------------------------------------------------


def test_format_sse_single_line() -> None:
    assert format_sse("hello") == b"data: hello\n\n"
    assert format_sse(b"hello") == b"data: hello\n\n"
    assert format_sse("") == b"data: \n\n"


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        ("a\nb", [b"a", b"b"]),
        ("a\r\nb", [b"a", b"b"]),
        ("a\rb", [b"a", b"b"]),
        ("a\r\n\r\nb\n\rc", [b"a", b"", b"b", b"", b"c"]),
        ("a\n", [b"a", b""]),
        ("\n", [b"", b""]),
        (b"x\r\ny", [b"x", b"y"]),
    ],
)
def test_format_sse_splits_every_kind_of_line_break(data: str | bytes, lines: list[bytes]) -> None:
    assert format_sse(data) == b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


def test_format_sse_keeps_other_characters_on_the_line() -> None:
    # only CR and LF end an SSE line: vertical tab, form feed and U+2028 are data
    text = "a\x0bb\x0cc\u2028d\x85e"
    assert format_sse(text) == b"data: " + text.encode() + b"\n\n"


def test_format_sse_fields() -> None:
    frame = format_sse('{"a":1}', event="update", id="42", retry=3000, comment="hi")
    assert frame == b': hi\nevent: update\nid: 42\nretry: 3000\ndata: {"a":1}\n\n'
    assert format_sse(None, comment="ping") == b": ping\n\n"
    assert format_sse(None, comment="two\nlines") == b": two\n: lines\n\n"
    assert format_sse(None, retry=0) == b"retry: 0\n\n"
    assert format_sse("x", id="") == b"id: \ndata: x\n\n"  # an empty id resets the client's


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\n", "\n"])
def test_format_sse_refuses_line_breaks_in_event_and_id(bad: str) -> None:
    with pytest.raises(ValueError, match="event"):
        format_sse("x", event=bad)
    with pytest.raises(ValueError, match="id"):
        format_sse("x", id=bad)


def test_format_sse_refuses_bad_ids_and_retries() -> None:
    with pytest.raises(ValueError):
        format_sse("x", id="a\0b")
    for retry in (-1, 1.5, True):
        with pytest.raises(ValueError):
            format_sse("x", retry=retry)  # type: ignore[arg-type]


def test_message_frames_match_format_sse() -> None:
    msg = Message("t", {"text": "line one\nline two"}, event="e", id="1")
    assert msg.sse == format_sse(msg.json, event="e", id="1")
    assert msg.sse.count(b"data:") == 1  # JSON escapes line breaks


def test_sse_headers() -> None:
    assert SSE_HEADERS["content-type"].startswith("text/event-stream")
    assert SSE_HEADERS["cache-control"] == "no-cache"
    assert SSE_HEADERS["x-accel-buffering"] == "no"


# a small SSE client -------------------------------------------------------------------------------


class Event(dict[str, Any]):
    """One parsed SSE block: fields plus "comments"."""


def parse_block(block: bytes) -> Event:
    event = Event()
    data: list[str] = []
    for line in block.split(b"\n"):
        if line.startswith(b":"):
            event.setdefault("comments", []).append(line[1:].strip().decode())
            continue
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value.decode())
        else:
            event[name.decode()] = value.decode()
    if data:
        event["data"] = "\n".join(data)
    return event


class SSEClient:
    """A streaming httpx client that yields parsed SSE blocks."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=None))
        self.response: httpx.Response | None = None
        self._stream: Any = None
        self._chunks: Any = None
        self._buffer = b""

    async def __aenter__(self) -> SSEClient:
        self._stream = self.client.stream("GET", self.url)
        self.response = await self._stream.__aenter__()
        self._chunks = self.response.aiter_raw()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.__aexit__(None, None, None)
        await self.client.aclose()

    async def next(self, timeout: float = 3.0) -> Event:
        """The next block; EOFError when the server ends the stream."""
        async with asyncio.timeout(timeout):
            while b"\n\n" not in self._buffer:
                try:
                    chunk = await self._chunks.__anext__()
                except StopAsyncIteration:
                    raise EOFError from None
                self._buffer += chunk
        block, self._buffer = self._buffer.split(b"\n\n", 1)
        return parse_block(block)

    async def events(self, count: int, timeout: float = 5.0) -> list[Event]:
        out: list[Event] = []
        while len(out) < count:
            event = await self.next(timeout)
            if "comments" not in event:
                out.append(event)
        return out


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def sse_app(hub: Hub, **options: Any) -> App:
    app = App()

    @app.route("/events/{topic}", methods=("GET", "HEAD"))
    async def events(request: Request) -> Any:
        return sse_response(hub, request.path_params["topic"], request=request, **options)

    return app


# over a real server ---------------------------------------------------------------------------


async def test_every_client_gets_every_event_in_order(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub, retry=2500))
    url = server.url + "/events/news"
    clients = [SSEClient(url) for _ in range(3)]
    for c in clients:
        await c.__aenter__()
    try:
        for c in clients:
            assert c.response is not None
            assert c.response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert c.response.headers["cache-control"] == "no-cache"
            assert c.response.headers["x-accel-buffering"] == "no"
            assert await c.next() == {"retry": "2500"}
        await eventually(lambda: hub.subscriber_count("news") == 3)
        expected = []
        for i in range(60):
            data: Any = {"i": i, "text": "two\nlines"} if i % 3 else f"plain {i}"
            event = "update" if i % 2 else None
            hub.publish("news", data, event=event, id=str(i))
            hub.publish("elsewhere", "not for them")
            block: dict[str, Any] = {"id": str(i), "data": Message("news", data).text}
            if event:
                block["event"] = event
            expected.append(block)
            if i % 10 == 0:
                await asyncio.sleep(0.01)
        for c in clients:
            assert await c.events(60) == expected
    finally:
        for c in clients:
            await c.aclose()
    await eventually(lambda: hub.subscriber_count() == 0, 1.5)


async def test_a_client_that_leaves_is_removed_promptly(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub, heartbeat=None))
    async with SSEClient(server.url + "/events/t") as staying:
        leaving = SSEClient(server.url + "/events/t")
        await leaving.__aenter__()
        await eventually(lambda: hub.subscriber_count("t") == 2)
        hub.publish("t", "first")
        assert (await leaving.next())["data"] == '"first"'
        await leaving.aclose()  # mid-stream, with nothing more published
        await eventually(lambda: hub.subscriber_count("t") == 1, 1.0)
        hub.publish("t", "second")
        assert [e["data"] for e in await staying.events(2)] == ['"first"', '"second"']
    await eventually(lambda: hub.subscriber_count() == 0, 1.0)
    assert hub.topics() == []


async def test_an_idle_stream_gets_heartbeats(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub, heartbeat=0.2))
    async with SSEClient(server.url + "/events/quiet") as client:
        assert await client.next(2) == {"comments": ["ping"]}
        assert await client.next(2) == {"comments": ["ping"]}
        hub.publish("quiet", 1)
        assert (await client.next(2))["data"] == "1"  # a message is not held back by the timer
        assert await client.next(2) == {"comments": ["ping"]}


async def test_the_heartbeat_waits_for_idleness() -> None:
    hub = Hub()
    response = sse_response(hub, "t", heartbeat=0.15)
    stream: Any = response.iterator
    got: list[bytes] = []

    async def read() -> None:
        async for chunk in stream:
            got.append(chunk)

    reader = asyncio.create_task(read())
    for i in range(6):  # busy for 0.3 s: no ping in between
        hub.publish("t", i)
        await asyncio.sleep(0.05)
    assert PING not in got
    await asyncio.sleep(0.3)
    assert PING in got
    await stream.aclose()
    await asyncio.wait_for(reader, 1)
    assert hub.subscriber_count() == 0


async def test_a_slow_client_does_not_hold_back_fast_ones(serve: Callable[..., Server]) -> None:
    hub = Hub(maxsize=64)
    server = serve(sse_app(hub, heartbeat=None))
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.port))
    slow.sendall(b"GET /events/feed HTTP/1.1\r\nhost: test\r\n\r\n")  # and never reads
    try:
        await eventually(lambda: hub.subscriber_count("feed") == 1)
        async with (
            SSEClient(server.url + "/events/feed") as one,
            SSEClient(server.url + "/events/feed") as two,
        ):
            await eventually(lambda: hub.subscriber_count("feed") == 3)
            payload = "x" * 2000
            for round_ in range(10):
                for i in range(50):
                    hub.publish("feed", [round_, i, payload])
                for client in (one, two):
                    got = await client.events(50, timeout=5)
                    assert [Message("t", [round_, i, payload]).text for i in range(50)] == [
                        e["data"] for e in got
                    ]
            # the slow client's queue stayed within its bound, whatever the server buffered
            assert all(sub.pending <= 64 for sub in hub._topics["feed"])
    finally:
        slow.close()
    await eventually(lambda: hub.subscriber_count() == 0, 2.0)


async def test_the_disconnect_policy_ends_the_stream(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub, heartbeat=None, maxsize=2, policy="disconnect"))
    async with SSEClient(server.url + "/events/t") as client:
        await eventually(lambda: hub.subscriber_count() == 1)
        sub = next(iter(hub._topics["t"]))

        def flood() -> None:
            for i in range(100):  # from a thread: arrives in one burst, faster than any write
                hub.publish("t", i)

        await asyncio.to_thread(flood)
        await eventually(lambda: sub.overflowed)
        with pytest.raises(EOFError):
            while True:
                await client.next(2)


async def test_hub_close_ends_the_streams(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub))
    async with SSEClient(server.url + "/events/t") as client:
        await eventually(lambda: hub.subscriber_count() == 1)
        hub.publish("t", "last")
        assert (await client.next())["data"] == '"last"'
        await hub.close()  # awaited from this loop, carried out on the server's
        with pytest.raises(EOFError):
            await client.next(2)


async def test_server_stop_ends_open_streams(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub))
    clients = [SSEClient(server.url + "/events/t") for _ in range(3)]
    for c in clients:
        await c.__aenter__()
    try:
        await eventually(lambda: hub.subscriber_count() == 3)
        started = time.monotonic()
        await asyncio.to_thread(server.stop)
        for c in clients:
            with pytest.raises((EOFError, httpx.HTTPError)):
                while True:
                    await c.next(2.5)
        assert time.monotonic() - started < 3.0  # Server.stop promises about 2 s
        assert hub.subscriber_count() == 0
    finally:
        for c in clients:
            await c.aclose()


async def test_head_gets_the_headers_without_subscribing(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(sse_app(hub))
    async with httpx.AsyncClient() as client:
        response = await client.head(server.url + "/events/t")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert hub.subscriber_count() == 0


async def test_an_unsent_stream_does_not_leak_its_subscription() -> None:
    hub = Hub()
    response = sse_response(hub, "t")
    assert hub.subscriber_count() == 1
    del response
    await eventually(lambda: hub.subscriber_count() == 0)


def test_sse_response_checks_its_arguments() -> None:
    with pytest.raises(ValueError):
        sse_response(Hub())
    with pytest.raises(ValueError):
        sse_response(Hub(), "t", heartbeat=0)
