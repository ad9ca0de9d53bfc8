"""The pywebio benchmark's load client: one process that plays many browsers over WebSocket.

The coordinator (:mod:`pywebio_bench`) runs one or more of these processes and drives them over a
pipe. Each session is a raw non-blocking socket in one ``epoll`` loop (no asyncio, no library):
the upgrade request is written by hand (with the ``Origin`` a browser on the page would send),
server frames are unmasked, and each text frame is only searched for ``"output"`` (an ``output``
command; ``"output_ctl"`` does not match) or ``"close_session"``. The first and the last output of
every session are decoded in full and checked (``line 0`` ... ``line N-1``), so a fast wrong answer
counts for nothing. Pings are answered; nothing else is sent to the server.

HTTP short polling (spec §1.10; tornado_http, flask, django): each session is one keep-alive
connection (reopened when the server closes it). Its first request is ``GET /?app=APP&ack=-1``
with header ``webio-session-id: NEW-<24 random chars>``, which creates the session; then, with the
id without ``NEW-``, ``GET /?app=APP&ack=<last batch id>`` again as soon as each response has
arrived (no ``pull_interval`` wait). Each response ``{"commands": [[cmd, ...], ...], "seq": N}`` is
decoded; batches with ids up to the last one seen are skipped, and its ``output`` commands counted
like the WebSocket frames. "Handshake" there is the first successful response. With ``hold``, a
session stops polling once it has ``expected`` outputs (the server keeps it: HTTP has no
disconnect).

Commands (tuples) and replies (dicts):

- ``("run", port, app, sessions, expected, gate, start_at, timeout, hold)``: at ``start_at``
  (``time.monotonic()``, the same clock in every process) open ``sessions`` sessions of ``?app=app``,
  at most ``gate`` in their handshake at once. Without ``hold``, reply when every session has had
  ``close_session`` (or its socket closed); with ``hold``, when every session has ``expected``
  outputs, keeping the sockets open. Or after ``timeout`` seconds. With ``transport`` (a tenth item) ``"http"``,
  the sessions use HTTP short polling (below) instead.
- ``("close",)``: close every socket still open.
- ``("exit",)``: end the process.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import random
import select
import socket
import string
import time
from typing import Any

from common import HOST, raise_nofile_limit

OUTPUT = b'"output"'
CLOSE = b'"close_session"'
_IN = select.EPOLLIN | select.EPOLLRDHUP


class Session:
    """One browser: its socket and what it received."""

    __slots__ = (
        "buf",
        "closed",
        "done",
        "error",
        "first",
        "first_payload",
        "frag",
        "handshake",
        "head",
        "last_payload",
        "other",
        "outputs",
        "sock",
        "started",
    )

    def __init__(self, sock: socket.socket, started: float) -> None:
        self.sock = sock
        self.started = started
        self.head: bytes | None = b""  # the HTTP response head until it is complete, then None
        self.buf = b""
        self.frag = b""
        self.handshake: float | None = None
        self.first: float | None = None
        self.done: float | None = None  # close_session received (or, held, all outputs received)
        self.closed = False
        self.outputs = 0
        self.other = 0
        self.first_payload = b""
        self.last_payload = b""
        self.error = ""


_ID_CHARS = string.ascii_letters + string.digits


class HttpSession(Session):
    """One browser on the HTTP transport: its session id, the last batch it executed."""

    __slots__ = ("ack", "keep", "sid")

    def __init__(self, sock: socket.socket | None, started: float) -> None:
        super().__init__(sock, started)  # type: ignore[arg-type]
        self.head = None
        self.sid = b""
        self.ack = -1
        self.keep = True


def _response(buf: bytes, eof: bool = False) -> tuple[int, dict[bytes, bytes], bytes, bytes, bool] | None:
    """A complete HTTP response at the start of ``buf``: status, headers, body, the rest, keep-alive."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buf[:end].split(b"\r\n")
    try:
        status = int(lines[0][9:12])
    except ValueError:
        return 0, {}, buf[:80], b"", False
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower()] = v.strip()
    conn = headers.get(b"connection", b"").lower()
    keep = conn != b"close" if lines[0].startswith(b"HTTP/1.1") else conn == b"keep-alive"
    start = end + 4
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        body, pos = b"", start
        while True:
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                return None
            size = int(buf[pos:nl].split(b";")[0], 16)
            if len(buf) < nl + 2 + size + 2:
                return None
            if size == 0:
                tail = buf.find(b"\r\n\r\n", nl)  # trailers (usually none) end with an empty line
                if tail < 0:
                    return None
                return status, headers, body, buf[tail + 4 :], keep
            body += buf[nl + 2 : nl + 2 + size]
            pos = nl + 2 + size + 2
    if b"content-length" in headers:
        n = int(headers[b"content-length"])
        if len(buf) < start + n:
            return None
        return status, headers, buf[start : start + n], buf[start + n :], keep
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", buf[start:], keep
    return (status, headers, buf[start:], b"", False) if eof else None  # body until the server closes


def _request(port: int, app: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET /?app={app}&session=NEW HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nOrigin: http://{HOST}:{port}\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def _pong(payload: bytes) -> bytes:
    """A masked pong frame (client frames must be masked; a zero mask leaves the payload as is)."""
    return bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


def check(s: Session, expected: int) -> str:
    """Why ``s`` did not receive what the app sends ("" when it did)."""
    if s.error:
        return s.error
    if s.outputs != expected:
        return f"{s.outputs} outputs, not {expected}"
    if expected == 0:
        return ""
    for payload, i in ((s.first_payload, 0), (s.last_payload, expected - 1)):
        try:
            cmd = payload if isinstance(payload, dict) else json.loads(payload)
            spec = cmd["spec"]
            ok = cmd["command"] == "output" and spec["type"] == "text" and spec["content"] == f"line {i}"
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return f"output {i} was {payload[:160]!r}"
    return ""


class Client:
    """The epoll loop and the commands of one client process."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.ep = select.epoll()  # the sockets only: commands are read between runs
        self.sessions: dict[int, Session] = {}
        self.connecting: dict[int, Session] = {}
        self.all: list[Session] = []

    # one run -----------------------------------------------------------------------------------

    def run(
        self,
        port: int,
        app: str,
        count: int,
        expected: int,
        gate: int,
        start_at: float,
        timeout: float,
        hold: bool,
        transport: str = "ws",
    ) -> dict[str, Any]:
        if transport == "http":
            return self.run_http(port, app, count, expected, gate, start_at, timeout, hold)
        self.close()
        self.all = []
        request = _request(port, app)
        delay = start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        deadline = t0 + timeout
        to_open = count
        in_handshake = 0
        remaining = count  # sessions not yet done (done, failed or closed)
        ep, sessions, poll = self.ep, self.sessions, self.ep.poll
        connecting = self.connecting

        def finish(s: Session, now: float) -> None:
            nonlocal remaining
            if s.done is None:
                s.done = now
                remaining -= 1

        def drop(s: Session, now: float, why: str = "") -> None:
            nonlocal in_handshake
            fd = s.sock.fileno()
            if s.handshake is None and not s.error:
                in_handshake -= 1
            if why and not s.error:
                s.error = why
            with contextlib.suppress(OSError, ValueError):
                ep.unregister(fd)
            sessions.pop(fd, None)
            connecting.pop(fd, None)
            s.sock.close()
            s.closed = True
            finish(s, now)

        while remaining > 0:
            now = time.monotonic()
            while to_open > 0 and in_handshake < gate:
                to_open -= 1
                in_handshake += 1
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                new = Session(sock, now)
                self.all.append(new)
                rc = sock.connect_ex((HOST, port))
                if rc not in (0, errno.EINPROGRESS):
                    drop(new, now, f"connect: {os.strerror(rc)}")
                    continue
                connecting[sock.fileno()] = new
                ep.register(sock.fileno(), select.EPOLLOUT)
            if now >= deadline:
                break
            for fd, _ev in poll(min(0.5, max(0.0, deadline - now))):
                now = time.monotonic()
                c = connecting.pop(fd, None)
                if c is not None:  # connected (or refused): send the upgrade request
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        drop(c, now, f"connect: {os.strerror(err)}")
                        continue
                    try:
                        c.sock.send(request)
                    except OSError as exc:
                        drop(c, now, f"send: {exc!r}")
                        continue
                    sessions[fd] = c
                    ep.modify(fd, _IN)
                    continue
                s = sessions.get(fd)
                if s is None:
                    continue
                try:
                    data = s.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    drop(s, now, "" if s.done is not None else "closed by the server before close_session")
                    continue
                if s.head is not None:
                    head = s.head + data
                    end = head.find(b"\r\n\r\n")
                    if end < 0:
                        s.head = head
                        continue
                    s.head = None
                    in_handshake -= 1
                    if head[9:12] != b"101":
                        s.handshake = now
                        drop(s, now, f"upgrade answered {head[:40]!r}")
                        continue
                    s.handshake = now
                    data = head[end + 4 :]
                    if not data:
                        continue
                buf = s.buf + data if s.buf else data
                pos, n = 0, len(buf)
                ended = False
                while n - pos >= 2:
                    b0 = buf[pos]
                    ln = buf[pos + 1] & 0x7F
                    hdr = 2
                    if ln == 126:
                        if n - pos < 4:
                            break
                        ln = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                        hdr = 4
                    elif ln == 127:
                        if n - pos < 10:
                            break
                        ln = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                        hdr = 10
                    end = pos + hdr + ln
                    if end > n:
                        break
                    payload = buf[pos + hdr : end]
                    pos = end
                    op = b0 & 0x0F
                    if op >= 8:  # control frames
                        if op == 9:
                            with contextlib.suppress(OSError):
                                s.sock.send(_pong(payload))
                        elif op == 8:
                            ended = True
                            break
                        continue
                    if not b0 & 0x80:  # a fragment: wait for the rest
                        s.frag += payload
                        continue
                    if s.frag:
                        payload, s.frag = s.frag + payload, b""
                    if OUTPUT in payload:
                        s.outputs += 1
                        if s.first is None:
                            s.first = now
                            s.first_payload = payload
                        s.last_payload = payload
                        if hold and s.outputs == expected:
                            finish(s, now)
                    elif CLOSE in payload:
                        ended = True
                        break
                    else:
                        s.other += 1
                s.buf = buf[pos:] if pos < n else b""
                if ended:
                    finish(s, now)
                    drop(s, now)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - t0
        return self._report(t0, wall, cpu, expected, hold, count - to_open)

    # HTTP short polling ------------------------------------------------------------------------

    def run_http(
        self,
        port: int,
        app: str,
        count: int,
        expected: int,
        gate: int,
        start_at: float,
        timeout: float,
        hold: bool,
    ) -> dict[str, Any]:
        self.close()
        self.all = []
        host = f"{HOST}:{port}".encode()
        delay = start_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t0 = time.monotonic()
        cpu0 = time.process_time()
        deadline = t0 + timeout
        to_open = count
        in_handshake = 0
        remaining = count
        ep, sessions, poll = self.ep, self.sessions, self.ep.poll
        connecting = self.connecting
        prefix = f"GET /?app={app}&ack=".encode()

        def request(s: HttpSession) -> bytes:
            return (
                prefix + str(s.ack).encode() + b" HTTP/1.1\r\nHost: " + host
                + b"\r\nAccept: application/json\r\nwebio-session-id: " + s.sid + b"\r\n\r\n"
            )  # fmt: skip

        def finish(s: HttpSession, now: float) -> None:
            nonlocal remaining
            if s.done is None:
                s.done = now
                remaining -= 1

        def unhook(s: HttpSession) -> None:
            if s.sock is None:
                return
            fd = s.sock.fileno()
            with contextlib.suppress(OSError, ValueError):
                ep.unregister(fd)
            sessions.pop(fd, None)
            connecting.pop(fd, None)
            s.sock.close()
            s.sock = None

        def drop(s: HttpSession, now: float, why: str = "") -> None:
            nonlocal in_handshake
            if s.handshake is None and not s.error:
                in_handshake -= 1
            if why and not s.error:
                s.error = why
            unhook(s)
            s.closed = True
            finish(s, now)

        def connect(s: HttpSession, now: float) -> None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sock = sock
            s.buf = b""
            rc = sock.connect_ex((HOST, port))
            if rc not in (0, errno.EINPROGRESS):
                drop(s, now, f"connect: {os.strerror(rc)}")
                return
            connecting[sock.fileno()] = s
            ep.register(sock.fileno(), select.EPOLLOUT)

        def send(s: HttpSession, now: float) -> None:
            if s.sock is None:
                connect(s, now)
                return
            try:
                s.sock.send(request(s))
            except OSError as exc:
                drop(s, now, f"send: {exc!r}")

        def answered(
            s: HttpSession, now: float, status: int, headers: dict[bytes, bytes], body: bytes
        ) -> None:
            """One complete response: count its commands, then poll again (or stop)."""
            nonlocal in_handshake
            if status != 200:
                drop(s, now, f"poll answered {status}: {body[:80]!r}")
                return
            try:
                reply = json.loads(body)
                batches = reply["commands"]
                seq = int(reply["seq"])
            except (ValueError, KeyError, TypeError):
                drop(s, now, f"poll answered {body[:80]!r}")
                return
            if s.handshake is None:
                s.handshake = now
                in_handshake -= 1
                s.sid = s.sid[4:]  # NEW-x -> x after the first success
            if b"webio-session-id" in headers:
                s.sid = headers[b"webio-session-id"]
            ended = False
            for i, batch in enumerate(batches):
                bid = seq + i
                if bid <= s.ack:
                    continue  # a retransmission
                s.ack = bid
                for cmd in batch:
                    what = cmd.get("command") if isinstance(cmd, dict) else None
                    if what == "output":
                        s.outputs += 1
                        if s.first is None:
                            s.first = now
                            s.first_payload = cmd
                        s.last_payload = cmd
                    elif what == "close_session":
                        ended = True
                    else:
                        s.other += 1
            if ended:
                finish(s, now)
                drop(s, now)
            elif hold and s.outputs >= expected:
                finish(s, now)  # held: the server keeps the session, nobody polls it any more
            elif not s.keep:
                unhook(s)
                connect(s, now)
            else:
                send(s, now)

        while remaining > 0:
            now = time.monotonic()
            while to_open > 0 and in_handshake < gate:
                to_open -= 1
                in_handshake += 1
                new = HttpSession(None, now)
                new.sid = b"NEW-" + "".join(random.choices(_ID_CHARS, k=24)).encode()
                self.all.append(new)
                connect(new, now)
            if now >= deadline:
                break
            for fd, _ev in poll(min(0.5, max(0.0, deadline - now))):
                now = time.monotonic()
                c = connecting.pop(fd, None)
                if c is not None:
                    assert c.sock is not None
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        drop(c, now, f"connect: {os.strerror(err)}")
                        continue
                    sessions[fd] = c
                    ep.modify(fd, _IN)
                    send(c, now)
                    continue
                s = sessions.get(fd)
                if s is None or s.sock is None:
                    continue
                try:
                    data = s.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    parsed = _response(s.buf, eof=True) if s.buf else None
                    if parsed is not None:
                        s.buf = b""
                        s.keep = False
                        answered(s, now, *parsed[:3])
                    elif s.done is not None:
                        unhook(s)  # a held session's idle connection: the session stays
                    else:
                        s.keep = False
                        unhook(s)
                        if s.buf:
                            drop(s, now, "connection closed mid-response")
                        else:
                            connect(s, now)  # an idle keep-alive closed: poll on a new connection
                    continue
                s.buf += data
                parsed = _response(s.buf)
                if parsed is None:
                    continue
                status, headers, body, rest, keep = parsed
                s.buf = rest
                s.keep = keep
                answered(s, now, status, headers, body)
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - t0
        held = sum(1 for s in self.all if s.done is not None and not s.closed)
        return self._report(t0, wall, cpu, expected, hold, count - to_open, held)

    def _report(
        self,
        t0: float,
        wall: float,
        cpu: float,
        expected: int,
        hold: bool,
        started: int,
        held: int | None = None,
    ) -> dict[str, Any]:
        ss = self.all
        bad = [(i, why) for i, s in enumerate(ss) if (why := check(s, expected))]
        firsts = [s.first - t0 for s in ss if s.first is not None]
        dones = [s.done - t0 for s in ss if s.done is not None and not s.error]
        return {
            "sessions": len(ss),
            "started": started,
            "upgraded": sum(1 for s in ss if s.handshake is not None and not s.error.startswith("upgrade")),
            "complete": len(ss) - len(bad),
            "bad": len(bad),
            "bad_examples": [why for _, why in bad[:3]],
            "outputs": sum(s.outputs for s in ss),
            "other_commands": sum(s.other for s in ss),
            # seconds from this process's start: when each session got its first output, and its end
            "first_output_s": firsts,
            "done_s": dones,
            "handshake_last_s": max((s.handshake - t0 for s in ss if s.handshake is not None), default=None),
            "wall_s": wall,
            "cpu_s": cpu,
            "t0": t0,
            "held": (sum(1 for s in ss if not s.closed) if held is None else held) if hold else 0,
        }

    def close(self) -> dict[str, Any]:
        n = 0
        for fd, s in [*self.sessions.items(), *self.connecting.items()]:
            with contextlib.suppress(OSError, ValueError):
                self.ep.unregister(fd)
            s.sock.close()
            s.closed = True
            n += 1
        self.sessions.clear()
        self.connecting.clear()
        return {"closed": n}

    def serve(self) -> None:
        while True:
            cmd = self.conn.recv()
            op = cmd[0]
            try:
                if op == "run":
                    reply = self.run(*cmd[1:])
                elif op == "close":
                    reply = self.close()
                elif op == "exit":
                    self.close()
                    self.conn.send({"bye": True})
                    return
                else:
                    reply = {"error": f"unknown command {op!r}"}
            except Exception as exc:  # reported to the coordinator, which stops the benchmark
                reply = {"error": repr(exc)}
            self.conn.send(reply)


def main(conn: Any, index: int = 0) -> None:
    """Entry point of a client process (``multiprocessing`` target)."""
    raise_nofile_limit()
    Client(conn).serve()
