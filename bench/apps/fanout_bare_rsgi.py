"""The floor for fan-out on granian: a hand-written RSGI app, no framework.

Each subscriber has an ``asyncio.Queue`` of ready bytes; ``publish`` encodes each event once
(msgspec) and puts it in every queue. An SSE subscriber writes everything queued in one chunk;
a WebSocket subscriber sends one text frame per event. What remains per subscriber is about what
granian itself costs for one open stream or socket.
"""

import asyncio
from typing import Any
from urllib.parse import parse_qs

import msgspec
from fanout_events import event_data

_encode = msgspec.json.encode
sse_clients: set[asyncio.Queue[bytes]] = set()
ws_clients: set[asyncio.Queue[str | None]] = set()


async def _sse(proto: Any) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    sse_clients.add(queue)
    stream = proto.response_stream(
        200, [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
    )
    gone = asyncio.ensure_future(proto.client_disconnect())
    try:
        while not gone.done():
            get = asyncio.ensure_future(queue.get())
            await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not get.done():
                get.cancel()
                break
            chunks = [get.result()]
            while not queue.empty():
                chunks.append(queue.get_nowait())
            await stream.send_bytes(b"".join(chunks))
    except Exception:  # the client went away mid-write
        pass
    finally:
        sse_clients.discard(queue)
        gone.cancel()


async def _ws(proto: Any) -> None:
    transport = await proto.accept()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    ws_clients.add(queue)

    async def watch() -> None:
        try:
            while True:
                message = await transport.receive()
                if message.kind == 0:  # close
                    break
        except Exception:
            pass
        finally:
            queue.put_nowait(None)

    watcher = asyncio.ensure_future(watch())
    try:
        while True:
            text = await queue.get()
            if text is None:
                break
            await transport.send_str(text)
    except Exception:
        pass
    finally:
        ws_clients.discard(queue)
        watcher.cancel()
        proto.close(1000)


def _publish(query: str) -> bytes:
    q = parse_qs(query)
    n = int(q.get("n", ["200"])[0])
    size = int(q.get("size", ["200"])[0])
    for i in range(n):
        json = _encode(event_data(i, size))
        frame = b"event: tick\ndata: " + json + b"\n\n"
        text = json.decode()
        for queue in sse_clients:
            queue.put_nowait(frame)
        for wq in ws_clients:
            wq.put_nowait(text)
    return _encode({"published": n})


async def app(scope: Any, proto: Any) -> None:
    if scope.proto == "ws":
        await _ws(proto)
        return
    path = scope.path
    headers = [("content-type", "application/json")]
    if path == "/events":
        await _sse(proto)
    elif path == "/publish" and scope.method == "POST":
        proto.response_bytes(200, headers, _publish(scope.query_string))
    elif path == "/stats":
        proto.response_bytes(200, headers, _encode({"subscribers": len(sse_clients) + len(ws_clients)}))
    else:
        proto.response_bytes(404, headers, b'{"detail":"Not Found"}')
