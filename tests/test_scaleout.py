"""Scale-out: granian with 2 workers (and separate hosts' processes) sharing a real Redis.

Each server runs in a subprocess (``wesktop.serve``/``wirecore.serve(..., workers=2)`` on app
modules written into a temporary folder) with ``WIRECORE_REDIS_URL`` in its environment, so
every hub it makes uses the Redis backplane. Clients open many connections, which the kernel
spreads over both workers; a client learns which worker serves it from ``/pid`` asked on the same
keep-alive connection (SSE) or from the first WebSocket message. Every wait is bounded polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 15.0
"""Seconds any expected delivery may take before the test fails."""

# redis-server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class RedisServer:
    """A redis-server subprocess on one port (no persistence), which can be killed and restarted."""

    def __init__(self, binary: str, port: int, workdir: Path) -> None:
        self.binary = binary
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        with open(self.workdir / f"redis-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.workdir)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.02)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(5)


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required on CI (Debian package redis-server)")
        pytest.skip("needs redis-server (apt-get install redis-server)")
    try:
        import redis  # noqa: F401 - the backplane's client, in the servers' processes
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("needs the redis package (pip install 'wirecore[redis]')")
    return binary


def _new_redis(workdir: Path) -> RedisServer:
    server = RedisServer(_redis_binary(), free_port(), workdir)
    server.start()
    return server


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app modules (importable by the servers) and the logs."""
    path = tmp_path_factory.mktemp("scaleout")
    for name, source in APPS.items():
        (path / f"{name}.py").write_text(textwrap.dedent(source))
    return path


@pytest.fixture(scope="module")
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = _new_redis(workdir)
    yield server
    server.kill()


# the apps ----------------------------------------------------------------------------------------

APPS = {
    # wesktop: a Broadcaster, its SSE route, and a POST route that broadcasts
    "sse_app": """
        import os

        import wesktop

        router = wesktop.Router()
        sse = wesktop.Broadcaster(buffer_size=4096, heartbeat=None)
        sse.register_event("tick")
        router.add_route("GET", "/events", wesktop.sse_route(sse))


        def state():
            return {"pid": os.getpid(), "connected": sse.hub.backplane.connected}


        @router.get("/pid")
        async def pid(req):
            return state()


        @router.post("/broadcast")
        async def broadcast(req):
            body = req.json
            pad = "x" * body.get("pad", 0)
            for i in range(body.get("count", 1)):
                sse.broadcast("tick", {"n": body["n"], "i": i, "pid": os.getpid(), "pad": pad})
            return state()


        app = wesktop.create_app(router)
    """,
    # wirecore: a WebSocket route on hub.stream_websocket, and a POST route that publishes
    "ws_app": """
        import json
        import os

        from wirecore import App, Hub

        hub = Hub(maxsize=10_000)
        app = App()


        def state():
            return {"pid": os.getpid(), "connected": hub.backplane.connected}


        @app.get("/pid")
        async def pid(request):
            return state()


        @app.post("/publish/{topic}")
        async def publish(request):
            body = await request.json()
            for i in range(body.get("count", 1)):
                hub.publish(request.path_params["topic"], {"n": body["n"], "i": i, "pid": os.getpid()})
            return state()


        @app.websocket("/ws/{topic}")
        async def ws(websocket):
            await websocket.accept()
            await websocket.send(json.dumps(state()))  # which worker serves this client
            await hub.stream_websocket(websocket, websocket.path_params["topic"])
    """,
    # webshoes: one process per "host"
    "shoes_host": """
        import os
        import signal
        import sys
        import threading

        from webshoes import WebShoesApp

        wsa = WebShoesApp("127.0.0.1", int(sys.argv[1]), {})


        def trigger(ctx, q):
            return {"ver": ctx.wsa.triggerEvent(q["name"], {"v": int(q["v"]), "pid": os.getpid()})}


        def pid(ctx, q):
            return {"pid": os.getpid(), "connected": wsa.hub.backplane.connected}


        wsa.register("cmd", "cmd", "q", "evt", "r", {"trigger": trigger, "pid": pid})
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *args: stop.set())
        wsa.start()
        stop.wait()
        wsa.stop()
    """,
    # a process that only publishes (a cron job, a worker queue...): argv = index, count, start time
    "publisher": """
        import asyncio
        import sys
        import time

        from wirecore import Hub


        async def main():
            k, n, start_at = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
            hub = Hub()
            await hub.start()
            assert hub.backplane.connected
            while time.time() < start_at:
                await asyncio.sleep(0.002)
            for i in range(n):
                hub.publish("multi", {"p": k, "i": i})
                if i % 20 == 0:
                    await asyncio.sleep(0)
            await hub.close()


        asyncio.run(main())
    """,
}

SERVE_SSE = "import wesktop; wesktop.serve('sse_app:app', port={port}, workers=2)"
SERVE_WS = "import wirecore; wirecore.serve('ws_app:app', port={port}, workers=2)"


class ServerProc:
    """A server subprocess (its own session, so its workers can be found and stopped)."""

    def __init__(self, args: list[str], port: int, workdir: Path, redis_url: str, name: str) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / f"{name}-{port}.log"
        env = {**os.environ, "WIRECORE_REDIS_URL": redis_url, "PYTHONPATH": str(workdir)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *args], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, timeout: float = 10.0) -> float:
        """SIGTERM; the seconds it took to exit. Kills the session if it does not exit in time."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
                raise AssertionError(f"{self.log.name}: no exit {timeout} s after SIGTERM") from None
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def get_json(url: str, timeout: float = 2.0) -> Any:
    """A GET on a new connection (so it may land on any worker)."""
    with httpx.Client(timeout=timeout) as client:
        return client.get(url).json()


def worker_pids(server: ServerProc, want: int = 2, timeout: float = 20.0) -> set[int]:
    """Ask ``/pid`` on new connections until ``want`` workers, each joined to Redis, answered."""
    seen: dict[int, bool] = {}
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            raise AssertionError(f"the server exited:\n{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            state = get_json(server.url + "/pid")
            seen[state["pid"]] = state["connected"]
        if len(seen) >= want and all(seen.values()):
            return set(seen)
        if time.monotonic() > deadline:
            raise AssertionError(f"workers seen {seen} after {timeout} s:\n{server.output()}")
        time.sleep(0.05)


def start_server(template: str, workdir: Path, redis_url: str, name: str) -> ServerProc:
    port = free_port()
    server = ServerProc(["-c", template.format(port=port)], port, workdir, redis_url, name)
    try:
        worker_pids(server)
    except BaseException:
        server.kill()
        raise
    return server


def stop_server(server: ServerProc) -> None:
    """Stop it as an operator would, and check it went away cleanly."""
    took = server.stop()
    assert took < 8, f"{server.log.name}: {took:.1f} s to stop"
    assert port_free(server.port), f"port {server.port} still in use after the server stopped"


@pytest.fixture(scope="module")
def sse_server(workdir: Path, redis_server: RedisServer) -> Iterator[ServerProc]:
    server = start_server(SERVE_SSE, workdir, redis_server.url, "sse")
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def ws_server(workdir: Path, redis_server: RedisServer) -> Iterator[ServerProc]:
    server = start_server(SERVE_WS, workdir, redis_server.url, "ws")
    yield server
    stop_server(server)


# clients -----------------------------------------------------------------------------------------


async def until(predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        await asyncio.sleep(0.02)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(head[0].split()[1]), headers


async def _read_chunk(reader: asyncio.StreamReader) -> bytes:
    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
    data = await reader.readexactly(size + 2)
    return data[:-2]


class SSEClient:
    """An event-stream client on its own connection; ``pid``: the worker serving it."""

    def __init__(self) -> None:
        self.pid = 0
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self, port: int, *, read: bool = True) -> SSEClient:
        sock = socket.socket()
        if not read:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        self._writer = writer
        host = f"127.0.0.1:{port}"
        writer.write(f"GET /pid HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status, headers = await _read_head(reader)
        assert status == 200
        self.pid = json.loads(await reader.readexactly(int(headers["content-length"])))["pid"]
        # the same keep-alive connection, so the same worker
        writer.write(f"GET /events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        status, headers = await _read_head(reader)
        assert status == 200 and headers["content-type"].startswith("text/event-stream")
        if read:
            self._task = asyncio.ensure_future(self._pump(reader, headers.get("transfer-encoding") == "chunked"))
        return self

    async def _pump(self, reader: asyncio.StreamReader, chunked: bool) -> None:
        buf = b""
        try:
            while True:
                data = await _read_chunk(reader) if chunked else await reader.read(65536)
                if not data:
                    break
                buf += data
                while b"\n\n" in buf:
                    frame, buf = buf.split(b"\n\n", 1)
                    lines = [line[6:] for line in frame.split(b"\n") if line.startswith(b"data: ")]
                    if lines:
                        self.events.append(json.loads(b"\n".join(lines)))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed = True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()


class WSClient:
    """A WebSocket client of the ws_app's ``/ws/{topic}``; ``pid``: the worker serving it."""

    def __init__(self) -> None:
        self.pid = 0
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self._conn: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, port: int, topic: str) -> WSClient:
        self._conn = await connect(f"ws://127.0.0.1:{port}/ws/{topic}", max_size=None, open_timeout=10)
        self.pid = json.loads(await asyncio.wait_for(self._conn.recv(), 10))["pid"]
        self._task = asyncio.ensure_future(self._pump())
        return self

    async def _pump(self) -> None:
        assert self._conn is not None
        try:
            async for text in self._conn:
                self.events.append(json.loads(text))
        except Exception:
            pass
        finally:
            self.closed = True

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        if self._task is not None:
            await self._task


Client = SSEClient | WSClient


async def spread_clients(open_one: Callable[[], Awaitable[Client]], count: int) -> list[Client]:
    """``count`` clients at once, then more one by one (at most ``count``) until both workers
    serve some."""
    clients: list[Client] = list(await asyncio.gather(*(open_one() for _ in range(count))))
    for _ in range(count):
        if len({c.pid for c in clients}) >= 2:
            break
        clients.append(await open_one())
    assert len({c.pid for c in clients}) == 2, f"all clients on one worker: {[c.pid for c in clients]}"
    return clients


class Poster:
    """POSTs, each on a new connection (so they land on either worker)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.by_pid: dict[int, list[int]] = {}
        self.order: list[int] = []

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(self.url + path, json=body)
        response.raise_for_status()
        state: dict[str, Any] = response.json()
        if body.get("n", -1) >= 0:
            self.by_pid.setdefault(state["pid"], []).append(body["n"])
            self.order.append(body["n"])
        return state


async def warm_up(poster: Poster, path: str, clients: list[Client]) -> None:
    """Broadcast ``n=-1`` until every client got one: every subscription is live, in Redis too."""
    deadline = time.monotonic() + TIMEOUT
    while not all(any(e.get("n") == -1 for e in c.events) for c in clients):
        assert time.monotonic() < deadline, "clients never got the warm-up broadcast"
        await poster.post(path, {"n": -1})
        await asyncio.sleep(0.1)
    for c in clients:
        c.events.clear()


def real(client: Client) -> list[dict[str, Any]]:
    """The events received, less stray warm-up ones."""
    return [e for e in client.events if e.get("n") != -1]


def numbers(client: Client) -> list[int]:
    return [e["n"] for e in real(client)]


async def broadcast_and_check(poster: Poster, path: str, clients: list[Client], rounds: int) -> None:
    """``rounds`` broadcasts through POSTs landing on both workers; every client gets every one,
    all clients in one same order, which keeps each worker's publishing order."""
    n = 0
    while n < rounds or len(poster.by_pid) < 2:
        assert n < rounds * 4, f"every POST landed on one worker: {poster.by_pid.keys()}"
        await poster.post(path, {"n": n})
        n += 1
    sent = poster.order
    await until(lambda: all(len(numbers(c)) >= len(sent) for c in clients), what="every broadcast everywhere")
    first = numbers(clients[0])
    assert sorted(first) == sorted(sent), "a broadcast was lost or duplicated"
    for c in clients:
        assert numbers(c) == first, "two clients saw different orders"
        assert not c.closed
    for pid, posted in poster.by_pid.items():
        assert [x for x in first if x in set(posted)] == posted, f"worker {pid}'s broadcasts reordered"


# (a) SSE over a wesktop Broadcaster, 2 workers ----------------------------------------------------


async def test_sse_clients_on_both_workers_get_every_broadcast_in_order(sse_server: ServerProc) -> None:
    clients = await spread_clients(lambda: SSEClient().open(sse_server.port), 20)
    try:
        poster = Poster(sse_server.url)
        await warm_up(poster, "/broadcast", clients)
        await broadcast_and_check(poster, "/broadcast", clients, rounds=30)
        assert len(poster.by_pid) == 2  # broadcasts were made in both workers
    finally:
        await asyncio.gather(*(c.close() for c in clients))


# (b) WebSockets on hub.stream_websocket, 2 workers ---------------------------------------------


async def test_websocket_clients_on_both_workers_get_every_publish_in_order(ws_server: ServerProc) -> None:
    clients = await spread_clients(lambda: WSClient().open(ws_server.port, "news"), 20)
    try:
        poster = Poster(ws_server.url)
        await warm_up(poster, "/publish/news", clients)
        await broadcast_and_check(poster, "/publish/news", clients, rounds=30)
    finally:
        await asyncio.gather(*(c.close() for c in clients))


# (c) webshoes: two hosts on one Redis --------------------------------------------------------------


@pytest.fixture(scope="module")
def shoes_hosts(workdir: Path, redis_server: RedisServer) -> Iterator[tuple[ServerProc, ServerProc]]:
    hosts = []
    for name in ("shoes-a", "shoes-b"):
        port = free_port()
        hosts.append(ServerProc(["shoes_host.py", str(port)], port, workdir, redis_server.url, name))
    try:
        for host in hosts:
            deadline = time.monotonic() + 20
            while True:
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    if get_json(host.url + "/cmd/pid")["connected"]:
                        break
                assert host.proc.poll() is None and time.monotonic() < deadline, host.output()
                time.sleep(0.05)
        yield hosts[0], hosts[1]
    finally:
        for host in hosts:
            took = host.stop()
            assert took < 8 and port_free(host.port)


async def _shoes_recv(conn: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(conn.recv(), TIMEOUT)))


async def _trigger(host: ServerProc, name: str, v: int) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{host.url}/cmd/trigger", params={"name": name, "v": v})
    return int(response.json()["ver"])


async def test_webshoes_events_cross_hosts_and_late_subscribers_get_the_latest(
    shoes_hosts: tuple[ServerProc, ServerProc], redis_server: RedisServer
) -> None:
    a, b = shoes_hosts
    a_pid = get_json(a.url + "/cmd/pid")["pid"]
    async with connect(f"ws://127.0.0.1:{b.port}/") as sub:
        await sub.send(json.dumps({"evt": "temp", "uid": "on-b"}))
        ack = await _shoes_recv(sub)
        assert ack["r"]["status"] == "Event added"
        await until(lambda: _numsub(redis_server.url, "wirecore:temp") >= 1, what="B subscribed in Redis")
        versions = [await _trigger(a, "temp", v) for v in range(10)]
        pushes = [await _shoes_recv(sub) for _ in range(10)]
        assert [p["r"] for p in pushes] == [{"v": v, "pid": a_pid} for v in range(10)]
        assert [p["ver"] for p in pushes] == versions
        assert {p["uid"] for p in pushes} == {"on-b"}

    # a late subscriber on B gets what A triggered last, right after its ack
    for v in (100, 101, 102):
        await _trigger(a, "state", v)
    async with connect(f"ws://127.0.0.1:{b.port}/") as late:
        await late.send(json.dumps({"evt": "state", "uid": "late"}))
        assert (await _shoes_recv(late))["r"]["status"] == "Event added"
        latest = await _shoes_recv(late)
        assert (latest["uid"], latest["r"]) == ("late", {"v": 102, "pid": a_pid})
        # and what A triggers next
        await until(lambda: _numsub(redis_server.url, "wirecore:state") >= 1)
        await _trigger(a, "state", 103)
        assert (await _shoes_recv(late))["r"] == {"v": 103, "pid": a_pid}


def _numsub(url: str, channel: str) -> int:
    import redis

    with redis.Redis.from_url(url, socket_timeout=2) as client:
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])


# (d) several processes publishing at once -----------------------------------------------------


async def test_several_publishing_processes_keep_each_ones_order(
    ws_server: ServerProc, workdir: Path, redis_server: RedisServer
) -> None:
    clients = await spread_clients(lambda: WSClient().open(ws_server.port, "multi"), 8)
    publishers: list[subprocess.Popen[bytes]] = []
    try:
        poster = Poster(ws_server.url)
        await until(lambda: _numsub(redis_server.url, "wirecore:multi") == 2, what="both workers subscribed")
        await warm_up(poster, "/publish/multi", clients)
        count, procs = 300, 3
        start_at = time.time() + 2.0  # all publish at once, once all have joined Redis
        env = {**os.environ, "WIRECORE_REDIS_URL": redis_server.url, "PYTHONPATH": str(workdir)}
        for k in range(procs):
            publishers.append(
                subprocess.Popen([sys.executable, "publisher.py", str(k), str(count), str(start_at)], cwd=workdir, env=env)
            )
        # meanwhile, both workers publish too
        for n in range(6):
            await poster.post("/publish/multi", {"n": n, "count": 20})
        for proc in publishers:
            assert await asyncio.to_thread(proc.wait, 20) == 0
        total = procs * count + 6 * 20
        await until(lambda: all(len(real(c)) >= total for c in clients), what="every message everywhere")
        first = [(e.get("p"), e.get("n"), e["i"]) for e in real(clients[0])]
        for c in clients:
            events = real(c)
            assert len(events) == total
            assert [(e.get("p"), e.get("n"), e["i"]) for e in events] == first  # one order for everyone
            for k in range(procs):
                assert [e["i"] for e in events if e.get("p") == k] == list(range(count))
            for pid in {e["pid"] for e in events if "pid" in e}:
                mine = [(e["n"], e["i"]) for e in events if e.get("pid") == pid]
                assert mine == sorted(mine), "a worker's publishes reordered"
    finally:
        for proc in publishers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        await asyncio.gather(*(c.close() for c in clients))


# (e) a slow subscriber ------------------------------------------------------------------------------


async def test_a_slow_subscriber_does_not_slow_the_others(sse_server: ServerProc) -> None:
    fast = await spread_clients(lambda: SSEClient().open(sse_server.port), 6)
    slow = await SSEClient().open(sse_server.port, read=False)  # reads nothing from now on
    try:
        poster = Poster(sse_server.url)
        await warm_up(poster, "/broadcast", fast)
        count = 200
        started = time.monotonic()
        for n in range(2):
            await poster.post("/broadcast", {"n": n, "count": count, "pad": 8000})
        await until(
            lambda: all(len(numbers(c)) >= 2 * count for c in fast), timeout=20, what="the fast clients' events"
        )
        took = time.monotonic() - started
        for c in fast:
            got = [(e["n"], e["i"]) for e in real(c)]
            assert sorted(got) == [(n, i) for n in range(2) for i in range(count)]
            assert not c.closed
        assert took < 15, f"{took:.1f} s for {2 * count} events of 8 kB"
        # the slow client's worker still answers at once
        t0 = time.monotonic()
        for _ in range(4):
            await asyncio.to_thread(get_json, sse_server.url + "/pid")
        assert time.monotonic() - t0 < 4
    finally:
        await slow.close()
        await asyncio.gather(*(c.close() for c in fast))


# (f) Redis restarted mid-stream -------------------------------------------------------------------


async def test_redis_restart_mid_stream_delivery_resumes(workdir: Path) -> None:
    own = _new_redis(workdir)
    server = None
    clients: list[Client] = []
    try:
        server = start_server(SERVE_WS, workdir, own.url, "ws-restart")
        clients = await spread_clients(lambda: WSClient().open(server.port, "news"), 10)
        poster = Poster(server.url)
        await warm_up(poster, "/publish/news", clients)
        await poster.post("/publish/news", {"n": 0})
        await until(lambda: all(numbers(c) == [0] for c in clients))

        own.kill()
        # during the outage a publish reaches the clients of its own worker only
        deadline = time.monotonic() + TIMEOUT
        while (state := await poster.post("/publish/news", {"n": 1000 + len(poster.order)}))["connected"]:
            assert time.monotonic() < deadline, "the worker never noticed Redis went away"
            await asyncio.sleep(0.05)
        outage_n = poster.order[-1]
        here = [c for c in clients if c.pid == state["pid"]]
        there = [c for c in clients if c.pid != state["pid"]]
        await until(lambda: all(outage_n in numbers(c) for c in here), what="local delivery in the outage")

        own.start()  # same port; the workers reconnect with their backoff (at most 5 s)
        restarted = time.monotonic()
        n = 1
        while not all(numbers(c)[-1:] == [n] for c in clients):
            assert time.monotonic() - restarted < TIMEOUT, "delivery did not resume"
            n += 1
            await poster.post("/publish/news", {"n": n})
            await asyncio.sleep(0.2)
        assert all(outage_n not in numbers(c) for c in there)  # nothing replayed later
        # every worker is back, and a burst reaches everyone again
        await asyncio.to_thread(worker_pids, server)
        for c in clients:
            c.events.clear()
        poster.order.clear()
        poster.by_pid.clear()
        await broadcast_and_check(poster, "/publish/news", clients, rounds=10)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
        if server is not None:
            stop_server(server)
        own.kill()


# shutdown ------------------------------------------------------------------------------------------


async def test_serve_with_workers_stops_cleanly_on_sigterm(workdir: Path, redis_server: RedisServer) -> None:
    server = start_server(SERVE_WS, workdir, redis_server.url, "ws-stop")
    try:
        pids = await asyncio.to_thread(worker_pids, server)
        clients = await spread_clients(lambda: WSClient().open(server.port, "news"), 4)
        took = await asyncio.to_thread(server.stop, 10)
        assert took < 8
        await until(lambda: all(c.closed for c in clients), what="clients disconnected by the shutdown")
        assert port_free(server.port)
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        server.kill()


async def test_workers_stop_on_sigterm_with_sse_streams_open(workdir: Path, redis_server: RedisServer) -> None:
    """granian waits for open streams before a worker's shutdown can end them: without a kill
    timeout a browser's SSE stream held a stopping worker for as long as it stayed open."""
    server = start_server(SERVE_SSE, workdir, redis_server.url, "sse-stop")
    try:
        pids = await asyncio.to_thread(worker_pids, server)
        clients = await spread_clients(lambda: SSEClient().open(server.port), 4)
        took = await asyncio.to_thread(server.stop, 15)
        assert took < 10
        assert port_free(server.port)
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        del clients
    finally:
        server.kill()


def test_an_unguarded_serve_call_in_the_app_module_does_not_nest_servers(workdir: Path) -> None:
    """``serve(..., workers=2)`` at the bottom of the app's own module, without a __main__ guard:
    each worker imports the module again, and that serve() call must not start more servers."""
    port = free_port()
    (workdir / "unguarded.py").write_text(
        "import os\nimport wirecore\napp = wirecore.App()\n\n"
        "@app.get('/pid')\nasync def pid(request):\n    return {'pid': os.getpid()}\n\n"
        f"wirecore.serve('unguarded:app', port={port}, workers=2)\n"
    )
    proc = subprocess.Popen([sys.executable, "unguarded.py"], cwd=workdir)
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            try:
                seen.add(httpx.get(f"http://127.0.0.1:{port}/pid", timeout=2).json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.1)
        assert len(seen) == 2, seen
        children = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        # the main process has its 2 workers and nothing more (each would be a nested server)
        assert len(children) == 2, children
        for child in children:
            grandchildren = subprocess.run(["pgrep", "-P", child], capture_output=True, text=True).stdout
            assert grandchildren.split() == [], f"worker {child} started a server of its own"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
