"""Server-push events: subscribe/ack, pushes, versions, late subscribers, unsubscribe.

The event behaviours that fix a weakness of the original live in test_weaknesses.py: a slow
subscriber (w2), churn during a broadcast (w3), per-connection uids (w4), unencodable data (w5),
triggers before start() (w6) and bounded memory (w11).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from webshoes import Bag, WebShoesApp

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def api(app: WebShoesApp) -> WebShoesApp:
    app.register("cmd", "cmd", "q", "evt", "r", {"ping": lambda ctx, q: {"pong": True}})
    return app


def test_subscribe_ack_with_given_uid(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(api)
    before = time.time()
    ack = c.call({"evt": "temp", "uid": "client-7", "tid": "s1"})
    assert list(ack) == ["r", "tid", "t"]
    assert ack["r"] == {"uid": "client-7", "status": "Event added"}
    assert ack["tid"] == "s1"
    assert before - 1 <= ack["t"] <= time.time() + 1


def test_subscribe_ack_with_generated_uid(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(api)
    one = c.call({"evt": "temp"})["r"]
    two = c.call({"evt": "other"})["r"]
    assert HEX32.fullmatch(one["uid"]) and HEX32.fullmatch(two["uid"])
    assert one["uid"] != two["uid"]
    assert one["status"] == "Event added"


def test_push_shape(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(api)
    uid = c.call({"evt": "temp", "uid": "u1", "tid": "x"})["r"]["uid"]
    before = time.time()
    version = api.triggerEvent("temp", {"temperature": 72.3})
    push = c.recv()
    assert list(push) == ["evt", "uid", "ver", "t", "r"]
    assert (push["evt"], push["uid"], push["ver"], push["r"]) == ("temp", uid, version, {"temperature": 72.3})
    assert before - 1 <= push["t"] <= time.time() + 1
    # any JSON value, and a Bag, can be event data
    for data, expected in [
        ([1, "two"], [1, "two"]),
        ("text", "text"),
        (None, None),
        (Bag({"b": {"c": 1}}), {"b": {"c": 1}}),
    ]:
        api.triggerEvent("temp", data)
        assert c.recv()["r"] == expected


def test_late_subscriber_gets_the_latest_value_right_after_its_ack(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    api.triggerEvent("state", {"n": 1})
    latest = api.triggerEvent("state", {"n": 2})
    c = ws_connect(api)
    ack = c.call({"evt": "state", "uid": "late"})
    assert ack["r"]["status"] == "Event added"
    push = c.recv()
    assert (push["evt"], push["uid"], push["ver"], push["r"]) == ("state", "late", latest, {"n": 2})
    # nothing else is pending: the next message is the answer to the next command
    assert c.call({"cmd": "cmd/ping"})["r"] == {"pong": True}


def test_never_triggered_event_sends_nothing_on_subscribe(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    c = ws_connect(api)
    c.call({"evt": "quiet"})
    assert c.call({"cmd": "cmd/ping"})["r"] == {"pong": True}
    assert "quiet" not in api.events


def test_every_trigger_is_pushed_even_identical_data(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    c = ws_connect(api)
    c.call({"evt": "same"})
    versions = []
    for _ in range(3):
        sent = api.triggerEvent("same", {"value": "unchanged"})
        push = c.recv()
        assert push["r"] == {"value": "unchanged"}
        assert push["ver"] == sent
        versions.append(push["ver"])
    assert versions == [versions[0], versions[0] + 1, versions[0] + 2]
    assert api.events["same"] == versions[-1]


def test_versions_increase_and_the_last_one_always_arrives(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    c = ws_connect(api)
    c.call({"evt": "burst"})
    returned = [api.triggerEvent("burst", {"i": i}) for i in range(100)]
    assert returned == list(range(1, 101))
    seen = [m["ver"] for m in c.recv_until(lambda m: m.get("ver") == 100)]
    assert seen == sorted(set(seen)), "versions must strictly increase (none repeated)"
    assert seen[-1] == 100


def test_trigger_from_another_thread(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    c = ws_connect(api)
    c.call({"evt": "threaded"})
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(api.triggerEvent("threaded", {"from": i})))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(results) == [1, 2, 3, 4]
    last = c.recv_until(lambda m: m["ver"] == 4)[-1]
    assert last["r"] in ({"from": i} for i in range(4))


def test_trigger_from_a_handler(api: WebShoesApp, ws_connect: Callable[..., Any]) -> None:
    """Handlers (sync in the pool, async on the loop) trigger events for everyone."""

    def bump(ctx: Any, q: Any) -> Any:
        return {"ver": ctx.wsa.triggerEvent("bumped", {"by": "sync"})}

    async def abump(ctx: Any, q: Any) -> Any:
        return {"ver": ctx.wsa.triggerEvent("bumped", {"by": "async"})}

    api.register("ev", "cmd", "q", "evt", "r", {"bump": bump, "abump": abump})
    watcher, actor = ws_connect(api), ws_connect(api)
    watcher.call({"evt": "bumped"})
    assert actor.call({"cmd": "ev/bump"})["r"] == {"ver": 1}
    assert watcher.recv()["r"] == {"by": "sync"}
    assert actor.call({"cmd": "ev/abump"})["r"] == {"ver": 2}
    assert watcher.recv()["r"] == {"by": "async"}


def test_unsubscribe_stops_pushes(
    api: WebShoesApp, ws_connect: Callable[..., Any], wait_until: Callable[..., None]
) -> None:
    c = ws_connect(api)
    c.call({"evt": "news", "uid": "u1"})
    c.call({"evt": "marker", "uid": "u1"})
    api.triggerEvent("news", 1)
    assert c.recv()["r"] == 1
    out = c.call({"evt": "news", "uid": "u1", "unsubscribe": True, "tid": 5})
    assert out["r"] == {"uid": "u1", "status": "Event removed"}
    assert out["tid"] == 5
    wait_until(lambda: api.hub.subscriber_count("news") == 0, what="the news subscription to end")
    api.triggerEvent("news", 2)
    api.triggerEvent("marker", "after")
    # a news push would have come first (it was triggered first)
    nxt = c.recv()
    assert (nxt["evt"], nxt["r"]) == ("marker", "after")
    # unsubscribing again, or an unknown uid: an error, with the tid
    assert c.call({"evt": "news", "uid": "u1", "unsubscribe": True, "tid": 6}) == {
        "error": "Not subscribed",
        "tid": 6,
    }
    # and subscribing again works, with the latest value at once
    c.call({"evt": "news", "uid": "u1"})
    assert c.recv()["r"] == 2


def test_resubscribing_the_same_uid_keeps_one_subscription(
    api: WebShoesApp, ws_connect: Callable[..., Any]
) -> None:
    c = ws_connect(api)
    for _ in range(3):
        c.call({"evt": "dup", "uid": "same"})
    api.triggerEvent("dup", "once")
    assert c.recv()["r"] == "once"
    assert c.call({"cmd": "cmd/ping"})["r"] == {"pong": True}  # not three pushes
    assert api.hub.subscriber_count("dup") == 1


def test_closing_a_connection_ends_its_subscriptions(
    api: WebShoesApp, ws_connect: Callable[..., Any], wait_until: Callable[..., None]
) -> None:
    c = ws_connect(api)
    c.call({"evt": "a"})
    c.call({"evt": "b"})
    assert api.hub.subscriber_count() == 2
    c.close()
    wait_until(lambda: api.hub.subscriber_count() == 0, what="subscriptions of a closed connection to end")
    assert api.hub.topics() == []
