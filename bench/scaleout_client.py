"""The scale-out load generator: one process holding many SSE subscribers, measuring latency.

Like :mod:`fanout_client`'s ``epoll`` engine (raw non-blocking sockets in one ``epoll`` loop,
counting the marker ``"seq"`` that every event holds once), plus two things the scale-out
benchmark needs:

- **which worker** holds each stream: the server's first bytes are ``: worker <pid>``. Given
  ``workers`` > 1, :meth:`connect` spreads its subscribers evenly over the workers: a connection
  that lands on a worker that already has its share is closed and made again.
- **latency**: every event carries ``"t":<publisher's time.time()>``; each one found in a read is
  subtracted from ``time.time()`` taken right after that read, so a latency includes the time the
  event waited in this process (for the loop to reach its socket) as well as in the server,
  Redis and the kernel. Latencies are kept per worker pid, in milliseconds.

Commands (tuples) and replies (dicts), sent over a pipe by :mod:`scaleout_bench`:

- ``("connect", port, count, workers)``: open ``count`` subscribers, spread over ``workers``.
- ``("arm", expected)``: reset counters and latencies; a subscriber is done after ``expected`` events.
- ``("wait", timeout)``: wait until every subscriber is done, or ``timeout`` seconds; the reply
  holds the latencies (``array('d')`` bytes per pid).
- ``("close",)``, ``("exit",)``.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import time
from array import array
from typing import Any

from common import HOST, raise_nofile_limit
from fanout_client import EpollClientProcess

MARKER = b'"seq"'
_TAIL = len(MARKER) - 1
_STAMP = re.compile(rb'"t":([0-9.]+),')  # the comma: only a stamp that arrived whole
_KEY = b'"t":'
_HELLO = re.compile(rb": worker (\d+)\n")
MAX_HEAD = 65536


def _request(port: int) -> bytes:
    return (
        f"GET /events HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\n"
    ).encode()


def _open(port: int, timeout: float) -> tuple[socket.socket, int, bytes]:
    """A subscriber whose response head and hello arrived: (socket, worker pid, bytes after)."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        sock.sendall(_request(port))
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the hello")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                if buf[9:12] != b"200":
                    raise ConnectionError(f"status {buf[9:12]!r}")
                m = _HELLO.search(buf, end + 4)
                if m is not None:
                    return sock, int(m.group(1)), buf[m.end() :]
            if len(buf) > MAX_HEAD:
                raise ConnectionError("no hello in the first 64 KiB")
    except BaseException:
        sock.close()
        raise


class ClientProcess(EpollClientProcess):
    """The fan-out benchmark's epoll client, reading each event's publish time and the worker
    that holds each stream."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        # fd -> [socket, count, done, tail, latencies array of its worker, stamp carry-over]
        self.pids: dict[int, int] = {}  # fd -> worker pid
        self.latencies: dict[int, array[float]] = {}  # worker pid -> ms
        self.events = 0

    def connect(self, port: int, count: int, workers: int) -> dict[str, Any]:
        t0 = time.monotonic()
        failures: list[str] = []
        share = -(-count // max(1, workers))  # at most this many per worker
        per_pid: dict[int, int] = {}
        redone = 0
        attempts = 0
        kept = 0
        while kept < count and attempts < 20 * count + 100:
            attempts += 1
            try:
                sock, pid, rest = _open(port, 30.0)
            except OSError as exc:
                failures.append(repr(exc))
                if len(failures) > 20:
                    break
                continue
            if workers > 1 and per_pid.get(pid, 0) >= share and len(per_pid) < workers + 8:
                sock.close()  # that worker has its share: try again, the kernel may pick the other
                redone += 1
                continue
            per_pid[pid] = per_pid.get(pid, 0) + 1
            kept += 1
            sock.setblocking(False)
            fd = sock.fileno()
            lat = self.latencies.setdefault(pid, array("d"))
            self.subs[fd] = [sock, rest.count(MARKER), False, rest[-_TAIL:], lat, rest[-3:]]
            self.pids[fd] = pid
            self.ep.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
        return {
            "connected": kept,
            "failed": len(failures),
            "errors": failures[:3],
            "reconnected": redone,
            "per_worker": per_pid,
            "seconds": time.monotonic() - t0,
        }

    def arm(self, expected: int) -> dict[str, Any]:
        for sub in self.subs.values():
            sub[1] = 0
            sub[2] = False
        for lat in self.latencies.values():
            del lat[:]
        self.expected = expected
        self.remaining = len(self.subs)
        self.last_done = None
        self.cpu_at_arm = time.process_time()
        self.cpu_at_done = None
        self.reads = 0
        self.events = 0
        return {"armed": len(self.subs)}

    def wait_reply(self) -> dict[str, Any]:
        cpu_end = self.cpu_at_done if self.cpu_at_done is not None else time.process_time()
        counts = [s[1] for s in self.subs.values()]
        return {
            "subscribers": len(self.subs),
            "done": sum(1 for s in self.subs.values() if s[2]),
            "last_done": self.last_done,
            "min_count": min(counts) if counts else 0,
            "max_count": max(counts) if counts else 0,
            "cpu_s": cpu_end - self.cpu_at_arm,
            "reads": self.reads,
            "events": self.events,
            "latencies_ms": {pid: lat.tobytes() for pid, lat in self.latencies.items()},
        }

    def close(self) -> dict[str, Any]:
        reply = super().close()
        self.pids.clear()
        self.latencies.clear()
        return reply

    def run(self) -> None:
        subs = self.subs
        pipe_fd = self.pipe_fd
        poll = self.ep.poll
        marker = MARKER
        tail_len = _TAIL
        stamps = _STAMP.findall
        key = _KEY
        now = time.time
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
                    with contextlib.suppress(OSError):
                        self.ep.unregister(fd)
                    continue
                received = now()
                n = data.count(marker)
                tail = sub[3]
                if tail:
                    n += (tail + data[:tail_len]).count(marker)
                sub[3] = data[-tail_len:]
                # stamps: an event cut between two reads is stamped when its second part arrives
                buf = sub[5] + data
                lat = sub[4]
                for t in stamps(buf):
                    lat.append((received - float(t)) * 1000.0)
                k = buf.rfind(key, max(0, len(buf) - 40))
                sub[5] = buf[k:] if k >= 0 and buf.find(b",", k) < 0 else buf[-3:]
                if n:
                    self.events += n
                    count = sub[1] = sub[1] + n
                    if not sub[2] and count >= self.expected > 0:
                        sub[2] = True
                        self.remaining -= 1
                        if self.remaining == 0:
                            self.last_done = time.monotonic()
                            self.cpu_at_done = time.process_time()
            if self.waiting is not None and (self.remaining == 0 or time.monotonic() >= self.waiting):
                self.waiting = None
                self.conn.send(self.wait_reply())


def main(conn: Any) -> None:
    """Entry point of a client process (``multiprocessing`` target)."""
    raise_nofile_limit()
    ClientProcess(conn).run()
