"""The webshoes load clients: WebSocket callers and event subscribers, many per process.

One Python process making WebSocket calls is slower than either server, so the benchmark
(:mod:`webshoes_bench`) runs several of these processes and drives them over a pipe with small
commands. Each is a minimal WebSocket client on raw non-blocking sockets in one ``epoll`` loop:
the RFC 6455 handshake, masked text frames out, the server's unmasked frames parsed in. No
asyncio and no library between the kernel and the counting, so that little of the machine goes
to the load generator (its CPU is measured and reported all the same).

Callers (closed loop): each connection sends ``{"cmd":"cmd/add","q":{"a":3,"b":4},"tid":N}``,
waits for its reply, checks it (``{"r": {"result": 7}, "tid": N, ...}``) and sends the next.

Subscribers count the pushes of one event after the handshake and the subscription's ack:
occurrences of ``"evt"`` (a key of every push, and of nothing else the server sends them), and
the moment the push marked ``"last"`` arrives.

Commands (tuples) and replies (dicts):

- ``("callers", port, count, command)``: open ``count`` caller connections calling ``command``
  (default ``"cmd/add"``);
- ``("check",)``: one call on every caller connection, its reply decoded and compared in full;
- ``("call", start, seconds)``: from ``start`` (``time.monotonic()``) call for ``seconds``;
  then wait for the calls in flight (not counted) so the connections are idle again;
- ``("subscribers", port, count, events)``: open ``count`` subscriber connections, each
  subscribed to the events named (the ack awaited);
- ``("arm",)``: reset the subscribers' counts;
- ``("wait", timeout)``: wait until every subscriber has the push marked last, or ``timeout``;
- ``("close",)``: close every connection; ``("exit",)``: end the process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import select
import socket
import time
from typing import Any

from common import HOST, raise_nofile_limit

EVT = b'"evt"'
LAST = b'"last"'
_TAIL = max(len(EVT), len(LAST)) - 1
PATH = "/ws"


# the WebSocket wire ------------------------------------------------------------------------------


def handshake(sock: socket.socket, port: int, timeout: float = 30.0) -> bytes:
    """The opening handshake on a connected blocking socket; the bytes read past the head."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    sock.settimeout(timeout)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed during the WebSocket handshake")
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    if head[9:12] != b"101":
        raise ConnectionError(f"no WebSocket upgrade: {head[:80]!r}")
    return rest


def text_frame(payload: bytes) -> bytes:
    """A masked (client to server) text frame."""
    n = len(payload)
    mask = random.getrandbits(32)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = bytes((0x81, 0xFE)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 0xFF)) + n.to_bytes(8, "big")
    key = mask.to_bytes(4, "big")
    stream = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return head + key + (int.from_bytes(payload, "big") ^ stream).to_bytes(n, "big")


def read_frame(sock: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """One whole frame from a blocking socket (``buf`` holds what was read past it)."""
    while True:
        frame = parse_frame(buf)
        if frame is not None:
            return frame
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        buf += chunk


def parse_frame(buf: bytearray) -> tuple[int, bytes] | None:
    """Take one complete (unmasked, server to client) frame off the front of ``buf``, if there is one."""
    if len(buf) < 2:
        return None
    n, at = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, at = int.from_bytes(buf[2:4], "big"), 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, at = int.from_bytes(buf[2:10], "big"), 10
    if len(buf) < at + n:
        return None
    frame = (buf[0] & 0x0F, bytes(buf[at : at + n]))
    del buf[: at + n]
    return frame


def connect(port: int, timeout: float = 30.0) -> tuple[socket.socket, bytearray]:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock, bytearray(handshake(sock, port, timeout))


def subscribe(sock: socket.socket, buf: bytearray, event: str, tid: int) -> dict[str, Any]:
    """Subscribe to ``event`` on a blocking connection and return the decoded ack."""
    sock.sendall(text_frame(json.dumps({"evt": event, "tid": tid}).encode()))
    while True:
        opcode, payload = read_frame(sock, buf)
        if opcode != 1:
            continue
        msg = json.loads(payload)
        if msg.get("tid") == tid:
            if "error" in msg:
                raise RuntimeError(f"subscription to {event!r} refused: {msg}")
            return dict(msg)


def call_frame(tid: int, command: bytes = b"cmd/add") -> bytes:
    return text_frame(b'{"cmd":"%s","q":{"a":3,"b":4},"tid":%d}' % (command, tid))


def reply_ok(payload: bytes, tid: int) -> bool:
    """The reply to ``call_frame(tid)``: ``{"r": {"result": 7}, "tid": tid, "t": ...}``, spaced
    or not (the original encodes with ``json.dumps``, ours compactly)."""
    return payload.replace(b" ", b"").startswith(b'{"r":{"result":7},"tid":%d,' % tid)


# the process -------------------------------------------------------------------------------------


class Caller:
    __slots__ = ("buf", "command", "fd", "sent", "sock", "tid")

    def __init__(self, sock: socket.socket, buf: bytearray, first_tid: int, command: bytes) -> None:
        self.sock = sock
        self.command = command
        self.fd = sock.fileno()
        self.buf = buf
        self.tid = first_tid
        self.sent = 0.0


class Subscriber:
    __slots__ = ("count", "fd", "last_at", "sock", "tail")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.count = 0
        self.tail = b""
        self.last_at: float | None = None


class ClientProcess:
    def __init__(self, conn: Any, index: int) -> None:
        self.conn = conn
        self.index = index
        self.ep = select.epoll()
        self.callers: list[Caller] = []
        self.subs: dict[int, Subscriber] = {}
        self.waiting = 0
        self.cpu_at_arm = 0.0
        self.cpu_at_done: float | None = None
        self.reads = 0

    # callers

    def open_callers(self, port: int, count: int, command: str = "cmd/add") -> dict[str, Any]:
        t0 = time.monotonic()
        for i in range(count):
            sock, buf = connect(port)
            sock.setblocking(False)
            self.callers.append(Caller(sock, buf, (self.index << 40) + (i << 24), command.encode()))
        return {"callers": len(self.callers), "seconds": time.monotonic() - t0}

    def check(self) -> dict[str, Any]:
        bad = []
        for c in self.callers:
            c.sock.setblocking(True)
            c.tid += 1
            c.sock.sendall(call_frame(c.tid, c.command))
            opcode, payload = read_frame(c.sock, c.buf)
            msg = json.loads(payload)
            if opcode != 1 or msg.get("r") != {"result": 7} or msg.get("tid") != c.tid or "t" not in msg:
                bad.append(payload[:200].decode("utf-8", "replace"))
            c.sock.setblocking(False)
        return {"checked": len(self.callers), "bad": bad}

    def call(self, start: float, seconds: float) -> dict[str, Any]:
        """The closed loop: every connection always has one call in flight."""
        ep = self.ep
        by_fd = {c.fd: c for c in self.callers}
        for fd in by_fd:
            ep.register(fd, select.EPOLLIN)
        now = time.monotonic()
        if start > now:
            time.sleep(start - now)
        end = start + seconds
        cpu0 = time.process_time()
        t0 = time.monotonic()
        for c in self.callers:
            c.tid += 1
            c.sent = t0
            c.sock.send(call_frame(c.tid, c.command))
        done = errors = 0
        latency = 0.0
        in_flight = len(self.callers)
        sending = True
        poll = ep.poll
        monotonic = time.monotonic
        deadline = end + 10.0
        while in_flight:
            now = monotonic()
            if sending and now >= end:
                sending = False
                cpu1 = time.process_time()
                wall = now - t0
            if now > deadline:
                break
            for fd, _ev in poll(0.05):
                c = by_fd[fd]
                try:
                    data = c.sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                if not data:
                    raise ConnectionError("a caller connection was closed by the server")
                buf = c.buf
                buf += data
                while True:
                    frame = parse_frame(buf)
                    if frame is None:
                        break
                    if frame[0] != 1:
                        continue
                    in_flight -= 1
                    now = monotonic()
                    if sending:
                        done += 1
                        latency += now - c.sent
                        if not reply_ok(frame[1], c.tid):
                            errors += 1
                        c.tid += 1
                        c.sent = now
                        c.sock.send(call_frame(c.tid, c.command))
                        in_flight += 1
        for fd in by_fd:
            ep.unregister(fd)
        if sending:  # the deadline passed with calls in flight
            cpu1, wall = time.process_time(), monotonic() - t0
        return {
            "calls": done,
            "errors": errors,
            "lost": in_flight,
            "wall_s": wall,
            "cpu_s": cpu1 - cpu0,
            "mean_latency_ms": 1000 * latency / done if done else None,
        }

    # subscribers

    def open_subscribers(self, port: int, count: int, events: list[str]) -> dict[str, Any]:
        t0 = time.monotonic()
        for i in range(count):
            sock, buf = connect(port)
            for j, event in enumerate(events):
                subscribe(sock, buf, event, 1 + i * len(events) + j)
            sock.setblocking(False)
            sub = Subscriber(sock)
            self.subs[sub.fd] = sub
            self.ep.register(sub.fd, select.EPOLLIN)
        return {"subscribers": len(self.subs), "seconds": time.monotonic() - t0}

    def arm(self) -> dict[str, Any]:
        for sub in self.subs.values():
            sub.count = 0
            sub.tail = b""
            sub.last_at = None
        self.waiting = len(self.subs)
        self.cpu_at_arm = time.process_time()
        self.cpu_at_done = None
        self.reads = 0
        return {"armed": len(self.subs)}

    def wait(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        subs = self.subs
        poll = self.ep.poll
        monotonic = time.monotonic
        evt, last, tail_len = EVT, LAST, _TAIL
        while self.waiting and (left := deadline - monotonic()) > 0:
            ready = poll(min(left, 0.5))
            self.reads += len(ready)
            for fd, _ev in ready:
                sub = subs[fd]
                try:
                    data = sub.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                if not data:
                    self.ep.unregister(fd)
                    continue
                joined = sub.tail + data[:tail_len] if sub.tail else b""
                sub.count += data.count(evt) + joined.count(evt)
                if sub.last_at is None and (last in data or last in joined):
                    sub.last_at = monotonic()
                    self.waiting -= 1
                    if not self.waiting:
                        self.cpu_at_done = time.process_time()
                sub.tail = data[-tail_len:]
        cpu_end = self.cpu_at_done if self.cpu_at_done is not None else time.process_time()
        return {
            "subscribers": len(subs),
            "done": sum(1 for s in subs.values() if s.last_at is not None),
            "last_at": [s.last_at for s in subs.values()],
            "counts": [s.count for s in subs.values()],
            "cpu_s": cpu_end - self.cpu_at_arm,
            "reads": self.reads,
        }

    # both

    def close(self) -> dict[str, Any]:
        n = len(self.callers) + len(self.subs)
        for sub in self.subs.values():
            with contextlib.suppress(OSError):
                self.ep.unregister(sub.fd)
            sub.sock.close()
        for c in self.callers:
            c.sock.close()
        self.subs.clear()
        self.callers.clear()
        return {"closed": n}

    def run(self) -> None:
        while True:
            cmd = self.conn.recv()
            op, args = cmd[0], cmd[1:]
            try:
                if op == "callers":
                    reply = self.open_callers(*args)
                elif op == "check":
                    reply = self.check()
                elif op == "call":
                    reply = self.call(*args)
                elif op == "subscribers":
                    reply = self.open_subscribers(*args)
                elif op == "arm":
                    reply = self.arm()
                elif op == "wait":
                    reply = self.wait(*args)
                elif op == "close":
                    reply = self.close()
                elif op == "exit":
                    self.close()
                    self.conn.send({"bye": True})
                    return
                else:
                    reply = {"error": f"unknown command {op!r}"}
            except Exception as exc:
                reply = {"error": f"{op}: {exc!r}"}
            self.conn.send(reply)


def main(conn: Any, index: int = 0) -> None:
    """Entry point of a client process (``multiprocessing`` target)."""
    raise_nofile_limit()
    ClientProcess(conn, index).run()


# the stalled subscriber --------------------------------------------------------------------------


class StalledSubscriber:
    """A subscriber that subscribes and then never reads again: a blocking socket with the
    smallest receive buffer the kernel allows, so that what the server sends it piles up on the
    server's side."""

    def __init__(self, port: int, events: list[str]) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # before connect: sets the window
        sock.settimeout(30)
        sock.connect((HOST, port))
        buf = bytearray(handshake(sock, port))
        for i, event in enumerate(events):
            subscribe(sock, buf, event, 1 + i)
        self.sock = sock
        self.rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def unread_bytes(self) -> int | None:
        """What waits in its receive buffer (Linux ``SIOCINQ``)."""
        try:
            import fcntl
            import termios

            return int.from_bytes(fcntl.ioctl(self.sock.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")
        except (ImportError, OSError):
            return None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # reset
        self.sock.close()
