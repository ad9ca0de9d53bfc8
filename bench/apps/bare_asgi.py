"""The baseline: a hand-written ASGI 3 callable, no framework.

It routes with a dict for static paths and a dict keyed by the leading segments for the
``/api/<name>/{id}`` shapes (what one writes by hand), encodes with msgspec and answers in two
``send`` calls. Anything a framework adds on top of this is overhead.
"""

from typing import Any

import msgspec
from routes import OTHER_ROUTES, health_body, other_body, user_body

_encode = msgspec.json.encode
_NOT_FOUND = b'{"detail":"Not Found"}'


def _other(i: int) -> Any:
    return lambda item_id: other_body(i, int(item_id))


STATIC: dict[str, Any] = {}
PARAM: dict[str, Any] = {}  # "/api/<name>/" -> handler(id)
for _i in range(OTHER_ROUTES):
    PARAM[f"/api/r{_i}/"] = _other(_i)
STATIC["/api/health"] = health_body
PARAM["/api/users/"] = lambda user_id: user_body(int(user_id))


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
        return
    path: str = scope["path"]
    status = 200
    body = b""
    handler = STATIC.get(path)
    if handler is not None:
        body = _encode(handler())
    else:
        cut = path.rfind("/") + 1
        handler = PARAM.get(path[:cut])
        if handler is not None and cut < len(path):
            try:
                body = _encode(handler(path[cut:]))
            except ValueError:
                handler = None
        if handler is None:
            status, body = 404, _NOT_FOUND
    if scope["method"] != "GET" and status == 200:
        status, body = 405, b'{"detail":"Method Not Allowed"}'
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
