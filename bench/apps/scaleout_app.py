"""The scale-out benchmark's app: SSE subscribers of one wirecore Hub topic, on any number of
granian workers; with ``WIRECORE_REDIS_URL`` set, the hub uses the Redis backplane.

``GET /events`` streams the topic; its first bytes are ``: worker <pid>`` (an SSE comment, which
EventSource ignores) so that a client knows which worker holds its stream.
``POST /publish?n=200&size=200&rate=0`` publishes ``n`` events of about ``size`` bytes from the
worker that got the request: in a loop (``rate=0``), or ``rate`` per second from a background
task (the request then returns at once). Each event carries ``"t"``, the publisher's
``time.time()`` when it called ``publish``, for publish-to-receive latency.
``GET /stats``: this worker's pid, subscribers and backplane. The hub's queue bound is
:data:`QUEUE`.
"""

import asyncio
import os
import time

from wirecore import App, Request
from wirecore.fanout import Hub
from wirecore.responses import StreamResponse
from wirecore.sse import SSE_HEADERS, EventStream

app = App()
# A burst published in one loop reaches every subscriber's queue before any stream writes: the
# queue bound (256 by default, "drop_oldest") is raised so that a burst of up to 4,096 events is
# delivered whole, in-process as through Redis.
QUEUE = 4096
hub = Hub(maxsize=QUEUE)
TOPIC = "news"
PID = os.getpid()
HELLO = f": worker {PID}\n\n".encode()
_PAD_OVERHEAD = 60  # "event: tick", the JSON around the pad (seq, t), "data: ", the blank line
_publishers: set[asyncio.Task[None]] = set()


def event(seq: int, pad: str) -> dict[str, object]:
    return {"seq": seq, "t": time.time(), "pad": pad}


@app.get("/events")
async def events(request: Request) -> StreamResponse:
    stream = EventStream(hub.subscribe(TOPIC), heartbeat=15.0, first=HELLO)
    return StreamResponse(stream, headers=dict(SSE_HEADERS))


async def _paced(n: int, pad: str, rate: float) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(n):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        hub.publish(TOPIC, event(i, pad), event="tick")


@app.post("/publish")
async def publish(request: Request) -> dict[str, object]:
    n = request.query("n", 200, int)
    pad = "x" * max(0, request.query("size", 200, int) - _PAD_OVERHEAD)
    rate = request.query("rate", 0.0, float)
    if rate > 0:
        task = asyncio.get_running_loop().create_task(_paced(n, pad, rate))
        _publishers.add(task)
        task.add_done_callback(_publishers.discard)
    else:
        for i in range(n):
            hub.publish(TOPIC, event(i, pad), event="tick")
    return {"published": n, "rate": rate, "pid": PID}


@app.get("/stats")
async def stats(request: Request) -> dict[str, object]:
    return {
        "pid": PID,
        "subscribers": hub.subscriber_count(TOPIC),
        "backplane": type(hub.backplane).__name__,
        "backplane_stats": getattr(hub.backplane, "stats", None),
    }
