"""pgwidgets.sync's thread model: which thread runs handlers and gui_do jobs in each
concurrency mode, errors in handlers, and the threads' ends (session end, app close)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pgwidgets import sync

from .conftest import FakeBrowser
from .test_sync import BrowserThread

pytestmark = pytest.mark.timeout(30)


class Browsers(BrowserThread):
    """Closes the browsers it opened before its loop stops."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[FakeBrowser] = []

    def open(self, url: str, **kwargs: Any) -> FakeBrowser:
        b = super().open(url, **kwargs)
        self.opened.append(b)
        return b

    def stop(self) -> None:
        for b in self.opened:
            self.run(b.close())
        super().stop()


@pytest.fixture
def browsers() -> Iterator[Browsers]:
    bt = Browsers()
    yield bt
    bt.stop()


@pytest.fixture
def make_app() -> Iterator[Callable[..., sync.Application]]:
    apps: list[sync.Application] = []

    def factory(**kwargs: Any) -> sync.Application:
        app = sync.Application(ws_port=0, http_port=0, **kwargs)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


def with_button(app: sync.Application, clicked: Callable[[sync.Session], None]) -> list[Any]:
    """on_connect: show a button whose click calls ``clicked``, then record (session, thread)."""
    connects: list[Any] = []

    @app.on_connect
    def setup(session: sync.Session) -> None:
        W = session.get_widgets()
        top = W.TopLevel(title="threads")
        button = W.Button("press")
        button.on("activated", lambda: clicked(session))
        top.set_widget(button)
        top.show()
        connects.append((session, threading.current_thread()))

    return connects


def open_browser(browsers: BrowserThread, app: sync.Application, connects: list[Any]) -> FakeBrowser:
    """A new browser, once its on_connect has run (not for serialized: nobody runs it)."""
    n = len(connects)
    b = browsers.open(app.ws_url)
    wait_until(lambda: len(connects) > n, "on_connect")
    return b


def click(browsers: BrowserThread, b: FakeBrowser) -> None:
    browsers.run(b.fire(b.find("Button")[0], "activated"))


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def pump_until(app: sync.Application, cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        app.process_events(0.02)


# per_session ---------------------------------------------------------------------------------


def test_per_session_runs_each_sessions_handlers_on_its_own_thread(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app(max_sessions=None)
    clicks: queue.Queue[Any] = queue.Queue()
    disconnects: queue.Queue[Any] = queue.Queue()
    connects = with_button(app, lambda s: clicks.put((s, threading.current_thread())))
    app.on_disconnect(lambda s: disconnects.put((s, threading.current_thread())))
    app.start()
    b1, b2 = open_browser(browsers, app, connects), open_browser(browsers, app, connects)
    for b in (b1, b2, b1, b2):
        click(browsers, b)
    seen = [clicks.get(timeout=5) for _ in range(4)]

    threads: dict[Any, set[threading.Thread]] = {}
    for session, thread in connects + seen:
        threads.setdefault(session.id, set()).add(thread)
    assert len(threads) == 2
    (s1, _), (s2, _) = connects
    t1, t2 = s1.get_session_thread(), s2.get_session_thread()
    assert threads[s1.id] == {t1} and threads[s2.id] == {t2}  # on_connect and both clicks
    assert t1 is not t2
    assert t1 is not threading.current_thread() and t1.name == f"pgwidgets-session-{s1.id}"

    browsers.run(b1.close())
    session, thread = disconnects.get(timeout=5)
    assert session is s1 and thread is t1


def test_per_session_gui_do_queues_on_the_session_thread_and_gui_call_waits(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app()
    release = threading.Event()
    inside: queue.Queue[Any] = queue.Queue()

    def clicked(session: sync.Session) -> None:
        # gui_call on the session's own thread runs inline (queued, it would wait for itself)
        inside.put(session.gui_call(threading.current_thread))
        release.wait(5)

    connects = with_button(app, clicked)
    app.start()
    b = open_browser(browsers, app, connects)
    session, thread = connects[0]
    assert session.get_session_thread() is thread
    assert session.gui_call(threading.current_thread) is thread
    assert session.gui_call(lambda x, y=0: x + y, 2, y=3) == 5

    click(browsers, b)
    assert inside.get(timeout=5) is thread
    order: list[int] = []
    started = time.monotonic()
    futures = [session.gui_do(order.append, i) for i in range(3)]  # the handler still holds the thread
    last = session.gui_do(threading.current_thread)
    assert time.monotonic() - started < 1  # fire and forget
    time.sleep(0.1)
    assert not last.done() and order == []
    release.set()
    assert last.result(5) is thread
    assert [f.result(5) for f in futures] == [None, None, None] and order == [0, 1, 2]


def test_handler_errors_are_logged_and_the_thread_goes_on(
    make_app: Callable[..., sync.Application], browsers: BrowserThread, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    ran: queue.Queue[threading.Thread] = queue.Queue()
    count: list[int] = []

    def clicked(session: sync.Session) -> None:
        count.append(1)
        ran.put(threading.current_thread())
        if len(count) == 1:
            raise ValueError("first click fails")

    connects = with_button(app, clicked)
    app.start()
    b = open_browser(browsers, app, connects)
    session, thread = connects[0]
    click(browsers, b)
    click(browsers, b)
    assert ran.get(timeout=5) is thread and ran.get(timeout=5) is thread
    wait_until(lambda: any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records), "the log")
    assert "Exception in callback handler" in caplog.text and "first click fails" in caplog.text

    def bad() -> None:
        raise KeyError("gui_do fails")

    fut = session.gui_do(bad)
    with pytest.raises(KeyError):
        fut.result(5)
    wait_until(lambda: "gui_do fails" in caplog.text, "the gui_do error in the log")
    with pytest.raises(KeyError):
        session.gui_call(bad)
    assert session.gui_call(threading.current_thread) is thread  # still the same, alive thread


def test_session_threads_end_with_their_session(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app(session_timeout=0.2, max_sessions=None)
    connects = with_button(app, lambda s: None)
    app.start()

    headless = app.create_session()
    thread = headless.get_session_thread()
    assert thread is not None and thread.is_alive()
    headless.close()
    thread.join(5)
    assert not thread.is_alive()
    fut = headless.gui_do(lambda: None)
    assert isinstance(fut.exception(5), RuntimeError)

    b = open_browser(browsers, app, connects)
    session, thread = connects[0]
    browsers.run(b.close())  # the session expires 0.2 s later
    thread.join(5)
    assert not thread.is_alive()
    assert session.id not in app.sessions


# serialized ----------------------------------------------------------------------------------


def test_serialized_runs_handlers_only_in_process_events_on_the_calling_thread(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app(concurrency_handling="serialized")
    clicks: list[threading.Thread] = []
    inline: list[threading.Thread] = []

    def clicked(session: sync.Session) -> None:
        clicks.append(threading.current_thread())
        inline.append(session.gui_call(threading.current_thread))

    connects = with_button(app, clicked)
    app.start()
    started = time.monotonic()
    app.process_events(0)  # nothing queued: returns at once
    assert time.monotonic() - started < 0.1

    b = browsers.open(app.ws_url)
    time.sleep(0.3)
    assert connects == []  # queued until this thread processes events
    pump_until(app, lambda: bool(connects), "on_connect")
    session, thread = connects[0]
    assert thread is threading.current_thread()
    assert session.get_session_thread() is thread

    browsers.run(b.wait_for(lambda: "activated" in b.widgets[b.find("Button")[0]].listens, "listen"))
    click(browsers, b)
    time.sleep(0.3)
    assert clicks == []
    pump_until(app, lambda: bool(clicks), "the click handler")
    assert clicks == [threading.current_thread()] and inline == clicks

    # gui_do from another thread lands here, at the next process_events
    futures: list[Any] = []
    other = threading.Thread(target=lambda: futures.append(session.gui_do(threading.current_thread)))
    other.start()
    other.join(5)
    time.sleep(0.1)
    assert not futures[0].done()
    app.process_events(0)
    assert futures[0].result(0) is threading.current_thread()
    assert session.gui_call(threading.current_thread) is threading.current_thread()  # inline here


def test_serialized_run_serves_handlers_on_its_thread_until_close(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app(concurrency_handling="serialized")
    connects = with_button(app, lambda s: None)
    disconnects: list[threading.Thread] = []
    app.on_disconnect(lambda s: disconnects.append(threading.current_thread()))
    app.start()

    def drive() -> None:
        open_browser(browsers, app, connects)
        app.close()

    driver = threading.Thread(target=drive)
    driver.start()
    app.run()  # returns once the driver closes the app
    driver.join(5)
    assert [t for _, t in connects] == [threading.current_thread()]
    assert len(disconnects) == 1  # the browsers closed by close(): on_disconnect still ran


# concurrent ----------------------------------------------------------------------------------


def test_concurrent_runs_callbacks_at_the_same_time(
    make_app: Callable[..., sync.Application], browsers: BrowserThread
) -> None:
    app = make_app(concurrency_handling="concurrent")
    both_in = threading.Barrier(2, timeout=5)  # broken (and nothing recorded) if one at a time
    met: queue.Queue[threading.Thread] = queue.Queue()

    def clicked(session: sync.Session) -> None:
        both_in.wait()
        met.put(threading.current_thread())

    connects = with_button(app, clicked)
    app.start()
    b = open_browser(browsers, app, connects)
    click(browsers, b)
    click(browsers, b)
    first, second = met.get(timeout=6), met.get(timeout=6)
    assert first is not second
    session = connects[0][0]
    assert session.get_session_thread() is None
    job_thread = session.gui_do(threading.current_thread).result(5)
    assert job_thread not in (first, second, threading.current_thread())


# the loop thread, leaks ----------------------------------------------------------------------


def test_blocking_calls_on_the_loop_thread_raise(make_app: Callable[..., sync.Application]) -> None:
    app = make_app()
    app.start()
    session = app.create_session()
    assert app._runner is not None

    async def on_the_loop() -> None:
        session.make_timer(1)

    async def gui_call_on_the_loop() -> None:
        session.gui_call(lambda: None)

    for coro in (on_the_loop(), gui_call_on_the_loop()):
        with pytest.raises(RuntimeError, match="event loop thread"):
            asyncio.run_coroutine_threadsafe(coro, app._runner.loop).result(5)


def start_click_close(app: sync.Application, browsers: BrowserThread) -> None:
    """One cycle: start, a browser, on_connect, a click, a headless session's gui_call, close."""
    clicks: list[int] = []
    connects = with_button(app, lambda s: clicks.append(1))
    app.start()
    b = browsers.open(app.ws_url)
    serialized = app._async._concurrency == "serialized"

    def served(cond: Callable[[], bool], what: str) -> None:
        if serialized:
            pump_until(app, cond, what)
        else:
            wait_until(cond, what)

    served(lambda: bool(connects), "on_connect")
    click(browsers, b)
    served(lambda: bool(clicks), "the click")
    app.create_session().gui_call(lambda: None)
    app.close()
    browsers.run(b.close())


def test_no_thread_is_left_after_close(browsers: BrowserThread) -> None:
    before = set(threading.enumerate())
    for mode in ("per_session", "serialized", "concurrent"):
        app = sync.Application(ws_port=0, http_port=0, concurrency_handling=mode, max_sessions=None)
        for _cycle in range(2):
            start_click_close(app, browsers)
    wait_until(lambda: set(threading.enumerate()) <= before, "the threads to end")
