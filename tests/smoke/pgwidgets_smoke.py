"""Installed alone from its wheel (with wirecore and pgwidgets-js), pgwidgets serves.

Starts an Application on free ports, fetches the connector page and a pgwidgets-js asset,
then opens the WebSocket with a stdlib-only client, completes the handshake (init → result →
session-info) and sees the on_connect handler's first widget arrive.
"""

import asyncio
import base64
import json
import os
import socket
import struct
import urllib.request
from typing import Any

import pgwidgets
from pgwidgets.async_ import Application

assert "site-packages" in pgwidgets.__file__, pgwidgets.__file__  # the wheel, not the source tree


def ws_connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def ws_recv(sock: socket.socket) -> Any:
    b1, b2 = recv_exact(sock, 2)
    assert b1 & 0x0F == 1, f"expected a text frame, got opcode {b1 & 0x0F}"
    n = b2 & 0x7F
    if n == 126:
        n = struct.unpack(">H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack(">Q", recv_exact(sock, 8))[0]
    return json.loads(recv_exact(sock, n))


def ws_send(sock: socket.socket, obj: object) -> None:
    payload = json.dumps(obj).encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def handshake(port: int) -> list[Any]:
    sock = ws_connect(port)
    try:
        assert ws_recv(sock) == {"type": "init", "id": 0}
        ws_send(sock, {"type": "result", "id": 0})
        received = [ws_recv(sock), ws_recv(sock)]
    finally:
        sock.close()
    return received


async def main() -> None:
    # an error left in a background task (the browser leaving mid-build) is a failure here
    errors: list[str] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx["message"]))
    app = Application(ws_port=0, http_port=0)

    @app.on_connect
    async def setup(session: Any) -> None:
        await session.get_widgets().Label("smoke")

    await app.start()
    try:
        loop = asyncio.get_running_loop()
        base = (app.url or "").rstrip("/")

        def fetch(path: str) -> bytes:
            with urllib.request.urlopen(f"{base}{path}", timeout=5) as r:
                assert r.status == 200, (path, r.status)
                data: bytes = r.read()
                return data

        page = await loop.run_in_executor(None, fetch, "/")
        assert b"RemoteInterface" in page and str(app.ws_port).encode() in page
        assert b"RemoteInterface" in await loop.run_in_executor(None, fetch, "/modules/RemoteInterface.js")
        info, create = await loop.run_in_executor(None, handshake, app.ws_port)
        assert info["type"] == "session-info" and len(info["token"]) >= 40, info
        assert create["type"] == "create" and create["class"] == "Label", create
    finally:
        await app.close()
    assert not errors, errors
    print(f"pgwidgets {pgwidgets.__version__}: connector page, assets and WebSocket handshake OK")


asyncio.run(main())
