"""The common Starlette recipe: a per-client ``asyncio.Queue`` drained by a ``StreamingResponse``
generator (SSE), or by a send loop (WebSocket).

The publisher puts each event's data into every client's queue; each client's generator formats
its own SSE frame, as the recipe is usually written. ``POST /publish`` and ``GET /stats`` behave
as in :mod:`fanout_wirecore`.
"""

import asyncio
import json
from typing import Any

from fanout_events import event_data
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[asyncio.Queue[tuple[str, Any]]] = set()


async def events(request: Request) -> StreamingResponse:
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    clients.add(queue)

    async def stream() -> Any:
        try:
            while True:
                event, data = await queue.get()
                yield f"event: {event}\ndata: {json.dumps(data)}\n\n"
        finally:
            clients.discard(queue)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
    clients.add(queue)  # type: ignore[arg-type]

    async def watch() -> None:  # the peer leaving wakes the send loop with a None
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            queue.put_nowait(None)

    watcher = asyncio.ensure_future(watch())
    try:
        while True:
            item = await queue.get()
            if item is None:
                break
            await websocket.send_text(json.dumps(item[1]))
    finally:
        clients.discard(queue)  # type: ignore[arg-type]
        watcher.cancel()


async def publish(request: Request) -> JSONResponse:
    n = int(request.query_params.get("n", 200))
    size = int(request.query_params.get("size", 200))
    for i in range(n):
        data = event_data(i, size)
        for queue in clients:
            queue.put_nowait(("tick", data))
    return JSONResponse({"published": n})


async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"subscribers": len(clients)})


app = Starlette(
    routes=[
        Route("/events", events),
        WebSocketRoute("/ws", ws),
        Route("/publish", publish, methods=["POST"]),
        Route("/stats", stats),
    ]
)
