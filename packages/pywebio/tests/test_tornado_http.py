"""``pywebio.platform.tornado_http`` on a real Tornado server (127.0.0.1, port 0), with an httpx
client playing the browser's HTTP polling (spec §1.10)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from pywebio.input import input
from pywebio.output import put_buttons, put_text
from pywebio.platform.tornado import ServerThread
from pywebio.platform.tornado_http import make_app
from pywebio.session import defer_call, hold

Wait = Callable[..., None]


class HttpBrowser:
    """One tab over HTTP polling: ``NEW-`` id first, batches executed once, events numbered."""

    def __init__(self, url: str, app: str = "index", headers: dict[str, str] | None = None) -> None:
        self.client = httpx.Client(base_url=url, timeout=5, headers=headers or {})
        self.app = app
        self.sid = "NEW-" + secrets.token_hex(12)
        self.executed = -1
        self.next_event = 0
        self.commands: list[dict[str, Any]] = []
        self.path = "/"

    def _handle(self, response: httpx.Response) -> httpx.Response:
        if response.status_code == 200:
            if self.sid.startswith("NEW-"):
                self.sid = self.sid[4:]
            data = response.json()
            for i, batch in enumerate(data["commands"]):
                if data["seq"] + i > self.executed:
                    self.executed = data["seq"] + i
                    self.commands += batch
        return response

    def poll(self) -> httpx.Response:
        params = {"app": self.app, "ack": self.executed}
        return self._handle(self.client.get(self.path, params=params, headers={"webio-session-id": self.sid}))

    def send(self, *events: dict[str, Any]) -> httpx.Response:
        params = {"app": self.app, "ack": self.executed, "seq": self.next_event}
        self.next_event += len(events)
        headers = {"webio-session-id": self.sid, "content-type": "application/json"}
        return self._handle(
            self.client.post(self.path, params=params, headers=headers, content=json.dumps(events))
        )

    def texts(self) -> list[str]:
        return [
            c["spec"]["content"] for c in self.commands if c["command"] == "output" and "content" in c["spec"]
        ]

    def expect(
        self, wait: Wait, command: str, pred: Callable[[dict[str, Any]], bool] = lambda c: True
    ) -> Any:
        def found() -> Any:
            return next((c for c in self.commands if c["command"] == command and pred(c)), None)

        def check() -> bool:
            if found() is None:
                self.poll()
            return found() is not None

        wait(check, what=f"a {command!r} command")
        return found()

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def serve_http() -> Iterator[Callable[..., ServerThread]]:
    servers: list[ServerThread] = []

    def start(apps: Any, **options: Any) -> ServerThread:
        server = ServerThread(apps, factory=make_app, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def greeter() -> None:
    put_text("hello")
    name = input("Your name")
    put_text(f"hi {name}")


async def async_greeter() -> None:
    put_text("hello async")
    name = await input("Your name")
    put_text(f"hi {name} from a coroutine")


def test_page_is_served_for_the_http_protocol(serve_http: Callable[..., ServerThread]) -> None:
    server = serve_http(greeter)
    page = httpx.get(server.url, timeout=5)
    assert page.status_code == 200 and '"http"' in page.text
    assert httpx.get(server.url + "?test=1", timeout=5).text == "ok"
    assert httpx.get(server.url + "js/pywebio.js", timeout=5).status_code == 200


@pytest.mark.parametrize("app", [greeter, async_greeter], ids=["thread", "coroutine"])
def test_input_round_trip(serve_http: Callable[..., ServerThread], wait_until: Wait, app: Any) -> None:
    server = serve_http(app)
    b = HttpBrowser(server.url)
    first = b.poll()  # creation: the 100 ms pause lets the first output join the answer
    assert first.status_code == 200 and b.texts()[:1] in (["hello"], ["hello async"])
    form = b.expect(wait_until, "input_group")
    answer = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    assert answer.json()["ack"] == 0
    b.expect(wait_until, "close_session")
    assert b.texts()[-1] in ("hi Ada", "hi Ada from a coroutine")
    assert server.hub.entries == {}  # the finished session was freed
    gone = b.poll().json()
    assert gone["commands"] == [[{"command": "close_session", "task_id": None, "spec": None}]]
    b.close()


def test_callbacks_after_main_returned(serve_http: Callable[..., ServerThread], wait_until: Wait) -> None:
    def app() -> None:
        put_buttons(["Greet"], onclick=lambda _: put_text("Hi there"))

    server = serve_http(app)
    b = HttpBrowser(server.url)
    buttons = b.expect(wait_until, "output", lambda c: c["spec"]["type"] == "buttons")
    for _ in range(2):
        b.send({"event": "callback", "task_id": buttons["spec"]["callback_id"], "data": 0})
    wait_until(lambda: b.poll() is not None and b.texts().count("Hi there") == 2, what="two greetings")
    b.close()


def test_post_cannot_create_and_foreign_origin_is_refused(
    serve_http: Callable[..., ServerThread], wait_until: Wait
) -> None:
    server = serve_http(greeter, allowed_origins=["https://*.friends.example"])
    post = httpx.post(
        server.url + "?app=index&ack=-1&seq=0",
        headers={"webio-session-id": "NEW-" + "p" * 24, "content-type": "application/json"},
        content="[]",
        timeout=5,
    )
    assert post.status_code == 403
    evil = HttpBrowser(server.url, headers={"Origin": "https://evil.example"})
    assert evil.poll().status_code == 403
    assert server.hub.entries == {}
    friend = HttpBrowser(server.url, headers={"Origin": "https://app.friends.example"})
    answer = friend.poll()
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.friends.example"
    same = HttpBrowser(server.url, headers={"Origin": server.url.rstrip("/")})
    assert same.poll().status_code == 200
    for b in (evil, friend, same):
        b.close()


def test_max_payload_size_is_enforced(serve_http: Callable[..., ServerThread], wait_until: Wait) -> None:
    server = serve_http(greeter, max_payload_size="4K")
    b = HttpBrowser(server.url)
    form = b.expect(wait_until, "input_group")
    big = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "x" * 10_000}})
    assert big.status_code == 413
    b.next_event = 0
    ok = b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
    assert ok.status_code == 200
    b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi Ada")
    b.close()


def test_idle_session_expires(serve_http: Callable[..., ServerThread], wait_until: Wait) -> None:
    closed = threading.Event()

    def app() -> None:
        defer_call(closed.set)
        put_text("waiting")
        hold()

    server = serve_http(app, session_expire_seconds=0.3, session_cleanup_interval=0.1)
    idle, active = HttpBrowser(server.url), HttpBrowser(server.url)
    idle.expect(wait_until, "output")
    active.poll()
    wait_until(lambda: active.poll() is not None and closed.is_set(), what="the idle session expired")
    assert list(server.hub.entries) == [active.sid]
    gone = idle.poll().json()
    assert gone["commands"] == [[{"command": "close_session", "task_id": None, "spec": None}]]
    for b in (idle, active):
        b.close()


def test_path_deploy_http_serves_app_files_over_polling(
    serve_http: Callable[..., ServerThread], wait_until: Wait, tmp_path: Any
) -> None:
    from pywebio.platform.path_deploy import make_app as deployment_app

    (tmp_path / "greet.py").write_text(
        "from pywebio.input import input\nfrom pywebio.output import put_text\n\n\n"
        "def main():\n    put_text('hi, ' + input('Your name'))\n"
    )
    server = ServerThread(str(tmp_path), factory=deployment_app, http=True).start()
    try:
        page = httpx.get(server.url + "greet", timeout=5)
        assert page.status_code == 200 and '"http"' in page.text and "/_pywebio_static/" in page.text
        b = HttpBrowser(server.url)
        b.path = "/greet"
        form = b.expect(wait_until, "input_group")
        b.send({"event": "from_submit", "task_id": form["task_id"], "data": {"data": "Ada"}})
        b.expect(wait_until, "output", lambda c: c["spec"].get("content") == "hi, Ada")
        b.close()
    finally:
        server.stop()
