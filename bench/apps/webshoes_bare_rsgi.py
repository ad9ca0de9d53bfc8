"""The ceiling for the webshoes benchmark: a bare RSGI app on granian, no framework at all.

    python bench/apps/webshoes_bare_rsgi.py --port 8000                   # handlers on the loop
    python bench/apps/webshoes_bare_rsgi.py --port 8000 --handlers thread  # via wirecore's pool

It speaks just the part of the webshoes protocol that ``bench/webshoes_bench.py`` uses, with
the replies shaped as this repository's webshoes shapes them, and nothing else: no routing
beyond a dict, no validation, no error handling beyond what the benchmark needs. It is a
measuring stick (what granian itself allows), not a usable server.

- HTTP ``GET /cmd/add?a=3&b=4`` (also ``/cmd/addasync``): ``{"result": 7}``; ``/cmd/fire`` and
  ``/cmd/fired``: as in ``bench/apps/webshoes_server.py`` (a thread that triggers ``count``
  events, and when it did so);
- WebSocket ``{"cmd": "cmd/add", "q": {...}, "tid": N}``: ``{"r": {"result": 7}, "tid": N, "t": ...}``;
  ``{"evt": name, "tid": N}`` subscribes: ``{"r": {"uid": ..., "status": "Event added"}, "tid": N,
  "t": ...}``, then each trigger arrives as ``{"evt": name, "uid": ..., "ver": V, "t": ..., "r": data}``
  (unlike webshoes, no event's latest value is sent on subscription).

A trigger from the fire thread is encoded there, once, and handed to the loop (one
``call_soon_threadsafe`` for a burst of triggers, as wirecore's hub does: one per trigger made
the fan-out slower than webshoes'); the loop gives it to each subscriber's sender task, or
queues it when that task is busy sending (at most :data:`QUEUE` pushes, the oldest dropped, as
webshoes does). Each sender sends one frame at a time; a subscriber that stops reading only
stalls its own sender.

The handlers run on the event loop (``--handlers inline``, the default): nothing is cheaper.
``--handlers thread`` runs ``add`` with ``wirecore._threads.run_in_thread``, the thread hop
webshoes makes for every plain handler.

The server is granian's embedded server on this process's asyncio loop with the options wirecore
gives it (HTTP/1.1 only, a backlog of 4096), as webshoes runs it. Once the port accepts
connections it prints ``READY <port> bare-rsgi`` (``bare-rsgi-thread`` with ``--handlers
thread``); SIGINT or SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections import deque
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from granian.constants import HTTPModes, Interfaces
from granian.server.embed import Server

QUEUE = 256  # pushes kept per subscriber that is behind (webshoes' default ``event_queue``)
JSON = [("content-type", "application/json")]

_encode = msgspec.json.encode
_decode = msgspec.json.decode
_loop: asyncio.AbstractEventLoop | None = None
_thread_hop = False
_subscribers: dict[str, set[Subscriber]] = {}
_versions: dict[str, int] = {}
_fired: dict[str, Any] = {"first": None, "last": None, "count": 0, "running": False}
_lock = threading.Lock()


def add(q: dict[str, Any]) -> dict[str, Any]:
    return {"result": int(q["a"]) + int(q["b"])}


async def run_handler(q: dict[str, Any]) -> dict[str, Any]:
    if _thread_hop:
        from wirecore._threads import run_in_thread

        return await run_in_thread(asyncio.get_running_loop(), add, q)  # type: ignore[no-any-return]
    return add(q)


# events ------------------------------------------------------------------------------------------


class Subscriber:
    """One subscription: its pushes waiting to be sent, and the task that sends them."""

    def __init__(self, transport: Any, name: str, uid: str) -> None:
        self.transport = transport
        self.prefix = '{"evt":' + _encode(name).decode() + ',"uid":' + _encode(uid).decode() + ","
        self.queue: deque[str] = deque(maxlen=QUEUE)
        self.waiter: asyncio.Future[str] | None = None  # the sender, when it waits for a push
        self.task = asyncio.get_running_loop().create_task(self.send_all())

    def push(self, body: str) -> None:
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            waiter.set_result(body)
        else:
            self.queue.append(body)

    async def send_all(self) -> None:
        queue, send, prefix = self.queue, self.transport.send_str, self.prefix
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):  # the client went away
            while True:
                if queue:
                    body = queue.popleft()
                else:
                    self.waiter = loop.create_future()
                    body = await self.waiter
                await send(prefix + body)


_inbox: deque[tuple[str, str]] = deque()  # triggers on their way to the loop
_woken = False  # a drain is due on the loop


def drain() -> None:
    """On the loop: each trigger waiting (``body``: its JSON without the opening brace) to
    every subscriber of its event."""
    global _woken
    _woken = False
    while _inbox:
        name, body = _inbox.popleft()
        for sub in _subscribers.get(name, ()):
            sub.push(body)


def trigger(loop: asyncio.AbstractEventLoop, name: str, data: dict[str, Any]) -> None:
    """From any thread: encode once, hand to the loop (one wake-up for a burst of triggers)."""
    global _woken
    version = _versions[name] = _versions.get(name, 0) + 1  # one fire thread at a time
    _inbox.append((name, _encode({"ver": version, "t": time.time(), "r": data}).decode()[1:]))
    if not _woken:
        _woken = True
        loop.call_soon_threadsafe(drain)


def fire_thread(loop: asyncio.AbstractEventLoop, name: str, count: int, size: int, gap: float) -> None:
    pad = "x" * size
    first = time.monotonic()
    for i in range(count - 1):
        trigger(loop, name, {"n": i, "data": pad})
        if gap:
            time.sleep(gap)
    trigger(loop, name, {"n": count - 1, "data": pad, "last": True})
    last = time.monotonic()
    with _lock:
        _fired.update(first=first, last=last, count=count, running=False)


def fire(q: dict[str, str]) -> dict[str, Any]:
    count, size = int(q["count"]), int(q["size"])
    gap = int(q.get("gap_us") or 0) / 1e6
    with _lock:
        if _fired["running"]:
            return {"error": "already firing"}
        _fired.update(first=None, last=None, count=0, running=True)
    assert _loop is not None
    args = (_loop, q.get("name") or "tick", count, size, gap)
    threading.Thread(target=fire_thread, args=args, daemon=True).start()
    return {"started": count}


def fired(q: dict[str, str]) -> dict[str, Any]:
    with _lock:
        return dict(_fired)


# the app -----------------------------------------------------------------------------------------


async def http(scope: Any, proto: Any) -> None:
    path = scope.path
    q = dict(parse_qsl(scope.query_string))
    if path in ("/cmd/add", "/cmd/addasync"):
        result = await run_handler(q)
    elif path == "/cmd/fire":
        result = fire(q)
    elif path == "/cmd/fired":
        result = fired(q)
    else:
        proto.response_bytes(404, JSON, b'{"error":"Not found"}')
        return
    proto.response_bytes(200, JSON, _encode(result))


async def websocket(proto: Any) -> None:
    transport = await proto.accept()
    mine: list[tuple[str, Subscriber]] = []
    try:
        while True:
            message = await transport.receive()
            if message.kind == 0:  # close
                break
            msg = _decode(message.data)
            if "evt" in msg:
                name, uid = msg["evt"], msg.get("uid") or secrets.token_hex(16)
                r = {"uid": uid, "status": "Event added"}
                await transport.send_str(_encode({"r": r, "tid": msg.get("tid"), "t": time.time()}).decode())
                sub = Subscriber(transport, name, uid)
                _subscribers.setdefault(name, set()).add(sub)
                mine.append((name, sub))
            else:  # {"cmd": "cmd/add", ...}: the only command the benchmark sends
                r = await run_handler(msg["q"])
                await transport.send_str(_encode({"r": r, "tid": msg["tid"], "t": time.time()}).decode())
    except Exception:  # the client went away
        pass
    finally:
        for name, sub in mine:
            _subscribers[name].discard(sub)
            sub.task.cancel()
        proto.close()


async def app(scope: Any, proto: Any) -> None:
    if scope.proto == "http":
        await http(scope, proto)
    elif scope.proto == "ws":
        await websocket(proto)


# running -----------------------------------------------------------------------------------------


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def serve(host: str, port: int, ready_name: str) -> None:
    global _loop
    _loop = loop = asyncio.get_running_loop()
    server = Server(
        app,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        backlog=4096,
        log_enabled=False,
    )
    serving = loop.create_task(server.serve())
    while not accepts(host, port):
        if serving.done():
            print(f"FAILED: nothing listens on {host}:{port}", flush=True)
            return
        await asyncio.sleep(0.02)
    print(f"READY {port} {ready_name}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(serving, 2.0)  # open WebSockets may hold it: end anyway


def main() -> int:
    global _thread_hop
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--handlers", choices=["inline", "thread"], default="inline")
    args = p.parse_args()
    _thread_hop = args.handlers == "thread"
    asyncio.run(serve(args.host, args.port, "bare-rsgi-thread" if _thread_hop else "bare-rsgi"))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
