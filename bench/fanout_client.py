"""The fan-out load generator: one process holding many SSE or WebSocket subscribers.

The coordinator (:mod:`fanout_bench`) runs several of these processes and drives them over a
pipe with small commands. The clients are deliberately cheap so that they are not what is
measured: raw non-blocking sockets in one ``epoll`` loop that, after the response head, only
count occurrences of a marker (``"seq"``, present once in every event) in the bytes they receive.
That counts SSE events and WebSocket text frames alike, since neither framing (SSE lines, or the
2-4 byte headers of WebSocket frames, unmasked and uncompressed from server to client) can hold
the marker.

Two other engines serve as cross-checks: ``"asyncio"`` does the same counting in asyncio
protocols, and ``"websockets"`` uses the ``websockets`` library for WebSocket subscribers.

Commands (tuples) and replies (dicts):

- ``("connect", port, kind, count)``: open ``count`` subscribers (``kind`` "sse" or "ws").
- ``("arm", expected)``: reset counters; each subscriber is done after ``expected`` events.
- ``("wait", timeout)``: wait until every subscriber is done, or ``timeout`` seconds.
- ``("close",)``: close every subscriber.
- ``("exit",)``: end the process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import select
import socket
import time
from typing import Any

from common import HOST, raise_nofile_limit

MARKER = b'"seq"'
_TAIL = len(MARKER) - 1
CONNECT_CONCURRENCY = 32


class _State:
    """Counters shared by one process's subscribers."""

    def __init__(self) -> None:
        self.expected = 0
        self.remaining = 0
        self.last_done: float | None = None
        self.all_done = asyncio.Event()
        self.cpu_at_arm = 0.0
        self.cpu_at_done: float | None = None

    def arm(self, expected: int, subscribers: int) -> None:
        self.expected = expected
        self.remaining = subscribers
        self.last_done = None
        self.all_done = asyncio.Event()
        self.cpu_at_arm = time.process_time()
        self.cpu_at_done = None
        if subscribers == 0:
            self.all_done.set()

    def one_done(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.last_done = time.monotonic()
            self.cpu_at_done = time.process_time()
            self.all_done.set()


class RawSubscriber(asyncio.Protocol):
    """An SSE or WebSocket subscriber on a raw socket that counts events."""

    def __init__(self, state: _State, request: bytes, expect_status: bytes) -> None:
        self.state = state
        self.request = request
        self.expect_status = expect_status
        self.transport: asyncio.Transport | None = None
        self.head: bytes | None = b""
        self.status_ok = False
        self.count = 0
        self.done = False
        self.tail = b""
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.head is not None:
            head = self.head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self.head = head
                return
            self.head = None
            self.status_ok = head[9:12] == self.expect_status
            data = head[end + 4 :]
            if not data:
                return
        n = data.count(MARKER)
        tail = self.tail
        if tail:
            n += (tail + data[:_TAIL]).count(MARKER)
        self.tail = data[-_TAIL:]
        if n:
            self.count += n
            if not self.done and self.count >= self.state.expected > 0:
                self.done = True
                self.state.one_done()

    def reset(self) -> None:
        self.count = 0
        self.done = False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _sse_request(port: int) -> bytes:
    return (
        f"GET /events HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\n"
    ).encode()


def _ws_request(port: int) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /ws HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class LibSubscriber:
    """A WebSocket subscriber built on the ``websockets`` library (cross-check client)."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.count = 0
        self.done = False
        self.status_ok = False
        self.task: asyncio.Task[None] | None = None
        self.ws: Any = None

    async def start(self, port: int) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"ws://{HOST}:{port}/ws", compression=None, ping_interval=None, max_queue=None, open_timeout=30
        )
        self.status_ok = True
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for message in self.ws:
                if "seq" in message:
                    self.count += 1
                    if not self.done and self.count >= self.state.expected > 0:
                        self.done = True
                        self.state.one_done()

    def reset(self) -> None:
        self.count = 0
        self.done = False

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            self.ws.transport.close()


class ClientProcess:
    def __init__(self, conn: Any, ws_client: str) -> None:
        self.conn = conn
        self.ws_client = ws_client
        self.state = _State()
        self.subs: list[Any] = []

    async def connect(self, port: int, kind: str, count: int) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures: list[str] = []

        async def one() -> None:
            async with gate:
                try:
                    if kind == "ws" and self.ws_client == "websockets":
                        sub = LibSubscriber(self.state)
                        await sub.start(port)
                    else:
                        request = _sse_request(port) if kind == "sse" else _ws_request(port)
                        status = b"200" if kind == "sse" else b"101"
                        _, sub = await asyncio.wait_for(
                            loop.create_connection(
                                lambda: RawSubscriber(self.state, request, status), HOST, port
                            ),
                            30,
                        )
                    self.subs.append(sub)
                except (TimeoutError, OSError) as exc:
                    failures.append(repr(exc))

        t0 = time.monotonic()
        await asyncio.gather(*(one() for _ in range(count)))
        return {
            "connected": len(self.subs),
            "failed": len(failures),
            "errors": failures[:3],
            "seconds": time.monotonic() - t0,
        }

    def arm(self, expected: int) -> dict[str, Any]:
        for sub in self.subs:
            sub.reset()
        self.state.arm(expected, len(self.subs))
        return {"armed": len(self.subs)}

    async def wait(self, timeout: float) -> dict[str, Any]:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.state.all_done.wait(), timeout)
        st = self.state
        cpu_end = st.cpu_at_done if st.cpu_at_done is not None else time.process_time()
        counts = [s.count for s in self.subs]
        return {
            "subscribers": len(self.subs),
            "done": sum(1 for s in self.subs if s.done),
            "bad_status": sum(1 for s in self.subs if not s.status_ok and s.count == 0),
            "last_done": st.last_done,
            "min_count": min(counts) if counts else 0,
            "max_count": max(counts) if counts else 0,
            "cpu_s": cpu_end - st.cpu_at_arm,
        }

    async def close(self) -> dict[str, Any]:
        subs, self.subs = self.subs, []
        for sub in subs:
            sub.close()
        waits = [s.closed for s in subs if isinstance(s, RawSubscriber)]
        if waits:
            await asyncio.wait(waits, timeout=5)
        await asyncio.sleep(0)
        return {"closed": len(subs)}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, self.conn.recv)
            op = cmd[0]
            if op == "connect":
                reply = await self.connect(*cmd[1:])
            elif op == "arm":
                reply = self.arm(cmd[1])
            elif op == "wait":
                reply = await self.wait(cmd[1])
            elif op == "close":
                reply = await self.close()
            elif op == "exit":
                await self.close()
                self.conn.send({"bye": True})
                return
            else:
                reply = {"error": f"unknown command {op!r}"}
            self.conn.send(reply)


class EpollClientProcess:
    """The same commands served by one ``epoll`` loop over non-blocking sockets.

    Cheaper per read than asyncio (no callbacks, handles or futures between the kernel and the
    counting), which matters when every event arrives in its own read, as WebSocket frames do.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.ep = select.epoll()
        self.pipe_fd = conn.fileno()
        self.ep.register(self.pipe_fd, select.EPOLLIN)
        # fd -> [socket, head bytes or None, count, done, tail, status_ok]
        self.subs: dict[int, list[Any]] = {}
        self.expected = 0
        self.remaining = 0
        self.last_done: float | None = None
        self.cpu_at_arm = 0.0
        self.cpu_at_done: float | None = None
        self.waiting: float | None = None  # deadline of a pending "wait"
        self.reads = 0

    def connect(self, port: int, kind: str, count: int) -> dict[str, Any]:
        failures: list[str] = []
        t0 = time.monotonic()
        status = b"200" if kind == "sse" else b"101"
        for _ in range(count):
            try:
                sock = socket.create_connection((HOST, port), timeout=30)
                sock.sendall(_sse_request(port) if kind == "sse" else _ws_request(port))
            except OSError as exc:
                failures.append(repr(exc))
                continue
            sock.setblocking(False)
            fd = sock.fileno()
            self.subs[fd] = [sock, b"", 0, False, b"", status]
            self.ep.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
        return {
            "connected": len(self.subs),
            "failed": len(failures),
            "errors": failures[:3],
            "seconds": time.monotonic() - t0,
        }

    def arm(self, expected: int) -> dict[str, Any]:
        for sub in self.subs.values():
            sub[2] = 0
            sub[3] = False
        self.expected = expected
        self.remaining = len(self.subs)
        self.last_done = None
        self.cpu_at_arm = time.process_time()
        self.cpu_at_done = None
        self.reads = 0
        return {"armed": len(self.subs)}

    def wait_reply(self) -> dict[str, Any]:
        cpu_end = self.cpu_at_done if self.cpu_at_done is not None else time.process_time()
        counts = [s[2] for s in self.subs.values()]
        return {
            "subscribers": len(self.subs),
            "done": sum(1 for s in self.subs.values() if s[3]),
            "bad_status": sum(1 for s in self.subs.values() if s[5] != b"ok" and s[2] == 0),
            "last_done": self.last_done,
            "min_count": min(counts) if counts else 0,
            "max_count": max(counts) if counts else 0,
            "cpu_s": cpu_end - self.cpu_at_arm,
            "reads": self.reads,
        }

    def close(self) -> dict[str, Any]:
        n = len(self.subs)
        for fd, sub in list(self.subs.items()):
            with contextlib.suppress(OSError):
                self.ep.unregister(fd)
            sub[0].close()
        self.subs.clear()
        return {"closed": n}

    def command(self) -> bool:
        cmd = self.conn.recv()
        op = cmd[0]
        if op == "connect":
            self.conn.send(self.connect(*cmd[1:]))
        elif op == "arm":
            self.conn.send(self.arm(cmd[1]))
        elif op == "wait":
            if self.remaining == 0:
                self.conn.send(self.wait_reply())
            else:
                self.waiting = time.monotonic() + cmd[1]
        elif op == "close":
            self.conn.send(self.close())
        elif op == "exit":
            self.close()
            self.conn.send({"bye": True})
            return False
        else:
            self.conn.send({"error": f"unknown command {op!r}"})
        return True

    def run(self) -> None:
        subs = self.subs
        pipe_fd = self.pipe_fd
        poll = self.ep.poll
        marker = MARKER
        tail_len = _TAIL
        while True:
            timeout = 0.5
            if self.waiting is not None:
                timeout = max(0.0, min(timeout, self.waiting - time.monotonic()))
            ready = poll(timeout)
            self.reads += len(ready)
            for fd, _ev in ready:
                if fd == pipe_fd:
                    if not self.command():
                        return
                    continue
                sub = subs.get(fd)
                if sub is None:
                    continue
                try:
                    data = sub[0].recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by the server
                    self.ep.unregister(fd)
                    continue
                head = sub[1]
                if head is not None:
                    head += data
                    end = head.find(b"\r\n\r\n")
                    if end < 0:
                        sub[1] = head
                        continue
                    sub[1] = None
                    sub[5] = b"ok" if head[9:12] == sub[5] else b"bad"
                    data = head[end + 4 :]
                    if not data:
                        continue
                n = data.count(marker)
                tail = sub[4]
                if tail:
                    n += (tail + data[:tail_len]).count(marker)
                sub[4] = data[-tail_len:]
                if n:
                    count = sub[2] = sub[2] + n
                    if not sub[3] and count >= self.expected > 0:
                        sub[3] = True
                        self.remaining -= 1
                        if self.remaining == 0:
                            self.last_done = time.monotonic()
                            self.cpu_at_done = time.process_time()
            if self.waiting is not None and (self.remaining == 0 or time.monotonic() >= self.waiting):
                self.waiting = None
                self.conn.send(self.wait_reply())


def main(conn: Any, engine: str = "epoll") -> None:
    """Entry point of a client process (``multiprocessing`` target).

    ``engine``: "epoll" (default), "asyncio" (the same raw counting on asyncio protocols) or
    "websockets" (asyncio for SSE, the ``websockets`` library for WebSocket).
    """
    raise_nofile_limit()
    if engine == "epoll":
        EpollClientProcess(conn).run()
    else:
        asyncio.run(ClientProcess(conn, "websockets" if engine == "websockets" else "raw").run())
