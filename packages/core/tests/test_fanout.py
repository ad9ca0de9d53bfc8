"""The fan-out hub: policies, threads, one encode per publish, backplanes, WebSocket delivery."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from wirecore import App, Server, WebSocket, codec
from wirecore import fanout as fanout_module
from wirecore.backplane import Backplane, Deliver, InProcessBackplane
from wirecore.fanout import Hub, Message, Policy, Subscription, SubscriptionClosed
from wirecore.sse import format_sse


async def eventually(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``predicate()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def collect(sub: Subscription, count: int) -> list[Any]:
    out = []
    async for msg in sub:
        out.append(msg.data)
        if len(out) == count:
            break
    return out


# messages ------------------------------------------------------------------------------------


def test_message_encodes_at_once_and_caches_its_frames() -> None:
    msg = Message("news", {"n": 1, "s": "a\nb"}, event="tick", id="7")
    assert msg.json == b'{"n":1,"s":"a\\nb"}'
    assert msg.data == {"n": 1, "s": "a\nb"}
    assert msg.text == '{"n":1,"s":"a\\nb"}'
    assert msg.text is msg.text
    assert msg.sse == b'event: tick\nid: 7\ndata: {"n":1,"s":"a\\nb"}\n\n'
    assert msg.sse is msg.sse
    for event, id in ((None, None), ("e", None), (None, "i"), ("e", "i")):
        m = Message("t", [1, "x"], event=event, id=id)
        assert m.sse == format_sse(m.json, event=event, id=id)


@pytest.mark.parametrize("field", ["event", "id"])
@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\r\nb", "\n"])
def test_publish_refuses_line_breaks_in_event_and_id(field: str, bad: str) -> None:
    hub = Hub()
    with pytest.raises(ValueError, match=field):
        hub.publish("t", 1, **{field: bad})


def test_publish_refuses_nul_in_id() -> None:
    with pytest.raises(ValueError):
        Hub().publish("t", 1, id="a\0b")


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        Hub(maxsize=0)
    with pytest.raises(ValueError):
        Hub(policy="drop_newest")  # type: ignore[arg-type]


async def test_subscribe_needs_topics_and_an_event_loop() -> None:
    hub = Hub()
    with pytest.raises(ValueError):
        hub.subscribe()
    with pytest.raises(ValueError):
        hub.subscribe("t", policy="sometimes")  # type: ignore[arg-type]
    errors: list[BaseException] = []

    def off_loop() -> None:
        try:
            Hub().subscribe("t")
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=off_loop)
    thread.start()
    thread.join()
    assert len(errors) == 1


def test_publish_without_subscribers_is_a_no_op_that_still_encodes() -> None:
    hub = Hub()
    assert hub.publish("nobody", {"a": 1}).json == b'{"a":1}'
    with pytest.raises(TypeError):
        hub.publish("nobody", object())


# delivery and policies ---------------------------------------------------------------------


async def test_every_subscriber_gets_every_message_in_order() -> None:
    hub = Hub()
    subs = [hub.subscribe("news") for _ in range(5)]
    other = hub.subscribe("other")
    readers = [asyncio.create_task(collect(s, 100)) for s in subs]
    for i in range(100):
        hub.publish("news", i)
        if i % 7 == 0:
            await asyncio.sleep(0)
    results = await asyncio.gather(*readers)
    assert all(r == list(range(100)) for r in results)
    assert other.pending == 0
    assert hub.subscriber_count() == 6
    assert hub.subscriber_count("news") == 5


@pytest.mark.parametrize("policy", ["drop_oldest", "keep_latest", "disconnect"])
async def test_a_slow_subscriber_never_holds_back_the_others(policy: Policy) -> None:
    hub = Hub(maxsize=8, policy=policy)
    fast = [hub.subscribe("t") for _ in range(3)]
    slow = hub.subscribe("t")  # never reads
    readers = [asyncio.create_task(collect(s, 100)) for s in fast]
    await asyncio.sleep(0)
    for i in range(100):
        hub.publish("t", i)  # synchronous: the publisher cannot wait for anyone
        await asyncio.sleep(0)  # let the readers run
    results = await asyncio.wait_for(asyncio.gather(*readers), 5)
    assert all(r == list(range(100)) for r in results)
    assert all(s.dropped == 0 for s in fast)

    if policy == "drop_oldest":
        assert slow.pending == 8
        assert slow.dropped == 92
        assert await collect(slow, 8) == list(range(92, 100))
    elif policy == "keep_latest":
        assert slow.pending == 1
        assert slow.dropped == 99
        assert (await slow.get()).data == 99
    else:
        assert slow.closed and slow.overflowed
        assert slow.dropped == 9  # eight queued and the one that did not fit
        assert [m async for m in slow] == []
        with pytest.raises(SubscriptionClosed):
            await slow.get()
        assert hub.subscriber_count("t") == 3


@pytest.mark.parametrize("policy", ["drop_oldest", "keep_latest", "disconnect"])
async def test_a_burst_with_nobody_reading_stays_bounded(policy: Policy) -> None:
    hub = Hub(maxsize=16, policy=policy)
    subs = [hub.subscribe("t") for _ in range(20)]
    for i in range(20_000):  # no await: nothing else can run
        hub.publish("t", i)
    bound = 1 if policy == "keep_latest" else 16
    assert all(s.pending <= bound for s in subs)
    if policy == "disconnect":
        assert hub.subscriber_count() == 0
        assert hub.topics() == []
    else:
        assert all(s.dropped == 20_000 - bound for s in subs)
        assert [(await s.get()).data for s in subs] == [20_000 - bound] * len(subs)


async def test_per_subscriber_overrides() -> None:
    hub = Hub(maxsize=4, policy="drop_oldest")
    roomy = hub.subscribe("t", maxsize=100)
    latest = hub.subscribe("t", policy="keep_latest")
    strict = hub.subscribe("t", policy="disconnect")
    for i in range(10):
        hub.publish("t", i)
    assert roomy.pending == 10 and roomy.dropped == 0
    assert latest.pending == 1 and latest.maxsize == 1
    assert strict.closed and hub.subscriber_count() == 2


async def test_messages_are_shared_and_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    def counting_encode(obj: Any) -> bytes:
        nonlocal calls
        calls += 1
        return codec.encode(obj)

    monkeypatch.setattr(fanout_module, "_encode", counting_encode)
    hub = Hub()
    subs = [hub.subscribe("t") for _ in range(50)]
    for i in range(10):
        hub.publish("t", {"i": i, "payload": "x" * 100}, event="e")
    assert calls == 10
    received = [[await s.get() for _ in range(10)] for s in subs]
    for i in range(10):
        first = received[0][i]
        assert all(r[i] is first for r in received)  # one Message object for all
        frames = {id(r[i].sse) for r in received}
        texts = {id(r[i].text) for r in received}
        assert len(frames) == 1 and len(texts) == 1  # framed and decoded once
    assert calls == 10


async def test_unencodable_data_raises_and_subscribers_carry_on() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    with pytest.raises(TypeError):
        hub.publish("t", {"when": object()})
    with pytest.raises(TypeError):
        hub.publish("t", [1, 2, lambda: 3])
    assert sub.pending == 0 and sub.dropped == 0 and not sub.closed
    hub.publish("t", "fine")
    assert (await sub.get()).data == "fine"


async def test_unencodable_data_raises_in_the_publishing_thread() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            hub.publish("t", object())
        except TypeError as exc:
            errors.append(exc)
        hub.publish("t", "after")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert len(errors) == 1
    assert (await asyncio.wait_for(sub.get(), 2)).data == "after"


# threads --------------------------------------------------------------------------------------


async def test_publish_from_many_threads_arrives_in_order_per_thread() -> None:
    hub = Hub(maxsize=100_000)
    subs = [hub.subscribe("t") for _ in range(3)]
    threads_n, per_thread = 6, 500
    start = threading.Barrier(threads_n)

    def worker(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            hub.publish("t", [n, i])

    readers = [asyncio.create_task(collect(s, threads_n * per_thread + 50)) for s in subs]
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    # the loop keeps publishing too while the threads do
    for i in range(50):
        hub.publish("t", [-1, i])
        await asyncio.sleep(0)
    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    for t in threads:
        t.join()
    for r in results:
        by_thread: dict[int, list[int]] = {}
        for n, i in r:
            by_thread.setdefault(n, []).append(i)
        for n in range(threads_n):
            assert by_thread[n] == list(range(per_thread))
        assert by_thread[-1] == list(range(50))
    assert all(s.dropped == 0 for s in subs)


async def test_close_from_another_thread() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    reader = asyncio.create_task(collect(sub, 10))
    await asyncio.sleep(0)
    thread = threading.Thread(target=sub.close)
    thread.start()
    thread.join()
    assert await asyncio.wait_for(reader, 2) == []
    assert hub.subscriber_count() == 0


# closing ---------------------------------------------------------------------------------------


async def test_close_ends_iteration_and_forgets_the_topics() -> None:
    hub = Hub()
    sub = hub.subscribe("a", "b", "a")
    assert sub.topics == ("a", "b")
    assert sorted(hub.topics()) == ["a", "b"]
    hub.publish("a", 1)
    hub.publish("b", 2)
    assert [(await sub.get()).data, (await sub.get()).data] == [1, 2]
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    sub.close()
    sub.close()  # idempotent
    with pytest.raises(SubscriptionClosed):
        await waiting
    assert [m async for m in sub] == []
    assert hub.topics() == [] and hub.subscriber_count() == 0
    hub.publish("a", 3)  # nobody left: fine


async def test_random_topic_names_do_not_accumulate() -> None:
    hub = Hub()
    for i in range(1000):
        sub = hub.subscribe(f"topic-{i}", "shared")
        hub.publish(f"topic-{i}", i)
        sub.close()
    assert hub.topics() == []


async def test_close_discards_what_was_queued() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    for i in range(5):
        hub.publish("t", i)
    sub.close()
    assert sub.pending == 0 and sub.dropped == 0
    assert [m async for m in sub] == []


async def test_hub_close_closes_every_subscription() -> None:
    hub = Hub()
    subs = [hub.subscribe(f"t{i % 3}") for i in range(9)]
    readers = [asyncio.create_task(collect(s, 100)) for s in subs]
    await asyncio.sleep(0)
    hub.publish("t0", "x")
    await hub.close()
    results = await asyncio.wait_for(asyncio.gather(*readers), 2)
    assert results[0] == ["x"] and results[1] == []
    assert all(s.closed for s in subs) and hub.subscriber_count() == 0
    # the hub can be used again
    again = hub.subscribe("t0")
    hub.publish("t0", "y")
    assert (await again.get()).data == "y"


async def test_a_cancelled_get_does_not_lose_the_message() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    getter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    hub.publish("t", "handed over")  # resolves the waiter...
    getter.cancel()  # ...and the task is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await getter
    assert (await sub.get()).data == "handed over"


async def test_a_wake_up_without_a_message_keeps_the_order() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    getter = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert sub._poke()  # what the SSE heartbeat timer does
    hub.publish("t", 1)  # queued before the getter runs again
    hub.publish("t", 2)
    assert (await getter).data == 1
    assert (await sub.get()).data == 2


async def test_one_waiter_at_a_time() -> None:
    hub = Hub()
    sub = hub.subscribe("t")
    first = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await sub.get()
    first.cancel()


async def test_a_hub_moves_to_a_new_loop_once_its_subscribers_are_gone() -> None:
    hub = Hub()

    def other_loop() -> list[Any]:
        async def main() -> list[Any]:
            sub = hub.subscribe("t")
            hub.publish("t", "there")
            got = [(await sub.get()).data]
            sub.close()
            return got

        return asyncio.run(main())

    assert await asyncio.to_thread(other_loop) == ["there"]
    sub = hub.subscribe("t")  # the old loop is closed: rebinds here
    hub.publish("t", "here")
    assert (await sub.get()).data == "here"


# backplanes -----------------------------------------------------------------------------------


def test_envelope_format() -> None:
    cases = {
        (None, None): b'0{"n":1}',
        ("tick", None): b'1tick\n{"n":1}',
        (None, "7"): b'27\n{"n":1}',
        ("tick", "7"): b'3tick\n7\n{"n":1}',
    }
    for (event, id), wire in cases.items():
        msg = Message("news", {"n": 1}, event=event, id=id)
        assert msg.envelope() == wire
        back = Message.from_envelope("news", wire)
        assert (back.topic, back.event, back.id, back.json) == ("news", event, id, msg.json)
        assert back.data == {"n": 1}
        assert back.sse == msg.sse
    for bad in (b"", b"9{}", b"{}", b"1no-newline", b"3only-event\n"):
        with pytest.raises(ValueError):
            Message.from_envelope("t", bad)


class Broker:
    """A stand-in for Redis pub/sub: channels shared by several backplanes."""

    def __init__(self) -> None:
        self.channels: dict[str, set[FakeRemote]] = {}
        self.log: list[tuple[str, str]] = []


class FakeRemote(Backplane):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.deliver: Deliver | None = None
        self.closed = False

    async def start(self, deliver: Deliver) -> None:
        self.deliver = deliver

    async def publish(self, topic: str, payload: bytes) -> None:
        self.broker.log.append(("publish", topic))
        for peer in list(self.broker.channels.get(topic, ())):
            assert peer.deliver is not None
            peer.deliver(topic, payload)

    async def subscribe(self, topic: str) -> None:
        self.broker.log.append(("subscribe", topic))
        self.broker.channels.setdefault(topic, set()).add(self)

    async def unsubscribe(self, topic: str) -> None:
        self.broker.log.append(("unsubscribe", topic))
        self.broker.channels[topic].discard(self)

    async def close(self) -> None:
        self.closed = True


async def test_a_remote_backplane_links_hubs() -> None:
    broker = Broker()
    a, b = Hub(backplane=FakeRemote(broker)), Hub(backplane=FakeRemote(broker))
    sub_a, sub_b = a.subscribe("news"), b.subscribe("news")
    await a.start()
    await b.start()
    await eventually(lambda: len(broker.channels.get("news", ())) == 2)
    sent = a.publish("news", {"n": 1}, event="tick", id="1")
    got_a = await asyncio.wait_for(sub_a.get(), 2)
    got_b = await asyncio.wait_for(sub_b.get(), 2)
    for got in (got_a, got_b):
        assert (got.topic, got.event, got.id, got.data) == ("news", "tick", "1", {"n": 1})
        assert got.json == sent.json and got.sse == sent.sse
    # a thread publishes through the backplane as well
    thread = threading.Thread(target=b.publish, args=("news", [2]))
    thread.start()
    thread.join()
    assert (await asyncio.wait_for(sub_a.get(), 2)).data == [2]
    assert (await asyncio.wait_for(sub_b.get(), 2)).data == [2]
    # the last local subscriber leaving unsubscribes the topic
    sub_b.close()
    await eventually(lambda: ("unsubscribe", "news") in broker.log)
    a.publish("news", 3)
    assert (await asyncio.wait_for(sub_a.get(), 2)).data == 3
    await a.close()
    await b.close()
    assert a.backplane.closed and b.backplane.closed  # type: ignore[attr-defined]


async def test_publishing_before_the_hub_joins_its_backplane_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    broker = Broker()
    hub = Hub(backplane=FakeRemote(broker))
    with caplog.at_level(logging.WARNING, logger="wirecore.fanout"):
        hub.publish("t", 1)  # before the server started: nobody here is subscribed yet
        hub.publish("t", 2)
    assert caplog.text.count("before this process joined the backplane") == 1
    await hub.start()
    hub.publish("t", 1)
    with pytest.raises(TypeError):
        hub.publish("t", object())
    await hub.close()


async def test_a_failing_backplane_start_is_reported() -> None:
    class Broken(FakeRemote):
        async def start(self, deliver: Deliver) -> None:
            raise ConnectionError("no broker")

    hub = Hub(backplane=Broken(Broker()))
    with pytest.raises(ConnectionError):
        await hub.start()
    with pytest.raises(RuntimeError, match="stopped"):
        hub.publish("t", 1)
    await hub.close()


async def test_the_in_process_backplane_is_bypassed() -> None:
    class Counting(InProcessBackplane):
        publishes = 0

        async def publish(self, topic: str, payload: bytes) -> None:
            self.publishes += 1
            await super().publish(topic, payload)

    backplane = Counting()
    hub = Hub(backplane=backplane)
    assert isinstance(Hub().backplane, InProcessBackplane)
    sub = hub.subscribe("t")
    hub.publish("t", 1)
    assert (await sub.get()).data == 1
    assert backplane.publishes == 0
    # code written against the Backplane interface can still inject enveloped messages
    await hub.start()
    await backplane.publish("t", Message("t", {"x": 2}, id="9").envelope())
    got = await sub.get()
    assert (got.data, got.id) == ({"x": 2}, "9")


# WebSocket delivery over a real server --------------------------------------------------------


def ws_app(hub: Hub, **options: Any) -> App:
    app = App()

    @app.websocket("/ws/{topic}")
    async def feed(ws: WebSocket) -> None:
        await hub.stream_websocket(ws, ws.path_params["topic"], **options)

    return app


def ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


async def test_websocket_subscribers_get_json_text(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(ws_app(hub))
    async with connect(ws_url(server, "/ws/news")) as one, connect(ws_url(server, "/ws/news")) as two:
        await eventually(lambda: hub.subscriber_count("news") == 2)
        for i in range(20):
            hub.publish("news", {"i": i, "text": "héllo\n"})
        for client in (one, two):
            frames = [await asyncio.wait_for(client.recv(), 2) for _ in range(20)]
            assert all(isinstance(f, str) for f in frames)
            assert [json.loads(f) for f in frames] == [{"i": i, "text": "héllo\n"} for i in range(20)]
        # what the client sends is read and ignored
        await one.send("ignored")
        hub.publish("news", "still here")
        assert json.loads(await asyncio.wait_for(one.recv(), 2)) == "still here"
    await eventually(lambda: hub.subscriber_count() == 0, 1.5)


async def test_closing_the_websocket_client_removes_the_subscriber(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(ws_app(hub))
    client = await connect(ws_url(server, "/ws/idle"))
    await eventually(lambda: hub.subscriber_count("idle") == 1)
    await client.close()
    await eventually(lambda: hub.subscriber_count() == 0, 1.5)
    assert hub.topics() == []


async def test_ending_the_subscription_ends_the_websocket(
    serve: Callable[..., Server], interface: str
) -> None:
    hub = Hub()
    server = serve(ws_app(hub))
    async with connect(ws_url(server, "/ws/t")) as client:
        await eventually(lambda: hub.subscriber_count() == 1)
        await hub.close()
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(client.recv(), 2)
        if interface == "asgi":  # granian's RSGI close frame carries no status code
            assert info.value.rcvd is not None and info.value.rcvd.code == 1000


async def test_a_too_slow_websocket_is_closed_with_1013(serve: Callable[..., Server], interface: str) -> None:
    hub = Hub()
    server = serve(ws_app(hub, maxsize=4, policy="disconnect"))
    async with connect(ws_url(server, "/ws/t")) as client:
        await eventually(lambda: hub.subscriber_count() == 1)

        def flood() -> None:
            for i in range(50_000):
                hub.publish("t", i)
                if hub.subscriber_count() == 0:
                    return

        await asyncio.to_thread(flood)
        await eventually(lambda: hub.subscriber_count() == 0)
        with pytest.raises(websockets.ConnectionClosed) as info:
            while True:
                await asyncio.wait_for(client.recv(), 2)
        if interface == "asgi":  # granian's RSGI close frame carries no status code
            assert info.value.rcvd is not None and info.value.rcvd.code == 1013


async def test_server_stop_ends_websocket_streams(serve: Callable[..., Server]) -> None:
    hub = Hub()
    server = serve(ws_app(hub))
    clients = [await connect(ws_url(server, "/ws/t")) for _ in range(3)]
    await eventually(lambda: hub.subscriber_count() == 3)
    started = time.monotonic()
    await asyncio.to_thread(server.stop)
    for client in clients:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(client.recv(), 2)
    assert time.monotonic() - started < 3.0  # Server.stop promises about 2 s
    assert hub.subscriber_count() == 0
