"""The limit: a hand-written RSGI app for granian, no framework.

Same routing and encoding as :mod:`bare_asgi`, but one synchronous ``response_bytes`` call
instead of two awaited ASGI messages. No Python web framework on granian can beat this.
"""

from typing import Any

import msgspec
from bare_asgi import PARAM, STATIC

_encode = msgspec.json.encode
_HEADERS = [("content-type", "application/json")]
_NOT_FOUND = b'{"detail":"Not Found"}'


async def app(scope: Any, proto: Any) -> None:
    if scope.proto != "http":
        return
    path: str = scope.path
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
    if scope.method != "GET" and status == 200:
        status, body = 405, b'{"detail":"Method Not Allowed"}'
    proto.response_bytes(status, _HEADERS, body)
