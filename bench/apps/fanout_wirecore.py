"""wirecore fan-out: SSE and WebSocket subscribers of one :class:`wirecore.fanout.Hub` topic.

``POST /publish?n=200&size=200`` publishes ``n`` events of about ``size`` bytes in a loop;
``GET /stats`` reports how many subscribers are connected.
"""

from fanout_events import event_data

from wirecore import App, Request, WebSocket
from wirecore.fanout import Hub
from wirecore.sse import sse_response

app = App()
hub = Hub()
TOPIC = "news"


@app.get("/events")
async def events(request: Request) -> object:
    return sse_response(hub, TOPIC, heartbeat=15.0)


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await hub.stream_websocket(websocket, TOPIC)


@app.post("/publish")
async def publish(request: Request) -> dict[str, int]:
    n = request.query("n", 200, int)
    size = request.query("size", 200, int)
    for i in range(n):
        hub.publish(TOPIC, event_data(i, size), event="tick")
    return {"published": n}


@app.get("/stats")
async def stats(request: Request) -> dict[str, int]:
    return {"subscribers": hub.subscriber_count(TOPIC)}
