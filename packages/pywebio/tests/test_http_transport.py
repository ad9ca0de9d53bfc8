"""The HTTP polling transport as a sans-I/O object (platform/http.py, spec §1.10): no network,
requests are method/query/headers/body handed to the hub, a fake clock drives expiry."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from browserclient import encode_binary_event

from pywebio.input import file_upload, input
from pywebio.output import put_buttons, put_text
from pywebio.platform.http import PAUSE, WINDOW, HttpHub
from pywebio.session import defer_call, hold

Wait = Callable[..., None]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Browser:
    """One tab's requests to a hub: the session id, the executed batch id, sent event ids."""

    def __init__(self, hub: HttpHub, sid: str = "abcdefghijklmnopqrstuvwx", app: str = "index") -> None:
        self.hub = hub
        self.sid = "NEW-" + sid
        self.app = app
        self.executed = -1
        self.commands: list[dict[str, Any]] = []
        self.next_event = 0

    def request(self, method: str = "GET", body: bytes = b"", ctype: str = "", **query: Any) -> Any:
        headers = {"webio-session-id": self.sid, "host": "h:1"}
        if ctype:
            headers["content-type"] = ctype
        q = {
            "app": self.app,
            "ack": str(query.pop("ack", self.executed)),
            **{k: str(v) for k, v in query.items()},
        }
        ex = self.hub.exchange(method, q, headers, body)
        response = ex.respond()
        if response.status == 200 and self.sid.startswith("NEW-"):
            self.sid = self.sid[4:]
        return ex, response

    def poll(self, **query: Any) -> dict[str, Any]:
        _, response = self.request(**query)
        assert response.status == 200, response
        data = json.loads(response.body)
        for i, batch in enumerate(data["commands"]):
            if data["seq"] + i > self.executed:
                self.executed = data["seq"] + i
                self.commands += batch
        return dict(data)

    def send(self, *events: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
        if seq is None:
            seq, self.next_event = self.next_event, self.next_event + len(events)
        _, response = self.request("POST", json.dumps(list(events)).encode(), "application/json", seq=seq)
        assert response.status == 200, response
        return dict(json.loads(response.body))

    def texts(self) -> list[str]:
        return [
            c["spec"]["content"] for c in self.commands if c["command"] == "output" and "content" in c["spec"]
        ]

    def wait_for(self, wait: Wait, predicate: Callable[[Browser], bool]) -> None:
        def check() -> bool:
            self.poll()
            return predicate(self)

        wait(check, what="the expected commands")

    def form(self, wait: Wait) -> dict[str, Any]:
        self.wait_for(wait, lambda b: any(c["command"] == "input_group" for c in b.commands))
        return next(c for c in self.commands if c["command"] == "input_group")


def greeter() -> None:
    put_text("hello")
    name = input("Your name")
    put_text(f"hi {name}")


def test_page_test_probe_and_session_creation_by_get_only() -> None:
    hub = HttpHub(greeter, pause=0.25)
    page = hub.exchange("GET", {"app": "index"}, {})
    assert page.kind == "page" and page.app_name == "index"
    assert hub.exchange("GET", {"test": "1"}, {}).respond().body == b"ok"
    assert hub.exchange("OPTIONS", {}, {}).respond().status == 204

    post = Browser(hub, "p" * 24)
    _, refused = post.request("POST", b"[]", "application/json", seq=0)
    assert refused.status == 403 and not hub.entries

    b = Browser(hub)
    ex, response = b.request()
    assert ex.pause == 0.25  # the adapter waits before answering a new session
    assert response.status == 200 and b.sid == "abcdefghijklmnopqrstuvwx"
    hub.close_all()


def test_unknown_session_gets_close_session() -> None:
    hub = HttpHub(greeter)
    b = Browser(hub)
    b.sid = "unknown-id"
    data = b.poll(ack=7)
    assert data["seq"] == 8 and data["commands"] == [
        [{"command": "close_session", "task_id": None, "spec": None}]
    ]


def test_input_round_trip_with_retransmitted_events_delivered_once(wait_until: Wait) -> None:
    hub = HttpHub(greeter)
    b = Browser(hub)
    form = b.form(wait_until)
    assert b.texts() == ["hello"]
    event = {"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}}
    first = b.send(event)
    assert first["ack"] == 0
    ex, response = b.request("POST", json.dumps([event]).encode(), "application/json", seq=0)  # a retry
    assert ex.pause == 0 and json.loads(response.body)["ack"] == 0
    b.wait_for(wait_until, lambda br: "hi Ada" in br.texts())
    assert b.texts().count("hi Ada") == 1
    hub.close_all()


def test_binary_event_uploads_a_file(wait_until: Wait) -> None:
    def app() -> None:
        f = file_upload("A file")
        put_text(f"{f['filename']}: {f['content'].decode()}")

    hub = HttpHub(app)
    b = Browser(hub)
    form = b.form(wait_until)
    body = encode_binary_event(
        {"event": "from_submit", "task_id": form["task_id"], "data": {"data": None}},
        [("data", "notes.txt", b"some text", "text/plain")],
    )
    _, response = b.request("POST", body, "application/octet-stream", seq=0)
    assert json.loads(response.body)["ack"] == 0
    b.wait_for(wait_until, lambda br: "notes.txt: some text" in br.texts())
    hub.close_all()


def test_ack_window_holds_at_most_four_unacknowledged_batches(wait_until: Wait) -> None:
    gate = threading.Semaphore(0)

    def app() -> None:
        for i in range(6):
            gate.acquire()
            put_text(str(i))
        hold()

    hub = HttpHub(app)
    b = Browser(hub)
    b.poll()
    session = hub.entries[b.sid].session
    assert session is not None
    for _ in range(5):  # five batches produced, none acknowledged
        gate.release()
        wait_until(session.has_commands)
        data = b.poll(ack=-1)
    assert data["seq"] == 0 and len(data["commands"]) == WINDOW
    assert [c["spec"]["content"] for batch in data["commands"] for c in batch] == ["0", "1", "2", "3"]
    data = b.poll(ack=1)  # the browser executed two: room for the waiting output
    assert data["seq"] == 2
    assert [c["spec"]["content"] for batch in data["commands"] for c in batch] == ["2", "3", "4"]
    data = b.poll(ack=4)
    assert data["commands"] == [] and data["seq"] == 5
    hub.close_all()


def test_finished_session_is_freed_after_its_last_response(wait_until: Wait) -> None:
    def app() -> None:
        put_text("bye")

    hub = HttpHub(app)
    b = Browser(hub)
    b.wait_for(wait_until, lambda br: any(c["command"] == "close_session" for c in br.commands))
    assert b.texts() == ["bye"]
    assert hub.entries == {}
    assert b.poll()["commands"] == [[{"command": "close_session", "task_id": None, "spec": None}]]


def test_callbacks_work_after_main_returned(wait_until: Wait) -> None:
    def app() -> None:
        put_buttons(["Greet"], onclick=lambda _: put_text("Hi there"))

    hub = HttpHub(app)
    b = Browser(hub)
    b.wait_for(
        wait_until, lambda br: any(c["spec"].get("type") == "buttons" for c in br.commands if "spec" in c)
    )
    buttons = next(c for c in b.commands if c["command"] == "output" and c["spec"]["type"] == "buttons")
    b.send({"event": "callback", "task_id": buttons["spec"]["callback_id"], "data": 0})
    b.wait_for(wait_until, lambda br: "Hi there" in br.texts())
    hub.close_all()


def test_idle_sessions_expire_lazily_on_later_requests(wait_until: Wait) -> None:
    closed = threading.Event()

    def app() -> None:
        defer_call(closed.set)
        put_text("waiting")
        hold()

    clock = Clock()
    hub = HttpHub(app, session_expire_seconds=60, session_cleanup_interval=30, clock=clock)
    idle, busy = Browser(hub, "i" * 24), Browser(hub, "b" * 24)
    idle.wait_for(wait_until, lambda br: br.texts() == ["waiting"])
    busy.poll()
    clock.now += 40
    busy.poll()  # cleanup runs (30 s passed) but nothing is idle for 60 s yet
    assert not closed.is_set() and len(hub.entries) == 2
    clock.now += 25  # idle: 65 s without a request; busy: 25 s
    busy.poll()  # the previous sweep was 25 s ago: not yet
    assert len(hub.entries) == 2
    clock.now += 10
    busy.poll()
    wait_until(closed.is_set, what="the idle session closed")
    assert list(hub.entries) == [busy.sid]
    assert idle.poll()["commands"] == [[{"command": "close_session", "task_id": None, "spec": None}]]
    hub.close_all()


def test_defaults_are_600_and_300_seconds() -> None:
    hub = HttpHub(greeter)
    assert (hub.expire_seconds, hub.cleanup_interval, PAUSE) == (600, 300, 0.1)


def test_foreign_origin_refused_unless_allowed() -> None:
    hub = HttpHub(greeter, allowed_origins=["https://*.example.com"])
    headers = {"webio-session-id": "NEW-" + "x" * 24, "host": "app.local:8080"}
    q = {"app": "index", "ack": "-1"}
    assert hub.exchange("GET", q, {**headers, "origin": "https://evil.org"}).respond().status == 403
    assert not hub.entries
    ok = hub.exchange("GET", q, {**headers, "origin": "https://a.example.com"}).respond()
    assert ok.status == 200 and ok.headers["Access-Control-Allow-Origin"] == "https://a.example.com"
    same = hub.exchange("GET", q, {**headers, "origin": "http://app.local:8080"}).respond()
    assert same.status == 200
    hub.close_all()


def test_concurrent_sessions_and_concurrent_retries_from_threads(wait_until: Wait) -> None:
    clicks: list[str] = []
    lock = threading.Lock()

    def app() -> None:
        def click(_: Any) -> None:
            with lock:
                clicks.append("x")

        put_buttons(["+1"], onclick=click)
        hold()

    hub = HttpHub(app)

    def open_session(i: int) -> Browser:
        b = Browser(hub, f"{i:024d}")
        b.wait_for(wait_until, lambda br: bool(br.commands))
        return b

    with ThreadPoolExecutor(8) as pool:
        browsers = list(pool.map(open_session, range(16)))
    assert len(hub.entries) == 16 and all(b.commands for b in browsers)

    b = browsers[0]
    callback_id = b.commands[0]["spec"]["callback_id"]
    events = [{"event": "callback", "task_id": callback_id, "data": 0} for _ in range(10)]

    def retry(k: int) -> None:  # the same ten events, resent by eight threads, twice each
        for _ in range(2):
            b.send(*events, seq=0)
            b.poll()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(retry, range(8)))
    wait_until(lambda: len(clicks) >= 10, what="ten clicks")
    assert len(clicks) == 10
    hub.close_all()


@pytest.mark.parametrize("body", [b"not json", b'{"x": [1'])
def test_malformed_events_are_refused_without_harm(body: bytes, wait_until: Wait) -> None:
    hub = HttpHub(greeter)
    b = Browser(hub)
    b.form(wait_until)
    _, response = b.request("POST", body, "application/json", seq=0)
    assert response.status == 400
    assert b.poll()["ack"] == -1
    hub.close_all()
