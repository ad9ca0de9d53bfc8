"""The session layer without any network: a fake transport feeds events and drains commands."""

from __future__ import annotations

import asyncio
import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from pywebio.exceptions import SessionClosedException, SessionNotFoundException
from pywebio.session import (
    CoroutineBasedSession,
    ThreadBasedSession,
    chose_impl,
    defer_call,
    download,
    eval_js,
    get_current_session,
    get_current_task_id,
    go_app,
    hold,
    info,
    local,
    register_thread,
    run_async,
    run_js,
    set_env,
)
from pywebio.session.info import parse_user_agent, session_info

TIMEOUT = 5.0


def put_text(text: str) -> None:
    """What pywebio.output.put_text sends, as a raw command."""
    get_current_session().send_task_command(
        {
            "command": "output",
            "spec": {"type": "text", "content": text, "scope": "#pywebio-scope-ROOT", "position": -1},
        }
    )


@chose_impl
def input_form(name: str) -> Any:
    """A minimal input(): one input_group, then wait for its submit."""
    session = get_current_session()
    session.send_task_command(
        {"command": "input_group", "spec": {"label": "", "inputs": [{"type": "text", "name": name}]}}
    )
    while True:
        event = yield session.next_client_event()
        if event["event"] == "from_submit":
            session.send_task_command({"command": "destroy_form", "spec": None})
            return event["data"][name]


class FakeTransport:
    """Collects commands from a thread session (thread-safe) like a WebSocket adapter would."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.closed = threading.Event()
        self.session: Any = None

    def on_task_command(self, session: Any) -> None:
        with self.cond:
            self.commands += session.get_task_commands()
            self.cond.notify_all()

    def on_session_close(self) -> None:
        self.closed.set()
        with self.cond:
            self.cond.notify_all()

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for cmd in self.commands:
                    if predicate(cmd):
                        return cmd
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"command not seen; got {[c['command'] for c in self.commands]}")
                self.cond.wait(left)

    def texts(self) -> list[str]:
        with self.cond:
            return [c["spec"]["content"] for c in self.commands if c["command"] == "output"]

    def start(self, target: Callable[[], Any], **kw: Any) -> ThreadBasedSession:
        self.session = ThreadBasedSession(
            target, session_info=session_info({}), on_task_command=self.on_task_command,
            on_session_close=self.on_session_close, **kw,
        )  # fmt: skip
        return self.session


def is_cmd(name: str, **spec: Any) -> Callable[[dict[str, Any]], bool]:
    def check(c: dict[str, Any]) -> bool:
        return c["command"] == name and all((c.get("spec") or {}).get(k) == v for k, v in spec.items())

    return check


# thread sessions -------------------------------------------------------------------------------


def test_thread_app_output_then_close_session() -> None:
    t = FakeTransport()

    def app() -> None:
        put_text("hello")
        put_text("world")

    t.start(app)
    t.wait_for(is_cmd("close_session"))
    assert t.closed.wait(TIMEOUT)
    assert t.texts() == ["hello", "world"]
    assert t.commands[0]["task_id"].startswith("app-")  # the session fills in the task id


def test_thread_input_round_trip() -> None:
    t = FakeTransport()

    def app() -> None:
        name = input_form("name")
        put_text(f"hi {name}")

    s = t.start(app)
    form = t.wait_for(is_cmd("input_group"))
    s.send_client_event({"event": "from_submit", "task_id": form["task_id"], "data": {"name": "Ada"}})
    t.wait_for(is_cmd("output", content="hi Ada"))
    t.wait_for(is_cmd("close_session"))


def test_callbacks_work_after_main_returned_and_session_is_held() -> None:
    t = FakeTransport()
    clicks: list[Any] = []

    def app() -> None:
        cid = get_current_session().register_callback(
            lambda data: (clicks.append(data), put_text(f"clicked {data}"))
        )
        put_text(cid)

    s = t.start(app)
    cid = t.wait_for(is_cmd("output"))["spec"]["content"]
    s.send_client_event({"event": "callback", "task_id": cid, "data": 3})
    t.wait_for(is_cmd("output", content="clicked 3"))
    assert not s.closed() and not any(c["command"] == "close_session" for c in t.commands)
    s.close()
    assert t.closed.is_set() and clicks == [3]


def test_serial_callbacks_run_in_order_and_can_take_input() -> None:
    t = FakeTransport()

    def on_click(data: Any) -> None:
        value = input_form(f"f{data}")
        put_text(f"got {value}")

    def app() -> None:
        put_text(get_current_session().register_callback(on_click, serial_mode=True))

    s = t.start(app)
    cid = t.wait_for(is_cmd("output"))["spec"]["content"]
    s.send_client_event({"event": "callback", "task_id": cid, "data": 1})
    form = t.wait_for(is_cmd("input_group"))
    s.send_client_event({"event": "from_submit", "task_id": form["task_id"], "data": {"f1": "x"}})
    t.wait_for(is_cmd("output", content="got x"))
    s.close()


def test_close_wakes_waiting_app_and_runs_deferred_calls() -> None:
    t = FakeTransport()
    seen: list[str] = []
    ended = threading.Event()

    def app() -> None:
        defer_call(lambda: seen.append("deferred"))
        try:
            input_form("x")
        except SessionClosedException:
            seen.append("closed")
            raise
        finally:
            ended.set()

    s = t.start(app)
    t.wait_for(is_cmd("input_group"))
    s.close()
    assert ended.wait(TIMEOUT)
    assert seen == ["deferred", "closed"]


def test_busy_app_thread_ends_after_close() -> None:
    """Upstream kept such threads alive after the user left (spec §6)."""
    t = FakeTransport()
    stopped = threading.Event()

    def app() -> None:
        try:
            while True:
                put_text("tick")
                time.sleep(0.005)
        finally:
            stopped.set()

    s = t.start(app)
    t.wait_for(is_cmd("output"))
    s.close()
    assert stopped.wait(TIMEOUT)


def test_register_thread_shares_the_session_and_is_waited_for() -> None:
    t = FakeTransport()
    release = threading.Event()

    def worker() -> None:
        release.wait(TIMEOUT)
        put_text(f"from worker {get_current_task_id() != ''}")

    def app() -> None:
        th = threading.Thread(target=worker)
        register_thread(th)
        th.start()
        put_text("main done")

    t.start(app)
    t.wait_for(is_cmd("output", content="main done"))
    assert not any(c["command"] == "close_session" for c in t.commands)
    release.set()
    t.wait_for(is_cmd("output", content="from worker True"))
    t.wait_for(is_cmd("close_session"))


def test_unregistered_thread_has_no_session() -> None:
    errors: list[BaseException] = []
    t = FakeTransport()

    def worker() -> None:
        try:
            put_text("x")
        except SessionNotFoundException as exc:
            errors.append(exc)

    def app() -> None:
        th = threading.Thread(target=worker)
        th.start()
        th.join()

    t.start(app)
    t.wait_for(is_cmd("close_session"))
    assert len(errors) == 1
    with pytest.raises(SessionNotFoundException):
        get_current_session()


def test_unknown_task_event_is_logged_and_session_survives(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTransport()

    def app() -> None:
        put_text(f"got {input_form('a')}")

    s = t.start(app)
    form = t.wait_for(is_cmd("input_group"))
    with caplog.at_level(logging.WARNING, "pywebio"):
        s.send_client_event({"event": "from_submit", "task_id": "nope-1", "data": {}})
        s.send_client_event({"event": "callback", "task_id": None, "data": {}})
    assert "unknown task" in caplog.text
    s.send_client_event({"event": "from_submit", "task_id": form["task_id"], "data": {"a": 1}})
    t.wait_for(is_cmd("output", content="got 1"))


def test_app_error_shows_toast_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTransport()

    def app() -> None:
        raise ZeroDivisionError("boom")

    with caplog.at_level(logging.ERROR, "pywebio"):
        t.start(app)
        toast = t.wait_for(is_cmd("toast"))
        t.wait_for(is_cmd("close_session"))
    assert toast["spec"]["content"] == "An internal error occurred in the application"
    assert "boom" in caplog.text
    assert not any(c["command"] == "popup" for c in t.commands)  # no traceback outside debug


def test_app_error_in_debug_shows_traceback_popup() -> None:
    t = FakeTransport()

    def app() -> None:
        raise ZeroDivisionError("boom")

    t.start(app, debug=True)
    popup = t.wait_for(is_cmd("popup"))
    assert "ZeroDivisionError: boom" in str(popup["spec"]["content"])


def test_session_helpers_send_the_documented_commands() -> None:
    t = FakeTransport()

    def app() -> None:
        run_js("console.log(x)", x=1)
        set_env(title="T", auto_scroll_bottom=True)
        download("a.txt", b"hello")
        go_app("other", new_window=False)
        with pytest.raises(AssertionError):
            set_env(bogus=1)
        local.count = 1
        local.count += 1
        put_text(f"local {local.count} {local.missing} {'count' in local}")
        with pytest.raises(AttributeError):
            local._private = 1
        put_text(f"lang {info.user_language!r}")

    t.start(app)
    t.wait_for(is_cmd("close_session"))
    names = [c["command"] for c in t.commands]
    assert names[:4] == ["run_script", "set_env", "download", "run_script"]
    assert t.commands[0]["spec"] == {"code": "console.log(x)", "args": {"x": 1}}
    assert base64.b64decode(t.commands[2]["spec"]["content"]) == b"hello"
    assert t.commands[3]["spec"]["args"] == {"name": "other", "new_window": False}
    assert "local 2 None True" in t.texts()


def test_eval_js_waits_for_js_yield_in_thread_session() -> None:
    t = FakeTransport()

    def app() -> None:
        put_text(f"sum {eval_js('a + b', a=1, b=2)}")

    s = t.start(app)
    cmd = t.wait_for(is_cmd("run_script", eval=True))
    s.send_client_event({"event": "js_yield", "task_id": cmd["task_id"], "data": 3})
    t.wait_for(is_cmd("output", content="sum 3"))


def test_scope_stack_is_per_task() -> None:
    t = FakeTransport()

    def app() -> None:
        s = get_current_session()
        s.push_scope("a")
        s.push_scope("b")
        put_text(f"{s.get_scope()} {s.get_scope(-2)} {s.pop_scope()} {s.get_scope()}")
        with pytest.raises(ValueError):
            s.pop_scope()
            s.pop_scope()

    t.start(app)
    t.wait_for(is_cmd("close_session"))
    assert t.texts() == ["b a b a"]


def test_hold_returns_when_the_session_closes() -> None:
    t = FakeTransport()
    done = threading.Event()

    def app() -> None:
        put_text("holding")
        hold()
        done.set()

    s = t.start(app)
    t.wait_for(is_cmd("output"))
    assert not done.is_set()
    s.close()
    assert done.wait(TIMEOUT)


# coroutine sessions ----------------------------------------------------------------------------


class AsyncTransport:
    """Commands from a coroutine session, awaited on the test's loop."""

    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []
        self.changed = asyncio.Event()
        self.closed = False

    def on_task_command(self, session: Any) -> None:
        self.commands += session.get_task_commands()
        self.changed.set()

    def on_session_close(self) -> None:
        self.closed = True
        self.changed.set()

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for cmd in self.commands:
                    if predicate(cmd):
                        return cmd
                self.changed.clear()
                await self.changed.wait()

    def start(self, target: Callable[[], Any], **kw: Any) -> CoroutineBasedSession:
        return CoroutineBasedSession(
            target, session_info=session_info({}), on_task_command=self.on_task_command,
            on_session_close=self.on_session_close, **kw,
        )  # fmt: skip


async def test_coroutine_app_output_input_and_close() -> None:
    t = AsyncTransport()

    async def app() -> None:
        put_text("hello")
        await asyncio.sleep(0)  # real asyncio awaitables work inside sessions
        name = await input_form("name")
        put_text(f"hi {name}")

    s = t.start(app)
    form = await t.wait_for(is_cmd("input_group"))
    s.send_client_event({"event": "from_submit", "task_id": form["task_id"], "data": {"name": "Bo"}})
    await t.wait_for(is_cmd("output", content="hi Bo"))
    await t.wait_for(is_cmd("close_session"))
    assert s.closed() and t.closed


async def test_run_async_keeps_session_until_background_task_ends() -> None:
    t = AsyncTransport()
    go = asyncio.Event()

    async def background() -> None:
        await go.wait()
        put_text("background done")

    async def app() -> None:
        handle = run_async(background())
        put_text(f"main done {handle.closed()}")

    s = t.start(app)
    await t.wait_for(is_cmd("output", content="main done False"))
    assert not s.closed()
    go.set()
    await t.wait_for(is_cmd("output", content="background done"))
    await t.wait_for(is_cmd("close_session"))


async def test_coroutine_callbacks_and_mutex_mode() -> None:
    t = AsyncTransport()
    order: list[str] = []
    gate = asyncio.Event()

    async def slow(data: Any) -> None:
        order.append(f"start {data}")
        await gate.wait()
        order.append(f"end {data}")

    def plain(data: Any) -> None:
        put_text(f"plain {data} {get_current_task_id() != ''}")

    async def app() -> None:
        s = get_current_session()
        put_text(s.register_callback(slow, mutex_mode=True))
        put_text(s.register_callback(plain))

    s = t.start(app)
    await t.wait_for(lambda c: c["command"] == "output" and c["spec"]["content"].startswith("CB-plain"))
    slow_id, plain_id = (c["spec"]["content"] for c in t.commands[:2])
    s.send_client_event({"event": "callback", "task_id": plain_id, "data": 7})
    await t.wait_for(is_cmd("output", content="plain 7 True"))
    s.send_client_event({"event": "callback", "task_id": slow_id, "data": 1})
    s.send_client_event({"event": "callback", "task_id": slow_id, "data": 2})
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["start 1"]  # the second click waits behind the first
    gate.set()
    async with asyncio.timeout(TIMEOUT):
        while len(order) < 4:
            await asyncio.sleep(0.001)
    assert order == ["start 1", "end 1", "start 2", "end 2"]
    assert not s.closed()  # callbacks hold the session after main returned
    s.close()


async def test_coroutine_close_releases_waiting_and_sleeping_tasks() -> None:
    t = AsyncTransport()
    outcome: list[str] = []

    async def sleeper() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            outcome.append("sleeper cancelled")
            raise

    async def app() -> None:
        defer_call(lambda: outcome.append("deferred"))
        run_async(sleeper())
        try:
            await input_form("x")
        except SessionClosedException:
            outcome.append("waiter closed")

    s = t.start(app)
    await t.wait_for(is_cmd("input_group"))
    s.close()
    async with asyncio.timeout(TIMEOUT):
        while len(outcome) < 3:
            await asyncio.sleep(0.001)
    assert sorted(outcome) == ["deferred", "sleeper cancelled", "waiter closed"]


async def test_coroutine_eval_js_and_error_toast() -> None:
    t = AsyncTransport()

    async def app() -> None:
        value = await eval_js("1 + 1")
        put_text(f"js {value}")
        raise RuntimeError("bad")

    s = t.start(app)
    cmd = await t.wait_for(is_cmd("run_script", eval=True))
    s.send_client_event({"event": "js_yield", "task_id": cmd["task_id"], "data": 2})
    await t.wait_for(is_cmd("output", content="js 2"))
    await t.wait_for(is_cmd("toast"))
    await t.wait_for(is_cmd("close_session"))


async def test_run_async_and_register_thread_refuse_the_wrong_session_kind() -> None:
    t = AsyncTransport()

    async def app() -> None:
        with pytest.raises(RuntimeError):
            register_thread(threading.Thread(target=lambda: None))
        put_text("ok")

    t.start(app)
    await t.wait_for(is_cmd("output", content="ok"))


def test_run_async_refused_in_thread_session() -> None:
    t = FakeTransport()

    async def coro() -> None:
        pass

    def app() -> None:
        with pytest.raises(RuntimeError):
            run_async(coro())
        put_text("ok")

    t.start(app)
    t.wait_for(is_cmd("output", content="ok"))


# info --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ua", "mobile", "browser", "os"),
    [
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/16.5 Mobile/15E148 Safari/604.1",
            True, "Mobile Safari", "iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            False, "Chrome", "Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            True, "Chrome Mobile", "Android",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", False, "Firefox", "Linux"),
    ],
)  # fmt: skip
def test_user_agent_parsing(ua: str, mobile: bool, browser: str, os: str) -> None:
    parsed = parse_user_agent(ua)
    assert (parsed.is_mobile, parsed.browser.family, parsed.os.family) == (mobile, browser, os)
    assert parsed.is_pc == (not mobile)


def test_session_info_from_headers() -> None:
    info_ = session_info(
        {"accept-language": "zh-CN,zh;q=0.9", "host": "h:1", "origin": "http://h:1", "user-agent": "x"},
        user_ip="1.2.3.4", backend="tornado",
    )  # fmt: skip
    assert info_.user_language == "zh-CN" and info_.server_host == "h:1" and info_.user_ip == "1.2.3.4"
    assert info_.backend == "tornado" and info_.protocol == "websocket"


async def test_coroutine_app_that_cannot_start_reports_the_error() -> None:
    t = AsyncTransport()

    async def needs_args(x: int) -> None:
        pass

    t.start(needs_args)  # type: ignore[arg-type]
    await t.wait_for(is_cmd("toast"))
    await t.wait_for(is_cmd("close_session"))


def test_tools_probing_module_objects_start_no_session() -> None:
    """Outside a session, reading a pin or ``local`` starts a script-mode server and waits for a
    browser. Test runners, mocks and ``inspect`` probe module globals for private attributes;
    those probes must answer at once instead (pytest 9.2 collection hung on ``pin`` before)."""
    import subprocess
    import sys

    code = (
        "import inspect\n"
        "from pywebio.pin import pin\n"
        "from pywebio.session import info, local\n"
        "for obj in (pin, local, info):\n"
        "    assert getattr(obj, '_mock_name', None) is None\n"
        "    assert inspect.unwrap(obj) is obj\n"
        "print('probed')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "probed"
    assert "Running on" not in run.stdout + run.stderr  # no script-mode server was started
