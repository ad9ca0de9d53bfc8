"""The application over real sockets, with a Python client playing the browser."""

from __future__ import annotations

import array
import asyncio
import json
import logging
from typing import Any

import httpx
import pytest
import websockets

from pgwidgets.async_ import Application, BrowserDisconnected, BrowserError, Buffer, Session
from pgwidgets.async_.session import fold_colors

from .conftest import FakeBrowser, FakeWidget

pytestmark = pytest.mark.timeout(30)


def trace(log: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in log:
        args = [a["__wid__"] if isinstance(a, dict) and "__wid__" in a else a for a in m.get("args", [])]
        kind = m["type"]
        if kind == "create":
            out.append(f"create {m['wid']} {m['class']} {args}")
        elif kind == "call":
            out.append(f"call {m['wid']} {m['method']} {args}" + (" silent" if m.get("silent") else ""))
        elif kind == "listen":
            out.append(f"listen {m['wid']} {m['action']}")
        elif kind == "reconstruct-start":
            out.append(f"reconstruct-start {m['next_wid']}")
        else:
            out.append(kind)
    return out


async def build_spec_ui(session: Session) -> None:
    """The build of spec §2.10."""
    W = session.get_widgets()
    top = await W.TopLevel(resizable=True, title="Hello")
    await top.resize(400, 300)
    vbox = await W.VBox()
    await vbox.set_spacing(8)
    await vbox.set_padding(10)
    btn = await W.Button("Click me")
    label = await W.Label("Ready")
    await btn.on("activated", lambda: label.set_text("changed"))
    await vbox.add_widget(btn, 0)
    await vbox.add_widget(label, 1)
    await top.set_widget(vbox)
    await top.show()


async def test_golden_trace_build_click_and_reconnect(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    app.on_connect(build_spec_ui)
    b = await browser_factory(app)
    await b.wait_for(lambda: "call 1 show []" in trace(b.log), "the window shown")
    assert trace(b.log) == [
        "init",
        "session-info",
        "create 1 TopLevel [{'resizable': True, 'title': 'Hello'}]",
        "listen 1 window-state",
        "listen 1 move",
        "call 1 resize [400, 300]",
        "create 3 VBox []",  # ids follow the browser's next_wid (wid + 2)
        "call 3 set_spacing [8]",
        "call 3 set_padding [10]",
        "create 5 Button ['Click me']",
        "create 7 Label ['Ready']",
        "listen 5 activated",
        "call 3 add_widget [5, 0]",
        "call 3 add_widget [7, 1]",
        "call 1 set_widget [3]",
        "call 1 show []",
    ]
    await b.fire(5, "activated")
    await b.wait_for(lambda: b.last_call(7, "set_text") == ["changed"], "the handler's set_text")
    await b.close()

    again = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in trace(again.log), "the rebuild")
    assert trace(again.log) == [
        "init",
        "session-info",
        "reconstruct-start 9",
        "create 1 TopLevel [{'resizable': True, 'title': 'Hello'}]",
        "call 1 resize [400, 300]",
        "create 3 VBox []",
        "call 3 set_spacing [8]",
        "call 3 set_padding [10]",
        "create 5 Button ['Click me']",
        "listen 5 activated",
        "call 3 add_widget [5, 0]",
        "create 7 Label ['Ready']",
        "call 7 set_text ['changed']",  # state changed by the callback is replayed
        "call 3 add_widget [7, 1]",
        "call 1 set_widget [3]",
        "listen 1 window-state",
        "listen 1 move",
        "call 1 show []",
        "reconstruct-end",
    ]
    assert list(app.sessions) == [b.session_id]

    await app.sessions[b.session_id].reconstruct()  # on demand: the same replay again
    assert trace(again.log).count("reconstruct-end") == 2


async def test_browser_state_flows_back_and_to_other_browsers(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    built = asyncio.Event()
    widgets: dict[str, Any] = {}

    @app.on_connect
    async def setup(session: Session) -> None:
        W = session.get_widgets()
        widgets["entry"] = await W.TextEntry("")
        widgets["slider"] = await W.Slider(min=0, max=10)
        built.set()

    first = await browser_factory(app)
    await asyncio.wait_for(built.wait(), 5)
    entry, slider = widgets["entry"], widgets["slider"]
    second = await browser_factory(app, session_id=first.session_id, token=first.token)
    await second.wait_for(lambda: not second.reconstructing and entry.wid in second.widgets, "the rebuild")
    assert not any(m["type"] == "reconstruct-start" for m in first.log[2:])  # the first one is not rebuilt

    await first.fire(entry.wid, "modified", "typed in the first")
    await second.wait_for(
        lambda: second.last_call(entry.wid, "set_text") == ["typed in the first"], "the push"
    )
    assert entry.get_text() == "typed in the first"
    assert [m.get("silent") for m in second.log if m.get("method") == "set_text"] == [True]
    await first.fire(slider.wid, "activated", 7)
    await second.wait_for(lambda: second.last_call(slider.wid, "set_value") == [7], "the slider push")
    assert slider.get_value() == 7

    await entry.set_text("from python")  # Python's calls reach both browsers
    for b in (first, second):
        await b.wait_for(lambda b=b: b.last_call(entry.wid, "set_text") == ["from python"], "set_text")
    assert len(app.sessions) == 1


async def test_credentials(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_sessions=None)
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    assert len(session.token) >= 40 and len(b.token) >= 40 and b.token != session.token

    wrong = FakeBrowser(app.ws_url, session_id=b.session_id, token="guessed")
    await wrong.connect(wait_session=False)
    await wrong.wait_for(lambda: wrong.close_code is not None, "the refusal")
    assert (wrong.close_code, wrong.close_reason) == (4001, "Invalid session credentials")

    # an unknown id (say, after a restart) gets a new session: the browser never picks id or token
    stranger = await browser_factory(app, session_id=999, token="mine")
    assert stranger.session_id != 999 and stranger.token != "mine"
    assert 999 not in app.sessions


async def test_tokens_rotate_and_expire(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_sessions=None, token_lifetime=0.5)
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    first = b.token
    await b.close()

    async def refused(token: str) -> bool:
        probe = FakeBrowser(app.ws_url, session_id=session.id, token=token)
        await probe.connect(wait_session=False)
        await probe.wait_for(lambda: probe.close_code is not None or probe.token != token, "an answer")
        await probe.close()
        return probe.close_code == 4001

    # the browser comes back with its token and is given a new one; the old one then stops working
    again = await browser_factory(app, session_id=session.id, token=first)
    assert again.session_id == session.id and again.token not in (first, session.token)
    await again.wait_for(lambda: again.widgets == {} and not again.reconstructing, "rebuilt")
    await again.close()
    assert await refused(first)

    # a browser's token lapses token_lifetime after it leaves; the link token does not
    await asyncio.sleep(0.7)
    assert await refused(again.token)
    link = await browser_factory(app, session_id=session.id, token=session.token)
    assert link.session_id == session.id
    await link.close()

    # rotate_token() retires the link (as in get_url()) but not the browsers' own tokens
    old_link = session.token
    assert session.rotate_token() != old_link and session.get_url().endswith(session.token)  # type: ignore[union-attr]
    assert await refused(old_link)
    back = await browser_factory(app, session_id=session.id, token=link.token)
    assert back.session_id == session.id


async def test_a_copied_tab_gets_its_own_token(make_app: Any, browser_factory: Any) -> None:
    """A duplicated tab presents the token of a tab that is still open: both keep working."""
    app: Application = await make_app(max_sessions=None)
    tab = await browser_factory(app)
    copy = await browser_factory(app, session_id=tab.session_id, token=tab.token)
    assert copy.session_id == tab.session_id and copy.token != tab.token
    await tab.close()
    await copy.close()
    for token in (tab.token, copy.token):
        back = await browser_factory(app, session_id=tab.session_id, token=token)
        assert back.session_id == tab.session_id
        await back.close()


async def test_max_sessions_holds_new_browsers_and_reconnects(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_sessions=1)
    a = await browser_factory(app)
    b = await browser_factory(app, wait_session=False)
    leaver = await browser_factory(app, wait_session=False)
    for _ in range(200):
        if app.waiting == 2:
            break
        await asyncio.sleep(0.01)
    assert app.waiting == 2 and b.session_id is None  # held: no session-info yet
    await leaver.close()  # leaving while held must not leak a slot or a session
    await a.close()
    await b.wait_for(lambda: b.session_id is not None, "B admitted once A left")
    assert sorted(app.sessions) == [a.session_id, b.session_id]

    # A comes back with valid credentials: its session is not live, so it waits too
    a_again = await browser_factory(app, session_id=a.session_id, token=a.token, wait_session=False)
    await b.close()
    await a_again.wait_for(lambda: "reconstruct-end" in [m["type"] for m in a_again.log], "A rebuilt")
    assert a_again.session_id == a.session_id


async def connected(make_app: Any, browser_factory: Any) -> tuple[Application, FakeBrowser, Session]:
    """An app, a browser on it, and the session that browser got."""
    app: Application = await make_app()
    ready: asyncio.Future[Session] = asyncio.get_running_loop().create_future()
    app.on_connect(ready.set_result)
    b = await browser_factory(app)
    return app, b, await asyncio.wait_for(ready, 5)


async def test_pending_calls_fail_when_the_browser_leaves(make_app: Any) -> None:
    app: Application = await make_app()
    outcome: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    @app.on_connect
    async def setup(session: Session) -> None:
        try:
            await session.get_widgets().Button("never answered")
            outcome.set_result(None)
        except BaseException as exc:
            outcome.set_result(exc)
            raise

    async with websockets.connect(app.ws_url) as ws:  # completes the handshake, then goes silent
        assert json.loads(await ws.recv())["type"] == "init"
        await ws.send(json.dumps({"type": "result", "id": 0}))
        assert json.loads(await ws.recv())["type"] == "session-info"
        assert json.loads(await ws.recv())["type"] == "create"
    exc = await asyncio.wait_for(outcome, 5)
    assert isinstance(exc, BrowserDisconnected)
    assert "disconnected before answering create Button" in str(exc)


async def test_browser_errors_become_exceptions(make_app: Any, browser_factory: Any) -> None:
    _app, b, s = await connected(make_app, browser_factory)
    with pytest.raises(BrowserError, match="Unknown widget class: MDISubWindow"):
        await s.get_widgets().MDISubWindow()
    assert list(s.walk_widget_tree()) == []  # what the browser refused is not replayed later
    label = await s.get_widgets().Label("x")
    del b.widgets[label.wid]  # the browser lost it
    with pytest.raises(BrowserError, match=f"Unknown widget id: {label.wid}"):
        await label.set_text("y")


async def test_widgets_of_a_known_class_are_created_without_waiting(
    make_app: Any, browser_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _app, b, s = await connected(make_app, browser_factory)
    W = s.get_widgets()
    first = await W.Label("first")  # the first Label waits: the reply says it took one JS id
    assert first.wid is not None
    labels = [await W.Label(f"label {i}") for i in range(50)]
    # the next fifty were queued without a round trip each: they reach the browser together
    assert [w.wid for w in labels] == [first.wid + 2 * (i + 1) for i in range(50)]
    await b.wait_for(lambda: all(w.wid in b.widgets for w in labels), "the fifty labels")
    assert b.batched_frames >= 1
    assert [b.widgets[w.wid].args for w in labels] == [[f"label {i}"] for i in range(50)]
    assert (await W.Label("after")).wid >= b.next_id  # clear of the browser's own objects

    # a create the browser refuses arrives later: logged, never replayed, and calls on it fail
    b.throwing.add("boom")
    with caplog.at_level(logging.ERROR, logger="pgwidgets"):
        bad = await W.Label("boom")
        await b.wait_for(lambda: any(m.get("args") == ["boom"] for m in b.log), "the refused create")
        await asyncio.sleep(0.05)  # its error reply
    assert "could not create" in caplog.text and "bad argument: boom" in caplog.text
    assert bad not in list(s.walk_widget_tree())
    with pytest.raises(BrowserError, match=r"could not create .*bad argument: boom"):
        await bad.set_text("x")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{not json", "malformed message: not JSON"),
        ('{"type":"callback","wid":"x","action":1}', "malformed callback"),
        ('{"type":"frob","id":1}', "unknown message type: 'frob'"),
    ],
)
async def test_malformed_messages_close_the_connection(
    make_app: Any, browser_factory: Any, frame: str, reason: str
) -> None:
    app: Application = await make_app()
    b = await browser_factory(app)
    await b.ws.send(frame)
    await b.wait_for(lambda: b.close_code is not None, "the close")
    assert b.close_code == 4002 and reason in (b.close_reason or "")


async def test_callbacks_for_unknown_widgets_are_ignored(
    make_app: Any, browser_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app: Application = await make_app()
    calls: list[Any] = []

    @app.on_connect
    async def setup(session: Session) -> None:
        btn = await session.get_widgets().Button("ok")
        await btn.on("activated", lambda: calls.append("ok"))

    b = await browser_factory(app)
    await b.wait_for(lambda: bool(b.find("Button")), "the button")
    with caplog.at_level(logging.WARNING, "pgwidgets"):
        await b.fire(4242, "activated")
        await b.fire(b.find("Button")[0], "activated")
        for _ in range(100):
            if calls:
                break
            await asyncio.sleep(0.01)
    assert calls == ["ok"]
    assert "unknown widget id 4242 ignored" in caplog.text


async def test_foreign_origins_are_refused(make_app: Any) -> None:
    app: Application = await make_app()
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(app.ws_url, additional_headers={"Origin": "https://evil.example"})
    assert refused.value.response.status_code == 403
    assert app.url is not None
    own = app.url.rstrip("/")
    async with websockets.connect(app.ws_url, additional_headers={"Origin": own}) as ws:
        assert json.loads(await ws.recv()) == {"type": "init", "id": 0}


async def test_http_server(make_app: Any) -> None:
    app: Application = await make_app()
    async with httpx.AsyncClient(base_url=app.url or "") as client:
        page = await client.get("/?ws=ws://evil.example:1/&session=1&token=x")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'"ws_port": {app.ws_port}' in page.text
        assert "evil" not in page.text and "params.get('ws')" not in page.text
        js = await client.get("/Widgets.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert (await client.get("/modules/RemoteInterface.js")).status_code == 200
        assert (await client.get("/favicon.svg")).headers["content-type"].startswith("image/svg")
        assert (await client.get("/modules/")).status_code == 404  # no listings
        assert (await client.get("/%2e%2e/__init__.py")).status_code == 404
        assert (await client.get("/", headers={"Host": "evil.example"})).status_code == 403


async def test_behind_a_proxy(make_app: Any) -> None:
    app: Application = await make_app(
        allowed_hosts=["app.example.org", "127.0.0.1"], public_ws_url="wss://app.example.org/pgw/"
    )
    async with httpx.AsyncClient(base_url=app.url or "") as client:
        page = await client.get("/", headers={"Host": "app.example.org"})
        assert page.status_code == 200 and '"ws_url": "wss://app.example.org/pgw/"' in page.text
        assert (await client.get("/", headers={"Host": "localhost"})).status_code == 403


async def test_websocket_alone(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(http_server=False)
    assert app.url is None and app.http_port is None
    b = await browser_factory(app)
    assert b.session_id == 1
    page = app.connector_html("wss://example.org/pgw")
    assert '"ws_url": "wss://example.org/pgw"' in page
    with pytest.raises(ValueError, match="ws:// or wss://"):
        app.connector_html("javascript:alert(1)")


@pytest.mark.parametrize(("mode", "overlap"), [("per_session", False), ("concurrent", True)])
async def test_concurrency_modes_within_a_session(
    make_app: Any, browser_factory: Any, mode: str, overlap: bool
) -> None:
    app: Application = await make_app(concurrency_handling=mode)
    state = {"active": 0, "max": 0, "done": 0}

    async def slow() -> None:
        state["active"] += 1
        state["max"] = max(state["max"], state["active"])
        await asyncio.sleep(0.05)
        state["active"] -= 1
        state["done"] += 1

    @app.on_connect
    async def setup(session: Session) -> None:
        btn = await session.get_widgets().Button("b")
        await btn.on("activated", slow)

    b = await browser_factory(app)
    await b.wait_for(lambda: any("activated" in w.listens for w in b.widgets.values()), "the listen")
    wid = b.find("Button")[0]
    for _ in range(3):
        await b.fire(wid, "activated")
    for _ in range(200):
        if state["done"] == 3:
            break
        await asyncio.sleep(0.01)
    assert state["done"] == 3
    assert (state["max"] > 1) is overlap


async def test_serialized_mode_spans_sessions(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(concurrency_handling="serialized", max_sessions=None)
    state = {"active": 0, "max": 0, "done": 0}

    async def slow() -> None:
        state["active"] += 1
        state["max"] = max(state["max"], state["active"])
        await asyncio.sleep(0.05)
        state["active"] -= 1
        state["done"] += 1

    @app.on_connect
    async def setup(session: Session) -> None:
        btn = await session.get_widgets().Button("b")
        await btn.on("activated", slow)

    browsers = [await browser_factory(app), await browser_factory(app)]
    for b in browsers:
        await b.wait_for(lambda b=b: bool(b.find("Button")) and b.log[-1]["type"] == "listen", "the listen")
    for b in browsers:
        await b.fire(b.find("Button")[0], "activated")
    for _ in range(200):
        if state["done"] == 2:
            break
        await asyncio.sleep(0.01)
    assert state == {"active": 0, "max": 1, "done": 2}


async def test_handler_errors_are_logged_and_the_session_lives_on(
    make_app: Any, browser_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app: Application = await make_app()

    @app.on_connect
    def broken(session: Session) -> None:
        raise RuntimeError("boom in on_connect")

    with caplog.at_level(logging.ERROR, "pgwidgets"):
        b = await browser_factory(app)
        for _ in range(100):
            if "boom in on_connect" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "boom in on_connect" in caplog.text
    assert b.close_code is None and app.sessions[b.session_id].is_connected


async def test_session_close_ends_it_for_good(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    disconnected: list[Session] = []
    app.on_disconnect(disconnected.append)
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    await session.close()
    await b.wait_for(lambda: b.close_code is not None, "the close")
    assert (b.close_code, b.close_reason) == (4000, "Session closed")
    assert app.sessions == {}
    # the slot is free again: a new browser gets in at once (max_sessions=1)
    assert (await browser_factory(app)).session_id is not None


async def test_headless_session_then_a_browser(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    session = app.create_session()
    await build_spec_ui(session)
    fired: list[float] = []
    timer = await session.make_timer(duration=0.01)
    await timer.on("expired", fired.append)
    await timer.start()
    b = await browser_factory(app, session_id=session.id, token=session.token)
    await b.wait_for(lambda: "reconstruct-end" in [m["type"] for m in b.log], "the rebuild")
    assert sorted(w.cls for w in b.widgets.values()) == ["Button", "Label", "TopLevel", "VBox"]
    for _ in range(100):
        if fired:
            break
        await asyncio.sleep(0.01)
    assert fired == [0.01]  # the timer runs on the server, once, browser or not
    assert "Timer" not in [m.get("class") for m in b.log]


async def test_wids_stay_clear_of_browser_ids_after_a_rebuild(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    app.on_connect(build_spec_ui)
    b = await browser_factory(app)
    await b.wait_for(lambda: "call 1 show []" in trace(b.log), "the window")
    await b.close()
    again = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in trace(again.log), "the rebuild")
    session = app.sessions[b.session_id]
    browser_next = again.next_id
    new = await session.get_widgets().Label("new")
    assert new.wid is not None and new.wid >= browser_next  # no clash with the browser's own objects


async def test_sessions_without_a_browser_expire(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(session_timeout=0.05)
    b = await browser_factory(app)
    session = app.sessions[b.session_id]
    await b.close()
    for _ in range(200):
        if session.closed:
            break
        await asyncio.sleep(0.01)
    assert session.closed and app.sessions == {}


async def test_a_silent_client_is_dropped_after_the_handshake_timeout(make_app: Any) -> None:
    app: Application = await make_app(handshake_timeout=0.1)
    async with websockets.connect(app.ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "init"
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4002 and ws.close_reason == "handshake timeout"
    assert app.sessions == {}


async def test_run_returns_after_close() -> None:
    app = Application(ws_port=0, http_port=0)
    runner = asyncio.ensure_future(app.run())
    for _ in range(500):
        if app.running:
            break
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient() as client:
        assert (await client.get(app.url or "")).status_code == 200
    await app.close()
    await asyncio.wait_for(runner, 5)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(app.url or "")


async def test_a_busy_port_is_reported(make_app: Any) -> None:
    first: Application = await make_app()
    with pytest.raises(Exception, match="in use"):
        await Application(ws_port=first.ws_port, http_port=0).start()


async def test_batch_sends_one_message(make_app: Any, browser_factory: Any) -> None:
    _app, b, session = await connected(make_app, browser_factory)
    W = session.get_widgets()
    box = await W.VBox()
    labels = [await W.Label(str(i)) for i in range(3)]
    async with session.batch():
        for label in labels:
            await box.add_widget(label, 0)
            await label.set_text("batched")
        assert b.last_call(box.wid, "add_widget") is None  # nothing sent yet
    assert b.batches == 1
    assert [b.last_call(label.wid, "set_text") for label in labels] == [["batched"]] * 3
    assert [c.parent for c in labels] == [box] * 3
    doomed = await W.Label("x")
    await b.wait_for(lambda: doomed.wid in b.widgets, "the label")  # created without a round trip
    del b.widgets[doomed.wid]
    with pytest.raises(BrowserError, match="1 of 2 batched calls failed"):
        async with box.batch():
            await doomed.set_text("y")
            await labels[0].set_text("z")


async def test_fonts_and_urls_reach_every_browser(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_sessions=None)
    fid = app.register_font("Demo Sans", b"wOF2 not really a font", weight="bold")
    app.set_default_font("Demo Sans", size=14)
    b = await browser_factory(app)
    fonts = [m for m in b.log if m["type"] == "register-font"]
    assert [(m["family"], m["weight"], m["url"]) for m in fonts] == [
        ("Demo Sans", "bold", f"/_pgwidgets/font/{fid}")
    ]
    assert [m["font"] for m in b.log if m["type"] == "set-default-font"] == [
        {"family": "Demo Sans", "size": 14, "weight": None, "style": None}
    ]
    async with httpx.AsyncClient(base_url=app.url or "") as client:
        r = await client.get(fonts[0]["url"])
        assert r.content == b"wOF2 not really a font" and r.headers["content-type"] == "font/woff2"
        assert (await client.get("/_pgwidgets/font/99")).status_code == 404
    app.open_url("https://example.org/")
    await b.wait_for(lambda: any(m["type"] == "open-url" for m in b.log), "open-url")
    with pytest.raises(ValueError, match="http"):
        app.open_url("javascript:alert(1)")


async def test_binary_images_are_sent_raw_and_replayed(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @app.on_connect
    async def setup(session: Session) -> None:
        image = await session.get_widgets().Image()
        await image.set_binary_image(b"\x89PNG first", "png")
        await image.set_binary_image(b"\x89PNG second", "png")
        ready.set_result(image)

    b = await browser_factory(app)
    image = await asyncio.wait_for(ready, 5)
    await b.wait_for(
        lambda: b.last_call(image.wid, "set_binary_image") == [b"\x89PNG second", "png"], "the image"
    )
    await b.close()
    again = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in [m["type"] for m in again.log], "the rebuild")
    assert again.widgets[image.wid].calls == [
        ("set_binary_image", [b"\x89PNG second", "png"])
    ]  # the latest only


async def test_large_images_and_buffers_go_chunked_and_are_replayed(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    big = bytes(range(256)) * 5000  # 1.22 MiB: over the 1 MiB bar, three 512 KiB chunks
    samples = array.array("f", [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])

    @app.on_connect
    async def setup(session: Session) -> None:
        image = await session.get_widgets().Image()
        label = await session.get_widgets().Label("x")
        await image.set_binary_image(big, "png")
        await label.set_text(Buffer(samples, shape=[2, 3], dtype="float32"))  # any method, typed
        ready.set_result((image, label))

    b = await browser_factory(app)
    image, label = await asyncio.wait_for(ready, 5)
    await b.wait_for(lambda: len(b.chunked) == 2, "both transfers")
    assert b.widgets[image.wid].calls == [("set_binary_image", [big, "png"])]
    assert b.widgets[label.wid].calls[-1] == ("set_text", [samples.tobytes()])
    first, second = b.chunked
    assert first["chunks"] == [512 * 1024, 512 * 1024, len(big) - 1024 * 1024] and "dtype" not in first
    assert (second["shape"], second["dtype"], second["chunks"]) == ([2, 3], "float32", [24])
    assert b.misplaced == []  # announcements travel alone, never inside a JSON array
    await b.close()

    again = await browser_factory(app, session_id=b.session_id, token=b.token)
    await again.wait_for(lambda: "reconstruct-end" in [m["type"] for m in again.log], "the rebuild")
    await again.wait_for(lambda: len(again.chunked) == 2, "both transfers replayed")
    assert again.widgets[image.wid].calls == [("set_binary_image", [big, "png"])]
    assert ("set_text", [samples.tobytes()]) in again.widgets[label.wid].calls
    assert again.chunked[1]["dtype"] == "float32" and again.misplaced == []


def test_runs_of_colour_calls_fold_into_set_colors() -> None:
    def c(wid: int, method: str, *args: Any) -> dict[str, Any]:
        return {"wid": wid, "method": method, "args": list(args)}

    calls = [
        c(1, "set_text", "x"),
        c(2, "set_cell_color", ["a"], "name", "red"),
        c(2, "set_row_color", ["b"], None, "blue", True),
        c(2, "set_cell_color", ["a"], "name", None, "pink"),
        c(2, "set_table_color", "gray"),
        c(3, "set_cell_color", ["a"], "k", "red"),  # another widget: a run of one stays as it is
        c(2, "set_column_color", "name", "green"),
    ]
    assert fold_colors(calls) == [
        c(1, "set_text", "x"),
        c(
            2,
            "set_colors",
            {
                "cells": [
                    {"path": ["a"], "col_key": "name", "fg": "red", "bg": None, "bold": None},
                    {"path": ["a"], "col_key": "name", "fg": None, "bg": "pink", "bold": None},
                ],
                "rows": [{"path": ["b"], "fg": None, "bg": "blue", "bold": True}],
                "table": {"fg": "gray", "bg": None, "bold": None},
            },
        ),
        c(3, "set_cell_color", ["a"], "k", "red"),
        c(2, "set_column_color", "name", "green"),
    ]


async def test_a_batch_sends_colour_runs_as_one_set_colors(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @app.on_connect
    async def setup(session: Session) -> None:
        table = await session.get_widgets().TreeView(columns=[{"label": "Name", "key": "name"}])
        async with session.batch():
            for row in range(100):
                await table.set_cell_color([f"r{row}"], "name", "red")
        ready.set_result(table)

    b = await browser_factory(app)
    table = await asyncio.wait_for(ready, 5)
    await b.wait_for(lambda: bool(b.widgets[table.wid].calls), "the colours")
    calls = b.widgets[table.wid].calls
    assert [name for name, _ in calls] == ["set_colors"]  # one call: the page renders once
    assert len(calls[0][1][0]["cells"]) == 100


async def test_callbacks_run_while_a_script_waits_in_process_events(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    clicks: list[str] = []
    made: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @app.on_connect
    async def setup(session: Session) -> None:
        button = await session.get_widgets().Button("go")
        await button.on("activated", lambda: clicks.append("clicked"))
        made.set_result(button)

    b = await browser_factory(app)
    button = await asyncio.wait_for(made, 5)
    await b.ws.send(json.dumps({"type": "callback", "wid": button.wid, "action": "activated", "args": []}))
    for _ in range(50):  # a script's main loop: wait a little, look again
        await app.process_events(0.02)
        if clicks:
            break
    assert clicks == ["clicked"]


def test_buffer_checks_what_it_is_given() -> None:
    assert len(Buffer(b"abcd", dtype="uint16")) == 4
    assert Buffer(bytearray(8), shape=(2, 1), dtype="float32").shape == [2, 1]
    with pytest.raises(ValueError, match="dtype must be one of"):
        Buffer(b"abcd", dtype="complex64")
    with pytest.raises(ValueError, match="whole number of uint32"):
        Buffer(b"abc", dtype="uint32")
    with pytest.raises(ValueError, match="needs 16 bytes"):
        Buffer(bytes(8), shape=[4], dtype="float32")
    with pytest.raises(TypeError, match="buffer protocol"):
        Buffer("text")


async def test_a_buffer_must_be_the_first_argument(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app()
    outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @app.on_connect
    async def setup(session: Session) -> None:
        label = await session.get_widgets().Label("x")
        try:
            await label.resize(10, Buffer(b"zz"))
        except TypeError as exc:
            outcome.set_result(str(exc))

    await browser_factory(app)
    assert "only the first argument" in await asyncio.wait_for(outcome, 5)


async def test_closing_the_app_tells_every_browser(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_sessions=1)
    admitted = await browser_factory(app)
    held = await browser_factory(app, wait_session=False)
    for _ in range(200):
        if app.waiting:
            break
        await asyncio.sleep(0.01)
    await app.close()
    for b in (admitted, held):
        await b.wait_for(lambda b=b: b.close_code is not None, "the close")
        assert (b.close_code, b.close_reason) == (4003, "Application closed")


async def test_a_build_cut_short_by_a_leaving_browser_starts_over(
    make_app: Any, browser_factory: Any
) -> None:
    app: Application = await make_app()
    runs: list[str] = []

    @app.on_connect
    async def setup(session: Session) -> None:
        runs.append("start")
        W = session.get_widgets()
        await W.Label("first")
        await W.Button("second")  # the first of its class: it waits for the browser's reply
        runs.append("done")

    async with websockets.connect(app.ws_url) as ws:  # answers the first create, then leaves
        assert json.loads(await ws.recv())["type"] == "init"
        await ws.send(json.dumps({"type": "result", "id": 0}))
        info = json.loads(await ws.recv())
        create = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "result", "id": create["id"], "wid": create["wid"], "next_wid": 3}))
        assert json.loads(await ws.recv())["class"] == "Button"
    for _ in range(200):
        if app.sessions[info["session_id"]]._build_state == "interrupted":
            break
        await asyncio.sleep(0.01)
    b = await browser_factory(app, session_id=info["session_id"], token=info["token"])
    await b.wait_for(lambda: len(b.find("Label")) == len(b.find("Button")) == 1, "a complete build")
    for _ in range(200):
        if runs[-1] == "done":
            break
        await asyncio.sleep(0.01)
    assert runs == ["start", "start", "done"]
    assert "reconstruct-start" not in [m["type"] for m in b.log]  # built afresh, not a half replay


async def test_uploads_arrive_whole(make_app: Any, browser_factory: Any) -> None:
    app: Application = await make_app(max_upload_size=1000)
    events: list[tuple[str, Any]] = []
    done = asyncio.Event()

    @app.on_connect
    async def setup(session: Session) -> None:
        dialog = await session.get_widgets().FileDialog()
        await dialog.on("progress", lambda p: events.append(("progress", p["transferred_bytes"])))

        def picked(meta: dict[str, Any]) -> None:
            events.append(("activated", [(f["name"], f["data"]) for f in meta["files"]]))
            done.set()

        await dialog.on("activated", picked)

    b = await browser_factory(app)
    await b.wait_for(lambda: "activated" in b.widgets.get(1, FakeWidget("", [])).listens, "the listen")
    meta = {
        "transfer_id": 7,
        "files": [{"name": "a.txt", "size": 6, "type": "text/plain", "encoding": "bytes"}],
    }
    await b.fire(1, "activated", meta)
    for index, part in enumerate((b"hel", b"lo!")):
        header = {"type": "binary-chunk", "wid": 1, "transfer_id": 7, "file_index": 0, "file_count": 1}
        await b.ws.send(json.dumps({**header, "chunk_index": index, "num_chunks": 2, "encoding": "binary"}))
        await b.ws.send(part)
    await asyncio.wait_for(done.wait(), 5)
    assert events == [("progress", 3), ("progress", 6), ("activated", [("a.txt", b"hello!")])]

    too_big = {"transfer_id": 8, "files": [{"name": "big", "size": 5000, "type": "", "encoding": "bytes"}]}
    await b.fire(1, "activated", too_big)  # over max_upload_size: refused, nothing fires
    await b.ws.send(b"stray data")  # no header before it: ignored
    await b.fire(1, "progress", {"x": 1})
    assert b.close_code is None
