"""The smallest webshoes program: one ``add`` handler, called over HTTP and over WebSocket.

Run it with ``python3 demo/basic/basic.py [--port N]``; it starts a server, makes four calls, prints
what came back and stops.  Only the standard library is used on the client side (``urllib`` and the
tiny WebSocket client below), so the demo runs wherever webshoes itself is installed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import urllib.parse
import urllib.request
from typing import Any

import webshoes

DEFAULT_PORT = 15801


def cmdAdd(ctx: Any, q: Any) -> dict[str, Any]:
    return {"result": int(q.a) + int(q.b)}


def make_app(port: int = DEFAULT_PORT, addr: str = "127.0.0.1") -> webshoes.WebShoesApp:
    """The demo's server, configured but not started."""
    app = webshoes.WebShoesApp(addr, port, {"verbose": False})
    app.register("cmd", "cmd", "q", "evt", "r", {"add": cmdAdd})
    return app


class MiniWebSocket:
    """Just enough of RFC 6455 for a demo: handshake, masked text frames out, text frames in."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, host: str, port: int, path: str = "/", timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv_some()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in lines[0] + " ":
            raise ConnectionError(f"WebSocket handshake refused: {lines[0]}")
        expected = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        headers = {
            k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
        }
        if headers.get("sec-websocket-accept") != expected:
            raise ConnectionError("WebSocket handshake: bad Sec-WebSocket-Accept")

    def _recv_some(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        return chunk

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self._recv_some()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def recv(self) -> str:
        """The next text message (pings are answered, fragments joined)."""
        parts: list[bytes] = []
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._read(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._read(8))
            mask = self._read(4) if b1 & 0x80 else b""
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("WebSocket closed by the server")
            if opcode == 0x9:
                self._send_frame(0xA, payload)
                continue
            if opcode in (0x1, 0x0):
                parts.append(payload)
                if b0 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()


def show(reply: dict[str, Any]) -> str:
    """A reply as a Python dict literal, with the timestamp shown as ``...``."""
    items = ", ".join(f"{k!r}: {'...' if k == 't' else repr(v)}" for k, v in reply.items())
    return "{" + items + "}"


def run_demo(port: int, host: str = "127.0.0.1") -> None:
    base = f"http://{host}:{port}"
    print("--- HTTP ---")
    with urllib.request.urlopen(f"{base}/cmd/add?a=2&b=3", timeout=5) as resp:
        print(f"GET /cmd/add?a=2&b=3 → {json.dumps(json.loads(resp.read()))}")
    form = urllib.parse.urlencode({"a": 10, "b": 20}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{base}/cmd/add", data=form), timeout=5) as resp:
        print(f"POST /cmd/add {{a:10, b:20}} → {json.dumps(json.loads(resp.read()))}")

    print("--- WebSocket ---")
    wsc = MiniWebSocket(host, port)
    try:
        wsc.send(json.dumps({"cmd": "cmd/add", "q": {"a": 2, "b": 3}}))
        print(f"cmd/add {{a:2, b:3}} → {show(json.loads(wsc.recv()))}")
        wsc.send(json.dumps({"cmd": "cmd/add", "q": {"a": 4, "b": 5}, "tid": "req-001"}))
        print(f"cmd/add with tid → {show(json.loads(wsc.recv()))}")
    finally:
        wsc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})"
    )
    args = parser.parse_args(argv)
    app = make_app(port=args.port)
    app.start()
    try:
        run_demo(app.port)
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
