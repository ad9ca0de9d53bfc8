"""wesktop fan-out: SSE subscribers of one ``wesktop.Broadcaster``, through the documented API.

``POST /publish?n=200&size=200`` broadcasts ``n`` "tick" events of about ``size`` bytes in a loop;
``GET /stats`` reports how many clients are connected. SSE only (the Broadcaster has no WebSocket
delivery). :mod:`fanout_wesktop_orig` serves the same code with the original wesktop 0.2.1.
"""

from fanout_events import event_data

import wesktop

router = wesktop.Router()
sse = wesktop.Broadcaster()
sse.register_event("tick")
router.add_route("GET", "/events", wesktop.sse_route(sse))


@router.post("/publish")
async def publish(req: wesktop.Request) -> dict[str, int]:
    n = req.query("n", 200, int)
    size = req.query("size", 200, int)
    for i in range(n):
        sse.broadcast("tick", event_data(i, size))
    return {"published": n}


@router.get("/stats")
async def stats(req: wesktop.Request) -> dict[str, int]:
    return {"subscribers": sse.client_count}


app = wesktop.create_app(router)
