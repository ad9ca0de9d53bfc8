"""The platform layer without a network: application normalisation, the page, config(), the
sans-I/O WebSocket hub (reconnect, replay, expiry, bad input) and the binary event format."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from browserclient import encode_binary_event

from pywebio import config
from pywebio.platform import page
from pywebio.platform.page import app_meta, render_page
from pywebio.platform.utils import make_applications, origin_checker
from pywebio.platform.ws import CLOSE_SESSION, WebSocketConnection, WebSocketHub, decode_binary_event
from pywebio.session import get_current_session
from pywebio.utils import parse_file_size

TIMEOUT = 5.0


def put_text(text: str) -> None:
    get_current_session().send_task_command({"command": "output", "spec": {"type": "text", "content": text}})


# applications ---------------------------------------------------------------------------------


def test_make_applications_forms() -> None:
    def a() -> None:
        """App A

        Does a."""

    async def b() -> None:
        pass

    assert make_applications(a) == {"index": a}
    apps = make_applications([a, functools.partial(b)])
    assert set(apps) == {"a", "b", "index"}
    assert set(make_applications({1: a, "x": b})) == {"1", "x", "index"}
    with pytest.raises(ValueError, match="two applications"):
        make_applications([a, a])
    with pytest.raises(TypeError):
        make_applications({"x": 3})


def test_generated_index_lists_apps_with_openapp_links() -> None:
    @config(title="Nice <title>")
    def a() -> None:
        pass

    def b() -> None:
        """Bee app

        Makes honey."""

    index = make_applications([a, b])["index"]
    sent: list[dict[str, Any]] = []

    class S:
        def send_task_command(self, cmd: dict[str, Any]) -> None:
            sent.append(cmd)

    import pywebio.session as sess

    original = sess.get_current_session
    sess.get_current_session = lambda: S()  # type: ignore[assignment,return-value]
    try:
        index()
    finally:
        sess.get_current_session = original
    content = sent[0]["spec"]["content"]
    assert "WebIO.openApp(&quot;a&quot;, true)" in content and "Nice &lt;title&gt;" in content
    assert "Bee app" in content and "Makes honey." in content


def test_parse_file_size() -> None:
    assert parse_file_size("200M") == 200 * 1024**2
    assert parse_file_size("1.5k") == 1536
    assert parse_file_size("40KB") == 40 * 1024
    assert parse_file_size(500) == 500
    with pytest.raises(ValueError):
        parse_file_size("lots")


# page and config ------------------------------------------------------------------------------


def test_page_has_contract_skeleton_and_local_assets() -> None:
    def app() -> None:
        """My App

        What it does."""

    html = render_page(app, "ws", cdn=True)
    for needle in (
        '<link rel="stylesheet" href="css/app.css?v=',
        '<script src="js/pywebio.js?v=',
        'id="output-container"',
        'id="markdown-body"',
        'id="pywebio-loading"',
        'id="pywebio-scope-ROOT"',
        'id="end-space"',
        'id="input-container"',
        'id="input-cards"',
        'WebIO.startWebIOClient({protocol: "ws"})',
        "<title>My App</title>",
        '<meta name="description" content="What it does.">',
        'class="webio-theme-default"',
        'rel="manifest"',
    ):
        assert needle in html, needle
    assert "cdn.jsdelivr" not in html and "https://" not in html.split("<footer")[0]
    assert 'href="/_pywebio_static/css/app.css' in render_page(app, "ws", cdn=False, base="/_pywebio_static/")
    assert 'src="https://assets.example/js/pywebio.js' in render_page(app, "ws", cdn="https://assets.example")


def test_config_decorator_beats_docstring_and_global(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "_global_config", {})
    config(title="Global", css_style="body{}", theme="dark")  # discarded: global

    @config(title="Decorated", js_file="https://x/a.js", css_file=["https://x/a.css"], manifest=False)
    def a() -> None:
        """Doc title"""

    def b() -> None:
        """Doc title b"""

    async def c() -> None:
        pass

    assert app_meta(a).title == "Decorated" and app_meta(b).title == "Doc title b"
    assert app_meta(c).title == "Global" and app_meta(c).theme == "dark"
    html = render_page(a)
    assert (
        '<script src="https://x/a.js">' in html and '<link rel="stylesheet" href="https://x/a.css">' in html
    )
    assert 'rel="manifest"' not in html and "<style>body{}</style>" in html
    assert 'class="webio-theme-dark"' in html
    import inspect

    assert inspect.iscoroutinefunction(config(title="t")(c))  # the session kind is kept
    with pytest.raises(ValueError):
        config(theme="neon")


# origin -----------------------------------------------------------------------------------------


def test_origin_rules() -> None:
    allowed = origin_checker(["https://*.example.com", "http://good.org:8080"])
    assert allowed("http://127.0.0.1:8080", "127.0.0.1:8080")  # same site
    assert allowed(None, "h")  # not a browser
    assert allowed("https://a.example.com", "h") and allowed("http://good.org:8080", "h")
    assert not allowed("http://a.example.com", "h") and not allowed("https://evil.org", "h")
    custom = origin_checker(["*"], check_origin=lambda o: o.endswith(".lan"))
    assert custom("http://pc.lan", "h") and not custom("http://x.org", "h")  # check_origin wins


# binary events ------------------------------------------------------------------------------


def test_binary_event_round_trip() -> None:
    frame = encode_binary_event(
        {"event": "from_submit", "task_id": "t", "data": {"one": None, "many": [], "none": [], "text": "x"}},
        [
            ("one", "C:\\dir\\a.txt", b"AAA", "text/plain"),
            ("many", "b.bin", b"B", "x/y"),
            ("many", "c", b"", ""),
        ],
    )
    event = decode_binary_event(frame)
    data = event["data"]
    assert data["one"]["filename"] == "a.txt" and data["one"]["content"] == b"AAA"
    assert (
        [f["filename"] for f in data["many"]] == ["b.bin", "c"] and data["none"] == [] and data["text"] == "x"
    )
    with pytest.raises(ValueError):
        decode_binary_event(frame[:-1])


# the WebSocket hub --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Socket:
    """The adapter side of one connection, in the test thread."""

    def __init__(self, hub: WebSocketHub, session: str = "NEW", app: str = "index") -> None:
        self.woken = threading.Event()
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.frames: list[dict[str, Any]] = []
        self.conn: WebSocketConnection = hub.connect(
            app,
            session,
            {"host": "h"},
            wake=self.woken.set,
            call_later=lambda d, f: self.timers.append((d, f)),
        )

    def pump(self) -> list[dict[str, Any]]:
        self.woken.clear()
        got = [json.loads(f) for f in self.conn.outgoing()]
        self.frames += got
        return got

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for f in self.frames:
                if predicate(f):
                    return f
            if time.monotonic() > deadline:
                raise AssertionError(f"not seen; frames: {self.frames}")
            self.woken.wait(0.05)
            self.pump()


def text(content: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["command"] == "output" and f["spec"]["content"] == content


def test_without_reconnect_a_drop_closes_the_session() -> None:
    closed = threading.Event()

    def app() -> None:
        get_current_session().defer_call(closed.set)
        put_text("hi")
        get_current_session().next_client_event()

    hub = WebSocketHub(app)
    sock = Socket(hub)
    sock.wait_for(text("hi"))
    assert not any(f["command"] == "set_session_id" for f in sock.frames)
    sock.conn.lost()
    assert closed.wait(TIMEOUT) and not hub.sessions


def test_reconnect_replays_commands_queued_while_detached() -> None:
    gate = threading.Event()

    def app() -> None:
        put_text("before")
        gate.wait(TIMEOUT)
        put_text("while detached")
        event = get_current_session().next_client_event()
        put_text(f"after {event['data']}")

    clock = Clock()
    hub = WebSocketHub(app, reconnect_timeout=10, clock=clock)
    first = Socket(hub)
    sid = first.wait_for(lambda f: f["command"] == "set_session_id")["spec"]
    assert first.frames[0]["command"] == "set_session_id" and len(sid) == 24
    first.wait_for(text("before"))
    first.conn.lost()
    assert first.timers and first.timers[0][0] >= 10  # one expiry timer, no polling loop
    session = next(iter(hub.sessions))
    gate.set()
    deadline = time.monotonic() + TIMEOUT
    while not session.has_commands() and time.monotonic() < deadline:
        time.sleep(0.005)
    clock.now += 5  # within the timeout
    hub.expire()
    second = Socket(hub, session=sid)
    second.wait_for(text("while detached"))
    task_id = second.frames[0]["task_id"]
    second.conn.receive(json.dumps({"event": "callback", "task_id": task_id, "data": 42}))
    second.wait_for(text("after 42"))
    second.wait_for(lambda f: f["command"] == "close_session")
    assert second.conn.finished


def test_session_that_ended_while_detached_replays_its_will_messages() -> None:
    gate = threading.Event()

    def app() -> None:
        gate.wait(TIMEOUT)
        put_text("last words")

    clock = Clock()
    hub = WebSocketHub(app, reconnect_timeout=10, clock=clock)
    first = Socket(hub)
    sid = first.wait_for(lambda f: f["command"] == "set_session_id")["spec"]
    first.conn.lost()
    session = next(iter(hub.sessions))
    gate.set()
    deadline = time.monotonic() + TIMEOUT
    while not session.closed() and time.monotonic() < deadline:
        time.sleep(0.005)
    second = Socket(hub, session=sid)
    frames = second.pump()
    assert [f["command"] for f in frames] == ["output", "close_session"] and second.conn.finished
    third = Socket(hub, session=sid)  # replayed once only
    assert [f["command"] for f in third.pump()] == ["close_session"]


def test_detached_session_expires_after_timeout() -> None:
    closed = threading.Event()

    def app() -> None:
        get_current_session().defer_call(closed.set)
        get_current_session().next_client_event()

    clock = Clock()
    hub = WebSocketHub(app, reconnect_timeout=1, clock=clock)
    sock = Socket(hub)
    sock.pump()
    sock.conn.lost()
    delay, expire = sock.timers[0]
    clock.now += 0.5
    expire()
    assert not closed.is_set()
    clock.now += delay
    expire()
    assert closed.wait(TIMEOUT)
    assert json.loads(CLOSE_SESSION)["command"] == "close_session"


def test_new_socket_supersedes_old_one_whose_late_close_is_harmless() -> None:
    def app() -> None:
        while True:
            event = get_current_session().next_client_event()
            put_text(f"echo {event['data']}")

    hub = WebSocketHub(app, reconnect_timeout=10, clock=Clock())
    old = Socket(hub)
    sid = old.wait_for(lambda f: f["command"] == "set_session_id")["spec"]
    new = Socket(hub, session=sid)
    old.pump()
    assert old.conn.finished  # the adapter closes the old socket
    old.conn.lost()  # ...and its close, noticed late, must not detach the new one
    session = next(iter(hub.sessions))
    task = session._main_task_id  # type: ignore[attr-defined]
    new.conn.receive(json.dumps({"event": "x", "task_id": task, "data": 1}))
    new.wait_for(text("echo 1"))
    hub.close_all()


def test_bad_messages_are_logged_and_the_session_survives(caplog: pytest.LogCaptureFixture) -> None:
    def app() -> None:
        event = get_current_session().next_client_event()
        put_text(f"ok {event['data']}")

    hub = WebSocketHub(app)
    sock = Socket(hub)
    sock.pump()
    session = next(iter(hub.sessions))
    task = session._main_task_id  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, "pywebio"):
        for bad in (
            "{not json",
            "[1, 2]",
            '{"no_event": 1}',
            b"\x00\x01",
            '{"event": "x", "task_id": "ghost-9"}',
        ):
            sock.conn.receive(bad)
    assert "malformed" in caplog.text and "unknown task" in caplog.text
    sock.conn.receive(json.dumps({"event": "x", "task_id": task, "data": 5}))
    sock.wait_for(text("ok 5"))


def test_reconnect_to_unknown_session_gets_close_session() -> None:
    hub = WebSocketHub(lambda: None, reconnect_timeout=5)
    sock = Socket(hub, session="x" * 24)
    assert [f["command"] for f in sock.pump()] == ["close_session"] and sock.conn.finished


def test_unknown_app_name_falls_back_to_index() -> None:
    def index() -> None:
        put_text("index")

    def other() -> None:
        put_text("other")

    hub = WebSocketHub({"index": index, "other": other})
    Socket(hub, app="nope").wait_for(text("index"))
    Socket(hub, app="other").wait_for(text("other"))


def test_oversize_message_ends_the_connection_with_1009(caplog: pytest.LogCaptureFixture) -> None:
    closed = threading.Event()

    def app() -> None:
        get_current_session().defer_call(closed.set)
        get_current_session().next_client_event()

    hub = WebSocketHub(app, max_message_size=100)
    sock = Socket(hub)
    sock.pump()
    with caplog.at_level(logging.WARNING, "pywebio"):
        sock.conn.receive("é" * 60)  # 120 bytes encoded, though only 60 characters
    assert "exceeds the limit" in caplog.text
    assert sock.woken.is_set() and sock.pump() == [] and sock.conn.finished and sock.conn.close_code == 1009
    sock.conn.lost()
    assert closed.wait(TIMEOUT)


def test_closed_sessions_are_freed() -> None:
    """Upstream leaked memory after sessions closed (spec §6, #545)."""
    import gc
    import weakref

    started = threading.Event()

    def app() -> None:
        session = get_current_session()
        session.register_callback(lambda data: None)  # held by auto-hold
        worker = threading.Thread(target=lambda: None)
        worker.start()
        worker.join()
        started.set()

    hub = WebSocketHub(app)
    sock = Socket(hub)
    assert started.wait(TIMEOUT)
    ref = weakref.ref(next(iter(hub.sessions)))
    sock.pump()
    sock.conn.lost()  # the browser leaves
    del sock
    deadline = time.monotonic() + TIMEOUT
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert ref() is None and not hub.sessions


async def test_closed_coroutine_sessions_are_freed() -> None:
    import asyncio
    import gc
    import weakref

    async def app() -> None:
        get_current_session().register_callback(lambda data: None)
        await asyncio.sleep(0)

    hub = WebSocketHub(app)
    sock = Socket(hub)
    ref = weakref.ref(next(iter(hub.sessions)))
    await asyncio.sleep(0.01)
    sock.pump()
    sock.conn.lost()
    del sock
    for _ in range(100):
        await asyncio.sleep(0.01)
        gc.collect()
        if ref() is None:
            break
    assert ref() is None and not hub.sessions
