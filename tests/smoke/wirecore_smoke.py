"""Installed alone from its wheel, wirecore imports, serves, and answers over HTTP and WebSocket."""

import json
import socket
import urllib.request

import wirecore
from wirecore import App, Server

app = App()


@app.get("/health")
async def health(request):
    return {"ok": True, "version": wirecore.__version__}


@app.websocket("/ws")
async def ws(websocket):
    await websocket.accept()
    await websocket.send(await websocket.receive())


with Server(app, port=0) as srv:
    body = json.loads(urllib.request.urlopen(srv.url + "/health", timeout=5).read())
    assert body["ok"] is True, body
    # a WebSocket upgrade, by hand, so the smoke check needs nothing but wirecore
    with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert s.recv(1024).startswith(b"HTTP/1.1 101"), "no upgrade"
print(f"wirecore {wirecore.__version__} installed alone: serves HTTP and WebSocket")
