"""The Redis backplane against a real redis-server: hubs in two processes share messages.

The fixture starts its own ``redis-server`` on a free port (no persistence) and kills it after;
tests that need an outage kill and restart it on the same port. The other process is a small
"peer" program with its own hub, driven over its stdin and reporting on its stdout (one JSON
object a line), so every message crosses a process boundary through Redis. No mocks.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import redis
except ImportError:  # pragma: no cover - the project's install steps provide it
    if os.environ.get("CI"):
        raise
    pytest.skip("needs the redis package (pip install 'wirecore[redis]')", allow_module_level=True)

from wirecore import App
from wirecore import fanout as fanout_module
from wirecore.fanout import BACKPLANE_ENV, Hub, Message
from wirecore.redis_backplane import RedisBackplane

TIMEOUT = 10.0
"""Seconds any expected delivery may take before the test fails."""

# redis-server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server subprocess on one port, which can be killed and started again."""

    def __init__(self, binary: str, port: int, workdir: Path) -> None:
        self.binary = binary
        self.port = port
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        log = open(self.workdir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - kept by the process
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"redis-server did not answer PING on port {self.port}")
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

    def restart(self) -> None:
        self.kill()
        self.start()

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free port, killed after the test."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is required on CI (Debian package redis-server)")
        pytest.skip("needs redis-server (apt-get install redis-server)")
    server = RedisServer(binary, free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def numsub(url: str, channel: str) -> int:
    """Connections subscribed to ``channel`` right now, as Redis counts them."""
    with redis.Redis.from_url(url, socket_timeout=2) as client:
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])


async def until(predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        await asyncio.sleep(0.01)


async def until_async(
    predicate: Callable[[], Awaitable[bool]], timeout: float = TIMEOUT, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout} s")
        await asyncio.sleep(0.05)


async def subscribed(url: str, channel: str, count: int) -> None:
    """Wait until ``count`` connections are subscribed to ``channel`` in Redis."""
    await until_async(
        lambda: asyncio.to_thread(lambda: numsub(url, channel) == count),
        what=f"{count} subscribers of {channel}",
    )


# the other process -----------------------------------------------------------------------------

PEER = r'''
import asyncio, base64, json, sys, threading

from wirecore.fanout import Hub
from wirecore.redis_backplane import RedisBackplane


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def b64(data):
    return base64.b64encode(data).decode()


async def main():
    url, prefix, reconnect_max = sys.argv[1], sys.argv[2], float(sys.argv[3])
    backplane = RedisBackplane(url, prefix=prefix, reconnect_max=reconnect_max)
    hub = Hub(maxsize=100_000, backplane=backplane)
    await hub.start()
    loop = asyncio.get_running_loop()
    commands = asyncio.Queue()

    def read_stdin():
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
        loop.call_soon_threadsafe(commands.put_nowait, None)

    threading.Thread(target=read_stdin, daemon=True).start()
    subs = {}

    async def pump(topic, sub):
        async for msg in sub:
            out({"ev": "msg", "topic": topic, "json": b64(msg.json), "event": msg.event, "id": msg.id})

    out({"ev": "ready", "connected": backplane.connected})
    while (cmd := await commands.get()) is not None:
        op, topic, reply = cmd["op"], cmd.get("topic"), {"ev": "done", "seq": cmd["seq"]}
        if op == "sub":
            sub = hub.subscribe(topic)
            subs[topic] = (sub, asyncio.ensure_future(pump(topic, sub)))
        elif op == "unsub":
            sub, task = subs.pop(topic)
            sub.close()
            await task
        elif op == "pub":
            sent = [
                hub.publish(topic, item, event=cmd.get("event"), id=cmd.get("id"), retain=cmd.get("retain", False))
                for item in cmd["items"]
            ]
            reply["json"] = [b64(m.json) for m in sent]
        elif op == "pubn":
            for i in range(cmd["n"]):
                hub.publish(topic, {"tag": cmd["tag"], "i": i})
        elif op == "latest":
            msg = await hub.latest(topic)
            reply["json"] = None if msg is None else b64(msg.json)
        elif op == "stats":
            reply["stats"] = dict(backplane.stats)
            reply["connected"] = backplane.connected
        out(reply)
    await hub.close()


asyncio.run(main())
'''


class Peer:
    """Another process with its own hub on the same Redis (see ``PEER``)."""

    def __init__(self, script: Path, url: str, prefix: str, stderr: Path) -> None:
        with open(stderr, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(script), url, prefix, "0.3"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
            )
        self.stderr = stderr
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.replies: dict[int, dict[str, Any]] = {}
        self.ready: dict[str, Any] | None = None
        self._seq = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            obj = json.loads(line)
            ev = obj["ev"]
            if ev == "msg":
                obj["json"] = base64.b64decode(obj["json"])
                self.received.setdefault(obj["topic"], []).append(obj)
            elif ev == "ready":
                self.ready = obj
            else:
                self.replies[obj["seq"]] = obj

    def got(self, topic: str) -> list[dict[str, Any]]:
        return self.received.get(topic, [])

    def data(self, topic: str) -> list[Any]:
        return [json.loads(m["json"]) for m in self.got(topic)]

    async def started(self) -> dict[str, Any]:
        await until(lambda: self.ready is not None or self.proc.poll() is not None, what="peer start")
        assert self.ready is not None, f"the peer died: {self.stderr.read_text()}"
        return self.ready

    async def call(self, op: str, **args: Any) -> dict[str, Any]:
        self._seq += 1
        seq = self._seq
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "seq": seq, **args}) + "\n")
        self.proc.stdin.flush()
        await until(lambda: seq in self.replies or self.proc.poll() is not None, what=f"peer {op}")
        assert seq in self.replies, f"the peer died: {self.stderr.read_text()}"
        return self.replies.pop(seq)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)


class Collector:
    """A local subscription whose messages are gathered by a task."""

    def __init__(self, hub: Hub, *topics: str, maxsize: int = 100_000) -> None:
        self.sub = hub.subscribe(*topics, maxsize=maxsize)
        self.msgs: list[Message] = []
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async for msg in self.sub:
            self.msgs.append(msg)

    def data(self, topic: str | None = None) -> list[Any]:
        return [m.data for m in self.msgs if topic is None or m.topic == topic]

    async def close(self) -> None:
        self.sub.close()
        await self.task


PREFIX = "test:"

MakeHub = Callable[..., Awaitable[tuple[Hub, RedisBackplane]]]
MakePeer = Callable[..., Awaitable[Peer]]


@pytest.fixture
async def make_hub(redis_server: RedisServer) -> AsyncIterator[MakeHub]:
    """``await make_hub(**backplane_options) -> (hub, backplane)``: a started hub in this process."""
    hubs: list[Hub] = []

    async def make(**options: Any) -> tuple[Hub, RedisBackplane]:
        options.setdefault("prefix", PREFIX)
        options.setdefault("reconnect_max", 0.3)
        url = options.pop("url", redis_server.url)
        backplane = RedisBackplane(url, **options)
        hub = Hub(maxsize=100_000, backplane=backplane)
        hubs.append(hub)
        await hub.start()
        return hub, backplane

    yield make
    for hub in hubs:
        await hub.close()


@pytest.fixture
async def make_peer(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[MakePeer]:
    """``await make_peer(prefix=PREFIX) -> Peer``: a started peer process on the fixture's Redis."""
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    peers: list[Peer] = []

    async def make(prefix: str = PREFIX) -> Peer:
        peer = Peer(script, redis_server.url, prefix, tmp_path / f"peer{len(peers)}.err")
        peers.append(peer)
        await peer.started()
        return peer

    yield make
    for peer in peers:
        peer.close()


# delivery across processes ---------------------------------------------------------------------


async def test_two_processes_exchange_messages(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, backplane = await make_hub()
    assert backplane.connected
    peer = await make_peer()
    assert peer.ready == {"ev": "ready", "connected": True}
    local = Collector(hub, "chat")
    await peer.call("sub", topic="chat")
    await subscribed(redis_server.url, PREFIX + "chat", 2)

    hub.publish("chat", {"from": "here"}, event="say", id="1")
    await until(lambda: peer.data("chat") == [{"from": "here"}], what="the peer gets our message")
    got = peer.got("chat")[0]
    assert (got["event"], got["id"]) == ("say", "1")
    # our own subscriber gets it too, through Redis like everyone
    await until(lambda: local.data() == [{"from": "here"}])
    assert (local.msgs[0].event, local.msgs[0].id) == ("say", "1")

    await peer.call("pub", topic="chat", items=[{"from": "there"}])
    await until(lambda: local.data() == [{"from": "here"}, {"from": "there"}], what="we get the peer's")
    await until(lambda: peer.data("chat") == [{"from": "here"}, {"from": "there"}])
    assert backplane.stats["published"] == 1
    assert backplane.stats["received"] == 2
    assert backplane.stats["local_only"] == 0
    await local.close()


async def test_the_payload_is_encoded_once_and_arrives_byte_identical(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, backplane = await make_hub()
    peer = await make_peer()
    locals_ = [Collector(hub, "data"), Collector(hub, "data")]
    await peer.call("sub", topic="data")
    await subscribed(redis_server.url, PREFIX + "data", 2)
    with redis.Redis.from_url(redis_server.url) as client:
        client.config_resetstat()

    data = {
        "text": 'h\u00e9llo \u2603 \U0001f600 "quoted" \\ back\nnew\tline \u2028',
        "big": 2**53 + 1,
        "float": 0.1,
        "tiny": -1.5e-300,
        "flags": [True, False, None],
        "nested": {"a": [{"b": "c"}, []], "": {}},
    }
    msg = hub.publish("data", data, event="e", id="id-1")
    await until(lambda: len(peer.got("data")) == 1)
    assert peer.got("data")[0]["json"] == msg.json  # the publisher's bytes, as they are
    await until(lambda: all(len(c.msgs) == 1 for c in locals_))
    assert [c.msgs[0].json for c in locals_] == [msg.json, msg.json]
    assert locals_[0].msgs[0] is locals_[1].msgs[0]  # one message object for local subscribers
    assert locals_[0].msgs[0].data == data
    # one PUBLISH reached Redis for three subscribers in two processes
    with redis.Redis.from_url(redis_server.url) as client:
        assert client.info("commandstats")["cmdstat_publish"]["calls"] == 1
    assert backplane.stats["published"] == 1

    # and the other way round
    sent = await peer.call("pub", topic="data", items=[data, "text", [1.5, None]])
    expected = [base64.b64decode(b) for b in sent["json"]]
    await until(lambda: len(locals_[0].msgs) == 4)
    assert [m.json for m in locals_[0].msgs[1:]] == expected
    for c in locals_:
        await c.close()


async def test_a_burst_of_1000_keeps_the_order_of_each_topic(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, _ = await make_hub()
    peer = await make_peer()
    await peer.call("sub", topic="a")
    await peer.call("sub", topic="b")
    local = Collector(hub, "burst")
    await subscribed(redis_server.url, PREFIX + "a", 1)
    await subscribed(redis_server.url, PREFIX + "b", 1)
    await subscribed(redis_server.url, PREFIX + "burst", 1)

    # 1000 messages from this process, two topics interleaved, half of them from a thread
    def from_thread() -> None:
        for i in range(250):
            hub.publish("b", {"i": i, "t": 1})

    thread = threading.Thread(target=from_thread)
    thread.start()
    for i in range(500):
        hub.publish("a", {"i": i})
    thread.join()
    for i in range(250):
        hub.publish("b", {"i": i, "t": 2})
    await until(lambda: len(peer.got("a")) == 500 and len(peer.got("b")) == 500, what="1000 at the peer")
    assert peer.data("a") == [{"i": i} for i in range(500)]
    b = peer.data("b")
    assert b == [{"i": i, "t": 1} for i in range(250)] + [{"i": i, "t": 2} for i in range(250)]

    # 1000 from the peer on one topic
    await peer.call("pubn", topic="burst", n=1000, tag="p")
    await until(lambda: len(local.msgs) == 1000, what="1000 from the peer")
    assert local.data() == [{"tag": "p", "i": i} for i in range(1000)]
    await local.close()


async def test_only_subscribed_topics_are_forwarded(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, backplane = await make_hub()
    peer = await make_peer()
    wanted = Collector(hub, "wanted")
    marker = Collector(hub, "marker")
    await subscribed(redis_server.url, PREFIX + "wanted", 1)
    await subscribed(redis_server.url, PREFIX + "marker", 1)
    assert numsub(redis_server.url, PREFIX + "other") == 0

    await peer.call("pubn", topic="other", n=50, tag="x")
    await peer.call("pubn", topic="wanted", n=3, tag="w")
    await peer.call("pubn", topic="marker", n=1, tag="m")
    await until(lambda: len(marker.msgs) == 1)  # one connection, one order: everything before is in
    assert wanted.data() == [{"tag": "w", "i": i} for i in range(3)]
    assert backplane.stats["received"] == 4  # Redis sent nothing of "other"

    await wanted.close()  # the last local subscriber of "wanted" leaves: the channel is dropped
    await subscribed(redis_server.url, PREFIX + "wanted", 0)
    await peer.call("pubn", topic="wanted", n=5, tag="w2")
    await peer.call("pubn", topic="marker", n=1, tag="m2")
    await until(lambda: len(marker.msgs) == 2)
    assert backplane.stats["received"] == 5
    assert hub.topics() == ["marker"]
    await marker.close()


async def test_retained_latest_value_is_shared_across_processes(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, _ = await make_hub()
    peer = await make_peer()
    assert await hub.latest("state") is None
    await peer.call("pub", topic="state", items=[{"v": 1}, {"v": 2}], retain=True)
    await peer.call("pub", topic="state", items=[{"v": "not retained"}])

    async def ours_is(value: Any) -> bool:
        msg = await hub.latest("state")
        return msg is not None and msg.data == value

    await until_async(lambda: ours_is({"v": 2}), what="the peer's retained value here")
    # with no subscriber anywhere in this process, and not published by it
    assert hub.topics() == []

    hub.publish("state", {"v": 3}, retain=True, id="x")
    await until_async(lambda: _peer_latest(peer, {"v": 3}), what="our retained value at the peer")
    msg = await hub.latest("state")
    assert msg is not None and msg.id == "x"
    assert (await peer.call("latest", topic="nothing"))["json"] is None


async def _peer_latest(peer: Peer, value: Any) -> bool:
    reply = await peer.call("latest", topic="state")
    return reply["json"] is not None and json.loads(base64.b64decode(reply["json"])) == value


# outages -----------------------------------------------------------------------------------------


async def test_redis_killed_mid_stream_local_delivery_goes_on_bounded(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, backplane = await make_hub(max_pending=50)
    local = Collector(hub, "s")
    peer = await make_peer()
    await peer.call("sub", topic="s")
    await subscribed(redis_server.url, PREFIX + "s", 2)
    for i in range(20):
        hub.publish("s", {"i": i})
    await until(lambda: len(peer.got("s")) == 20 and len(local.msgs) == 20, what="the stream flows")

    redis_server.kill()
    await until(lambda: not backplane.connected, what="the loss noticed here")

    async def peer_lost() -> bool:
        return not (await peer.call("stats"))["connected"]

    await until_async(peer_lost, what="the loss noticed by the peer")
    at_peer = len(peer.got("s"))
    local_only = backplane.stats["local_only"]
    for i in range(20, 2020):  # far more than max_pending
        hub.publish("s", {"i": i})
        if i % 100 == 0:
            await asyncio.sleep(0)
            assert len(backplane._pending) == 0
    await until(lambda: len(local.msgs) == 2020, what="local subscribers keep receiving")
    assert local.data() == [{"i": i} for i in range(2020)]
    assert backplane.stats["local_only"] == local_only + 2000
    # nothing waits anywhere for Redis to come back
    assert len(backplane._pending) == 0
    assert len(hub._outbox) == 0
    # the peer's own messages reach its own subscribers only
    await peer.call("pubn", topic="s", n=5, tag="peer")
    await until(lambda: len(peer.got("s")) == at_peer + 5)
    assert [m["tag"] for m in peer.data("s")[at_peer:]] == ["peer"] * 5
    assert len(local.msgs) == 2020
    assert (await peer.call("stats"))["stats"]["local_only"] == 5
    await local.close()


async def test_redis_restarted_delivery_resumes_by_itself(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    hub, backplane = await make_hub()
    local = Collector(hub, "s")
    peer = await make_peer()
    await peer.call("sub", topic="s")
    await subscribed(redis_server.url, PREFIX + "s", 2)
    hub.publish("s", "before")
    await until(lambda: peer.data("s") == ["before"])

    redis_server.kill()
    await until(lambda: not backplane.connected)
    hub.publish("s", "during")
    late = Collector(hub, "late")  # a topic first subscribed during the outage
    await until(lambda: local.data() == ["before", "during"])
    redis_server.start()  # same port, empty: no subscription survived there

    started = time.monotonic()
    n = 0

    def resumed() -> bool:
        nonlocal n
        if any(isinstance(d, int) for d in peer.data("s")):
            return True
        if backplane.connected:
            n += 1
            hub.publish("s", n)
        return False

    # every process renews its subscriptions; a message crosses again within a few seconds
    await until(resumed, timeout=5, what="delivery to the peer resumed")
    assert backplane.stats["reconnects"] >= 1
    await until_async(
        lambda: _peer_reconnected(peer), timeout=5, what="the peer counted its reconnection"
    )
    await peer.call("pubn", topic="late", n=3, tag="after")
    await until(lambda: len(late.msgs) == 3, timeout=5, what="a topic subscribed during the outage")
    await peer.call("pubn", topic="s", n=1, tag="back")
    await until(lambda: {"tag": "back", "i": 0} in local.data(), timeout=5)
    assert time.monotonic() - started < 10
    assert "during" not in peer.data("s")  # the outage policy: nothing replayed later
    await local.close()
    await late.close()


async def _peer_reconnected(peer: Peer) -> bool:
    reply = await peer.call("stats")
    return bool(reply["connected"]) and reply["stats"]["reconnects"] >= 1


async def test_a_hung_redis_fails_the_writes_after_a_while_and_close_still_returns(
    redis_server: RedisServer, make_hub: MakeHub
) -> None:
    hub, backplane = await make_hub()
    local = Collector(hub, "h")
    await subscribed(redis_server.url, PREFIX + "h", 1)
    hub.publish("h", 0)
    await until(lambda: local.data() == [0])

    redis_server.freeze()
    try:
        for i in range(1, 101):
            hub.publish("h", i)
        # the write times out (5 s): the backplane counts Redis as lost and delivers locally
        await until(lambda: local.data() == list(range(101)), timeout=12, what="local delivery despite the hang")
        assert not backplane.connected
        assert backplane.stats["local_only"] == 100

        redis_server.thaw()
        await until(lambda: backplane.connected, timeout=10, what="reconnected after the hang")
        hub.publish("h", 101)
        await until(lambda: local.data()[-1:] == [101])
        assert backplane.stats["reconnects"] >= 1

        redis_server.freeze()
        hub.publish("h", 102)  # stuck in a write to the hung Redis
        started = time.monotonic()
        await local.close()
        await hub.close()  # gives up flushing after 2 s, and the writer stops though mid-write
        assert time.monotonic() - started < 6
    finally:
        redis_server.thaw()


# configuration -----------------------------------------------------------------------------------


async def test_the_environment_variable_puts_every_default_hub_on_redis(
    redis_server: RedisServer, make_peer: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.collect()  # hubs of earlier tests must not be started by App.startup below
    monkeypatch.delenv(BACKPLANE_ENV, raising=False)
    assert Hub().backplane.local
    monkeypatch.setenv(BACKPLANE_ENV, redis_server.url)
    hub = Hub()
    backplane = hub.backplane
    assert isinstance(backplane, RedisBackplane)
    assert backplane.url == redis_server.url
    assert fanout_module.has_remote_hubs()

    # an app's startup joins the backplane (what each granian worker does)
    app = App()
    await app.startup()
    try:
        assert backplane.connected
        peer = await make_peer(prefix=backplane.prefix)
        await peer.call("sub", topic="env")
        await subscribed(redis_server.url, backplane.prefix + "env", 1)
        hub.publish("env", {"via": "env"})  # published without any local subscriber
        await until(lambda: peer.data("env") == [{"via": "env"}])
    finally:
        await app.shutdown()
        await hub.close()


async def test_redis_down_at_start_the_app_starts_and_connects_later(
    redis_server: RedisServer, make_peer: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.collect()
    redis_server.kill()  # a URL where no Redis answers (yet)
    monkeypatch.setenv(BACKPLANE_ENV, redis_server.url)
    hub = Hub()
    backplane = hub.backplane
    assert isinstance(backplane, RedisBackplane)
    backplane.reconnect_max = 0.3
    app = App()
    started = time.monotonic()
    await app.startup()  # does not fail, does not wait for Redis for long
    try:
        assert time.monotonic() - started < 5
        assert not backplane.connected
        local = Collector(hub, "t")
        hub.publish("t", 1)
        hub.publish("t", 2)
        await until(lambda: local.data() == [1, 2], what="local delivery without Redis")
        assert backplane.stats["local_only"] == 2

        redis_server.start()
        await until(lambda: backplane.connected, timeout=5, what="connected once Redis is up")
        peer = await make_peer(prefix=backplane.prefix)
        await peer.call("sub", topic="t")
        await subscribed(redis_server.url, backplane.prefix + "t", 2)
        hub.publish("t", 3)
        await until(lambda: peer.data("t") == [3] and local.data() == [1, 2, 3])
        await peer.call("pub", topic="t", items=[4])
        await until(lambda: local.data() == [1, 2, 3, 4])
        await local.close()
    finally:
        await app.shutdown()
        await hub.close()


def test_a_malformed_url_is_refused_at_once() -> None:
    for url in ("http://127.0.0.1:6379", "127.0.0.1:6379", "redis://127.0.0.1:port/0"):
        with pytest.raises(ValueError, match="Redis URL"):
            RedisBackplane(url)


async def test_close_flushes_what_is_waiting_to_be_written(
    redis_server: RedisServer, make_hub: MakeHub, make_peer: MakePeer
) -> None:
    peer = await make_peer()
    await peer.call("sub", topic="last")
    hub, backplane = await make_hub()
    await subscribed(redis_server.url, PREFIX + "last", 1)
    for i in range(500):
        hub.publish("last", i)
    await hub.close()  # right away: the 500 are still queued in this process
    assert backplane.stats["published"] == 500
    await until(lambda: len(peer.got("last")) == 500, what="every message published before close()")
    assert peer.data("last") == list(range(500))
