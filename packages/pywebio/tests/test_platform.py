"""Real servers (tornado and wirecore, 127.0.0.1, port 0) driven by the Python browser client."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import pytest
import websockets.exceptions
from browserclient import BrowserClient, ServerClosed, fetch_page

from pywebio import STATIC_PATH
from pywebio.session import get_current_session, run_async

TIMEOUT = 5.0


def put_text(text: str) -> None:
    get_current_session().send_task_command({"command": "output", "spec": {"type": "text", "content": text}})


def form(label: str, *names: str) -> dict[str, Any]:
    return {
        "command": "input_group",
        "spec": {"label": label, "inputs": [{"type": "text", "name": n} for n in names]},
    }


def ask(*names: str) -> dict[str, Any]:
    """input_group round trip in a thread session."""
    session = get_current_session()
    session.send_task_command(form("", *names))
    while True:
        event = session.next_client_event()
        if event["event"] == "from_submit":
            session.send_task_command({"command": "destroy_form", "spec": None})
            return dict(event["data"])


async def ask_async(*names: str) -> dict[str, Any]:
    session = get_current_session()
    session.send_task_command(form("", *names))
    while True:
        event = await session.next_client_event()
        if event["event"] == "from_submit":
            session.send_task_command({"command": "destroy_form", "spec": None})
            return dict(event["data"])


def bmi() -> None:
    """BMI

    Body mass index."""
    data = ask("height", "weight")
    put_text(f"BMI {float(data['weight']) / (float(data['height']) / 100) ** 2:.1f}")


async def async_app() -> None:
    put_text("async hello")
    await asyncio.sleep(0)
    data = await ask_async("name")
    put_text(f"hi {data['name']}")


def test_page_and_assets(serve: Any, backend: str) -> None:
    server = serve([bmi, async_app], backend)
    status, body = fetch_page(server.url + "?app=bmi")
    assert status == 200 and "<title>BMI</title>" in body and 'id="pywebio-scope-ROOT"' in body
    assert "WebIO.startWebIOClient" in body and 'src="js/pywebio.js?v=' in body
    if os.path.isfile(os.path.join(STATIC_PATH, "js", "pywebio.js")):
        status, js = fetch_page(server.url + "js/pywebio.js")
        assert status == 200 and "WebIO" in js


def test_thread_app_input_round_trip(serve: Any, backend: str) -> None:
    server = serve([bmi, async_app], backend)
    with BrowserClient(server.url, app="bmi") as b:
        f = b.expect("input_group")
        assert [i["name"] for i in f["spec"]["inputs"]] == ["height", "weight"]
        b.submit(f["task_id"], {"height": "180", "weight": "81"})
        b.expect("destroy_form", task_id=f["task_id"])
        b.expect_text("BMI 25.0")
        b.expect_close()


def test_async_app_round_trip(serve: Any, backend: str) -> None:
    server = serve([bmi, async_app], backend)
    with BrowserClient(server.url, app="async_app") as b:
        b.expect_text("async hello")
        f = b.expect("input_group")
        b.submit(f["task_id"], {"name": "Ada"})
        b.expect_text("hi Ada")
        b.expect_close()


def test_index_app_is_generated(serve: Any, backend: str) -> None:
    server = serve([bmi, async_app], backend)
    with BrowserClient(server.url, app="index") as b:
        out = b.expect("output")
        assert "WebIO.openApp(&quot;bmi&quot;, true)" in out["spec"]["content"]


def test_callbacks_after_main_returned(serve: Any, backend: str) -> None:
    def app() -> None:
        session = get_current_session()

        def on_click(index: Any) -> None:
            put_text(f"clicked {index}")

        cid = session.register_callback(on_click)
        session.send_task_command(
            {
                "command": "output",
                "spec": {"type": "buttons", "callback_id": cid, "buttons": [{"label": "A", "value": 0}]},
            }
        )

    server = serve(app, backend)
    with BrowserClient(server.url) as b:
        btn = b.expect("output")
        for i in range(3):
            b.click(btn["spec"]["callback_id"], i)
            b.expect_text(f"clicked {i}")
        assert not b.server_closed_session


def test_run_async_background_task(serve: Any, backend: str) -> None:
    async def ticker() -> None:
        for i in range(3):
            put_text(f"tick {i}")
            await asyncio.sleep(0.01)

    async def app() -> None:
        run_async(ticker())
        put_text("main returned")

    server = serve(app, backend)
    with BrowserClient(server.url) as b:
        b.expect_text("main returned")
        b.expect_text("tick 2")
        b.expect_close()


def test_two_sessions_talk_to_each_other(serve: Any, backend: str) -> None:
    """A tiny chat: messages typed in one session appear in every other one."""
    rooms: list[Any] = []
    lock = threading.Lock()

    def chat() -> None:
        me = get_current_session()
        with lock:
            rooms.append(me)
        while True:
            msg = ask("msg")["msg"]
            with lock:
                for s in rooms:
                    if not s.closed():
                        s.send_task_command(
                            {"command": "output", "spec": {"type": "text", "content": f"> {msg}"}}
                        )

    server = serve(chat, backend)
    with BrowserClient(server.url) as a, BrowserClient(server.url) as b:
        fa = a.expect("input_group")
        b.expect("input_group")
        a.submit(fa["task_id"], {"msg": "hello"})
        b.expect_text("> hello")
        a.expect_text("> hello")


def test_reconnect_within_timeout_keeps_session_and_replays(
    serve: Any, backend: str, wait_until: Any
) -> None:
    gate = threading.Event()

    def app() -> None:
        put_text("first")
        gate.wait(TIMEOUT)
        put_text("queued while away")
        put_text(f"got {ask('x')['x']}")

    server = serve(app, backend, reconnect_timeout=30)
    b = BrowserClient(server.url)
    sid = b.expect("set_session_id")["spec"]
    b.expect_text("first")
    b.drop()
    session = next(iter(server.hub.sessions))
    # commands written into a socket before the server notices the drop are lost (no acks in
    # the protocol), so produce the next ones once the session is detached
    wait_until(lambda: server.hub.entries[sid].connection is None, what="session detached")
    gate.set()
    b2 = BrowserClient(server.url, session=sid)
    b2.expect_text("queued while away")
    f = b2.expect("input_group")
    b2.submit(f["task_id"], {"x": "back"})
    b2.expect_text("got back")
    b2.expect_close()
    assert session.closed()


def test_foreign_origin_is_refused_and_allowed_patterns_accepted(serve: Any, backend: str) -> None:
    server = serve(lambda: put_text("hi"), backend, allowed_origins=["https://*.example.com"])
    with pytest.raises(websockets.exceptions.InvalidStatus) as err:
        BrowserClient(server.url, origin="http://evil.test")
    assert err.value.response.status_code == 403
    with BrowserClient(server.url, origin="https://app.example.com") as b:
        b.expect_text("hi")
    host = server.url.split("/")[2]
    with BrowserClient(server.url, origin=f"http://{host}") as b:  # same site
        b.expect_text("hi")


def test_check_origin_function(serve: Any, backend: str) -> None:
    server = serve(lambda: put_text("hi"), backend, check_origin=lambda origin: origin.endswith(".lan"))
    with BrowserClient(server.url, origin="http://pc.lan") as b:
        b.expect_text("hi")
    with pytest.raises(websockets.exceptions.InvalidStatus):
        BrowserClient(server.url, origin="http://pc.example")


def test_oversize_message_is_refused_server_survives(serve: Any, backend: str) -> None:
    def app() -> None:
        put_text(f"got {len(ask('x')['x'])}")

    server = serve(app, backend, max_payload_size="1K")
    from pywebio.platform.utils import get_max_payload_size

    assert get_max_payload_size() == 1024  # what file_upload() may use as its bound
    with BrowserClient(server.url) as b:
        f = b.expect("input_group")
        b.submit(f["task_id"], {"x": "a" * 4096})
        with pytest.raises((ServerClosed, AssertionError)):
            b.expect_text("got")
        b.wait_socket_closed()
    with BrowserClient(server.url) as b:  # the server still serves
        f = b.expect("input_group")
        b.submit(f["task_id"], {"x": "a" * 100})
        b.expect_text("got 100")


def test_malformed_messages_and_unknown_tasks_keep_the_session(serve: Any, backend: str) -> None:
    def app() -> None:
        put_text(f"got {ask('x')['x']}")

    server = serve(app, backend)
    with BrowserClient(server.url) as b:
        f = b.expect("input_group")
        b.send_raw("{this is not json")
        b.send_raw("[]")
        b.send_raw(b"\x00\x00\x00")
        b.send_event("from_submit", "no-such-task-1", {"x": "wrong"})
        b.send_event("callback", "CB-nothing-x", 1)
        b.submit(f["task_id"], {"x": "right"})
        b.expect_text("got right")


def test_file_upload_binary_event(serve: Any, backend: str) -> None:
    def app() -> None:
        data = ask("doc", "note")
        doc = data["doc"]
        put_text(f"{doc['filename']} {doc['content'].decode()} {data['note']}")

    server = serve(app, backend)
    with BrowserClient(server.url) as b:
        f = b.expect("input_group")
        b.upload(f["task_id"], {"doc": None, "note": "n"}, [("doc", "hello.txt", b"HELLO", "text/plain")])
        b.expect_text("hello.txt HELLO n")


def test_session_info_and_eval_js(serve: Any, backend: str) -> None:
    from pywebio.session import eval_js, info

    def app() -> None:
        value = eval_js("navigator.language")
        put_text(
            json.dumps([value, info.user_language, info.backend, info.protocol, info.user_agent.is_mobile])
        )

    server = serve(app, backend)
    with BrowserClient(
        server.url, headers={"Accept-Language": "de-DE,de", "User-Agent": "Mozilla/5.0 (iPhone)"}
    ) as b:
        cmd = b.expect("run_script")
        b.js_yield(cmd["task_id"], "de")
        out = b.expect("output")
        assert json.loads(out["spec"]["content"]) == ["de", "de-DE", backend, "websocket", True]


def test_closing_the_tab_ends_the_app_thread(serve: Any, backend: str) -> None:
    ended = threading.Event()

    def app() -> None:
        try:
            ask("x")
        finally:
            ended.set()

    server = serve(app, backend)
    b = BrowserClient(server.url)
    b.expect("input_group")
    b.close()
    assert ended.wait(TIMEOUT)
    assert not server.hub.sessions


def test_webio_handler_mounts_into_an_existing_tornado_app() -> None:
    import tornado.web

    from pywebio.platform.tornado import ServerThread, webio_handler

    class Home(tornado.web.RequestHandler):
        def get(self) -> None:
            self.write("my site")

    def factory(applications: Any, **options: Any) -> Any:
        handler = webio_handler(applications, reconnect_timeout=5)
        app = tornado.web.Application(
            [
                (r"/", Home),
                (r"/tool/", handler),
                (r"/tool/(.*)", tornado.web.StaticFileHandler, {"path": STATIC_PATH}),
            ]
        )
        return app, handler.hub

    server = ServerThread(lambda: put_text("mounted"), factory=factory).start()
    try:
        assert fetch_page(server.url) == (200, "my site")
        status, body = fetch_page(server.url + "tool/")
        assert status == 200 and 'src="js/pywebio.js' in body  # assets relative to the mount
        with BrowserClient(server.url + "tool/") as b:
            b.expect("set_session_id")
            b.expect_text("mounted")
    finally:
        server.stop()


def test_auto_open_webbrowser_opens_the_url_once_the_port_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    from pywebio.platform.utils import open_webbrowser_on_ready

    opened = threading.Event()
    urls: list[str] = []

    def fake_open(url: str, *args: Any, **kwargs: Any) -> bool:
        urls.append(url)
        opened.set()
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    from pywebio.platform.tornado import ServerThread

    server = ServerThread(lambda: None).start()
    try:
        open_webbrowser_on_ready("", server.port)
        assert opened.wait(TIMEOUT)
        assert urls == [f"http://127.0.0.1:{server.port}/"]
    finally:
        server.stop()


def test_no_threads_left_after_sessions_end(serve: Any, backend: str, wait_until: Any) -> None:
    """Upstream kept app threads alive after the browser left (spec §6)."""

    def app() -> None:
        put_text(f"got {ask('x')['x']}")

    server = serve(app, backend)
    before = threading.active_count()
    clients = [BrowserClient(server.url) for _ in range(5)]
    for c in clients:
        c.expect("input_group")
    assert threading.active_count() >= before + 5
    for c in clients:
        c.close()
    wait_until(lambda: threading.active_count() <= before, what="app threads ended")
    wait_until(lambda: not server.hub.sessions, what="sessions released")


def test_run_event_loop_and_run_asyncio_coroutine() -> None:
    """run_event_loop() runs a loop in this thread for coroutine sessions; run_asyncio_coroutine()
    awaits plain asyncio code from them."""
    from pywebio.platform import run_event_loop
    from pywebio.session import CoroutineBasedSession, run_asyncio_coroutine

    results: list[Any] = []
    done = threading.Event()

    async def compute() -> int:
        await asyncio.sleep(0)
        return 42

    async def app() -> None:
        results.append(await run_asyncio_coroutine(compute()))
        done.set()

    thread = threading.Thread(target=run_event_loop, daemon=True)
    thread.start()
    from pywebio import platform

    deadline = 50
    while platform._event_loop is None and deadline:
        threading.Event().wait(0.01)
        deadline -= 1
    loop = platform._event_loop
    assert loop is not None
    loop.call_soon_threadsafe(
        lambda: CoroutineBasedSession(app, on_task_command=lambda s: s.get_task_commands())
    )
    assert done.wait(TIMEOUT) and results == [42]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(TIMEOUT)


def test_add_webio_routes_to_an_existing_wirecore_app() -> None:
    from pywebio.platform.wirecore import add_webio_routes
    from wirecore import App, Server

    app = App()

    @app.get("/")
    async def home(request: Any) -> Any:
        return {"site": "mine"}

    add_webio_routes(app, lambda: put_text("tool one"), "/tool/")
    add_webio_routes(app, lambda: put_text("tool two"), "/two", reconnect_timeout=5)
    with Server(app) as server:
        assert fetch_page(server.url + "/") == (200, '{"site":"mine"}')
        status, body = fetch_page(server.url + "/two")
        assert status == 200 and 'src="/two/js/pywebio.js' in body
        assert 'src="js/pywebio.js' in fetch_page(server.url + "/tool/")[1]
        if os.path.isfile(os.path.join(STATIC_PATH, "js", "pywebio.js")):
            assert fetch_page(server.url + "/two/js/pywebio.js")[0] == 200
            assert fetch_page(server.url + "/tool/js/pywebio.js")[0] == 200
        with BrowserClient(server.url + "/tool/") as b:
            b.expect_text("tool one")
        with BrowserClient(server.url + "/two") as b:
            b.expect("set_session_id")
            b.expect_text("tool two")


def test_detached_session_expires_after_reconnect_timeout(serve: Any, backend: str) -> None:
    """reconnect_timeout=1 (a busy loop upstream): the session closes about a second after the drop."""
    closed = threading.Event()

    def app() -> None:
        get_current_session().defer_call(closed.set)
        ask("x")

    server = serve(app, backend, reconnect_timeout=1)
    b = BrowserClient(server.url)
    sid = b.expect("set_session_id")["spec"]
    b.expect("input_group")
    b.drop()
    assert closed.wait(TIMEOUT)
    with BrowserClient(server.url, session=sid) as late:  # too late: told the session is over
        late.expect("close_session")


@pytest.mark.parametrize("kind", ["thread", "coroutine"])
def test_many_concurrent_sessions_each_get_their_own_answers(serve: Any, backend: str, kind: str) -> None:
    def thread_app() -> None:
        put_text(f"echo {ask('x')['x']}")

    async def coro_app() -> None:
        put_text(f"echo {(await ask_async('x'))['x']}")

    server = serve(thread_app if kind == "thread" else coro_app, backend)
    clients = [BrowserClient(server.url) for _ in range(20)]
    try:
        forms = [c.expect("input_group") for c in clients]
        for i, (c, f) in enumerate(zip(clients, forms, strict=True)):
            c.submit(f["task_id"], {"x": i})
        for i, c in enumerate(clients):
            c.expect_text(f"echo {i}")
            c.expect_close()
    finally:
        for c in clients:
            c.close()


def test_batches_of_commands_arrive_intact_and_in_order(serve: Any, backend: str) -> None:
    """Frames of every length class (short, 16-bit and 64-bit lengths, non-ASCII) in one batch."""
    texts = [f"#{i} " + "é" * size for i, size in enumerate([0, 10, 125, 126, 200, 65535, 70000, 3])]

    async def app() -> None:  # a coroutine app sends everything before the transport runs
        for text in texts:
            put_text(text)

    server = serve(app, backend)
    with BrowserClient(server.url) as b:
        received = [b.expect("output")["spec"]["content"] for _ in texts]
        b.expect_close()
    assert received == texts
