"""One or more tests per weakness of webshoes 1.0.0 (spec section 5), named ``test_w<N>_...``.

Each asserts the fixed behaviour, which the original did not have. Where the brief listed a
behaviour under test_server.py or test_events.py and it is the fix of a weakness, the test is
here and only here.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.metadata
import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from webshoes import Bag, WebShoesApp

Connect = Callable[..., Any]


def add(ctx: Any, q: Any) -> Any:
    return {"result": int(q.a) + int(q.b)}


def echo(ctx: Any, q: Any) -> Any:
    return {"args": q.as_dict()}


@pytest.fixture
def api(app: WebShoesApp) -> WebShoesApp:
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add, "echo": echo})
    return app


# --- w1: dependency rot -----------------------------------------------------------------------


def test_w1_args_object_is_our_own_and_ws_calls_work(api: WebShoesApp, ws_connect: Connect) -> None:
    """propertybag 1.0.1 broke every WS message of the original ("Expecting value...")."""
    requires = importlib.metadata.requires("webshoes") or []
    assert not any(r.lower().startswith("propertybag") for r in requires)
    assert "propertybag" not in sys.modules
    kinds: list[type] = []

    def kind(ctx: Any, q: Any) -> Any:
        kinds.extend((type(q), type(ctx)))
        return {"a": q.a, "missing": bool(q.nothing)}

    api.register("k", "cmd", "q", "evt", "r", {"kind": kind})
    c = ws_connect(api)
    assert c.call({"cmd": "cmd/add", "q": {"a": 2, "b": 3}}) == {
        "r": {"result": 5},
        "t": pytest.approx(time.time(), abs=30),
    }
    assert c.call({"cmd": "k/kind", "q": {"a": 1}})["r"] == {"a": 1, "missing": False}
    assert kinds == [Bag, Bag]


# --- w2: head-of-line blocking ----------------------------------------------------------------


def _ws_frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _stuck_subscriber(app: WebShoesApp, event: str) -> socket.socket:
    """A raw client that completes the handshake, subscribes, and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", app.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "handshake failed"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(_ws_frame(json.dumps({"evt": event, "uid": "stuck"})))
    return sock


def test_w2_a_subscriber_that_stops_reading_does_not_delay_others(
    api: WebShoesApp, ws_connect: Connect, wait_until: Callable[..., None]
) -> None:
    healthy = ws_connect(api, max_size=None)
    healthy.call({"evt": "big"})
    stuck = _stuck_subscriber(api, "big")
    try:
        wait_until(lambda: api.hub.subscriber_count("big") == 2, what="the stuck client's subscription")
        blob = "x" * 65536
        last = 0
        for i in range(200):
            last = api.triggerEvent("big", {"i": i, "blob": blob})
        got = healthy.recv_until(lambda m: m.get("ver") == last, timeout=10)
        assert got[-1]["r"]["i"] == 199
        # the healthy connection still answers commands, and newcomers get the latest at once
        assert healthy.call({"cmd": "cmd/add", "q": {"a": 1, "b": 1}})["r"] == {"result": 2}
        newcomer = ws_connect(api, max_size=None)
        newcomer.call({"evt": "big"})
        assert newcomer.recv()["ver"] == last
    finally:
        stuck.close()


# --- w3: concurrent modification during a broadcast -------------------------------------------


def test_w3_subscribing_and_disconnecting_during_broadcasts(
    api: WebShoesApp, ws_connect: Connect, wait_until: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    steady = ws_connect(api)
    steady.call({"evt": "churn"})
    done = threading.Event()

    def trigger() -> None:
        i = 0
        while not done.is_set() and i < 5000:
            api.triggerEvent("churn", {"i": i, "pad": "p" * 512})
            i += 1

    thread = threading.Thread(target=trigger)
    thread.start()
    try:
        for n in range(30):
            c = ws_connect(api)
            c.send({"evt": "churn", "uid": f"churner-{n}"})
            if n % 2:
                c.recv()  # half of them wait for the ack (and maybe a push), half leave at once
            c.close()
    finally:
        done.set()
        thread.join(10)
    final = api.triggerEvent("churn", "final")
    last = steady.recv_until(lambda m: m.get("ver") == final, timeout=10)[-1]
    assert last["r"] == "final"
    wait_until(lambda: api.hub.subscriber_count("churn") == 1, what="churners' subscriptions to end")
    problems = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.split(".")[0] in ("webshoes", "wirecore")
    ]
    assert not problems, [r.getMessage() for r in problems]


# --- w4: uid-keyed subscriptions --------------------------------------------------------------


def test_w4_same_uid_on_another_connection_takes_nothing_over(
    api: WebShoesApp, ws_connect: Connect, wait_until: Callable[..., None]
) -> None:
    first, second, third = ws_connect(api), ws_connect(api), ws_connect(api)
    assert first.call({"evt": "feed", "uid": "shared"})["r"]["uid"] == "shared"
    assert second.call({"evt": "feed", "uid": "shared"})["r"]["uid"] == "shared"
    api.triggerEvent("feed", 1)
    assert first.recv()["r"] == 1
    assert second.recv()["r"] == 1
    # a connection that never subscribed cannot cancel someone else's uid
    assert third.call({"evt": "feed", "uid": "shared", "unsubscribe": True})["error"] == "Not subscribed"
    # the second leaves: the first stays subscribed
    second.close()
    wait_until(
        lambda: api.hub.subscriber_count("feed") == 1, what="the second connection's subscription to end"
    )
    api.triggerEvent("feed", 2)
    push = first.recv()
    assert (push["r"], push["uid"]) == (2, "shared")


# --- w5: unencodable event data ---------------------------------------------------------------


def test_w5_unencodable_event_data_raises_and_keeps_subscribers(
    api: WebShoesApp, ws_connect: Connect
) -> None:
    c = ws_connect(api)
    c.call({"evt": "data"})
    v1 = api.triggerEvent("data", {"ok": 1})
    assert c.recv()["ver"] == v1
    with pytest.raises(TypeError):
        api.triggerEvent("data", {"bad": object()})
    with pytest.raises(TypeError):
        api.triggerEvent("data", [1, threading.Lock()])
    assert api.events["data"] == v1  # nothing changed
    v2 = api.triggerEvent("data", {"ok": 2})
    push = c.recv()
    assert (push["ver"], push["r"]) == (v1 + 1, {"ok": 2}) == (v2, {"ok": 2})
    late = ws_connect(api)
    late.call({"evt": "data"})
    assert late.recv()["r"] == {"ok": 2}


# --- w6: silent drops -------------------------------------------------------------------------


def test_w6_unmatched_ws_messages_get_an_error_reply(api: WebShoesApp, ws_connect: Connect) -> None:
    c = ws_connect(api)
    assert c.call({"cmd": "heartbeat", "tid": "a"}) == {
        "error": "Unknown command",
        "tid": "a",
    }  # no sub prefix
    assert c.call({"cmd": "other/add", "tid": "b"}) == {"error": "Unknown command", "tid": "b"}
    assert c.call({"foo": 1, "tid": "c"}) == {"error": "Unknown command", "tid": "c"}
    assert "error" in c.call([1, 2])
    assert "error" in c.call("null")


def test_w6_falsy_results_get_a_reply(app: WebShoesApp, ws_connect: Connect) -> None:
    values: dict[str, Any] = {"none": None, "empty": {}, "zero": 0, "blank": "", "nothing": []}
    fm = {name: (lambda v: lambda ctx, q: v)(value) for name, value in values.items()}
    app.register("cmd", "cmd", "q", "evt", "r", fm)
    app.register("flat", "cmd", "q", "evt", "", {"none": fm["none"], "empty": fm["empty"]})
    c = ws_connect(app)
    for name, value in values.items():
        out = c.call({"cmd": f"cmd/{name}", "tid": name})
        assert (out["r"], out["tid"]) == (value, name)
    for name in ("none", "empty"):
        out = c.call({"cmd": f"flat/{name}", "tid": name})
        assert set(out) == {"tid", "t"} and out["tid"] == name


def test_w6_trigger_before_start_and_while_stopped_is_kept(
    make_app: Callable[..., WebShoesApp], ws_connect: Connect
) -> None:
    app = make_app(start=False)
    app.register("cmd", "cmd", "q", "evt", "r", {})
    assert app.triggerEvent("early", {"before": "start"}) == 1
    app.start()
    c = ws_connect(app)
    c.call({"evt": "early"})
    push = c.recv()
    assert (push["ver"], push["r"]) == (1, {"before": "start"})
    app.stop()
    assert app.triggerEvent("early", {"while": "stopped"}) == 2
    app.start()
    c = ws_connect(app)
    c.call({"evt": "early"})
    push = c.recv()
    assert (push["ver"], push["r"]) == (2, {"while": "stopped"})


def test_w6_start_raises_oserror_when_the_port_is_taken(
    make_app: Callable[..., WebShoesApp], http: httpx.Client
) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        blocked = make_app(start=False, port=port)
        with pytest.raises(Exception) as by_socket:
            blocked.start()
        assert blocked.server is None
    finally:
        holder.close()
    first = make_app(start=False, port=port)
    first.register("cmd", "cmd", "q", "evt", "r", {"who": lambda ctx, q: {"me": "first"}})
    first.start()
    second = make_app(start=False, port=port)
    with pytest.raises(Exception) as by_app:
        second.start()
    assert http.get(f"{first.url}/cmd/who").json() == {"me": "first"}  # the first is untouched
    first.stop()
    second.start()  # the port is free again
    assert second.port == port
    for info in (by_socket, by_app):
        assert isinstance(info.value, OSError), (
            f"{type(info.value).__name__} is not an OSError: {type(info.value).__mro__}"
        )


# --- w7: stop() blocking ----------------------------------------------------------------------


def test_w7_stop_closes_clients_and_returns_within_2s(
    api: WebShoesApp, ws_connect: Connect, wait_until: Callable[..., None]
) -> None:
    running = threading.Event()

    async def slow(ctx: Any, q: Any) -> Any:
        running.set()
        await asyncio.sleep(30)
        return {}

    api.register("slow", "cmd", "q", "evt", "r", {"call": slow})
    idle = ws_connect(api)
    subscribed = ws_connect(api)
    subscribed.call({"evt": "tick"})
    busy = ws_connect(api)
    busy.send({"cmd": "slow/call"})
    wait_until(running.is_set, what="the slow handler to start")
    keep_alive = httpx.Client(timeout=5)
    assert keep_alive.get(f"{api.url}/cmd/add?a=1&b=1").status_code == 200
    port = api.port
    try:
        t0 = time.monotonic()
        api.stop()
        elapsed = time.monotonic() - t0
    finally:
        keep_alive.close()
    assert elapsed < 2.5, f"stop() took {elapsed:.2f}s"
    for client in (idle, subscribed, busy):
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- w8: start() readiness --------------------------------------------------------------------


def test_w8_start_returns_once_the_port_accepts(
    make_app: Callable[..., WebShoesApp], http: httpx.Client, ws_connect: Connect
) -> None:
    app = make_app(start=False)
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add})
    for _ in range(3):
        app.start()
        # no sleep, no retry: the first attempt must succeed
        socket.create_connection(("127.0.0.1", app.port), timeout=1).close()
        assert http.get(f"{app.url}/cmd/add?a=1&b=2").json() == {"result": 3}
        assert ws_connect(app).call({"cmd": "cmd/add", "q": {"a": 2, "b": 2}})["r"] == {"result": 4}
        app.stop()


# --- w9: sync handlers block the loop ---------------------------------------------------------


@pytest.mark.parametrize("transport", ["http", "ws"])
def test_w9_slow_sync_handler_does_not_stall_other_clients(
    api: WebShoesApp, http: httpx.Client, ws_connect: Connect, transport: str
) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow(ctx: Any, q: Any) -> Any:
        started.set()
        release.wait(5)  # blocks its worker thread until the fast request has been answered
        finished.set()
        return {"slow": True}

    api.register("w", "cmd", "q", "evt", "r", {"slow": slow, "fast": lambda ctx, q: {"fast": True}})
    slow_result: list[Any] = []
    if transport == "http":
        with httpx.Client(timeout=10) as other:
            caller = threading.Thread(
                target=lambda: slow_result.append(other.get(f"{api.url}/w/slow").json())
            )
            caller.start()
            try:
                assert started.wait(5), "the slow handler never started"
                assert http.get(f"{api.url}/w/fast").json() == {"fast": True}
                fast_ws = ws_connect(api).call({"cmd": "w/fast"})["r"]
                assert not finished.is_set(), "the fast requests waited for the slow one"
            finally:
                release.set()
                caller.join(10)
        assert slow_result == [{"slow": True}]
    else:
        slow_client = ws_connect(api)
        slow_client.send({"cmd": "w/slow"})
        try:
            assert started.wait(5), "the slow handler never started"
            fast_ws = ws_connect(api).call({"cmd": "w/fast"})["r"]
            assert http.get(f"{api.url}/w/fast").json() == {"fast": True}
            assert not finished.is_set(), "the fast requests waited for the slow one"
        finally:
            release.set()
        assert slow_client.recv()["r"] == {"slow": True}
    assert fast_ws == {"fast": True}


# --- w10: dead peers --------------------------------------------------------------------------


# Not fixed (docs/webshoes.md says so): granian gives applications no WebSocket ping frames, and an
# idle timeout would cut off clients that only listen; a dead peer is found when a send fails.


# --- w11: unbounded memory --------------------------------------------------------------------


def test_w11_many_event_names_from_one_client_stay_bounded(
    make_app: Callable[..., WebShoesApp], ws_connect: Connect, wait_until: Callable[..., None]
) -> None:
    app = make_app({"max_subscriptions": 100})
    app.register("cmd", "cmd", "q", "evt", "r", {})
    app.triggerEvent("real", {"kept": True})
    c = ws_connect(app)
    replies: list[Any] = []
    names = [f"random-{i:05d}" for i in range(5000)]
    for start in range(0, len(names), 250):  # in batches: never more than 250 replies in flight
        batch = names[start : start + 250]
        for i, name in enumerate(batch, start):
            c.send({"evt": name, "tid": i})
        replies += [c.recv() for _ in batch]
    assert [r["tid"] for r in replies] == list(range(5000))
    added = [r for r in replies if "r" in r]
    refused = [r for r in replies if "error" in r]
    assert len(added) == 100 and all(r["r"]["status"] == "Event added" for r in added)
    assert len(refused) == 4900
    assert all(r["error"].startswith("Too many subscriptions") for r in refused)
    assert app.hub.subscriber_count() == 100
    c.close()
    wait_until(lambda: app.hub.topics() == [], what="every topic of the closed connection to go")
    assert app.events == {"real": 1}


def test_w11_resubscribing_does_not_grow(make_app: Callable[..., WebShoesApp], ws_connect: Connect) -> None:
    app = make_app({"max_subscriptions": 10})
    app.register("cmd", "cmd", "q", "evt", "r", {})
    c = ws_connect(app)
    for i in range(300):
        assert c.call({"evt": "same", "uid": "me", "tid": i})["r"]["status"] == "Event added"
    assert app.hub.subscriber_count() == 1
    app.triggerEvent("same", 1)
    assert c.recv()["r"] == 1


# --- w12: security ----------------------------------------------------------------------------


def test_w12_cross_site_websocket_is_refused(
    make_app: Callable[..., WebShoesApp], ws_connect: Connect
) -> None:
    app = make_app({"origins": ["https://trusted.example"]})
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add})
    call = {"cmd": "cmd/add", "q": {"a": 1, "b": 1}}
    for origin in ("https://evil.example", "http://127.0.0.1.evil.example", "null"):
        with pytest.raises((InvalidStatus, ConnectionClosed)):
            ws_connect(app, origin=origin).call(call)
    assert ws_connect(app, origin=app.url).call(call)["r"] == {"result": 2}  # same origin
    assert ws_connect(app, origin="https://trusted.example").call(call)["r"] == {
        "result": 2
    }  # opts['origins']
    assert ws_connect(app).call(call)["r"] == {"result": 2}  # no Origin: not a browser


def test_w12_cross_site_post_is_refused(make_app: Callable[..., WebShoesApp], http: httpx.Client) -> None:
    calls: list[str] = []

    def change(ctx: Any, q: Any) -> Any:
        calls.append(ctx.req.method)
        return {"changed": True}

    app = make_app({"origins": ["https://trusted.example"]})
    app.register("cmd", "cmd", "q", "evt", "r", {"change": change})
    url = f"{app.url}/cmd/change"
    evil = {"Origin": "https://evil.example"}
    assert http.post(url, data={"x": "1"}, headers=evil).status_code == 403
    assert http.put(url, headers=evil).status_code == 403
    assert http.delete(url, headers=evil).status_code == 403
    assert calls == []
    assert http.post(url, data={"x": "1"}, headers={"Origin": app.url}).status_code == 200
    assert http.post(url, headers={"Origin": "https://trusted.example"}).status_code == 200
    assert http.post(url).status_code == 200
    assert calls == ["POST", "POST", "POST"]


def _browser_resolve(base: str, location: str) -> str:
    """Where a browser goes for ``location`` (WHATWG URL parsing: ASCII tab/newline removed,
    leading/trailing C0 controls and spaces stripped, backslash = slash in http URLs)."""
    loc = re.sub(r"[\t\n\r]", "", location).strip("".join(map(chr, range(0x21))))
    return urljoin(base, loc.replace("\\", "/"))


@pytest.fixture
def star_site(app: WebShoesApp, tmp_path: Path) -> WebShoesApp:
    for d in ("", "d", "evil.example/d"):
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
        (tmp_path / d / "index.html").write_text(f"index of /{d}")
    app.register("*", "", "", "", "", {"*": {"root": str(tmp_path), "defpage": "index.html"}})
    return app


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/d",
        "///evil.example/d",
        "/%2Fevil.example/d",
        "/%2F%2Fevil.example/d",
        "/%5Cevil.example/..",
        "/%5Cevil.example/../d",
        "/%5C%5Cevil.example/../..",
        "/%09/evil.example/../..",
    ],
)
def test_w12_no_open_redirect_from_a_star_static_group(
    star_site: WebShoesApp, raw_http: Callable[..., Any], target: str
) -> None:
    status, headers, _ = raw_http(star_site, target)
    if 300 <= status < 400:
        location = headers["location"]
        assert location.startswith("/") and location[1:2] not in ("/", "\\"), location
        base = f"http://127.0.0.1:{star_site.port}{target}"
        landed = urlsplit(_browser_resolve(base, location))
        assert landed.netloc == f"127.0.0.1:{star_site.port}", f"{target} redirects off-site: {location!r}"


def test_w12_dotfiles_are_not_served(
    app: WebShoesApp, tmp_path: Path, http: httpx.Client, raw_http: Callable[..., Any]
) -> None:
    secret = "dotfile-content"
    (tmp_path / ".env").write_text(secret)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(secret)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".htpasswd").write_text(secret)
    (tmp_path / "visible.txt").write_text("fine")
    app.register("site", "", "", "", "", {"*": {"root": str(tmp_path), "defpage": "index.html"}})
    app.register("*", "", "", "", "", {"*": {"root": str(tmp_path)}})
    assert http.get(f"{app.url}/site/visible.txt").text == "fine"
    for target in (
        "/site/.env",
        "/site/.git/config",
        "/site/sub/.htpasswd",
        "/site/%2eenv",
        "/site/sub/%2Ehtpasswd",
        "/.env",
        "/.git/config",
        "/sub/.htpasswd",
        "/site/.git",
    ):
        status, _, body = raw_http(app, target)
        assert status == 404, (target, status)
        assert secret.encode() not in body


def test_w12_verbose_logging_does_not_log_payloads(
    make_app: Callable[..., WebShoesApp],
    http: httpx.Client,
    ws_connect: Connect,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="webshoes")
    app = make_app({"verbose": True})
    app.register("cmd", "cmd", "q", "evt", "r", {"echo": echo})
    http.get(f"{app.url}/cmd/echo?token=query-s3cret")
    http.post(f"{app.url}/cmd/echo", data={"password": "form-s3cret"})
    c = ws_connect(app)
    c.call({"cmd": "cmd/echo", "q": {"password": "ws-s3cret"}})
    c.call({"evt": "e"})
    app.triggerEvent("e", {"card": "event-s3cret"})
    assert c.recv()["r"] == {"card": "event-s3cret"}
    verbose = [r for r in caplog.records if r.name == "webshoes" and r.levelno == logging.INFO]
    assert len(verbose) >= 4, "verbose mode logged nothing: the test would prove nothing"
    assert "s3cret" not in caplog.text


def test_w12_error_replies_do_not_leak_internals(
    app: WebShoesApp, http: httpx.Client, ws_connect: Connect
) -> None:
    app.register("cmd", "cmd", "q", "evt", "r", {"bad": lambda ctx, q: {"x": object()}})
    app.register("flat", "cmd", "q", "evt", "", {"str": lambda ctx, q: "not a dict"})
    r = http.get(f"{app.url}/cmd/bad")
    assert (r.status_code, r.json()) == (500, {"error": "Server error"})
    c = ws_connect(app)
    assert c.call({"cmd": "cmd/bad", "tid": 1}) == {"error": "Server Error", "tid": 1}
    assert c.call({"cmd": "flat/str", "tid": 2}) == {"error": "Server Error", "tid": 2}
    malformed = c.call('{"cmd": "cmd/bad", ')["error"]
    assert not re.search(r"line|column|char|Expecting|msgspec|Traceback", malformed), malformed


# --- w13: protocol warts ----------------------------------------------------------------------


def test_w13_http_routing_errors_are_404_json(api: WebShoesApp, http: httpx.Client) -> None:
    for path in ("/nothing", "/nothing/add", "/cmd/nothing", "/cmd", "/"):
        r = http.get(api.url + path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/json")
        assert r.json() == {"error": "Not found"}


def test_w13_json_post_bodies_are_read(api: WebShoesApp, http: httpx.Client) -> None:
    assert http.post(f"{api.url}/cmd/add", json={"a": 2, "b": 3}).json() == {"result": 5}
    r = http.post(f"{api.url}/cmd/echo?a=query&c=3", json={"a": 1, "n": {"x": [True, None]}})
    assert r.json() == {"args": {"a": 1, "c": "3", "n": {"x": [True, None]}}}  # body wins, types kept
    bad = http.post(f"{api.url}/cmd/echo", content=b'{"a": ', headers={"content-type": "application/json"})
    assert bad.status_code == 400


def test_w13_rep_empty_replies_never_leak_an_earlier_tid(app: WebShoesApp, ws_connect: Connect) -> None:
    shared = {"value": 42}
    app.register("flat", "cmd", "q", "evt", "", {"get": lambda ctx, q: shared})
    first, second = ws_connect(app), ws_connect(app)
    one = first.call({"cmd": "flat/get", "tid": "first-secret-tid"})
    assert (one["value"], one["tid"]) == (42, "first-secret-tid")
    two = second.call({"cmd": "flat/get"})
    assert "tid" not in two
    assert two["value"] == 42
    assert two["t"] >= one["t"]
    assert shared == {"value": 42}


def test_w13_star_static_group_keeps_the_first_segment(
    app: WebShoesApp, tmp_path: Path, http: httpx.Client
) -> None:
    (tmp_path / "a.txt").write_text("a at root")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "b.txt").write_text("b in dir")
    (tmp_path / "b.txt").write_text("b at root")
    app.register("*", "", "", "", "", {"*": {"root": str(tmp_path), "defpage": "a.txt"}})
    assert http.get(f"{app.url}/a.txt").text == "a at root"
    assert http.get(f"{app.url}/dir/b.txt").text == "b in dir"
    r = http.get(f"{app.url}/a.txt")
    assert r.status_code == 200 and not r.history


# --- w14: every HTTP request tried as a WebSocket handshake first -----------------------------


def test_w14_http_requests_never_enter_the_websocket_path(
    make_app: Callable[..., WebShoesApp],
    http: httpx.Client,
    ws_connect: Connect,
    raw_http: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The original offered every request to a WebSocket handshake first (and took the
    exception path for plain HTTP); here the Upgrade header decides, before any handler."""
    entered: list[str] = []
    original = WebShoesApp._websocket

    async def counting(self: WebShoesApp, websocket: Any) -> None:
        entered.append(websocket.path)
        await original(self, websocket)

    monkeypatch.setattr(WebShoesApp, "_websocket", counting)
    app = make_app(start=False)  # its routes are bound now, to the counting wrapper
    app.register("cmd", "cmd", "q", "evt", "r", {"add": add})
    app.start()
    for _ in range(20):
        assert http.get(f"{app.url}/cmd/add?a=1&b=2").json() == {"result": 3}
    assert http.post(f"{app.url}/cmd/add", data={"a": 2, "b": 2}).json() == {"result": 4}
    h2c = {"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": "AAMAAABkAAQAAP__"}
    status, _, body = raw_http(app, "/cmd/add?a=2&b=3", headers=h2c)
    assert (status, json.loads(body)) == (200, {"result": 5})
    assert entered == []
    # the same path upgrades when asked to
    assert ws_connect(app, "/cmd/add").call({"cmd": "cmd/add", "q": {"a": 1, "b": 2}})["r"] == {"result": 3}
    assert entered == ["/cmd/add"]


# --- w15: the JS client -----------------------------------------------------------------------


# The JS client's fixes are tested in a browser: tests/test_webshoes_browser.py.


# --- w16: non-daemon thread, shared mutable default opts --------------------------------------


def test_w16_a_forgotten_server_does_not_keep_the_process_alive() -> None:
    script = textwrap.dedent(
        """
        import httpx, webshoes
        app = webshoes.WebShoesApp("127.0.0.1", 0)
        app.register("cmd", "cmd", "q", "evt", "r", {"ok": lambda ctx, q: {"ok": 1}})
        app.start()
        print(httpx.get(app.url + "/cmd/ok", timeout=5).json())
        # no app.stop(): the interpreter must still exit
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "{'ok': 1}"


def test_w16_default_opts_are_not_shared(make_app: Callable[..., WebShoesApp], http: httpx.Client) -> None:
    a, b = WebShoesApp(), WebShoesApp()
    a.opts.x = 1
    assert "x" not in b.opts
    # given opts are shared with handlers as ctx.opts (documented)
    opts: dict[str, Any] = {"count": 0}

    def bump(ctx: Any, q: Any) -> Any:
        ctx.opts.count += 1
        return {"count": ctx.opts.count}

    app = make_app(opts)
    app.register("cmd", "cmd", "q", "evt", "r", {"bump": bump})
    assert http.get(f"{app.url}/cmd/bump").json() == {"count": 1}
    assert opts["count"] == 1
    threads = [t for t in threading.enumerate() if t.name.startswith("webshoes")]
    assert threads and all(t.daemon for t in threads)
